"""The sixteen fault scenarios of gateway benchmarks (S01-S16), each with its pass rule.

Every test starts its own router (breaker and cooldown state live in the process) with short
timeouts, over a fallback chain on the emulator:
    small (Phi-4-mini) -> phi4 (Phi-4, 16k context) -> large (gpt-5, reasoning) -> gpt4o
A deadline that fired shows in what the client gets (which tier answered, a 504 `timeout`, the
cause an error names) and in how often the emulator was asked, never in a wall-clock bound: the
tests share busy machines, and speed itself is measured in bench/.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from shared.settings import KIND_TIMEOUTS, Limits
from tests.conftest import Emulator, StartRouter, printed

TIERS = [
    {
        "name": "small",
        "deployment": "Phi-4-mini",
        "context_window": 131072,
        "input_price_per_1m": 0.075,
        "output_price_per_1m": 0.30,
        "fallbacks": ["phi4"],
    },
    {
        "name": "phi4",
        "deployment": "Phi-4",
        "context_window": 16384,
        "input_price_per_1m": 0.125,
        "output_price_per_1m": 0.50,
        "fallbacks": ["large"],
    },
    {
        "name": "large",
        "deployment": "gpt-5",
        "context_window": 400000,
        "capabilities": ["reasoning"],
        "input_price_per_1m": 1.25,
        "output_price_per_1m": 10.0,
        "fallbacks": ["gpt4o"],
    },
    {
        "name": "gpt4o",
        "deployment": "gpt-4o",
        "context_window": 128000,
        "input_price_per_1m": 2.5,
        "output_price_per_1m": 10.0,
        "fallbacks": ["large"],
    },
]
FAST = {
    "ROUTER_TIERS": json.dumps(TIERS),
    "ROUTER_MAX_ATTEMPTS": "3",
    "ROUTER_BACKOFF_BASE_S": "0.05",
    "ROUTER_BACKOFF_MAX_S": "0.2",
    "ROUTER_MAX_RETRY_WAIT_S": "2",
    "ROUTER_ATTEMPT_TIMEOUT_S": "1",
    "ROUTER_FIRST_TOKEN_TIMEOUT_S": "0.5",
    "ROUTER_STREAM_IDLE_TIMEOUT_S": "0.5",
    "ROUTER_REQUEST_TIMEOUT_S": "8",
    "ROUTER_BREAKER_FAILURES": "3",
    "ROUTER_BREAKER_COOLDOWN_S": "30",
}
Post = Callable[..., httpx.Response]


@pytest.fixture
def post(start_router: StartRouter) -> Post:
    url = start_router(**FAST)

    def send(model: str = "small", text: str = "hi", **extra: object) -> httpx.Response:
        body = {"model": model, "messages": [{"role": "user", "content": text}], **extra}
        return httpx.post(f"{url}/api/v1/chat/completions", json=body, timeout=30)

    send.url = url  # type: ignore[attr-defined]
    return send


def stream_events(url: str, model: str = "small") -> list[str]:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with httpx.stream("POST", f"{url}/api/v1/chat/completions", json=body, timeout=30) as reply:
        assert reply.status_code == 200
        raw = reply.read().decode()
    return [e.removeprefix("data: ") for e in raw.split("\n\n") if e.strip()]


def calls(emulator: Emulator, deployment: str) -> list[dict[str, object]]:
    return emulator.requests(deployment)


def failovers(lines: list[str], from_tier: str, to_tier: str) -> list[str]:
    """The reasons of the router's operator log lines for failovers from one tier to another."""
    wanted = f"failover from_tier={from_tier} to_tier={to_tier} reason="
    return [line.split(wanted, 1)[1].split()[0] for line in lines if wanted in line]


def failed_over(
    router_output: dict[str, list[str]], post: Post, from_tier: str, to_tier: str
) -> list[str]:
    """`failovers` of the router behind `post`, once the first is printed."""
    lines = router_output[post.url]  # type: ignore[attr-defined]
    printed(lines, f"failover from_tier={from_tier} to_tier={to_tier}")
    return failovers(lines, from_tier, to_tier)


def test_s01_429_with_retry_after_is_honoured(post: Post, emulator: Emulator) -> None:
    emulator.fault("Phi-4-mini", "rate_limit", times=1, retry_after_s=1)
    reply = post()
    assert reply.status_code == 200
    first, second = calls(emulator, "Phi-4-mini")
    assert first["status"] == 429
    assert second["started_at"] - first["started_at"] >= 0.95  # type: ignore[operator]
    assert reply.json()["model"] == "Phi-4-mini"


