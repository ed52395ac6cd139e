from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from shared.settings import BreakerPolicy
from shared.upstream.health import HealthBook, estimate_tokens
from shared.upstream.outcomes import upstream_wait_s


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def book(tpm: int | None = None, failures: int = 3) -> tuple[HealthBook, Clock]:
    clock = Clock()
    return HealthBook({"a": tpm}, BreakerPolicy(failures, cooldown_s=30), clock), clock


def test_retry_after_cools_the_deployment_down_until_then() -> None:
    health, clock = book()
    health.throttled("a", 5)
    blocked = health.blocked("a")
    assert blocked is not None
    assert blocked.reason == "cooldown"
    assert blocked.wait_s == pytest.approx(5)
    clock.now += 5
    assert health.blocked("a") is None


def test_breaker_opens_then_half_opens_for_one_probe() -> None:
    health, clock = book(failures=3)
    for _ in range(3):
        health.start("a", 0)
        health.failed("a")
    assert health.blocked("a").reason == "breaker"  # type: ignore[union-attr]
    clock.now += 30
    assert health.blocked("a") is None  # half-open: one probe may go
    health.start("a", 0)
    assert health.blocked("a") is not None  # the others wait for the probe
    health.succeeded("a")
    assert health.blocked("a") is None
    assert health.snapshot()["a"]["breaker"] == "closed"


def test_failed_probe_reopens() -> None:
    health, clock = book(failures=1)
    health.failed("a")
    clock.now += 30
    health.start("a", 0)
    health.failed("a")
    assert health.blocked("a").reason == "breaker"  # type: ignore[union-attr]


def test_flapping_deployment_opens_the_breaker() -> None:
    health, _ = book(failures=3)
    for ok in (False, True, False, True, False):
        health.start("a", 0)
        if ok:
            health.succeeded("a")
        else:
            health.failed("a")
    assert health.blocked("a").reason == "breaker"  # type: ignore[union-attr]


def test_throttling_does_not_count_against_the_breaker() -> None:
    health, _ = book(failures=1)
    health.throttled("a", None)
    assert health.blocked("a") is None


def test_token_budget_skips_until_the_window_frees() -> None:
    health, clock = book(tpm=1000)
    assert health.blocked("a", 600) is None
    health.start("a", 600)
    clock.now += 20
    blocked = health.blocked("a", 600)
    assert blocked is not None
    assert blocked.reason == "budget"
    assert blocked.wait_s == pytest.approx(40)
    clock.now += 40
    assert health.blocked("a", 600) is None


def test_low_remaining_tokens_from_the_deployment_hold_it_briefly() -> None:
    health, clock = book()
    health.succeeded("a", remaining_tokens=10, needed=500)
    assert health.blocked("a").reason == "budget"  # type: ignore[union-attr]
    clock.now += 60
    assert health.blocked("a") is None


def test_estimate_counts_prompt_and_output_cap() -> None:
    body = {"messages": [{"role": "user", "content": "x" * 400}], "max_tokens": 50}
    assert estimate_tokens(body) == 100 + 4 + 50
    assert estimate_tokens({"messages": []}) == 1000


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"x-ms-retry-after-ms": "250"}, 0.25),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_upstream_wait(headers: dict[str, str], wait: float | None) -> None:
    assert upstream_wait_s(headers) == wait


def test_upstream_wait_as_http_date() -> None:
    when = datetime.fromtimestamp(1_000_010, tz=UTC)
    assert upstream_wait_s({"retry-after": format_datetime(when, usegmt=True)}, now=1_000_000) == (
        pytest.approx(10)
    )
