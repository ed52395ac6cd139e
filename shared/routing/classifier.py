"""The small-model classifier: a strict one-word prompt, robust parsing, a timeout and a cache."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from shared.routing import rules
from shared.routing.features import RequestView, ask_fit, fit_signals
from shared.state.memory import Memory

Label = Literal["simple", "complex"]
LABELS: tuple[Label, ...] = ("simple", "complex")
VerdictSource = Literal["classifier", "cache", "timeout", "error", "unparsed"]

SYSTEM_PROMPT = (
    "You are a request router. Decide whether the request needs a large model.\n"
    "simple: greetings, small talk, FAQs, status checks, lookups, short factual questions, "
    "translation of a word or phrase, extracting or reformatting given text. In an agent "
    "turn: one obvious tool call for a clear ask, a tool list that does not apply to the ask, "
    "answering from a short tool result, short follow-ups and formatting.\n"
    "complex: multi-step tasks, planning, design, proofs, math or calculations, code, "
    "debugging, analysis, comparisons, long-form writing, anything needing careful reasoning. "
    "In an agent turn: planning over many tools, several dependent or parallel tool calls, a "
    "task bound by a long policy, reasoning over large or many tool results.\n"
    "An agent turn is described in brackets before the user's message.\n"
    "Reply with exactly one word: simple or complex."
)
# Near-deterministic and short. Never temperature 0 with top_p 0 (observed 8x slower).
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


def describe_turn(view: RequestView) -> str:
    """What the classifier reads: the last user message, after a one-line description of the
    agent turn around it when there is one (tools, instructions, tool calls and results)."""
    if not (view.tools or view.system_chars or view.tool_results):
        return view.text
    parts = [f"{view.tools} tools offered"]
    if view.system_chars:
        parts.append(f"instructions of {view.system_chars:,} characters")
    if view.results_since_user:
        parts.append(
            f"{view.results_since_user} tool results ({view.result_chars:,} characters) from "
            f"{view.calls_since_user} calls since the user's message, to be read now"
            if view.last_is_tool
            else f"{view.results_since_user} tool results since the user's message"
        )
    elif view.tool_results:
        parts.append(f"{view.tool_results} earlier tool results")
    parts += _tool_fit(view)
    return f"[agent turn: {'; '.join(parts)}]\n{view.text}"


def _tool_fit(view: RequestView) -> list[str]:
    """What the offered tools say about the ask (toolfit.py), in words, by the rules' reading
    (a function the ask names beside a whole API is not one call: rules.one_call)."""
    if not view.tool_words:
        return []
    fit = ask_fit(view)
    signals = fit_signals(fit)
    out = []
    if signals["no_tool_fits"]:
        out.append("no offered tool fits the ask")
    elif fit.needed >= 2:
        out.append(f"the ask needs {fit.needed} different tools")
    elif rules.one_call(view, signals):
        out.append("one offered tool performs the ask")
    if fit.id_gap:
        out.append("a tool it needs requires an id that another call must find first")
    return out


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
    def __init__(self, ask: Ask, timeout_s: float, cache: Memory) -> None:
        self.ask = ask
        self.timeout_s = timeout_s
        self.cache = cache

    async def recall(self, text: str) -> Verdict | None:
        """The verdict on `text` the cache remembers, if any."""
        cached = _label(await self.cache.recall(cache_key(text)))
        return Verdict(cached, "cache", 0.0) if cached is not None else None

    async def ask_model(self, text: str) -> Verdict:
        """The small model's verdict, remembered when it gives one."""
        key = cache_key(text)
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
        await self.cache.remember(key, label)
        return Verdict(label, "classifier", _ms_since(started))


def _label(cached: str | None) -> Label | None:
    """A remembered label, if it is one (a shared cache holds what any version wrote)."""
    for label in LABELS:
        if cached == label:
            return label
    return None


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
