"""Deterministic answers and token counts: a pure function of the deployment and the messages."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from devtools.emulator.classify import classify, is_classification_prompt
from devtools.emulator.structured import instance, structured_text

CHARS_PER_TOKEN = 4
# Like OpenAI's chat format overhead: a few tokens per message plus a few to prime the reply.
TOKENS_PER_MESSAGE = 4
TOKENS_PER_REPLY = 3
ECHO_WORDS = 24

_CLOSINGS = (
    "Here is a short, deterministic answer from the emulator.",
    "The emulator answers this the same way every time.",
    "This reply comes from the Foundry emulator, not a real model.",
    "A concise answer follows from the question itself.",
)
_TOOL_ASK = re.compile(r"\b(?:call|use|invoke)\s+(?:a|the|your|some)?\s*(?:\w+\s+)?tools?\b", re.I)


def count_tokens(text: str) -> int:
    """~4 characters per token, rounded up."""
    return -(-len(text) // CHARS_PER_TOKEN)


def content_text(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    return ""


def prompt_tokens(messages: list[dict[str, Any]], tools: list[Any] | None = None) -> int:
    total = TOKENS_PER_REPLY
    for m in messages:
        total += TOKENS_PER_MESSAGE + count_tokens(content_text(m.get("content")))
        calls = m.get("tool_calls")
        if calls:
            total += count_tokens(orjson.dumps(calls).decode())
    if tools:
        total += count_tokens(orjson.dumps(tools).decode())
    return total


@dataclass(frozen=True)
class Answer:
    """What the model says: text, or a tool call, with why it stopped."""

    content: str | None
    finish_reason: str
    completion_tokens: int
    tool_calls: list[dict[str, Any]] | None = None
    is_classification: bool = False


def _last(messages: list[dict[str, Any]], roles: tuple[str, ...]) -> dict[str, Any] | None:
    for m in messages[::-1]:  # reversed() of a list is Any to mypy here
        if m.get("role") in roles:
            return m
    return None


def is_classification(messages: list[dict[str, Any]]) -> bool:
    return any(
        m.get("role") in ("system", "developer")
        and is_classification_prompt(content_text(m.get("content")))
        for m in messages
    )


def reply_text(deployment: str, messages: list[dict[str, Any]]) -> str:
    """`[deployment] You asked about: <first words of the last user message>. <closing>`."""
    last = messages[-1] if messages else None
    if last is not None and last.get("role") == "tool":
        words = content_text(last.get("content")).split()
        snippet = " ".join(words[:ECHO_WORDS]) + (" ..." if len(words) > ECHO_WORDS else "")
        return f"[{deployment}] Based on the tool result: {snippet}"
    user = _last(messages, ("user",))
    text = content_text(user.get("content")) if user else ""
    words = text.split()
    snippet = " ".join(words[:ECHO_WORDS]).rstrip(".?!,;:")
    if len(words) > ECHO_WORDS:
        snippet += " ..."
    closing = _CLOSINGS[zlib.crc32(text.encode()) % len(_CLOSINGS)]
    return f"[{deployment}] You asked about: {snippet}. {closing}"


def _tool_call(
    tools: list[dict[str, Any]], tool_choice: Any, text: str
) -> list[dict[str, Any]] | None:
    """A call to the named/forced tool, else the first tool mentioned in the text, else tool 0."""
    functions = [t["function"] for t in tools if isinstance(t.get("function"), dict)]
    if not functions:
        return None
    chosen = None
    if isinstance(tool_choice, dict):
        forced = (tool_choice.get("function") or {}).get("name")
        chosen = next((f for f in functions if f.get("name") == forced), None)
    if chosen is None:
        lowered = text.lower()
        chosen = next((f for f in functions if str(f.get("name", "")).lower() in lowered), None)
    chosen = chosen or functions[0]
    # Arguments valid against the tool's parameter schema (its required fields).
    args = instance(chosen.get("parameters") or {"type": "object"}, "example")
    if not isinstance(args, dict):
        args = {}
    call_id = f"call_{zlib.crc32((chosen['name'] + text).encode()):08x}"
    arguments = orjson.dumps(args).decode()
    return [
        {
            "id": call_id,
            "type": "function",
            "function": {"name": chosen["name"], "arguments": arguments},
        }
    ]


def wants_tool(body: dict[str, Any], messages: list[dict[str, Any]]) -> bool:
    tools = body.get("tools")
    choice = body.get("tool_choice")
    if not tools or choice == "none":
        return False
    last = messages[-1]
    if last.get("role") != "user":
        # After a tool result the model answers in text.
        return False
    if choice == "required" or isinstance(choice, dict):
        return True
    return bool(_TOOL_ASK.search(content_text(last.get("content"))))


def answer(
    deployment: str,
    body: dict[str, Any],
    max_tokens: int | None,
    classification_override: str | None = None,
    response_format: dict[str, Any] | None = None,
) -> Answer:
    """The reply for a validated request body, cut to `max_tokens` (finish_reason `length`).

    With a JSON `response_format` the text is JSON that fits it (see structured.py)."""
    messages: list[dict[str, Any]] = body["messages"]
    classification = is_classification(messages)
    if classification:
        if classification_override is not None:
            text = classification_override
        else:
            user = _last(messages, ("user",))
            text = classify(content_text(user.get("content")) if user else "")
    elif wants_tool(body, messages):
        user_text = content_text(messages[-1].get("content"))
        calls = _tool_call(body["tools"], body.get("tool_choice"), user_text)
        if calls:
            fn = calls[0]["function"]
            tokens = count_tokens(fn["name"]) + count_tokens(fn["arguments"])
            return Answer(None, "tool_calls", tokens, tool_calls=calls)
        text = reply_text(deployment, messages)
    else:
        text = reply_text(deployment, messages)
        if response_format is not None:
            text = structured_text(response_format, text)
    finish = "stop"
    if max_tokens is not None and count_tokens(text) > max_tokens:
        text = text[: max_tokens * CHARS_PER_TOKEN]
        finish = "length"
    return Answer(text, finish, count_tokens(text), is_classification=classification)


_PIECES = re.compile(r"\S+\s*|\s+")


def stream_pieces(text: str) -> list[str]:
    """Split text into word-sized deltas whose concatenation is exactly `text`."""
    return _PIECES.findall(text) or [""]


def token_logprobs(pieces: list[str], top: int) -> list[dict[str, Any]]:
    """OpenAI's per-token logprobs for the given pieces: a fixed, plausible distribution."""
    out = []
    for piece in pieces:
        chosen = -0.01 * (1 + zlib.crc32(piece.encode()) % 50)
        alternatives = [
            {"token": piece, "logprob": chosen, "bytes": list(piece.encode())},
            *(
                {"token": f"{piece.strip()}_{k}", "logprob": chosen - k - 1.0, "bytes": None}
                for k in range(max(0, top - 1))
            ),
        ][:top]
        out.append(
            {
                "token": piece,
                "logprob": chosen,
                "bytes": list(piece.encode()),
                "top_logprobs": alternatives,
            }
        )
    return out