def test_s02_persistent_429_fails_over_without_waiting(post: Post, emulator: Emulator) -> None:
    emulator.fault("Phi-4-mini", "rate_limit", times=None, retry_after_s=30)
    reply = post()
    assert reply.status_code == 200
    assert reply.json()["model"] == "Phi-4"
    assert len(calls(emulator, "Phi-4-mini")) == 1  # a 30 s wait is not taken: fail over


def test_s02_everything_throttled_tells_the_client_when_to_come_back(
    post: Post, emulator: Emulator
) -> None:
    for deployment in ("Phi-4-mini", "Phi-4", "gpt-5", "gpt-4o"):
        emulator.fault(deployment, "rate_limit", times=None, retry_after_s=30)
    reply = post()
    assert reply.status_code == 429
    assert int(reply.headers["retry-after"]) >= 1
    assert reply.json()["error"]["type"] == "rate_limit_error"
    # Each deployment asked once: no 30 s Retry-After was waited out.
    assert sorted(r["deployment"] for r in emulator.requests()) == sorted(ALL_DEPLOYMENTS)
    # The cooldowns are remembered: the next request doesn't hit the deployments again.
    before = len(emulator.requests())
    assert post().status_code == 429
    assert len(emulator.requests()) == before


def test_s03_500_once_is_retried(post: Post, emulator: Emulator) -> None:
    emulator.fault("Phi-4-mini", "server_error", times=1)
    reply = post()
    assert reply.status_code == 200
    assert [c["status"] for c in calls(emulator, "Phi-4-mini")] == [500, 200]


def test_s04_persistent_503_fails_over(post: Post, emulator: Emulator) -> None:
    emulator.fault("Phi-4-mini", "unavailable", times=None)
    reply = post()
    assert reply.status_code == 200
    assert reply.json()["model"] == "Phi-4"
    assert len(calls(emulator, "Phi-4-mini")) == 3  # ROUTER_MAX_ATTEMPTS, then the next tier


def test_s05_tcp_reset_is_retried(post: Post, emulator: Emulator) -> None:
    emulator.fault("Phi-4-mini", "reset", times=1)
    reply = post()
    assert reply.status_code == 200
    assert reply.json()["model"] == "Phi-4-mini"


def test_s06_no_response_is_bounded(
    post: Post, emulator: Emulator, router_output: dict[str, list[str]]
) -> None:
    emulator.fault("Phi-4-mini", "no_response", times=None)
    reply = post()
    assert reply.status_code == 200
    assert reply.json()["model"] == "Phi-4"  # within the request's 8 s: the attempt was cut
    assert [c["status"] for c in calls(emulator, "Phi-4-mini")] == [None]  # never answered
    assert failed_over(router_output, post, "small", "phi4") == ["timeout"]


def test_s06_no_response_anywhere_ends_in_a_clean_504(post: Post, emulator: Emulator) -> None:
    for deployment in ("Phi-4-mini", "Phi-4", "gpt-5", "gpt-4o"):
        emulator.fault(deployment, "no_response", times=None)
    reply = post()
    assert reply.status_code == 504
    assert reply.json()["error"]["code"] == "timeout"


def test_s07_slow_first_token_fails_over_before_anything_is_sent(
    post: Post, emulator: Emulator, router_output: dict[str, list[str]]
) -> None:
    emulator.fault("Phi-4-mini", "slow_first_token", times=None, delay_ms=5000)
    events = stream_events(post.url)  # type: ignore[attr-defined]
    assert events[-1] == "[DONE]"
    chunks = [orjson.loads(e) for e in events[:-1]]
    assert {c["model"] for c in chunks} == {"Phi-4"}  # not the slow tokens of Phi-4-mini
    assert failed_over(router_output, post, "small", "phi4") == ["timeout"]


@pytest.mark.parametrize(
    ("scenario", "kind", "cause"),
    [
        ("s08", "stream_cut", "failed"),
        ("s09", "stream_stall", "(stream_idle_timeout)"),  # cut by the idle timeout
        ("s10", "malformed_chunk", "malformed chunk"),
        ("s11", "no_done", "ended the stream before the answer"),
    ],
)
def test_s08_to_s11_a_broken_stream_ends_in_an_error_never_a_false_done(
    post: Post, emulator: Emulator, scenario: str, kind: str, cause: str
) -> None:
    params = {} if kind == "no_done" else {"after_chunks": 2}
    emulator.fault("Phi-4-mini", kind, times=1, **params)
    events = stream_events(post.url)  # type: ignore[attr-defined]
    assert "[DONE]" not in events, scenario
    last = orjson.loads(events[-1])
    assert last["error"]["code"] == "upstream_stream_error"
    assert cause in last["error"]["message"]
    assert len(events) >= 2  # what arrived before the break was passed on


