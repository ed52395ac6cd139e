"""What a small tier's stream has said so far, so the guard can check a streamed agent turn.

Text streams to the caller as it arrives: the first piece of text (or of a refusal) releases the
stream. A stream that starts with a tool call, or says nothing, is held until it finishes; its
calls are then put together into the answer the guard checks (shared/guard.py), before the
caller has seen a byte of it. Events are the decoded `data` of each server-sent event, in
either API's shape: chat-completion chunks, or the Responses API's typed events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Verdict = Literal["hold", "release", "check"]
# Responses API events: text that releases the stream, and the end that carries the answer.
TEXT_EVENTS = frozenset({"response.output_text.delta", "response.refusal.delta"})
END_EVENTS = frozenset({"response.completed", "response.incomplete"})


class ChatTurn:
    """Chat-completion chunks: text deltas, tool-call deltas by index, the finish."""

    def __init__(self) -> None:
        self.calls: dict[int, dict[str, str]] = {}

    def see(self, data: Mapping[str, Any] | None, done: bool) -> Verdict:
        if done:
            return "check"
        if data is None:
            return "release"  # malformed: the relay says so, as for any stream
        finished = False
        choices = data.get("choices")
        for choice in choices if isinstance(choices, list) else ():
            if not isinstance(choice, Mapping):
                continue
            delta = choice.get("delta")
            delta = delta if isinstance(delta, Mapping) else {}
            if (delta.get("content") or delta.get("refusal")) and not self.calls:
                return "release"
            for call in delta.get("tool_calls") or ():
                if isinstance(call, Mapping):
                    self._add(call)
            finished = finished or bool(choice.get("finish_reason"))
        return "check" if finished else "hold"

    def _add(self, call: Mapping[str, Any]) -> None:
        index = call.get("index", 0)
        entry = self.calls.setdefault(index if isinstance(index, int) else 0, {})
        function = call.get("function")
        for key in ("name", "arguments"):
            piece = function.get(key) if isinstance(function, Mapping) else None
            if isinstance(piece, str):
                entry[key] = entry.get(key, "") + piece

    def answer(self) -> dict[str, Any]:
        """The held turn as a chat completion (what guard.check_chat reads)."""
        calls = [{"type": "function", "function": self.calls[i]} for i in sorted(self.calls)]
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if calls:
            message["tool_calls"] = calls
        return {"choices": [{"index": 0, "message": message}]}


class ResponsesTurn:
    """Responses API events: text deltas release; `response.completed` carries the answer."""

    def __init__(self) -> None:
        self.response: Mapping[str, Any] = {}

    def see(self, data: Mapping[str, Any] | None, done: bool) -> Verdict:
        if done:
            return "check"
        if data is None:
            return "release"
        kind = data.get("type")
        if kind in TEXT_EVENTS:
            return "release"
        if kind in END_EVENTS:
            response = data.get("response")
            self.response = response if isinstance(response, Mapping) else {}
            return "check"
        if kind in ("response.failed", "error"):
            return "release"  # the caller sees the upstream's own error event
        return "hold"

    def answer(self) -> Mapping[str, Any]:
        return self.response


def turn_for(api: str) -> ChatTurn | ResponsesTurn:
    return ResponsesTurn() if api == "responses" else ChatTurn()
