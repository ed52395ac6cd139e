"""The small-model classifier: a strict one-word prompt, robust parsing, a timeout and a cache."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from shared.routing.cache import TtlCache

Label = Literal["simple", "complex"]
VerdictSource = Literal["classifier", "cache", "timeout", "error", "unparsed"]

SYSTEM_PROMPT = (
    "You are a request router. Decide whether the user's request needs a large model.\n"
    "simple: greetings, small talk, FAQs, status checks, lookups, short factual questions, "
    "translation of a word or phrase, extracting or reformatting given text.\n"
    "complex: multi-step tasks, planning, design, math or calculations, code, debugging, "
    "analysis, comparisons, long-form writing, anything needing careful reasoning.\n"
    "Reply with exactly one word: simple or complex."
)
# Near-deterministic and short: the seed's settings. Never temperature 0 with top_p 0 (8x slower).
SAMPLING = {"temperature": 0.1, "top_p": 0.9, "max_tokens": 5}
MAX_PROMPT_CHARS = 4000
_WORDS = re.compile(r"[a-z]+")


def classification_body(text: str) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": text[:MAX_PROMPT_CHARS]},
        ],
        **SAMPLING,
    }


def parse_label(answer: str) -> Label | None:
    """`Simple.`, `**complex**`, `Complex - it needs a plan` -> a label; ambiguous -> None."""
    found = {word for word in _WORDS.findall(answer.lower()) if word in ("simple", "complex")}
    return found.pop() if len(found) == 1 else None


def cache_key(text: str) -> str:
    return " ".join(text.lower().split())


@dataclass(frozen=True, slots=True)
class Verdict:
    label: Label | None
    source: VerdictSource
    latency_ms: float


Ask = Callable[[dict[str, Any]], Awaitable[str]]
"""Sends a classification body to the small model and returns its answer text."""


class Classifier:
    def __init__(self, ask: Ask, timeout_s: float, cache: TtlCache[Label]) -> None:
        self.ask = ask
        self.timeout_s = timeout_s
        self.cache = cache

    async def classify(self, text: str) -> Verdict:
        key = cache_key(text)
        cached = self.cache.get(key)
        if cached is not None:
            return Verdict(cached, "cache", 0.0)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                answer = await self.ask(classification_body(text))
        except TimeoutError:
            return Verdict(None, "timeout", _ms_since(started))
        except Exception:  # any upstream failure means "don't know": the safe default applies
            return Verdict(None, "error", _ms_since(started))
        label = parse_label(answer)
        if label is None:
            return Verdict(None, "unparsed", _ms_since(started))
        self.cache.put(key, label)
        return Verdict(label, "classifier", _ms_since(started))


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