def test_s12_context_length_exceeded_fails_over_to_a_larger_window(
    post: Post, emulator: Emulator
) -> None:
    emulator.fault("Phi-4-mini", "context_length_exceeded", times=1)
    reply = post(max_tokens=20, temperature=0.5)
    assert reply.status_code == 200
    assert reply.json()["model"] == "gpt-5"  # Phi-4's 16k window is skipped
    assert calls(emulator, "Phi-4") == []
    assert "failover small->large" in reply.headers["x-router-adjusted"]


def test_s13_content_filter_passes_through_untried(post: Post, emulator: Emulator) -> None:
    emulator.fault("Phi-4-mini", "content_filter", times=None)
    reply = post()
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "content_filter"
    assert len(emulator.requests()) == 1  # neither retried nor failed over


def test_s14_fallback_shapes_and_drops_what_it_rejects(post: Post, emulator: Emulator) -> None:
    emulator.fault("gpt-4o", "unavailable", times=None)
    emulator.fault("gpt-5", "reject_param", times=None, param="seed")
    reply = post(model="gpt4o", temperature=0.4, max_tokens=30, seed=3)
    assert reply.status_code == 200
    assert reply.json()["model"] == "gpt-5"
    sent = [c["body"] for c in calls(emulator, "gpt-5")]
    assert all("temperature" not in body for body in sent)  # shaped for a reasoning model
    assert sent[-1]["max_completion_tokens"] == 30
    assert "seed" not in sent[-1]
    adjusted = reply.headers["x-router-adjusted"]
    assert "dropped seed" in adjusted
    assert "failover gpt4o->large" in adjusted


def test_s15_breaker_limits_calls_to_a_flapping_primary(post: Post, emulator: Emulator) -> None:
    emulator.fault("Phi-4-mini", "flapping", times=None, fail_every=2, status=500)
    replies = [post() for _ in range(12)]
    assert all(r.status_code == 200 for r in replies)
    primary = len(calls(emulator, "Phi-4-mini"))
    assert primary <= 8  # without a breaker, 12 requests make ~18 calls to it
    assert any(r.json()["model"] == "Phi-4" for r in replies)
    health = httpx.get(f"{post.url}/api/health/details").json()  # type: ignore[attr-defined]
    assert health["deployments"]["small"]["breaker"] == "open"


def test_s16_failover_bills_only_the_deployment_that_answered(
    post: Post, emulator: Emulator
) -> None:
    emulator.fault("Phi-4-mini", "unavailable", times=None)
    reply = post()
    answer = reply.json()
    assert answer["model"] == "Phi-4"
    usage = answer["usage"]
    expected = (usage["prompt_tokens"] * 0.125 + usage["completion_tokens"] * 0.50) / 1e6
    assert float(reply.headers["x-router-cost-usd"]) == pytest.approx(expected, abs=1e-8)


def test_token_budget_fails_over_before_provoking_a_429(
    start_router: StartRouter, emulator: Emulator
) -> None:
    tiers = [dict(TIERS[0], tpm=3000), *TIERS[1:]]
    url = start_router(**{**FAST, "ROUTER_TIERS": json.dumps(tiers)})
    body = {"model": "small", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 900}
    models = [
        httpx.post(f"{url}/api/v1/chat/completions", json=body).json()["model"] for _ in range(5)
    ]
    assert models[:3] == ["Phi-4-mini"] * 3
    assert models[3:] == ["Phi-4"] * 2
    assert all(c["status"] == 200 for c in emulator.requests())


def test_remaining_tokens_header_steers_away_before_a_429(post: Post, emulator: Emulator) -> None:
    emulator.configure("Phi-4-mini", tpm=2500)
    models = [post(max_tokens=900).json()["model"] for _ in range(3)]
    # After the second answer the deployment says fewer tokens are left than a request needs.
    assert models == ["Phi-4-mini", "Phi-4-mini", "Phi-4"]
    assert all(c["status"] == 200 for c in emulator.requests())


