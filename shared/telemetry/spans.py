"""Span building: the one place that knows which attributes Application Insights reads.

The Azure Monitor exporter (export/trace/_exporter.py, _convert_span_to_envelope) makes a SERVER
span a request whose resultCode and url come from the HTTP server attributes and whose success
is false on an ERROR status or a 4xx; a CLIENT span a dependency typed "GenAI | {gen_ai.system}",
whose target and resultCode come from server.address/port and http.response.status_code only when
http.request.method is set (its name then becomes "POST {url path}").
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from shared import genai_content
from shared.telemetry.names import (
    CLIENT_ADDRESS,
    ERROR_TYPE,
    FINISH_REASONS,
    HTTP_METHOD,
    HTTP_ROUTE,
    HTTP_STATUS,
    INPUT_MESSAGES,
    INPUT_TOKENS,
    OPERATION,
    OUTPUT_MESSAGES,
    OUTPUT_TOKENS,
    PROVIDER,
    PROVIDER_INFERENCE,
    PROVIDER_NAME,
    REQUEST_MAX_TOKENS,
    REQUEST_MODEL,
    REQUEST_TEMPERATURE,
    REQUEST_TOP_P,
    RESPONSE_ID,
    RESPONSE_MODEL,
    SERVER_ADDRESS,
    SERVER_PORT,
    SYSTEM,
    URL_FULL,
    URL_PATH,
    URL_SCHEME,
    USER_AGENT,
)

__all__ = [
    "StreamRecord",
    "attempt_answered",
    "attempt_attributes",
    "attempt_failed",
    "attempt_span",
    "end_request",
    "finish_reasons",
    "metric_attributes",
    "provider_for",
    "record_content",
    "request_span",
    "server_attributes",
    "trace_headers",
]

if TYPE_CHECKING:  # the stream's own modules build on this one
    from shared.upstream.stream import Event
    from shared.upstream.usage import Usage


# ---- the request span (HTTP server conventions) ----------------------------------------------


def server_attributes(
    method: str,
    path: str,
    scheme: str,
    host: str | None,
    port: int | None,
    user_agent: str | None = None,
    client: str | None = None,
    route: str | None = None,
) -> dict[str, Any]:
    """What the exporter reads for a request's url, name and resultCode (the status comes later).
    `route` is the template that matched (none for what no route took)."""
    attributes: dict[str, Any] = {HTTP_METHOD: method, URL_PATH: path, URL_SCHEME: scheme}
    optional = {
        HTTP_ROUTE: route,
        SERVER_ADDRESS: host,
        SERVER_PORT: port,
        USER_AGENT: user_agent,
        CLIENT_ADDRESS: client,
    }
    attributes.update({key: value for key, value in optional.items() if value is not None})
    return attributes


@contextmanager
def request_span(
    tracer: trace.Tracer,
    name: str,
    headers: Mapping[str, str],
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[Span]:
    """The span of one request to the router, current while the handler runs; the caller ends it
    (`end_request`), after the body for a stream.

    Under the Functions worker the host's invocation span is already current (the worker attaches
    its traceparent): the router's span is an INTERNAL child of the host's request, which the host
    reports itself. Elsewhere the router's span is the SERVER span, continuing the caller's W3C
    traceparent.
    """
    current = trace.get_current_span().get_span_context()
    if current.is_valid:
        span = tracer.start_span(name, kind=SpanKind.INTERNAL, attributes=attributes)
    else:
        span = tracer.start_span(
            name, context=propagate.extract(headers), kind=SpanKind.SERVER, attributes=attributes
        )
    with trace.use_span(
        span, end_on_exit=False, record_exception=False, set_status_on_exception=False
    ):
        yield span


def end_request(span: Span, status: int) -> None:
    """Record the answer's status; a 5xx is the server's error (a 4xx is the caller's, and not
    an error of this span, as the HTTP server conventions say)."""
    span.set_attribute(HTTP_STATUS, status)
    if status >= 500:
        span.set_attribute(ERROR_TYPE, str(status))
        span.set_status(Status(StatusCode.ERROR))
    span.end()


# ---- attempt spans (GenAI client conventions, as a dependency) --------------------------------


@functools.cache
def _url_parts(url: str) -> tuple[str, str, str, int]:
    """(url without its query, scheme, host, port): parsed once per URL, not per attempt."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    # The query is left out: a configured URL may carry a credential there (url.full must not).
    full = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return full, parts.scheme, parts.hostname or "", port


