"""The chat-completions endpoints, as raw ASGI: the hot path, so no per-request frameworks."""

from __future__ import annotations

import asyncio
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import parse_qsl

import orjson

from devtools.emulator import answers, auth, errors, inference_api, structured, validation, wire
from devtools.emulator.broken import break_answer
from devtools.emulator.config import DeploymentConfig
from devtools.emulator.errors import ApiError
from devtools.emulator.faults import SHAPING, Fault, RequestTraits
from devtools.emulator.quota import DEFAULT_COMPLETION_ESTIMATE
from devtools.emulator.state import EmulatorState

# temperature == 0 together with top_p == 0 was observed to make Foundry models this much slower.
GREEDY_SLOWDOWN = 8
_INVALID = object()

Route = Literal["v1", "deployments", "models"]
"""Azure OpenAI v1 (`model` in the body), Azure OpenAI deployments (deployment in the path,
dated api-version), Foundry Models inference (`model` in the body, its own api-version)."""


# What the proxy_page fault answers with a 200: (body, headers, content type).
PROXY_PAGES: dict[str, tuple[bytes, list[tuple[bytes, bytes]], bytes]] = {
    "html": (b"<html><body><h1>Gateway</h1><p>Please sign in.</p></body></html>", [], b"text/html"),
    "text": (b"upstream connect error or disconnect/reset before headers", [], b"text/plain"),
    "json_without_choices": (b'{"status": "ok", "message": "accepted"}', [], wire.JSON),
}


class Delivery:
    """How to deliver an answer: seconds before the first byte, seconds spread over the rest
    of a stream, and the shaping fault, if any."""

    __slots__ = ("fault", "first_s", "rest_s", "top_logprobs")

    def __init__(
        self, first_s: float, rest_s: float, fault: Fault | None, top_logprobs: int | None = None
    ) -> None:
        self.first_s = first_s
        self.rest_s = rest_s
        self.fault = fault
        # None: logprobs not asked for; else how many alternatives per token.
        self.top_logprobs = top_logprobs


def latency_for(d: DeploymentConfig, raw_body: bytes, speed: float, greedy: bool) -> float:
    """Seconds, drawn from [min, max] by a hash of the request, so equal requests take equal
    time."""
    if not speed:
        return 0.0
    low, high = d.latency_ms
    fraction = zlib.crc32(raw_body, zlib.crc32(d.name.encode())) / 0xFFFFFFFF
    seconds = (low + (high - low) * fraction) / 1000 * speed
    return seconds * GREEDY_SLOWDOWN if greedy else seconds


