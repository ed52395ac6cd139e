"""Chat-completions stream chunks -> Responses stream events, in OpenAI's documented order.

response.created, response.in_progress; per output item: response.output_item.added, then for a
message response.content_part.added, response.output_text.delta..., response.output_text.done,
response.content_part.done, or for a function call response.function_call_arguments.delta...,
response.function_call_arguments.done; response.output_item.done; and last response.completed
(response.incomplete when the model hit its limit). A stream that breaks ends in
response.failed: never a completed event after a cut.
"""

from __future__ import annotations

from typing import Any

import orjson

from shared.responses.objects import (
    INCOMPLETE,
    function_call_item,
    message_item,
    new_id,
    response_object,
    text_part,
    usage_from_chat,
)
from shared.responses.request import ResponsesRequest


def sse(event: dict[str, Any]) -> bytes:
    """One server-sent event, named as OpenAI names them (`event:` and the type in `data`)."""
    return b"event: " + str(event["type"]).encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"


class _Open:
    """An output item being streamed."""

    __slots__ = ("arguments", "call_id", "index", "item_id", "kind", "name", "text")

    def __init__(self, kind: str, index: int, item_id: str) -> None:
        self.kind = kind
        self.index = index
        self.item_id = item_id
        self.text = ""
        self.arguments = ""
        self.call_id = ""
        self.name = ""


class ChatToResponses:
    """Feed it chat chunks; it returns the Responses events each one makes."""

    def __init__(
        self, request: ResponsesRequest, response_id: str, model: str, created_at: int
    ) -> None:
        self.request = request
        self.response_id = response_id
        self.model = model
        self.created_at = created_at
        self.sequence = 0
        self.output: list[dict[str, Any]] = []  # finished items, in output order
        self.open: list[_Open] = []
        self.message: _Open | None = None
        self.calls: dict[int, _Open] = {}  # chat's tool_call index -> its item
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self.final: dict[str, Any] | None = None  # the completed Response, once there is one

    def _event(self, kind: str, **fields: Any) -> bytes:
        event = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return sse(event)

    def _snapshot(self, status: str, **extra: Any) -> dict[str, Any]:
        return response_object(
            self.request,
            self.response_id,
            self.created_at,
            self.model,
            list(self.output),
            status=status,
            **extra,
        )

    def start(self) -> list[bytes]:
        snapshot = self._snapshot("in_progress")
        return [
            self._event("response.created", response=snapshot),
            self._event("response.in_progress", response=snapshot),
        ]

    def chunk(self, chunk: dict[str, Any]) -> list[bytes]:
        events: list[bytes] = []
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue  # n > 1 has no Responses equivalent; only the first choice is used
            delta = choice.get("delta") or {}
            text = delta.get("content")
            if text:
                events += self._text(text)
            for call in delta.get("tool_calls") or []:
                events += self._call(call)
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return events

    def _text(self, text: str) -> list[bytes]:
        events: list[bytes] = []
        item = self.message
        if item is None:
            item = self.message = self._open("message", new_id("msg"))
            events.append(
                self._event(
                    "response.output_item.added",
                    output_index=item.index,
                    item=message_item(item.item_id, "", status="in_progress"),
                )
            )
            events.append(
                self._event(
                    "response.content_part.added",
                    item_id=item.item_id,
                    output_index=item.index,
                    content_index=0,
                    part=text_part(""),
                )
            )
        item.text += text
        events.append(
            self._event(
                "response.output_text.delta",
                item_id=item.item_id,
                output_index=item.index,
                content_index=0,
                delta=text,
                logprobs=[],
            )
        )
        return events

    def _call(self, call: dict[str, Any]) -> list[bytes]:
        events: list[bytes] = []
        position = call.get("index", 0)
        function = call.get("function") or {}
        item = self.calls.get(position)
        if item is None:
            item = self.calls[position] = self._open("function_call", new_id("fc"))
            item.call_id = call.get("id") or new_id("call")
            item.name = function.get("name") or ""
            events.append(
                self._event(
                    "response.output_item.added",
                    output_index=item.index,
                    item=function_call_item(
                        item.item_id, item.call_id, item.name, "", status="in_progress"
                    ),
                )
            )
        arguments = function.get("arguments")
        if arguments:
            item.arguments += arguments
            events.append(
                self._event(
                    "response.function_call_arguments.delta",
                    item_id=item.item_id,
                    output_index=item.index,
                    delta=arguments,
                )
            )
        return events

    def _open(self, kind: str, item_id: str) -> _Open:
        item = _Open(kind, len(self.output) + len(self.open), item_id)
        self.open.append(item)
        return item

    def _close(self, item: _Open) -> list[bytes]:
        if item.kind == "message":
            done = message_item(item.item_id, item.text)
            events = [
                self._event(
                    "response.output_text.done",
                    item_id=item.item_id,
                    output_index=item.index,
                    content_index=0,
                    text=item.text,
                    logprobs=[],
                ),
                self._event(
                    "response.content_part.done",
                    item_id=item.item_id,
                    output_index=item.index,
                    content_index=0,
                    part=text_part(item.text),
                ),
            ]
        else:
            done = function_call_item(item.item_id, item.call_id, item.name, item.arguments)
            events = [
                self._event(
                    "response.function_call_arguments.done",
                    item_id=item.item_id,
                    output_index=item.index,
                    name=item.name,
                    arguments=item.arguments,
                )
            ]
        events.append(self._event("response.output_item.done", output_index=item.index, item=done))
        self.output.append(done)
        return events

    def finish(self) -> list[bytes]:
        """The whole answer arrived: close every item and make the final Response (`final`);
        `final_event` then sends it, once the caller has had its say on it (stored or not)."""
        events: list[bytes] = []
        for item in self.open:
            events += self._close(item)
        self.open = []
        reason = INCOMPLETE.get(self.finish_reason or "")
        self.final = self._snapshot(
            "incomplete" if reason else "completed",
            usage=usage_from_chat(self.usage),
            incomplete_reason=reason,
        )
        return events

    def final_event(self) -> bytes:
        """response.completed (or .incomplete) with the final Response."""
        assert self.final is not None
        status = self.final["status"]
        return self._event(f"response.{status}", response=self.final)

    def fail(self, message: str, code: str = "server_error") -> list[bytes]:
        """The stream broke: what was finished stays, the response is failed, nothing completes."""
        error = {"code": code, "message": message}
        failed = self._snapshot("failed", error=error, usage=usage_from_chat(self.usage))
        return [self._event("response.failed", response=failed)]