async def test_a_brief_cooldown_everywhere_is_waited_out_not_answered_429(
    start_router: StartRouter, emulator: Emulator
) -> None:
    only = json.dumps([TIERS[0] | {"fallbacks": []}])
    url = start_router(
        **{**FAST, "ROUTER_TIERS": only, "ROUTER_LARGE_TIER": "small", "ROUTER_MAX_ATTEMPTS": "1"}
    )
    emulator.fault("Phi-4-mini", "rate_limit", times=1, retry_after_s=1)
    body = {"model": "small", "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(base_url=f"{url}/api", timeout=30) as client:
        first = await client.post("/v1/chat/completions", json=body)  # puts it in cooldown
        started = time.monotonic()
        second = await client.post("/v1/chat/completions", json=body)
    assert first.status_code == 429  # one attempt allowed, and no fallback
    assert second.status_code == 200  # waited for the cooldown instead of failing fast
    assert time.monotonic() - started >= 0.5


# ---- failure modes beyond the scenarios, each reproduced end to end -------------------------

ALL_DEPLOYMENTS = ("Phi-4-mini", "Phi-4", "gpt-5", "gpt-4o")


def ask(url: str, model: str = "small", text: str = "hi", **extra: object) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": text}], **extra}
    return httpx.post(f"{url}/api/v1/chat/completions", json=body, timeout=60)


def deployment_health(url: str, tier: str) -> dict[str, object]:
    return httpx.get(f"{url}/api/health/details").json()["deployments"][tier]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("probe_fault", "probe_answer"),
    [("content_filter", 400), ("context_length_exceeded", 200)],
)
def test_a_half_open_probe_is_released_whatever_its_outcome(
    start_router: StartRouter, emulator: Emulator, probe_fault: str, probe_answer: int
) -> None:
    url = start_router(**{**FAST, "ROUTER_BREAKER_COOLDOWN_S": "1"})
    emulator.fault("Phi-4-mini", "unavailable", times=3)
    assert ask(url).json()["model"] == "Phi-4"  # three 503s open the breaker
    assert deployment_health(url, "small")["breaker"] == "open"
    time.sleep(1.2)
    emulator.fault("Phi-4-mini", probe_fault, times=1)
    assert ask(url).status_code == probe_answer  # the probe: the deployment judged the request
    reply = ask(url)
    assert reply.json()["model"] == "Phi-4-mini"  # not blocked for the life of the process
    assert deployment_health(url, "small")["breaker"] == "closed"


def test_classifier_calls_go_through_the_health_book(
    start_router: StartRouter, emulator: Emulator
) -> None:
    tiers = [dict(TIERS[0], tpm=100_000), *TIERS[1:]]
    url = start_router(**{**FAST, "ROUTER_TIERS": json.dumps(tiers), "ROUTER_PRESET": "classifier"})
    emulator.fault("Phi-4-mini", "rate_limit", times=1, retry_after_s=30)
    reply = ask(url, model="auto", text="where is my parcel")
    assert reply.headers["x-router-decided-by"] == "default"  # the classifier got a 429
    small = deployment_health(url, "small")
    assert float(small["cooldown_s"]) > 20  # type: ignore[arg-type]
    assert int(small["tokens_in_window"]) > 0  # type: ignore[call-overload]
    asked = len(emulator.requests("Phi-4-mini"))
    assert ask(url, model="auto", text="is my order shipped").status_code == 200
    assert len(emulator.requests("Phi-4-mini")) == asked  # a tier in cooldown is not asked


def test_classifier_failures_open_the_breaker(
    start_router: StartRouter, emulator: Emulator
) -> None:
    # the classifier's calls alone: no answer started beside them on the same deployment
    only_classifier = {"ROUTER_PRESET": "classifier", "ROUTER_SPECULATE": "off"}
    url = start_router(**{**FAST, **only_classifier, "ROUTER_BREAKER_FAILURES": "2"})
    emulator.fault("Phi-4-mini", "server_error", times=2)
    for text in ("where is my parcel", "is my order shipped"):
        assert ask(url, model="auto", text=text).headers["x-router-decided-by"] == "default"
    assert deployment_health(url, "small")["breaker"] == "open"


@pytest.mark.parametrize("page", ["html", "text", "json_without_choices"])
def test_a_2xx_that_is_not_a_chat_completion_fails_over(
    post: Post, emulator: Emulator, page: str
) -> None:
    emulator.fault("Phi-4-mini", "proxy_page", times=None, body=page)
    reply = post()
    assert reply.status_code == 200
    assert reply.json()["model"] == "Phi-4"
    assert reply.json()["choices"][0]["message"]["content"]
    assert len(calls(emulator, "Phi-4-mini")) == 3  # retried like a fault, then failed over