def provider_for(url_shape: str) -> str:
    """gen_ai.provider.name of a tier's route, as the GenAI conventions name them: the Foundry
    Models route (the Azure AI Model Inference API) is azure.ai.inference, the OpenAI routes
    azure.ai.openai."""
    return PROVIDER_INFERENCE if url_shape == "models" else PROVIDER_NAME


def metric_attributes(operation: str, deployment: str, url_shape: str) -> dict[str, Any]:
    """The GenAI metrics' attributes of one model call (its duration, first chunk, tokens)."""
    return {OPERATION: operation, PROVIDER: provider_for(url_shape), REQUEST_MODEL: deployment}


def attempt_attributes(
    url: str,
    deployment: str,
    body: Mapping[str, Any],
    operation: str = "chat",
    provider: str = PROVIDER_NAME,
) -> dict[str, Any]:
    """The attributes an attempt's span starts with (name: f"{operation} {deployment}", kind
    CLIENT); `operation` is the GenAI operation name of the upstream API ("chat", ...), and
    `provider` the route's (`provider_for`)."""
    full, scheme, host, port = _url_parts(url)
    attributes: dict[str, Any] = {
        OPERATION: operation,
        PROVIDER: provider,
        SYSTEM: provider,  # the exporter types the dependency by it: "GenAI | {provider}"
        REQUEST_MODEL: deployment,
        SERVER_ADDRESS: host,
        SERVER_PORT: port,
        HTTP_METHOD: "POST",
        URL_FULL: full,
        URL_SCHEME: scheme,  # the exporter leaves the scheme's default port out of the target
    }
    for key, name in (
        (REQUEST_TEMPERATURE, "temperature"),
        (REQUEST_TOP_P, "top_p"),
        (REQUEST_MAX_TOKENS, "max_tokens"),
        (REQUEST_MAX_TOKENS, "max_completion_tokens"),
        (REQUEST_MAX_TOKENS, "max_output_tokens"),
    ):
        value = body.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            attributes[key] = value
    return attributes


def attempt_span(
    tracer: trace.Tracer, name: str, attributes: Mapping[str, Any]
) -> AbstractContextManager[Span]:
    """An attempt's CLIENT span, current while it runs. The exceptions that leave it are the
    router's control flow (retry, fail over), already described by `attempt_failed`: recorded,
    each would land in the exceptions table with a stack trace."""
    return tracer.start_as_current_span(
        name,
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    )


def attempt_failed(span: Span, error_type: str, status: int | None = None) -> None:
    """An attempt that did not answer: a non-2xx status (error.type is the status code, as the
    HTTP client conventions say) or a transport failure / timeout named by error_type."""
    if status is not None:
        span.set_attribute(HTTP_STATUS, status)
    span.set_attribute(ERROR_TYPE, error_type)
    span.set_status(Status(StatusCode.ERROR))


def attempt_answered(
    span: Span, status: int, answer: Mapping[str, Any], usage: Usage | None
) -> None:
    """A whole JSON answer: status, response model and id, finish reasons, token usage."""
    span.set_attribute(HTTP_STATUS, status)
    _set_response(span, answer.get("model"), answer.get("id"))
    reasons = finish_reasons(answer)
    if reasons:
        span.set_attribute(FINISH_REASONS, reasons)
    _set_usage(span, usage)


def finish_reasons(answer: Mapping[str, Any]) -> list[str]:
    """A chat answer's finish reason per choice; a Responses answer's status read as one (it has
    no finish reason): completed is "stop", incomplete its reason ("max_output_tokens", ...)."""
    if "choices" in answer:
        choices = answer.get("choices") or []
        return [str(c.get("finish_reason")) for c in choices if c.get("finish_reason")]
    reason = _responses_finish_reason(answer)
    return [reason] if reason else []


def _responses_finish_reason(response: Mapping[str, Any]) -> str | None:
    status = response.get("status")
    if status == "completed":
        return "stop"
    if status == "incomplete":
        return str((response.get("incomplete_details") or {}).get("reason") or "incomplete")
    return None


def _set_response(span: Span, model: Any, response_id: Any) -> None:
    if model:
        span.set_attribute(RESPONSE_MODEL, str(model))
    if response_id:
        span.set_attribute(RESPONSE_ID, str(response_id))


