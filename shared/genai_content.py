"""Prompts and answers in the OpenTelemetry GenAI conventions' message structure.

Recorded only when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true. The conventions'
gen_ai.input.messages / gen_ai.output.messages are JSON arrays of
`{"role", "parts": [...], "name"?}` (output messages add `finish_reason`), each part typed:
`text` {content}, `tool_call` {id, name, arguments}, `tool_call_response` {id, response},
`uri` {modality, uri}, `blob` {modality, mime_type?, content}; a part of another type keeps its
fields under its own type (the conventions' generic part), so nothing the caller sent is lost.
OpenAI's chat format is translated here, in one place; pure functions, no I/O.
"""

from __future__ import annotations

from typing import Any

import orjson

Part = dict[str, Any]
Message = dict[str, Any]


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def input_messages(messages: Any) -> list[Message]:
    """OpenAI chat `messages` -> the conventions' input messages."""
    if not isinstance(messages, list):
        return []
    return [_message(m) for m in messages if isinstance(m, dict)]


def output_messages(choices: Any) -> list[Message]:
    """OpenAI `choices` (a JSON answer) -> the conventions' output messages, one per choice."""
    if not isinstance(choices, list):
        return []
    out = []
    for choice in choices:
        if not isinstance(choice, dict):
            continue
        message = _message(choice.get("message") or {"role": "assistant"})
        message["finish_reason"] = choice.get("finish_reason") or ""
        out.append(message)
    return out


def response_input(value: Any) -> list[Message]:
    """A Responses API `input` (a string, or a list of items) -> the conventions' messages."""
    if isinstance(value, str):
        return [{"role": "user", "parts": [{"type": "text", "content": value}]}]
    if not isinstance(value, list):
        return []
    return _items([item for item in value if isinstance(item, dict)])


def response_output(answer: dict[str, Any]) -> list[Message]:
    """A Responses API answer's `output` items -> the conventions' output messages."""
    output = answer.get("output")
    if not isinstance(output, list):
        return []
    messages = _items([item for item in output if isinstance(item, dict)], role="assistant")
    reason = (answer.get("incomplete_details") or {}).get("reason") or (
        "stop" if answer.get("status") == "completed" else answer.get("status") or ""
    )
    return [{**m, "finish_reason": reason} for m in messages]


def _items(items: list[dict[str, Any]], role: str = "user") -> list[Message]:
    """Responses items: messages keep their role; function calls and their outputs become
    tool_call / tool_call_response parts (of an assistant and a tool message)."""
    out: list[Message] = []
    for item in items:
        kind = item.get("type", "message")
        if kind == "message" or "role" in item:
            out.append(_message(item))
        elif kind == "function_call":
            out.append({"role": "assistant", "parts": [_function_call(item)]})
        elif kind == "function_call_output":
            response = {"id": item.get("call_id"), "response": item.get("output")}
            out.append({"role": "tool", "parts": [{"type": "tool_call_response", **response}]})
        else:  # reasoning, web search calls...: kept whole, under their own type
            out.append({"role": role, "parts": [_content_part(item)]})
    return out


def _function_call(item: dict[str, Any]) -> Part:
    return {
        "type": "tool_call",
        "id": item.get("call_id"),
        "name": item.get("name", ""),
        "arguments": _arguments(item.get("arguments")),
    }


def _message(message: dict[str, Any]) -> Message:
    role = str(message.get("role") or "user")
    parts: list[Part] = []
    if role == "tool":
        parts.append(
            {
                "type": "tool_call_response",
                "id": message.get("tool_call_id"),
                "response": _text_of(message.get("content")),
            }
        )
    else:
        parts.extend(_content_parts(message.get("content")))
    for call in message.get("tool_calls") or []:
        parts.append(_tool_call(call))
    if message.get("refusal"):
        parts.append({"type": "text", "content": str(message["refusal"])})
    out: Message = {"role": role, "parts": parts}
    if message.get("name"):
        out["name"] = message["name"]
    return out


def _content_parts(content: Any) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    if not isinstance(content, list):
        return [{"type": "text", "content": str(content)}]
    return [_content_part(item) for item in content if isinstance(item, dict)]


def _content_part(item: dict[str, Any]) -> Part:
    kind = item.get("type")
    if kind in ("text", "input_text", "output_text"):
        return {"type": "text", "content": item.get("text", "")}
    if kind == "refusal":
        return {"type": "text", "content": item.get("refusal", "")}
    if kind == "input_image" and isinstance(item.get("image_url"), str):
        return _content_part({"type": "image_url", "image_url": {"url": item["image_url"]}})
    if kind == "image_url":
        image = item.get("image_url") or {}
        url = image.get("url", "") if isinstance(image, dict) else str(image)
        if url.startswith("data:"):
            mime, _, data = url[5:].partition(";base64,")
            return {"type": "blob", "modality": "image", "mime_type": mime, "content": data}
        return {"type": "uri", "modality": "image", "uri": url}
    if kind == "input_audio":
        audio = item.get("input_audio") or {}
        return {
            "type": "blob",
            "modality": "audio",
            "mime_type": f"audio/{audio.get('format', '')}",
            "content": audio.get("data", ""),
        }
    return {**{k: v for k, v in item.items() if k != "type"}, "type": str(kind)}


def _tool_call(call: Any) -> Part:
    if not isinstance(call, dict):
        return {"type": "tool_call", "id": None, "name": "", "arguments": call}
    function = call.get("function") or {}
    return {
        "type": "tool_call",
        "id": call.get("id"),
        "name": function.get("name", ""),
        "arguments": _arguments(function.get("arguments")),
    }


def _arguments(raw: Any) -> Any:
    """Tool arguments as the object they encode (the conventions' `arguments` is any JSON)."""
    if isinstance(raw, str):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw
    return raw


def _text_of(content: Any) -> Any:
    if isinstance(content, list):
        texts = [c.get("text", "") for c in content if isinstance(c, dict) and "text" in c]
        return "".join(texts) if len(texts) == len(content) else content
    return content


class StreamedOutput:
    """Output messages of a stream, assembled from its deltas (text and tool-call fragments)."""

    def __init__(self) -> None:
        self._text: dict[int, list[str]] = {}
        self._role: dict[int, str] = {}
        self._calls: dict[int, dict[int, dict[str, Any]]] = {}

    def add(self, index: int, delta: dict[str, Any]) -> None:
        if delta.get("role"):
            self._role[index] = str(delta["role"])
        if isinstance(delta.get("content"), str):
            self._text.setdefault(index, []).append(delta["content"])
        for fragment in delta.get("tool_calls") or []:
            call = self._calls.setdefault(index, {}).setdefault(
                fragment.get("index", 0), {"id": None, "name": "", "arguments": ""}
            )
            call["id"] = fragment.get("id") or call["id"]
            function = fragment.get("function") or {}
            call["name"] += function.get("name") or ""
            call["arguments"] += function.get("arguments") or ""

    def messages(self, finish_reasons: dict[int, str]) -> list[Message]:
        indexes = sorted(set(self._text) | set(self._calls) | set(finish_reasons))
        out = []
        for index in indexes:
            parts: list[Part] = []
            if index in self._text:
                parts.append({"type": "text", "content": "".join(self._text[index])})
            for _, call in sorted(self._calls.get(index, {}).items()):
                arguments = _arguments(call["arguments"])
                parts.append({**call, "type": "tool_call", "arguments": arguments})
            out.append(
                {
                    "role": self._role.get(index, "assistant"),
                    "parts": parts,
                    "finish_reason": finish_reasons.get(index, ""),
                }
            )
        return out
