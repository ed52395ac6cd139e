"""The Response object and its output items, as OpenAI's API reference and openai-python's
`Response` type define them (every field the SDK requires, in the order it documents)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from shared.responses.request import ResponsesRequest


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(24)}"


def response_object(
    request: ResponsesRequest,
    response_id: str,
    created_at: int,
    model: str,
    output: list[dict[str, Any]],
    *,
    status: str = "completed",
    usage: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    incomplete_reason: str | None = None,
) -> dict[str, Any]:
    body = request.body
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": request.previous_response_id,
        "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
        "store": request.store,
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": usage,
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


def now() -> int:
    return int(time.time())


def message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": [text_part(text)] if status == "completed" or text else [],
    }


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def function_call_item(
    item_id: str, call_id: str, name: str, arguments: str, status: str = "completed"
) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def usage_from_chat(usage: dict[str, Any] | None) -> dict[str, Any] | None:
    """Chat's usage block in Responses' names (cost, which the router adds, kept)."""
    if not usage:
        return None
    prompt = usage.get("prompt_tokens") or 0
    completion = usage.get("completion_tokens") or 0
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    out = {
        "input_tokens": prompt,
        "input_tokens_details": {
            "cached_tokens": prompt_details.get("cached_tokens") or 0,
            "cache_write_tokens": prompt_details.get("cache_write_tokens") or 0,
        },
        "output_tokens": completion,
        "output_tokens_details": {
            "reasoning_tokens": completion_details.get("reasoning_tokens") or 0
        },
        "total_tokens": usage.get("total_tokens") or prompt + completion,
    }
    if "cost_usd" in usage:
        out["cost_usd"] = usage["cost_usd"]
    return out


INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


def output_from_chat(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A chat choice's message as output items: its text, then one item per tool call."""
    output: list[dict[str, Any]] = []
    content = message.get("content")
    refusal = message.get("refusal")
    if content or refusal:
        item = message_item(new_id("msg"), content or "")
        if refusal:
            item["content"] = [{"type": "refusal", "refusal": refusal}]
        output.append(item)
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        output.append(
            function_call_item(
                new_id("fc"),
                call.get("id") or new_id("call"),
                function.get("name", ""),
                function.get("arguments") or "",
            )
        )
    return output


def response_from_chat(
    request: ResponsesRequest, response_id: str, completion: dict[str, Any], model: str
) -> dict[str, Any]:
    choice = (completion.get("choices") or [{}])[0]
    reason = INCOMPLETE.get(choice.get("finish_reason") or "")
    return response_object(
        request,
        response_id,
        int(completion.get("created") or now()),
        model,
        output_from_chat(choice.get("message") or {}),
        status="incomplete" if reason else "completed",
        usage=usage_from_chat(completion.get("usage")),
        incomplete_reason=reason,
    )
