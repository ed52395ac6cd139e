import asyncio
from typing import Any

import pytest

from shared.routing.cache import TtlCache
from shared.routing.classifier import (
    SAMPLING,
    Classifier,
    Label,
    cache_key,
    classification_body,
    parse_label,
)


@pytest.mark.parametrize(
    ("answer", "label"),
    [
        ("simple", "simple"),
        ("Simple.", "simple"),
        ("**complex**", "complex"),
        ("  COMPLEX\n", "complex"),
        ("Complex - it needs a plan", "complex"),
        ("simple or complex", None),
        ("banana", None),
        ("", None),
        ("simpler", None),
    ],
)
def test_parse_label(answer: str, label: str | None) -> None:
    assert parse_label(answer) == label


def test_classification_body_is_near_deterministic_and_short() -> None:
    body = classification_body("x" * 10_000)
    assert body["temperature"] == pytest.approx(0.1)
    assert body["top_p"] > 0.8
    assert body["max_tokens"] <= 10
    assert not (SAMPLING["temperature"] == 0 and SAMPLING["top_p"] == 0)
    assert len(body["messages"][1]["content"]) < 10_000


def test_cache_key_normalizes() -> None:
    assert cache_key("  Hello   World ") == cache_key("hello world")


def test_ttl_cache_expires_and_evicts() -> None:
    now = [0.0]
    cache: TtlCache[str] = TtlCache(ttl_s=10, max_size=2, clock=lambda: now[0])
    cache.put("a", "1")
    cache.put("b", "2")
    assert cache.get("a") == "1"  # a is now most recent
    cache.put("c", "3")
    assert cache.get("b") is None
    assert len(cache) == 2
    now[0] = 11
    assert cache.get("a") is None


class Model:
    """A stand-in for the model call: answers or sleeps as told, counting calls."""

    def __init__(self, answer: str, delay: float = 0.0) -> None:
        self.answer = answer
        self.delay = delay
        self.calls = 0

    async def __call__(self, body: dict[str, Any]) -> str:
        self.calls += 1
        await asyncio.sleep(self.delay)
        return self.answer


def make(model: Model, timeout: float = 1.0) -> Classifier:
    cache: TtlCache[Label] = TtlCache(60, 100)
    return Classifier(model, timeout, cache)


async def test_verdict_then_cache() -> None:
    model = Model("Complex.")
    classifier = make(model)
    assert await classifier.recall("Design a   system") is None
    first = await classifier.ask_model("Design a   system")
    second = await classifier.recall("design a system")
    assert second is not None
    assert (first.label, first.source) == ("complex", "classifier")
    assert (second.label, second.source) == ("complex", "cache")
    assert model.calls == 1


async def test_timeout_gives_no_label() -> None:
    verdict = await make(Model("simple", delay=1.0), timeout=0.05).ask_model("x")
    assert (verdict.label, verdict.source) == (None, "timeout")


async def test_unparsable_answer_is_not_cached() -> None:
    model = Model("banana")
    classifier = make(model)
    assert (await classifier.ask_model("x")).source == "unparsed"
    assert await classifier.recall("x") is None
    assert (await classifier.ask_model("x")).source == "unparsed"
    assert model.calls == 2


async def test_failure_gives_no_label() -> None:
    async def broken(body: dict[str, Any]) -> str:
        raise ConnectionError("down")

    verdict = await Classifier(broken, 1.0, TtlCache(60, 10)).ask_model("x")
    assert (verdict.label, verdict.source) == (None, "error")