def _set_usage(span: Span, usage: Usage | None) -> None:
    if usage is None:
        return
    for key, value in ((INPUT_TOKENS, usage.input_tokens), (OUTPUT_TOKENS, usage.output_tokens)):
        if value is not None:
            span.set_attribute(key, value)


class StreamRecord:
    """What a streamed attempt's span needs, gathered event by event; `end` ends the span when the
    stream ends (not at its first event), with model, finish reasons and usage (which the seam
    reads where it meters it, shared/upstream/stream.py)."""

    def __init__(
        self,
        span: Span,
        capture: bool = False,
        on_end: Callable[[str | None], None] | None = None,
    ) -> None:
        self.span = span
        self.on_end = on_end  # told the error type (None: whole) when the stream ends
        self.model: Any = None
        self.response_id: Any = None
        self.usage: Usage | None = None
        self.finish_reasons: dict[int, str] = {}
        self.output = genai_content.StreamedOutput() if capture else None
        self.done = False
        self.malformed = False
        self.ended = False

    @property
    def whole(self) -> bool:
        """The answer ended ([DONE], or a finish reason: the relay's rule for a whole answer)."""
        return self.done or bool(self.finish_reasons)

    def see(self, event: Event) -> None:
        if event.data is not None:
            self.observe(event.data)
        elif event.done:
            self.done = True
        else:
            self.malformed = True

    def observe(self, chunk: Mapping[str, Any]) -> None:
        if str(chunk.get("type", "")).startswith("response."):
            self._observe_event(chunk)
            return
        self.model = self.model or chunk.get("model")
        self.response_id = self.response_id or chunk.get("id")
        for choice in chunk.get("choices") or []:
            index = choice.get("index", 0)
            if choice.get("finish_reason"):
                self.finish_reasons[index] = str(choice["finish_reason"])
            if self.output is not None:
                self.output.add(index, choice.get("delta") or {})

    def _observe_event(self, event: Mapping[str, Any]) -> None:
        """A Responses API stream event: the response object rides on its lifecycle events."""
        response = event.get("response")
        if not isinstance(response, Mapping):
            return
        self.model = response.get("model") or self.model
        self.response_id = response.get("id") or self.response_id
        if event.get("type") in ("response.completed", "response.incomplete"):
            self.finish_reasons[0] = _responses_finish_reason(response) or "stop"

    def end(self, error_type: str | None = None) -> None:
        """Once, whichever way the stream ended. Without a named failure, a stream that stopped
        before its answer ended is "malformed_chunk" (the relay gives up on one) or "abandoned"
        (the caller left)."""
        if self.ended:
            return
        self.ended = True
        if error_type is None and not self.whole:
            error_type = "malformed_chunk" if self.malformed else "abandoned"
        _set_response(self.span, self.model, self.response_id)
        if self.finish_reasons:
            self.span.set_attribute(
                FINISH_REASONS, [self.finish_reasons[i] for i in sorted(self.finish_reasons)]
            )
        _set_usage(self.span, self.usage)
        if self.output is not None:
            self.span.set_attribute(
                OUTPUT_MESSAGES, genai_content.dumps(self.output.messages(self.finish_reasons))
            )
        if error_type:
            attempt_failed(self.span, error_type)
        if self.on_end is not None:
            self.on_end(error_type)
        self.span.end()


def record_content(
    span: Span, body: Mapping[str, Any], answer: Mapping[str, Any] | None = None
) -> None:
    """Prompt and answer on the span, in the GenAI conventions' structure (only when capture is
    on: the caller checks `capture_content`). Chat's `messages` / `choices`, or the Responses
    API's `input` / `output`."""
    if "messages" in body:
        sent = genai_content.input_messages(body.get("messages"))
    else:
        sent = genai_content.response_input(body.get("input"))
    span.set_attribute(INPUT_MESSAGES, genai_content.dumps(sent))
    if answer is None:
        return
    if "choices" in answer:
        output = genai_content.output_messages(answer.get("choices"))
    else:
        output = genai_content.response_output(dict(answer))
    span.set_attribute(OUTPUT_MESSAGES, genai_content.dumps(output))


def trace_headers() -> dict[str, str]:
    """W3C traceparent / tracestate of the current span (the attempt's), for the upstream call:
    Foundry's side of the call joins the caller's trace."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers
