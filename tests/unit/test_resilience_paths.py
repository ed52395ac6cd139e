"""Resilience driven by scripted attempts on a fake clock: every path, no network, no waiting.

The attempts raise what `outcomes.py` makes of real upstream answers, so these tests also pin
down what each outcome means (retry, fail over, drop a parameter, pass on).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from shared.api import ApiError
from shared.settings import BreakerPolicy, RetryPolicy, Settings, Tier
from shared.upstream import outcomes
from shared.upstream.attempts import AttemptInfo
from shared.upstream.health import HealthBook
from shared.upstream.outcomes import AttemptFailed, DeploymentError
from shared.upstream.resilience import ONE_SHOT, Outcome, Resilience
from tests.unit.test_error_body import INFERENCE_API_422

ENDPOINT = "https://acct.openai.azure.com"
SMALL = Tier("small", "Phi-4-mini", ENDPOINT, context_window=131_072, fallbacks=("phi4",))
PHI4 = Tier("phi4", "Phi-4", ENDPOINT, context_window=16_384, fallbacks=("large",))
LARGE = Tier(
    "large", "gpt-5", ENDPOINT, context_window=400_000, capabilities=frozenset({"reasoning"})
)
ALONE = Tier("alone", "Phi-4-mini", ENDPOINT)
BODY = {"model": "small", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 100}


@dataclass(frozen=True)
class Answer:
    tier: str
    headers: Mapping[str, str] = field(default_factory=dict)


def throttled(wait_ms: int | None = None) -> AttemptFailed:
    headers = {} if wait_ms is None else {"retry-after-ms": str(wait_ms)}
    return outcomes.from_status(429, {"error": {"code": "429"}}, headers, BODY)


def server_error(status: int = 503) -> AttemptFailed:
    return outcomes.from_status(status, {}, {}, BODY)


def context_too_long() -> AttemptFailed:
    body = {"error": {"code": "context_length_exceeded", "message": "too long"}}
    return outcomes.from_status(400, body, {}, BODY)


def content_filter() -> AttemptFailed:
    return outcomes.from_status(400, {"error": {"code": "content_filter"}}, {}, BODY)


def rejected(param: str) -> AttemptFailed:
    body = {"error": {"code": "unsupported_parameter", "param": param}}
    return outcomes.from_status(400, body, {}, {**BODY, param: 1})


def auth_refused() -> AttemptFailed:
    return outcomes.from_status(401, {}, {}, BODY)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class Call:
    tier: str
    number: int
    waited_s: float
    at: float
    body: dict[str, Any]


class Script:
    """Per tier, what its attempts do in order: raise an AttemptFailed (or any exception), or
    answer when the script runs out. Every call is recorded."""

    def __init__(self, clock: Clock, **plans: list[BaseException]) -> None:
        self.clock = clock
        self.plans = {name: list(plan) for name, plan in plans.items()}
        self.calls: list[Call] = []

    async def __call__(self, tier: Tier, body: dict[str, Any], info: AttemptInfo) -> Answer:
        self.calls.append(Call(tier.name, info.number, info.waited_s, self.clock(), body))
        plan = self.plans.get(tier.name, [])
        if plan:
            raise plan.pop(0)
        return Answer(tier.name)

    def tiers(self) -> list[str]:
        return [c.tier for c in self.calls]


def make(
    *tiers: Tier,
    policy: RetryPolicy | None = None,
    breaker: BreakerPolicy | None = None,
    tpm: Mapping[str, int] | None = None,
) -> tuple[Resilience, HealthBook, Clock]:
    clock = Clock()
    tiers = tiers or (SMALL, PHI4, LARGE)
    health = HealthBook(
        {t.name: (tpm or {}).get(t.name) for t in tiers}, breaker or BreakerPolicy(3, 30), clock
    )
    settings = Settings(tiers=tiers)
    policy = policy or RetryPolicy(max_attempts=3, backoff_base_s=1, backoff_max_s=8, max_wait_s=10)
    resilience = Resilience(
        settings, health, policy, clock=clock, sleep=clock.sleep, jitter=lambda: 0.5
    )
    return resilience, health, clock


async def run(
    resilience: Resilience, script: Script, first: Tier = SMALL, budget_s: float = 100, **kw: Any
) -> Outcome[Answer]:
    return await resilience.call(first, dict(BODY), resilience.clock() + budget_s, script, **kw)


# ---- retries on one deployment -------------------------------------------------------------


async def test_a_429_is_retried_after_what_retry_after_asks() -> None:
    resilience, _, clock = make()
    script = Script(clock, small=[throttled(wait_ms=1500)])
    outcome = await run(resilience, script)
    assert outcome.tier is SMALL
    assert clock.slept == [1.5]
    assert [(c.tier, c.number) for c in script.calls] == [("small", 1), ("small", 2)]
    assert script.calls[1].waited_s == 1.5
    assert outcome.changes == ()


async def test_without_retry_after_the_backoff_is_exponential_with_jitter_and_capped() -> None:
    policy = RetryPolicy(max_attempts=6, backoff_base_s=1, backoff_max_s=3, max_wait_s=10)
    resilience, _, clock = make(ALONE, policy=policy, breaker=BreakerPolicy(10, 30))
    script = Script(clock, alone=[server_error(500)] * 4)
    await run(resilience, script, first=ALONE)
    # 1 * 2**(n-1) + 0.5 jitter, capped at 3
    assert clock.slept == [1.5, 2.5, 3.0, 3.0]


async def test_retries_stop_at_max_attempts_then_the_chain_fails_over() -> None:
    resilience, _, clock = make()
    script = Script(clock, small=[server_error()] * 3)
    outcome = await run(resilience, script)
    assert script.tiers() == ["small", "small", "small", "phi4"]
    assert outcome.tier is PHI4
    assert "failover small->phi4" in outcome.changes


async def test_the_chain_skips_fallbacks_that_cannot_take_the_request() -> None:
    resilience, _, clock = make()
    script = Script(clock, small=[server_error()] * 3)
    outcome = await run(resilience, script, eligible=lambda tier: tier is not PHI4)
    assert script.tiers() == ["small", "small", "small", "large"]  # phi4 never called
    assert outcome.tier is LARGE
    assert "failover small->large" in outcome.changes


async def test_a_wait_longer_than_the_cap_fails_over_at_once() -> None:
    resilience, _, clock = make()
    script = Script(clock, small=[throttled(wait_ms=30_000)])
    outcome = await run(resilience, script)
    assert script.tiers() == ["small", "phi4"]
    assert clock.slept == []
    assert outcome.tier is PHI4


async def test_a_wait_past_the_deadline_is_not_taken() -> None:
    resilience, _, clock = make()
    script = Script(clock, small=[throttled(wait_ms=5000)])
    outcome = await run(resilience, script, budget_s=4)
    assert script.tiers() == ["small", "phi4"]
    assert outcome.tier is PHI4


# ---- what each outcome means ---------------------------------------------------------------


async def test_a_timeout_fails_over_at_once_while_another_deployment_can_answer() -> None:
    resilience, _, clock = make()
    script = Script(clock, small=[outcomes.timed_out("did not answer within 20 s")])
    outcome = await run(resilience, script)
    assert script.tiers() == ["small", "phi4"]
    assert outcome.tier is PHI4


async def test_an_attempt_cut_at_the_deadline_leaves_no_time_for_another() -> None:
    # A timer may fire a moment before the deadline (uvloop's are millisecond-grained): the
    # next deployment would be asked with nothing left of the request's budget.
    resilience, _, clock = make()
    script = Script(clock)

    async def cut_at_the_deadline(tier: Tier, body: dict[str, Any], info: AttemptInfo) -> Answer:
        await script(tier, body, info)
        clock.now = info.deadline - 0.0005
        raise outcomes.timed_out("sent its answer's headers but not its body within 20 s")

    with pytest.raises(ApiError) as raised:
        await run(resilience, cut_at_the_deadline, budget_s=3)  # type: ignore[arg-type]
    assert raised.value.code == "timeout"
    assert script.tiers() == ["small"]


async def test_a_timeout_is_retried_when_no_other_deployment_is_left() -> None:
    resilience, _, clock = make(ALONE, breaker=BreakerPolicy(10, 30))
    script = Script(clock, alone=[outcomes.timed_out("did not answer")] * 2)
    outcome = await run(resilience, script, first=ALONE)
    assert script.tiers() == ["alone"] * 3
    assert outcome.tier is ALONE


async def test_context_length_fails_over_past_smaller_windows() -> None:
    resilience, health, clock = make()
    script = Script(clock, small=[context_too_long()])
    outcome = await run(resilience, script)
    assert script.tiers() == ["small", "large"]  # phi4's 16k window is skipped
    assert "failover small->large" in outcome.changes
    assert health.snapshot()["small"]["recent_failures"] == 0  # it answered: no fault


async def test_a_caller_error_passes_through_untried() -> None:
    resilience, _, clock = make()
    script = Script(clock, small=[content_filter()])
    with pytest.raises(ApiError) as raised:
        await run(resilience, script)
    assert raised.value.status == 400
    assert raised.value.code == "content_filter"
    assert script.tiers() == ["small"]


async def test_a_passed_through_error_names_the_deployment_and_the_way_there() -> None:
    # small fails three times, phi4 drops the `seed` parameter it refuses, then its content
    # filter says no: the caller's x-router-* headers name phi4 and everything changed on the way.
    resilience, _, clock = make()
    script = Script(clock, small=[server_error()] * 3, phi4=[rejected("seed"), content_filter()])
    with pytest.raises(DeploymentError) as raised:
        await resilience.call(SMALL, {**BODY, "seed": 1}, clock() + 100, script)
    assert (raised.value.status, raised.value.code) == (400, "content_filter")
    assert raised.value.tier is PHI4
    assert raised.value.changes == ("dropped seed (rejected by Phi-4)", "failover small->phi4")


async def test_the_last_error_when_nothing_answered_names_its_deployment() -> None:
    resilience, _, clock = make(ALONE, breaker=BreakerPolicy(10, 30))
    script = Script(clock, alone=[server_error(500)] * 3)
    with pytest.raises(DeploymentError) as raised:
        await run(resilience, script, first=ALONE)
    assert (raised.value.status, raised.value.code) == (502, "upstream_error")
    assert (raised.value.tier, raised.value.changes) == (ALONE, ())


async def test_a_refused_parameter_is_dropped_and_said() -> None:
    resilience, _, clock = make()
    script = Script(clock, small=[rejected("seed")])
    outcome = await resilience.call(SMALL, {**BODY, "seed": 1}, clock() + 100, script)
    assert outcome.tier is SMALL
    assert "seed" in script.calls[0].body
    assert "seed" not in script.calls[1].body
    assert "dropped seed (rejected by Phi-4-mini)" in outcome.changes


def test_the_model_inference_apis_422_is_a_refused_parameter_like_openais_400() -> None:
    # The 422 as Microsoft Learn shows it: flat, the parameter named only in `detail.loc`.
    sent = {**BODY, "response_format": {"type": "json_object"}}
    failed = outcomes.from_status(422, INFERENCE_API_422, {}, sent)
    assert (failed.action, failed.param, failed.health) == (
        "drop_param",
        "response_format",
        "answered",
    )
    not_sent = outcomes.from_status(422, INFERENCE_API_422, {}, BODY)
    assert not_sent.action == "pass_through"


async def test_auth_refused_fails_over() -> None:
    resilience, _, clock = make()
    script = Script(clock, small=[auth_refused()])
    outcome = await run(resilience, script)
    assert script.tiers() == ["small", "phi4"]
    assert outcome.tier is PHI4


async def test_an_invalid_2xx_is_a_failed_attempt() -> None:
    resilience, health, clock = make()
    script = Script(clock, small=[outcomes.invalid_reply(200, "an HTML page")] * 3)
    outcome = await run(resilience, script)
    assert outcome.tier is PHI4
    assert health.snapshot()["small"]["breaker"] == "open"  # three faults, BreakerPolicy(3)


# ---- waiting for a deployment to come back -------------------------------------------------


async def test_a_brief_cooldown_everywhere_is_waited_out() -> None:
    resilience, _, clock = make(ALONE, policy=RetryPolicy(max_attempts=1, max_wait_s=10))
    script = Script(clock, alone=[throttled(wait_ms=2000)])
    with pytest.raises(ApiError) as raised:
        await run(resilience, script, first=ALONE)
    assert raised.value.status == 429
    assert raised.value.headers["retry-after"] == "2"
    clock.now += 0.5
    outcome = await run(resilience, script, first=ALONE)  # in cooldown: waited, not failed
    assert outcome.tier is ALONE
    assert clock.slept == [1.5]


async def test_a_long_cooldown_everywhere_is_a_429_with_retry_after() -> None:
    resilience, _, clock = make(ALONE, policy=RetryPolicy(max_attempts=1, max_wait_s=10))
    script = Script(clock, alone=[throttled(wait_ms=30_000)])
    for _ in range(2):
        with pytest.raises(ApiError) as raised:
            await run(resilience, script, first=ALONE)
        assert raised.value.status == 429
        assert int(raised.value.headers["retry-after"]) >= 29
    assert len(script.calls) == 1  # the second request didn't call a deployment in cooldown


async def test_a_spent_token_budget_is_waited_for_when_the_window_frees_soon() -> None:
    resilience, _health, clock = make(ALONE, tpm={"alone": 150})
    script = Script(clock)
    await run(resilience, script, first=ALONE)  # 105 tokens of the 150
    clock.now += 55  # the first request leaves the 60 s window in 5 s
    outcome = await run(resilience, script, first=ALONE)
    assert outcome.tier is ALONE
    assert clock.slept == [pytest.approx(5.0)]


async def test_a_spent_token_budget_fails_over() -> None:
    resilience, _, clock = make(tpm={"small": 150})
    script = Script(clock)
    assert (await run(resilience, script)).tier is SMALL
    assert (await run(resilience, script)).tier is PHI4


# ---- the breaker: closed -> open -> half-open -> closed, for every kind of outcome ---------


async def open_breaker(resilience: Resilience, clock: Clock) -> None:
    script = Script(clock, small=[server_error()] * 3)
    await run(resilience, script)


async def test_failures_open_the_breaker_and_it_is_skipped() -> None:
    resilience, health, clock = make()
    await open_breaker(resilience, clock)
    assert health.snapshot()["small"]["breaker"] == "open"
    script = Script(clock)
    assert (await run(resilience, script)).tier is PHI4
    assert script.tiers() == ["phi4"]


async def test_all_breakers_open_is_a_503() -> None:
    resilience, _, clock = make(ALONE, breaker=BreakerPolicy(1, 30))
    with pytest.raises(ApiError):
        await run(resilience, Script(clock, alone=[server_error()] * 3), first=ALONE)
    with pytest.raises(ApiError) as raised:
        await run(resilience, Script(clock), first=ALONE)
    assert raised.value.status == 503
    assert raised.value.headers["retry-after"] == "30"


def probe_cases() -> list[Any]:
    return [
        pytest.param(None, "closed", id="answer"),
        pytest.param(server_error(), "open", id="fault"),
        pytest.param(outcomes.invalid_reply(200, "HTML"), "open", id="invalid-2xx"),
        pytest.param(outcomes.timed_out("hung"), "open", id="timeout"),
        pytest.param(context_too_long(), "closed", id="context-length"),
        pytest.param(content_filter(), "closed", id="caller-400"),
        pytest.param(throttled(wait_ms=20_000), "half-open", id="429"),
        pytest.param(auth_refused(), "half-open", id="401"),
        pytest.param(asyncio.CancelledError(), "half-open", id="cancelled"),
    ]


@pytest.mark.parametrize(("probe", "after"), probe_cases())
async def test_the_half_open_probe_is_released_whatever_its_outcome(
    probe: BaseException | None, after: str
) -> None:
    resilience, health, clock = make(breaker=BreakerPolicy(3, 30))
    await open_breaker(resilience, clock)
    clock.now += 31
    assert health.snapshot()["small"]["breaker"] == "half-open"
    script = Script(clock, small=[] if probe is None else [probe])
    with contextlib.suppress(ApiError, asyncio.CancelledError):
        await run(resilience, script)
    assert script.calls[0].tier == "small"  # the probe went out
    state = health.snapshot()["small"]["breaker"]
    assert state == after
    if after != "open":
        clock.now += 21  # past the 429's cooldown
        assert health.blocked("small") is None  # never stuck: the next call may go


async def test_only_one_probe_goes_out_while_half_open() -> None:
    resilience, health, clock = make()
    await open_breaker(resilience, clock)
    clock.now += 31
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow_probe(tier: Tier, body: dict[str, Any], info: AttemptInfo) -> Answer:
        if tier.name == "small":
            entered.set()
            await release.wait()
        return Answer(tier.name)

    probe = asyncio.create_task(resilience.call(SMALL, dict(BODY), clock() + 100, slow_probe))
    await entered.wait()
    other = await resilience.call(SMALL, dict(BODY), clock() + 100, slow_probe)
    assert other.tier is PHI4  # the breaker held it back while the probe was out
    release.set()
    assert (await probe).tier is SMALL
    assert health.snapshot()["small"]["breaker"] == "closed"


async def test_a_failure_that_opens_the_breaker_ends_the_retries() -> None:
    resilience, _, clock = make(breaker=BreakerPolicy(1, 30))
    script = Script(clock, small=[server_error()] * 3)
    await run(resilience, script)
    assert script.tiers() == ["small", "phi4"]


# ---- one-shot calls (the classifier) -------------------------------------------------------


async def test_one_shot_is_one_attempt_without_fallbacks_but_judged_by_the_health_book() -> None:
    resilience, health, clock = make(tpm={"small": 100_000})
    script = Script(clock, small=[throttled(wait_ms=2000)])
    with pytest.raises(ApiError):
        await run(resilience, script, policy=ONE_SHOT, fallbacks=False)
    assert script.tiers() == ["small"]
    assert clock.slept == []
    assert health.snapshot()["small"]["cooldown_s"] == 2.0
    assert health.snapshot()["small"]["tokens_in_window"] > 0


# ---- operator logs -------------------------------------------------------------------------


def events(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in vars(r).items() if k.startswith("router.")}
        for r in caplog.records
        if r.name == "hybrid_router.ops"
    ]


async def test_operator_logs_say_what_happened_with_fields(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="hybrid_router.ops")
    resilience, _, clock = make(breaker=BreakerPolicy(2, 30))
    script = Script(clock, small=[throttled(wait_ms=500), server_error(), server_error()])
    await run(resilience, script)
    clock.now += 31
    await run(resilience, Script(clock))
    seen = events(caplog)
    kinds = [e["router.event"] for e in seen]
    assert kinds == ["retry_wait", "retry_wait", "breaker", "failover", "breaker", "breaker"]
    assert seen[0] == {
        "router.event": "retry_wait",
        "router.tier": "small",
        "router.wait_s": 0.5,
        "router.reason": "429",
        "router.next_attempt": 2,
    }
    assert seen[2]["router.state"] == "open"
    assert seen[3] == {
        "router.event": "failover",
        "router.from_tier": "small",
        "router.to_tier": "phi4",
        "router.reason": "upstream_error",
    }
    assert [e["router.state"] for e in seen[4:]] == ["half-open", "closed"]
    assert all("hi" not in str(r.getMessage()).split() for r in caplog.records)  # no prompt


async def test_a_spent_budget_and_an_exhausted_request_budget_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="hybrid_router.ops")
    resilience, _, clock = make(ALONE, tpm={"alone": 150})
    await run(resilience, Script(clock), first=ALONE)
    with pytest.raises(ApiError):
        await run(resilience, Script(clock), first=ALONE)  # 60 s to wait: a 429
    resilience2, _, clock2 = make(ALONE)

    async def hang(tier: Tier, body: dict[str, Any], info: AttemptInfo) -> Answer:
        clock2.now = info.deadline
        raise outcomes.timed_out("did not answer")

    with pytest.raises(ApiError) as raised:
        await resilience2.call(ALONE, dict(BODY), clock2() + 5, hang)
    assert raised.value.status == 504
    kinds = [e["router.event"] for e in events(caplog)]
    assert kinds == ["token_budget_exhausted", "request_budget_exhausted"]