class ChatEndpoint:
    """`POST /openai/v1/chat/completions` (deployment in `model`),
    `POST /openai/deployments/{deployment}/chat/completions?api-version=...` or
    `POST /models/chat/completions?api-version=...` (deployment in `model`)."""

    def __init__(self, state: EmulatorState, route: Route) -> None:
        self.state = state
        self.route = route

    async def __call__(self, scope: Any, receive: wire.Receive, send: wire.Send) -> None:
        state = self.state
        started_at = time.time()
        raw = await wire.read_body(receive)
        qs = scope["query_string"]
        query = dict(parse_qsl(qs.decode("latin-1"), keep_blank_values=True)) if qs else {}
        headers = scope["headers"]
        api_key, bearer = auth.credentials(headers)
        try:
            body: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = _INVALID
        if self.route == "deployments":
            name = scope["path_params"]["deployment"]
        else:
            name = body.get("model") if isinstance(body, dict) else None
        record: dict[str, Any] | None = None
        if state.config.record_requests:
            record = {
                "deployment": name,
                "path": scope["path"],
                "query": query,
                "body": None if body is _INVALID else body,
                "auth": auth.auth_kind(api_key, bearer),
                "headers": auth.redact(headers),
                "status": None,
                "started_at": started_at,
                "fault": None,
            }
            state.records.append(record)
        stats = state.stats[name if isinstance(name, str) else "?"]
        stats.requests += 1
        request_id = str(uuid.uuid4()).encode()
        base_headers = [(b"apim-request-id", request_id), (b"x-request-id", request_id)]
        try:
            await self._handle(
                receive,
                send,
                raw,
                body,
                name,
                query,
                headers,
                api_key,
                bearer,
                record,
                base_headers,
            )
        except ApiError as e:
            if record is not None:
                record["status"] = e.status
            stats.statuses[str(e.status)] += 1
            extra = [(k.encode(), v.encode()) for k, v in e.headers.items()]
            await wire.send_bytes(send, e.status, e.encoded(), base_headers + extra)

    async def _handle(
        self,
        receive: wire.Receive,
        send: wire.Send,
        raw: bytes,
        body: Any,
        name: Any,
        query: dict[str, str],
        headers: list[tuple[bytes, bytes]],
        api_key: str | None,
        bearer: str | None,
        record: dict[str, Any] | None,
        base_headers: list[tuple[bytes, bytes]],
    ) -> None:
        state = self.state
        config = state.config
        models_route = self.route == "models"
        if self.route == "deployments" and not query.get("api-version"):
            raise errors.missing_api_version()
        if models_route:
            inference_api.check_api_version(query)
        auth.check(state, api_key, bearer, key_as_bearer=self.route != "deployments")
        if body is _INVALID:
            raise errors.invalid_json()
        if self.route != "deployments" and isinstance(body, dict) and not isinstance(name, str):
            if models_route:
                raise inference_api.missing_model()
            raise errors.invalid_request(
                "you must provide a model parameter",
                param="model",
                code="missing_required_parameter",
            )
        deployment = config.deployments.get(name) if isinstance(name, str) else None
        if deployment is None:
            if models_route:
                raise inference_api.unknown_model(name)
            raise errors.deployment_not_found()
        if deployment.forbidden:
            raise errors.permission_denied()
        if models_route and isinstance(body, dict):
            mode = inference_api.extra_parameters_mode(headers)
            body = inference_api.apply_extra_parameters(body, mode)
        params = validation.validate(body)
        response_format = structured.check_response_format(body)
        top_logprobs = validation.logprobs_request(body)
        if top_logprobs is not None and not deployment.logprobs:
            if models_route:
                raise inference_api.parameter_not_supported("logprobs", body["logprobs"])
            raise errors.unsupported_parameter("logprobs")
        if not deployment.tool_calling and validation.asks_for_tools(body):
            if models_route:
                raise inference_api.tools_not_supported()
            raise errors.tools_not_supported()
        stats = state.stats[name]

        shaping: Fault | None = None
        if state.faults:
            traits = RequestTraits(
                stream=params.stream,
                classification=answers.is_classification(body["messages"]),
                params=frozenset(body),
            )
            taken = state.faults.take(name, traits)
            if taken is not None:
                fault, fails = taken
                if record is not None:
                    record["fault"] = fault.kind
                if fails:
                    stats.faults += 1
                if fault.kind in SHAPING:
                    shaping = fault
                elif fails:
                    await self._fail(fault, deployment, body, receive, send)
                    return

        if deployment.reasoning:
            validation.check_reasoning(body)
        prompt = answers.prompt_tokens(body["messages"], body.get("tools"))
        if prompt + (params.max_tokens or 0) > deployment.context:
            raise errors.context_length(deployment.context, prompt, params.max_tokens)
        estimate = prompt + (params.max_tokens or DEFAULT_COMPLETION_ESTIMATE)
        admission = state.quotas[name].admit(estimate, time.monotonic())
        if not admission.allowed:
            raise errors.rate_limited(
                admission.retry_after_s,
                admission.retry_after_header,
                admission.retry_after_ms_header,
                admission.remaining_tokens,
                admission.remaining_requests,
            )
        override = shaping.params["text"] if shaping and shaping.kind == "classify_answer" else None
        reply = answers.answer(name, body, params.max_tokens, override, response_format)
        if shaping is not None and shaping.kind == "broken_answer":
            reply = break_answer(
                reply, shaping.params["breakage"], body.get("tools"), body.get("response_format")
            )
        greedy = params.temperature == 0 and params.top_p == 0
        latency = latency_for(deployment, raw, config.speed, greedy)
        first = latency * deployment.ttft_fraction
        delivery = Delivery(first, latency - first, shaping, top_logprobs)
        if shaping is not None and shaping.kind == "slow_first_token":
            # Absolute, not scaled by speed: the fault is about the client's timeouts.
            delivery.first_s += shaping.params["delay_ms"] / 1000
        completion = reply.completion_tokens * params.n
        stats.prompt_tokens += prompt
        stats.completion_tokens += completion
        stats.statuses["200"] += 1
        if record is not None:
            record["status"] = 200
            # What the model's pace added (not a fault's delay): tests read it, not a clock.
            record["latency_s"] = latency
        response_headers = [*base_headers, (b"x-ms-deployment-name", name.encode())]
        # An unlimited quota (tpm/rpm null) has nothing to report.
        if admission.remaining_tokens >= 0:
            response_headers.append(
                (b"x-ratelimit-remaining-tokens", str(admission.remaining_tokens).encode())
            )
        if admission.remaining_requests >= 0:
            response_headers.append(
                (b"x-ratelimit-remaining-requests", str(admission.remaining_requests).encode())
            )
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        if params.stream:
            await self._stream(
                receive, send, deployment, reply, usage, params, delivery, response_headers
            )
        else:
            await self._complete(send, deployment, reply, usage, params, delivery, response_headers)

    async def _fail(
        self,
        fault: Fault,
        deployment: DeploymentConfig,
        body: dict[str, Any],
        receive: wire.Receive,
        send: wire.Send,
    ) -> None:
        """Answer (or refuse to answer) as the fault says."""
        kind, p = fault.kind, fault.params
        if kind == "reset":
            await wire.reset_connection(receive)
            return
        if kind == "no_response":
            if not await wire.wait_disconnect(receive, p["max_s"]):
                await wire.reset_connection(receive)
            return
        if kind == "rate_limit":
            seconds = p["retry_after_s"]
            ms = p["retry_after_ms"]
            if ms is None and seconds is not None:
                ms = seconds * 1000
            raise errors.rate_limited(
                seconds,
                None if seconds is None else str(round(seconds)),
                None if ms is None else str(round(ms)),
            )
        if kind == "server_error":
            raise errors.server_error(p["status"], p["retry_after_s"])
        if kind == "unavailable":
            raise errors.server_error(503, p["retry_after_s"])
        if kind == "flapping":
            status = p["status"]
            if status == 429:
                seconds = p["retry_after_s"] if p["retry_after_s"] is not None else 1
                raise errors.rate_limited(seconds, str(round(seconds)), str(round(seconds * 1000)))
            raise errors.server_error(status, p["retry_after_s"])
        if kind == "context_length_exceeded":
            prompt = answers.prompt_tokens(body["messages"], body.get("tools"))
            raise errors.context_length(
                deployment.context, max(prompt, deployment.context + 1), None
            )
        if kind == "content_filter":
            raise errors.content_filter(p["category"], p["severity"])
        if kind == "reject_param":
            # Each route refuses in its own way: the Model Inference API with its 422.
            if self.route == "models":
                raise inference_api.parameter_not_supported(p["param"], body[p["param"]])
            raise errors.unsupported_parameter(p["param"])
        if kind == "proxy_page":
            await wire.send_bytes(send, 200, *PROXY_PAGES[p["body"]])
            return
        raise AssertionError(f"unhandled fault kind {kind}")

    async def _complete(
        self,
        send: wire.Send,
        deployment: DeploymentConfig,
        reply: answers.Answer,
        usage: dict[str, int],
        params: validation.ChatParams,
        delivery: Delivery,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        delay = delivery.first_s + delivery.rest_s
        if delay:
            await asyncio.sleep(delay)
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.tool_calls:
            message["tool_calls"] = reply.tool_calls
        logprobs = None
        if delivery.top_logprobs is not None:
            pieces = answers.stream_pieces(reply.content or "")
            logprobs = {"content": answers.token_logprobs(pieces, delivery.top_logprobs)}
        choices = [
            {
                "index": i,
                "message": message,
                "finish_reason": reply.finish_reason,
                "logprobs": logprobs,
            }
            for i in range(params.n)
        ]
        payload = {
            "id": "chatcmpl-" + uuid.uuid4().hex[:24],
            "object": "chat.completion",
            "created": int(time.time()),
            "model": deployment.model,
            "choices": choices,
            "usage": usage,
        }
        if delivery.fault is not None and delivery.fault.kind == "huge_answer":
            message["content"] = "x" * int(delivery.fault.params["bytes"])
            await wire.send_in_pieces(send, orjson.dumps(payload), headers)
            return
        if delivery.fault is not None and delivery.fault.kind == "trickle":
            await wire.trickle_bytes(
                send, orjson.dumps(payload), headers, delivery.fault.params["over_s"]
            )
            return
        await wire.send_bytes(send, 200, orjson.dumps(payload), headers)

    async def _stream(
        self,
        receive: wire.Receive,
        send: wire.Send,
        deployment: DeploymentConfig,
        reply: answers.Answer,
        usage: dict[str, int],
        params: validation.ChatParams,
        delivery: Delivery,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        fault = delivery.fault
        kind = fault.kind if fault is not None else None
        after = fault.params.get("after_chunks", -1) if fault is not None else -1
        base: dict[str, Any] = {
            "id": "chatcmpl-" + uuid.uuid4().hex[:24],
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": deployment.model,
        }
        with_usage = params.include_usage

        top = delivery.top_logprobs

        def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
            logprobs = None
            if top is not None and delta.get("content"):
                logprobs = {"content": answers.token_logprobs([delta["content"]], top)}
            chunk = {
                **base,
                "choices": [
                    {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": logprobs}
                ],
            }
            if with_usage:
                chunk["usage"] = None
            return b"data: " + orjson.dumps(chunk) + b"\n\n"

        deltas: list[dict[str, Any]]
        if reply.tool_calls:
            deltas = [{"tool_calls": [{"index": 0, **call}]} for call in reply.tool_calls]
        else:
            deltas = [{"content": piece} for piece in answers.stream_pieces(reply.content or "")]

        step = delivery.rest_s / len(deltas)
        if delivery.first_s:
            await asyncio.sleep(delivery.first_s)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", wire.SSE),
                    (b"cache-control", b"no-cache"),
                    *headers,
                ],
            }
        )
        # At speed 0 everything up to a fault point goes out in one write.
        pending = [event({"role": "assistant", "content": ""})]

        async def flush() -> None:
            if pending:
                await send(
                    {"type": "http.response.body", "body": b"".join(pending), "more_body": True}
                )
                pending.clear()

        for i, delta in enumerate(deltas):
            if i == after and await self._stream_fault(
                kind, fault, receive, flush, pending, event({"content": " more"})
            ):
                return
            pending.append(event(delta))
            if step:
                await flush()
                await asyncio.sleep(step)
        if after >= len(deltas) and await self._stream_fault(
            kind, fault, receive, flush, pending, event({"content": " more"})
        ):
            return
        if kind == "no_done":
            await flush()
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        pending.append(event({}, reply.finish_reason))
        if with_usage:
            final = {**base, "choices": [], "usage": usage}
            pending.append(b"data: " + orjson.dumps(final) + b"\n\n")
        pending.append(b"data: [DONE]\n\n")
        await send({"type": "http.response.body", "body": b"".join(pending), "more_body": False})

    async def _stream_fault(
        self,
        kind: str | None,
        fault: Fault | None,
        receive: wire.Receive,
        flush: Callable[[], Awaitable[None]],
        pending: list[bytes],
        filler: bytes = b"",
    ) -> bool:
        """Act at the fault point; True when the stream is over."""
        if kind == "malformed_chunk":
            pending.append(b"data: {not json\n\n")
            return False
        if kind == "stream_cut":
            await flush()
            await wire.reset_connection(receive)
            return True
        if kind == "stream_stall":
            await flush()
            assert fault is not None
            if not await wire.wait_disconnect(receive, fault.params["max_s"]):
                await wire.reset_connection(receive)
            return True
        if kind == "endless_stream":
            assert fault is not None
            ends = time.monotonic() + fault.params["max_s"]
            while time.monotonic() < ends:
                pending.append(filler)
                await flush()
                if await wire.wait_disconnect(receive, fault.params["every_s"]):
                    return True
            await wire.reset_connection(receive)
            return True
        return False