def test_a_trickled_body_is_cut_at_the_attempt_deadline(
    post: Post, emulator: Emulator, router_output: dict[str, list[str]]
) -> None:
    emulator.fault("Phi-4-mini", "trickle", times=None, over_s=10)  # a piece every 0.5 s
    reply = post()
    # The whole body takes 10 s, the request may take 8: Phi-4 answering means the attempt
    # was cut, and a timeout fails over at once.
    assert reply.json()["model"] == "Phi-4"
    assert len(calls(emulator, "Phi-4-mini")) == 1
    assert failed_over(router_output, post, "small", "phi4") == ["timeout"]


def test_the_request_budget_holds_across_slow_bodies(
    start_router: StartRouter, emulator: Emulator
) -> None:
    url = start_router(
        **{**FAST, "ROUTER_ATTEMPT_TIMEOUT_S": "60", "ROUTER_REQUEST_TIMEOUT_S": "3"}
    )
    for deployment in ALL_DEPLOYMENTS:
        # A piece every second: no single read waits long, the whole body takes 20 s.
        emulator.fault(deployment, "trickle", times=None, over_s=20)
    reply = ask(url)
    assert reply.status_code == 504
    assert reply.json()["error"]["code"] == "timeout"
    # The request's 3 s went on the first deployment's slow body: no other was asked.
    assert [r["deployment"] for r in emulator.requests()] == ["Phi-4-mini"]


TWO_TIERS = json.dumps(
    [
        {"name": "small", "deployment": "Phi-4-mini", "fallbacks": ["large"]},
        {"name": "large", "deployment": "gpt-5", "capabilities": ["reasoning"]},
    ]
)


def test_with_default_timeouts_a_hung_small_tier_is_answered_by_its_fallback(
    start_router: StartRouter, emulator: Emulator, router_output: dict[str, list[str]]
) -> None:
    url = start_router(ROUTER_TIERS=TWO_TIERS)  # every timeout at its default
    emulator.fault("Phi-4-mini", "no_response", times=None)
    reply = ask(url)
    # The fast kind's attempt limit cut it, well inside the request's own: gpt-5 had time.
    assert KIND_TIMEOUTS["fast"].attempt_s < Limits().request_timeout_s
    assert reply.json()["model"] == "gpt-5"
    assert len(calls(emulator, "Phi-4-mini")) == 1  # not retried on the hung deployment
    events = stream_events(url)
    assert {orjson.loads(e)["model"] for e in events[:-1]} == {"gpt-5"}
    assert events[-1] == "[DONE]"
    assert len(calls(emulator, "Phi-4-mini")) == 2  # the stream's one attempt, cut
    lines = router_output[url]
    assert printed(lines, "failover from_tier=small to_tier=large reason=timeout")
    assert len(failovers(lines, "small", "large")) == 2


def test_a_stalled_request_body_gets_a_408(start_router: StartRouter) -> None:
    url = start_router(**{**FAST, "ROUTER_BODY_TIMEOUT_S": "1"})
    where = urlsplit(url)
    head = (
        "POST /api/v1/chat/completions HTTP/1.1\r\nHost: router\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        sock.sendall(head.encode() + b'{"model": "small", ')  # and then nothing
        answer = b""
        while b"}}" not in answer and (chunk := sock.recv(65536)):  # the error envelope's end
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408")
    body = orjson.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "request_timeout"


def test_operator_logs_reach_the_console_without_prompt_text(
    post: Post, emulator: Emulator, router_output: dict[str, list[str]]
) -> None:
    emulator.fault("Phi-4-mini", "rate_limit", times=1, retry_after_s=0.2)
    emulator.fault("Phi-4-mini", "unavailable", times=None)
    post(text="my secret launch plan")  # 429, 503, 503: two faults
    post(text="my secret launch plan")  # the third opens the breaker (BREAKER_FAILURES=3)
    emulator.configure("Phi-4", forbidden=True)
    post(model="phi4", text="my secret launch plan")
    lines = router_output[post.url]  # type: ignore[attr-defined]
    assert printed(lines, "upstream_auth_failed")  # the last line logged
    text = "\n".join(lines)
    assert "retry_wait tier=small wait_s=0.2 reason=429 next_attempt=2" in text
    assert "breaker tier=small state=open" in text
    assert "failover from_tier=small to_tier=phi4 reason=upstream_error" in text
    assert "upstream_auth_failed tier=phi4 deployment=Phi-4 status=403" in text
    assert "secret" not in text
    assert "emulator-key" not in text
