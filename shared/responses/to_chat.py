"""A Responses request as a chat-completions body, for tiers that have only chat completions.

instructions -> a system message; input items -> messages (function calls joined into one
assistant message, each function_call_output a tool message that must answer a known call);
function tools and tool_choice; text.format -> response_format; max_output_tokens; reasoning
effort only for a reasoning model. What cannot be expressed is said in `changes` or refused.
"""

from __future__ import annotations

from typing import Any

from shared.api import ApiError, param_path
from shared.responses.request import FUNCTION, PASS_THROUGH_ONLY, ResponsesRequest, invalid
from shared.settings import Tier
from shared.upstream.models import Shaped

# Sampling and identity fields with the same name and meaning in both APIs.
SAME_FIELDS = (
    "temperature",
    "top_p",
    "parallel_tool_calls",
    "user",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
)


def chat_messages(
    items: list[dict[str, Any]], instructions: str | None, strict: bool = True
) -> list[dict[str, Any]]:
    """Input items (history included) as chat messages; raises ApiError on what chat can't say
    (not `strict`: leaves it out, for reading the conversation rather than sending it)."""
    messages: list[dict[str, Any]] = []
    if instructions:
        messages.append({"role": "system", "content": instructions})
    calls: set[str] = set()
    for index, item in enumerate(items):
        where = ("input", index)
        kind = item["type"]
        if kind == "message":
            content = _content(item["content"], where, strict)
            messages.append({"role": item["role"], "content": content})
        elif kind == "function_call":
            call = {
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]},
            }
            calls.add(item["call_id"])
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant" and "tool_calls" in last:
                last["tool_calls"].append(call)
            elif (
                last is not None
                and last["role"] == "assistant"
                and isinstance(last.get("content"), str)
            ):
                last["tool_calls"] = [call]
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            if item["call_id"] not in calls and strict:
                raise unanswered_call(item["call_id"], where)
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": item["call_id"],
                    "content": _output_text(item["output"]),
                }
            )
        # reasoning items: chat has no place for them; the model that made them is not this one.
    return messages


def unanswered_call(call_id: str, where: tuple[str, int]) -> ApiError:
    return invalid(
        param_path([*where, "call_id"]),
        f"No tool call found for function call output with call_id {call_id}.",
    )


def check_calls(items: list[dict[str, Any]], offset: int = 0) -> None:
    """Every function_call_output answers a function_call before it (both APIs insist).
    `offset`: how many items came from the stored conversation, before the caller's input."""
    calls: set[str] = set()
    for index, item in enumerate(items):
        if item["type"] == "function_call":
            calls.add(item["call_id"])
        elif item["type"] == "function_call_output" and item["call_id"] not in calls:
            raise unanswered_call(item["call_id"], ("input", index - offset))


def _content(
    content: str | list[dict[str, Any]], where: tuple[str, int], strict: bool
) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for index, part in enumerate(content):
        kind = part["type"]
        if kind in ("input_text", "output_text", "text"):
            parts.append({"type": "text", "text": str(part.get("text", ""))})
        elif kind == "refusal":
            parts.append({"type": "text", "text": str(part.get("refusal", ""))})
        elif kind == "input_image" and isinstance(part.get("image_url"), str):
            image = {"url": part["image_url"], "detail": part.get("detail") or "auto"}
            parts.append({"type": "image_url", "image_url": image})
        elif strict:
            raise invalid(
                param_path([*where, "content", index, "type"]),
                f"Content of type {kind!r} cannot be sent to a chat-completions model; "
                "use input_text or input_image with an image_url.",
            )
    # An assistant's earlier text (output_text parts) reads best to chat models as a string.
    if all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def _output_text(output: str | list[dict[str, Any]]) -> str:
    if isinstance(output, str):
        return output
    return "".join(str(p.get("text", "")) for p in output if isinstance(p, dict))


def chat_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for tool in tools:
        function = {
            k: tool[k] for k in ("name", "description", "parameters", "strict") if k in tool
        }
        out.append({"type": "function", "function": function})
    return out


def chat_tool_choice(choice: Any) -> Any:
    if isinstance(choice, dict) and choice.get("type") == FUNCTION:
        return {"type": "function", "function": {"name": choice.get("name")}}
    return choice


def response_format(text: dict[str, Any]) -> dict[str, Any] | None:
    fmt = text.get("format")
    if not isinstance(fmt, dict) or fmt.get("type") in (None, "text"):
        return None
    if fmt["type"] == "json_schema":
        schema = {k: fmt[k] for k in ("name", "schema", "strict", "description") if k in fmt}
        return {"type": "json_schema", "json_schema": schema}
    if fmt["type"] == "json_object":
        return {"type": "json_object"}
    raise invalid("text.format.type", f"Unsupported text format {fmt['type']!r}.")


def to_chat(
    request: ResponsesRequest, items: list[dict[str, Any]], tier: Tier, strict: bool = True
) -> Shaped:
    """The chat-completions body for `tier` (history already expanded into `items`); not
    `strict`, what chat can't say is left out instead of refused."""
    body = request.body
    refused = sorted(PASS_THROUGH_ONLY & set(body))
    if refused and strict:
        raise invalid(
            refused[0],
            f"'{refused[0]}' needs a model with the Responses API; "
            f"'{tier.name}' has only chat completions.",
        )
    changes: list[str] = []
    out: dict[str, Any] = {
        "model": tier.deployment,
        "messages": chat_messages(items, body.get("instructions"), strict),
    }
    for name in SAME_FIELDS:
        if body.get(name) is not None:
            out[name] = body[name]
    if body.get("max_output_tokens") is not None:
        out["max_completion_tokens"] = body["max_output_tokens"]
    if body.get("tools"):
        out["tools"] = chat_tools(body["tools"])
    if body.get("tool_choice") is not None:
        out["tool_choice"] = chat_tool_choice(body["tool_choice"])
    if body.get("top_logprobs"):
        out["logprobs"] = True
        out["top_logprobs"] = body["top_logprobs"]
    text = body.get("text") or {}
    fmt = response_format(text)
    if fmt is not None:
        out["response_format"] = fmt
    if text.get("verbosity") is not None:
        out["verbosity"] = text["verbosity"]
    effort = (body.get("reasoning") or {}).get("effort")
    if effort is not None:
        if tier.reasoning:
            out["reasoning_effort"] = effort
        else:
            changes.append("dropped reasoning (not a reasoning model)")
    if any(item["type"] == "reasoning" for item in items):
        changes.append("dropped reasoning items (chat completions has none)")
    if body.get("stream"):
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return Shaped(out, tuple(changes))
