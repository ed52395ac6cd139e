"""How long and how large one upstream answer may be (shared/upstream/bounds.py), over HTTP
against the emulator: a long answer that was asked for is waited for, a trickled body and an
oversized answer fail over, an endless stream ends with its own cause."""

from __future__ import annotations

import json

import httpx
import orjson

from tests.conftest import Emulator, StartRouter
from tests.e2e.test_resilience import FAST, TIERS, calls, stream_events

# Phi-4-mini alone, asked once: a 504's message names the limit that cut the attempt.
ALONE = {
    **FAST,
    "ROUTER_TIERS": json.dumps([TIERS[0] | {"fallbacks": []}]),
    "ROUTER_LARGE_TIER": "small",
    "ROUTER_MAX_ATTEMPTS": "1",
}


def ask(url: str, model: str = "small", **extra: object) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}
    return httpx.post(f"{url}/api/v1/chat/completions", json=body, timeout=60)


def test_a_long_answer_that_was_asked_for_is_not_cut(
    start_router: StartRouter, emulator: Emulator
) -> None:
    url = start_router(**FAST)  # ROUTER_ATTEMPT_TIMEOUT_S=1
    # The model takes 2.5 s to write what was asked; Foundry sends the headers when it is done.
    emulator.fault("Phi-4-mini", "slow_first_token", times=None, delay_ms=2500)
    reply = ask(url, max_tokens=200)  # 1 s + 200 tokens at 40 tokens/s = 6 s to answer
    assert reply.status_code == 200
    assert reply.json()["model"] == "Phi-4-mini"
    assert len(calls(emulator, "Phi-4-mini")) == 1


def test_a_request_without_an_output_cap_still_fails_over_at_the_base_limit(
    start_router: StartRouter, emulator: Emulator
) -> None:
    url = start_router(**FAST)
    emulator.fault("Phi-4-mini", "no_response", times=None)
    reply = ask(url)
    assert reply.json()["model"] == "Phi-4"
    assert len(calls(emulator, "Phi-4-mini")) == 1
    # Which limit cut it: the one deployment of a chain of one, asked once, names it.
    alone = start_router(**ALONE)
    reply = ask(alone)
    assert reply.status_code == 504
    assert "did not answer within 1 s" in reply.json()["error"]["message"]


def test_a_trickled_body_fails_over_at_the_base_limit_however_long_the_answer_asked(
    start_router: StartRouter, emulator: Emulator
) -> None:
    url = start_router(**FAST)
    emulator.fault("Phi-4-mini", "trickle", times=None, over_s=10)
    reply = ask(url, max_tokens=2000)  # 51 s to write it; the headers came at once
    assert reply.json()["model"] == "Phi-4"
    assert len(calls(emulator, "Phi-4-mini")) == 1
    alone = start_router(**ALONE)
    reply = ask(alone, max_tokens=2000)
    assert reply.status_code == 504
    assert "but not its body within 1 s" in reply.json()["error"]["message"]


def test_an_answer_larger_than_the_tier_can_write_fails_over(
    start_router: StartRouter, emulator: Emulator
) -> None:
    url = start_router(**FAST)
    # Phi-4's 16,384-token window at 64 bytes a token: 1 MiB is the most it can answer.
    emulator.fault("Phi-4", "huge_answer", times=None, bytes=3_000_000)
    reply = ask(url, model="phi4")
    assert reply.status_code == 200
    assert reply.json()["model"] == "gpt-5"  # phi4's fallback
    assert len(reply.content) < 100_000
    assert len(calls(emulator, "Phi-4")) == 1  # not retried: another deployment may answer


def test_an_answer_over_the_setting_is_a_502_when_nothing_else_answers(
    start_router: StartRouter, emulator: Emulator
) -> None:
    url = start_router(**{**FAST, "ROUTER_MAX_ANSWER_BYTES": "100000"})
    for deployment in ("Phi-4", "gpt-5", "gpt-4o"):
        emulator.fault(deployment, "huge_answer", times=None, bytes=300_000)
    reply = ask(url, model="phi4")
    assert reply.status_code == 502
    assert reply.json()["error"]["code"] == "upstream_answer_too_large"


def test_an_endless_stream_ends_with_its_own_cause(
    start_router: StartRouter, emulator: Emulator
) -> None:
    url = start_router(**{**FAST, "ROUTER_STREAM_MAX_S": "2"})
    emulator.fault("Phi-4-mini", "endless_stream", times=1, every_s=0.1)
    events = stream_events(url)
    assert "[DONE]" not in events
    error = orjson.loads(events[-1])["error"]
    assert "stream_max_duration" in error["message"]
    assert len(events) > 10  # what came before the limit was passed on
