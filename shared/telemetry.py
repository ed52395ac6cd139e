"""OpenTelemetry: exporter set-up (once), the tracer and meter, and attribute names in one place.

Deployed, the Functions worker configures Azure Monitor itself (PYTHON_APPLICATIONINSIGHTS_ENABLE_
TELEMETRY=true with host.json telemetryMode OpenTelemetry): the app must not do it a second time.
Elsewhere: Azure Monitor when a connection string is set, OTLP when an OTLP endpoint is set,
nothing otherwise (the API's no-op providers cost next to nothing).

The span helpers here are the one place that knows which attributes Application Insights reads:
the Azure Monitor exporter (export/trace/_exporter.py, _convert_span_to_envelope) makes a SERVER
span a request whose resultCode and url come from the HTTP server attributes and whose success
is false on an ERROR status or a 4xx; a CLIENT span a dependency typed "GenAI | {gen_ai.system}",
whose target and resultCode come from server.address/port and http.response.status_code only when
http.request.method is set (its name then becomes "POST {url path}").
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from opentelemetry import metrics, propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from shared import genai_content

if TYPE_CHECKING:  # the stream's own modules build on this one
    from shared.upstream.stream import Event
    from shared.upstream.usage import Usage

log = logging.getLogger("hybrid_router.telemetry")

SCOPE = "hybrid_router"
SERVICE_NAME = "hybrid-router"
CAPTURE_CONTENT = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

# GenAI semantic conventions (gen_ai.*) and the router's own names.
OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
TOKEN_TYPE = "gen_ai.token.type"
REQUEST_TEMPERATURE = "gen_ai.request.temperature"
REQUEST_TOP_P = "gen_ai.request.top_p"
REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
SYSTEM = "gen_ai.system"  # deprecated by gen_ai.provider.name, but the exporter types by it
RESPONSE_ID = "gen_ai.response.id"
FINISH_REASONS = "gen_ai.response.finish_reasons"
ERROR_TYPE = "error.type"
HTTP_STATUS = "http.response.status_code"
HTTP_METHOD = "http.request.method"
HTTP_ROUTE = "http.route"
URL_FULL = "url.full"
URL_PATH = "url.path"
URL_SCHEME = "url.scheme"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
CLIENT_ADDRESS = "client.address"
USER_AGENT = "user_agent.original"
ATTEMPT = "router.attempt"
WAIT_BEFORE_S = "router.wait_before_s"
TIER = "router.tier"
DEPLOYMENT = "router.deployment"
DECIDED_BY = "router.decided_by"
SCORE = "router.score"
CACHE_HIT = "router.cache_hit"
CLASSIFIER_MS = "router.classifier_ms"
REASON = "router.reason"
PROVIDER_NAME = "azure.ai.openai"

_configured = False


def exporter_for(env: Mapping[str, str]) -> str:
    """Where telemetry goes in this environment: a pure choice, made once by `configure`."""
    if env.get("PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY", "").lower() == "true":
        return "functions-worker"  # the worker set up Azure Monitor: never a second time
    if env.get("APPLICATIONINSIGHTS_CONNECTION_STRING"):
        return "azure-monitor"
    if env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return "otlp"
    return "none"


def configure(env: Mapping[str, str] | None = None) -> str:
    """Set up exporting once per process; returns what was chosen (for health and tests)."""
    global _configured
    env = os.environ if env is None else env
    if _configured:
        return "already"
    _configured = True
    choice = exporter_for(env)
    if choice == "azure-monitor":
        return _azure_monitor(env)
    if choice == "otlp":
        return _otlp()
    return choice


def _azure_monitor(env: Mapping[str, str]) -> str:
    from azure.monitor.opentelemetry import configure_azure_monitor

    from shared import sampling

    credential = None
    if "Authorization=AAD" in env.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", ""):
        # Local auth is off on the Application Insights resource: ingest with Entra.
        from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

        client_id = env.get("AZURE_CLIENT_ID")
        credential = (
            ManagedIdentityCredential(client_id=client_id)
            if client_id
            else DefaultAzureCredential()
        )
    # The provider's own sampler then keeps whole traces too (the distro's default, rate-limited,
    # decides each span alone); the router's tracer samples with WholeTraces (`tracer`).
    from opentelemetry.sdk.resources import Resource

    # Application Insights' cloud role: "unknown_service:python" unless named.
    name = env.get("OTEL_SERVICE_NAME") or SERVICE_NAME
    configure_azure_monitor(
        credential=credential,
        logger_name="hybrid_router",
        sampling_ratio=sampling.ratio_from(env),
        resource=Resource.create({"service.name": name}),
    )
    return "azure-monitor"


def _otlp() -> str:
    try:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        log.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but opentelemetry-exporter-otlp is missing")
        return "none"
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", SERVICE_NAME)})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(tracer_provider)
    reader = PeriodicExportingMetricReader(OTLPMetricExporter())
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=[reader]))
    return "otlp"


def capture_content(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get(CAPTURE_CONTENT, "").lower() == "true"


class Instruments:
    """The router's metrics, from the given meter provider or the global one."""

    def __init__(self, meter_provider: metrics.MeterProvider | None = None) -> None:
        meter = metrics.get_meter(SCOPE, meter_provider=meter_provider)
        self.token_usage = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Tokens used per model call, by gen_ai.token.type",
            explicit_bucket_boundaries_advisory=[4**i for i in range(14)],
        )
        self.operation_duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="Duration of model calls",
            explicit_bucket_boundaries_advisory=[0.01 * 2**i for i in range(14)],
        )
        self.decisions = meter.create_counter(
            "router.decisions", unit="{decision}", description="Routing decisions"
        )
        self.cost = meter.create_counter(
            "router.cost.usd", unit="USD", description="List-price cost of answers"
        )
        self.throttled = meter.create_counter(
            "router.upstream.throttled", unit="{response}", description="429s from deployments"
        )


