"""Azure OpenAI's Responses API (`/openai/v1/responses`) for the emulator's OpenAI models.

Like Azure: only Azure OpenAI models (gpt-*, o-series) have it, other deployments answer 400
OperationNotSupported; JSON and streaming (events in OpenAI's order); function calls; `store`
(default true), `previous_response_id`, GET and DELETE of a stored response; reasoning models
put a reasoning item first and refuse sampling parameters. Answers come from answers.py, the
same replies the chat endpoints give. Independent of the router's code on purpose.
Faults (/control/faults) that apply here: rate_limit, server_error, unavailable (the answer
replaced), stream_cut (the connection dropped after `after_chunks` events) and broken_answer
(the model's output items broken, see broken.py).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from devtools.emulator import answers, auth, errors, structured
from devtools.emulator.broken import break_answer
from devtools.emulator.chat import latency_for
from devtools.emulator.config import DeploymentConfig
from devtools.emulator.errors import ApiError
from devtools.emulator.faults import Fault, RequestTraits
from devtools.emulator.state import EmulatorState, StoredResponse

OPENAI_FAMILIES = ("gpt-", "o1", "o3", "o4", "codex")
FAULTS = frozenset({"rate_limit", "server_error", "unavailable", "stream_cut", "broken_answer"})
SAMPLING = ("temperature", "top_p")
MAX_STORED = 10_000


def speaks_responses(deployment: DeploymentConfig) -> bool:
    return deployment.model.lower().startswith(OPENAI_FAMILIES)


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


def not_supported(name: str) -> ApiError:
    return ApiError(
        400,
        {
            "error": {
                "code": "OperationNotSupported",
                "message": f"The responses operation does not work with the specified model, "
                f"{name}. Please choose different model and try again. You can learn more about "
                "which models can be used with each operation here: "
                "https://go.microsoft.com/fwlink/?linkid=2197993.",
            }
        },
    )


def not_found(response_id: str) -> ApiError:
    return ApiError(
        404,
        {
            "error": {
                "message": f"Response with id '{response_id}' not found.",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        },
    )


class ResponsesApi:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        # In the state, so that /control/reset forgets them too: no test sees another's.
        self.stored = state.responses

    def routes(self) -> list[Route]:
        return [
            Route("/openai/v1/responses", self.create, methods=["POST"]),
            Route("/openai/v1/responses/{response_id}", self.retrieve, methods=["GET"]),
            Route("/openai/v1/responses/{response_id}", self.delete, methods=["DELETE"]),
        ]

    def _auth(self, request: Request) -> None:
        api_key, bearer = auth.credentials(request.headers.raw)
        auth.check(self.state, api_key, bearer, key_as_bearer=True)

    async def retrieve(self, request: Request) -> Response:
        try:
            self._auth(request)
            stored = self.stored.get(request.path_params["response_id"])
            if stored is None:
                raise not_found(request.path_params["response_id"])
        except ApiError as e:
            return _error(e)
        return _json(stored.response)

    async def delete(self, request: Request) -> Response:
        response_id = request.path_params["response_id"]
        try:
            self._auth(request)
            if self.stored.pop(response_id, None) is None:
                raise not_found(response_id)
        except ApiError as e:
            return _error(e)
        return _json({"id": response_id, "object": "response.deleted", "deleted": True})

    async def create(self, request: Request) -> Response:
        raw = await request.body()
        record: dict[str, Any] = {
            "deployment": None,
            "path": request.url.path,
            "query": dict(request.query_params),
            "body": None,
            "auth": auth.auth_kind(*auth.credentials(request.headers.raw)),
            "headers": auth.redact(request.headers.raw),
            "status": None,
            "started_at": time.time(),
            "fault": None,
        }
        if self.state.config.record_requests:
            self.state.records.append(record)
        try:
            self._auth(request)
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise errors.invalid_json() from None
            if not isinstance(body, dict):
                raise errors.invalid_json()
            record["body"] = body
            record["deployment"] = name = body.get("model")
            if not isinstance(name, str):
                raise errors.invalid_request(
                    "Missing required parameter: 'model'.", "model", "missing_required_parameter"
                )
            deployment = self.state.config.deployments.get(name)
            if deployment is None:
                raise errors.deployment_not_found()
            if not speaks_responses(deployment):
                raise not_supported(name)
            fault = self._fault(name, body)
            if fault is not None:
                record["fault"] = fault.kind
                _raise_fault(fault)
            breakage = fault.params["breakage"] if fault and fault.kind == "broken_answer" else None
            turn = self._turn(body, deployment, breakage)
        except ApiError as e:
            record["status"] = e.status
            self.state.stats[str(record["deployment"] or "?")].statuses[str(e.status)] += 1
            return _error(e)
        record["status"] = 200
        stats = self.state.stats[name]
        stats.requests += 1
        stats.statuses["200"] += 1
        delay = latency_for(deployment, raw, self.state.config.speed, False)
        if body.get("stream"):
            cut = fault.params["after_chunks"] if fault and fault.kind == "stream_cut" else None
            return StreamingResponse(turn.events(delay, cut), media_type="text/event-stream")
        await asyncio.sleep(delay)
        return _json(turn.response)

    def _fault(self, name: str, body: dict[str, Any]) -> Fault | None:
        faults = self.state.faults
        traits = RequestTraits(bool(body.get("stream")), False, frozenset(body))
        taken = faults.take(name, traits) if faults else None
        if taken is None or not taken[1] or taken[0].kind not in FAULTS:
            return None
        return taken[0]

    def _turn(
        self, body: dict[str, Any], deployment: DeploymentConfig, breakage: str | None = None
    ) -> _Turn:
        if deployment.reasoning:
            for param in SAMPLING:
                if body.get(param) is not None:
                    raise errors.unsupported_parameter(param)
        history: list[dict[str, Any]] = []
        previous = body.get("previous_response_id")
        if previous is not None:
            stored = self.stored.get(previous)
            if stored is None:
                raise errors.invalid_request(
                    f"Previous response with id '{previous}' not found.",
                    "previous_response_id",
                    "previous_response_not_found",
                )
            history = list(stored.context)
        raw_input = body.get("input")
        if raw_input is None and previous is None:
            raise errors.invalid_request(
                "Missing required parameter: 'input'.", "input", "missing_required_parameter"
            )
        items = (
            [{"role": "user", "content": raw_input}] if isinstance(raw_input, str) else raw_input
        )
        if not isinstance(items or [], list):
            raise errors.invalid_request("Invalid type for 'input'.", "input", "invalid_type")
        context = history + list(items or [])
        tools = body.get("tools") or []
        for index, tool in enumerate(tools):
            if not isinstance(tool, dict) or tool.get("type") != "function":
                kind = tool.get("type") if isinstance(tool, dict) else None
                raise errors.invalid_request(
                    f"The emulator runs function tools only, not {kind!r}.",
                    f"tools[{index}].type",
                    "unsupported_value",
                )
        messages = _messages(body.get("instructions"), context)
        chat = {
            "messages": messages,
            "tools": [{"type": "function", "function": t} for t in tools],
            "tool_choice": _tool_choice(body.get("tool_choice")),
        }
        # As Foundry does: a model that speaks Responses honours `text.format` as chat's
        # `response_format` (the OpenAI SDK's responses.parse, LangChain's structured output).
        response_format = structured.check_text_format(body)
        reply = answers.answer(
            deployment.name, chat, body.get("max_output_tokens"), response_format=response_format
        )
        if breakage is not None:
            reply = break_answer(reply, breakage, chat["tools"], response_format)
        output: list[dict[str, Any]] = []
        if deployment.reasoning:
            reasoning: dict[str, Any] = {"id": _id("rs"), "type": "reasoning", "summary": []}
            if "reasoning.encrypted_content" in (body.get("include") or []):
                reasoning["encrypted_content"] = secrets.token_urlsafe(24)
            output.append(reasoning)
        if reply.tool_calls:
            for call in reply.tool_calls:
                output.append(
                    {
                        "id": _id("fc"),
                        "type": "function_call",
                        "status": "completed",
                        "call_id": call["id"],
                        "name": call["function"]["name"],
                        "arguments": call["function"]["arguments"],
                    }
                )
        else:
            output.append(
                {
                    "id": _id("msg"),
                    "type": "message",
                    "status": "completed",
                    "role": "assistant",
                    "content": [
                        {"type": "output_text", "text": reply.content or "", "annotations": []}
                    ],
                }
            )
        prompt = answers.prompt_tokens(messages, chat["tools"] or None)
        incomplete = reply.finish_reason == "length"
        response = {
            "id": _id("resp"),
            "object": "response",
            "created_at": int(time.time()),
            "status": "incomplete" if incomplete else "completed",
            "error": None,
            "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "model": deployment.model,
            "output": output,
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "previous_response_id": previous,
            "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
            "store": body.get("store", True) is not False,
            "temperature": body.get("temperature", 1.0),
            "text": body.get("text") or {"format": {"type": "text"}},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": tools,
            "top_p": body.get("top_p", 1.0),
            "truncation": "disabled",
            "usage": {
                "input_tokens": prompt,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": reply.completion_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": prompt + reply.completion_tokens,
            },
            "user": body.get("user"),
            "metadata": body.get("metadata") or {},
        }
        stats = self.state.stats[deployment.name]
        stats.prompt_tokens += prompt
        stats.completion_tokens += reply.completion_tokens
        if response["store"]:
            self.stored[response["id"]] = StoredResponse(response, context + output)
            while len(self.stored) > MAX_STORED:
                self.stored.popitem(last=False)
        return _Turn(response)


class _Turn:
    """One answer, as a JSON object or as the stream of events that builds it."""

    def __init__(self, response: dict[str, Any]) -> None:
        self.response = response

    async def events(self, delay: float, cut_after: int | None = None) -> Any:
        final = self.response
        sequence = 0

        def event(kind: str, **fields: Any) -> bytes:
            nonlocal sequence
            if cut_after is not None and sequence >= cut_after:
                raise ConnectionAbortedError("stream_cut fault")  # uvicorn drops the connection
            data = {"type": kind, "sequence_number": sequence, **fields}
            sequence += 1
            return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"

        start = {**final, "status": "in_progress", "output": [], "usage": None}
        yield event("response.created", response=start)
        yield event("response.in_progress", response=start)
        await asyncio.sleep(delay)
        for index, item in enumerate(final["output"]):
            if item["type"] == "message":
                text = item["content"][0]["text"]
                part = {"type": "output_text", "text": "", "annotations": []}
                yield event(
                    "response.output_item.added",
                    output_index=index,
                    item={**item, "status": "in_progress", "content": []},
                )
                yield event(
                    "response.content_part.added",
                    item_id=item["id"],
                    output_index=index,
                    content_index=0,
                    part=part,
                )
                for piece in answers.stream_pieces(text):
                    yield event(
                        "response.output_text.delta",
                        item_id=item["id"],
                        output_index=index,
                        content_index=0,
                        delta=piece,
                        logprobs=[],
                    )
                yield event(
                    "response.output_text.done",
                    item_id=item["id"],
                    output_index=index,
                    content_index=0,
                    text=text,
                    logprobs=[],
                )
                yield event(
                    "response.content_part.done",
                    item_id=item["id"],
                    output_index=index,
                    content_index=0,
                    part={**part, "text": text},
                )
            elif item["type"] == "function_call":
                yield event(
                    "response.output_item.added",
                    output_index=index,
                    item={**item, "status": "in_progress", "arguments": ""},
                )
                yield event(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=index,
                    delta=item["arguments"],
                )
                yield event(
                    "response.function_call_arguments.done",
                    item_id=item["id"],
                    output_index=index,
                    name=item["name"],
                    arguments=item["arguments"],
                )
            else:
                yield event("response.output_item.added", output_index=index, item=item)
            yield event("response.output_item.done", output_index=index, item=item)
        kind = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
        yield event(kind, response=final)


def _raise_fault(fault: Fault) -> None:
    p = fault.params
    if fault.kind == "rate_limit":
        seconds = p["retry_after_s"]
        ms = p["retry_after_ms"] if p["retry_after_ms"] is not None else (seconds or 0) * 1000
        raise errors.rate_limited(
            seconds, None if seconds is None else str(round(seconds)), str(round(ms))
        )
    if fault.kind == "server_error":
        raise errors.server_error(p["status"], p["retry_after_s"])
    if fault.kind == "unavailable":
        raise errors.server_error(503, p["retry_after_s"])


def _tool_choice(choice: Any) -> Any:
    if isinstance(choice, dict) and choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice.get("name")}}
    return choice


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _messages(instructions: Any, items: list[Any]) -> list[dict[str, Any]]:
    """The conversation as chat messages, which answers.py reads."""
    messages: list[dict[str, Any]] = []
    if isinstance(instructions, str) and instructions:
        messages.append({"role": "system", "content": instructions})
    calls: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise errors.invalid_request(
                f"Invalid type for 'input[{index}]'.", f"input[{index}]", "invalid_type"
            )
        kind = item.get("type", "message")
        if kind == "message":
            messages.append(
                {"role": item.get("role", "user"), "content": _text(item.get("content"))}
            )
        elif kind == "function_call":
            calls.add(str(item.get("call_id")))
            call = {
                "id": item.get("call_id"),
                "type": "function",
                "function": {"name": item.get("name"), "arguments": item.get("arguments", "")},
            }
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            if str(item.get("call_id")) not in calls:
                raise errors.invalid_request(
                    f"No tool call found for function call output with call_id "
                    f"{item.get('call_id')}.",
                    f"input[{index}]",
                )
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": item.get("call_id"),
                    "content": _text(item.get("output")),
                }
            )
        elif kind == "reasoning":
            continue
        else:
            raise errors.invalid_request(
                f"Invalid value: '{kind}'. Supported values are: 'message', 'function_call', "
                "'function_call_output' and 'reasoning'.",
                f"input[{index}].type",
                "invalid_value",
            )
    if not any(m["role"] == "user" for m in messages):
        messages.append({"role": "user", "content": ""})
    return messages


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _error(e: ApiError) -> Response:
    response = _json(e.body, e.status)
    response.headers.update(e.headers)
    return response