def tracer(
    tracer_provider: trace.TracerProvider | None = None, sample_ratio: float | None = None
) -> trace.Tracer:
    """The router's tracer, sampling whole traces (shared/sampling.py) at the ratio setting.

    The sampler is set on this tracer alone (the SDK's Tracer.sampler), so it holds under the
    Functions worker too, whose provider samples with the distro's defaults.
    """
    tracer = trace.get_tracer(SCOPE, tracer_provider=tracer_provider)
    if hasattr(tracer, "sampler"):  # an SDK tracer; the API's no-op one samples nothing
        from shared import sampling  # the SDK's: imported only where the SDK is in use

        ratio = sampling.ratio_from(os.environ) if sample_ratio is None else sample_ratio
        tracer.sampler = sampling.WholeTraces(ratio)
    return tracer


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


def attempt_attributes(
    url: str, deployment: str, body: Mapping[str, Any], operation: str = "chat"
) -> dict[str, Any]:
    """The attributes an attempt's span starts with (name: f"{operation} {deployment}", kind
    CLIENT); `operation` is the GenAI operation name of the upstream API ("chat", ...)."""
    full, scheme, host, port = _url_parts(url)
    attributes: dict[str, Any] = {
        OPERATION: operation,
        PROVIDER: PROVIDER_NAME,
        SYSTEM: PROVIDER_NAME,
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
    choices = answer.get("choices") or []
    reasons = [str(c.get("finish_reason")) for c in choices if c.get("finish_reason")]
    if reasons:
        span.set_attribute(FINISH_REASONS, reasons)
    _set_usage(span, usage)


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

    def __init__(self, span: Span, capture: bool = False) -> None:
        self.span = span
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
        kind = event.get("type")
        if kind == "response.completed":
            self.finish_reasons[0] = "stop"
        elif kind == "response.incomplete":
            reason = (response.get("incomplete_details") or {}).get("reason")
            self.finish_reasons[0] = str(reason or "incomplete")

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
