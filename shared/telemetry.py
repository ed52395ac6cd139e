"""OpenTelemetry: exporter set-up (once), the tracer and meter, and attribute names in one place.

Deployed, the Functions worker configures Azure Monitor itself (PYTHON_APPLICATIONINSIGHTS_ENABLE_
TELEMETRY=true with host.json telemetryMode OpenTelemetry): the app must not do it a second time.
Elsewhere: Azure Monitor when a connection string is set, OTLP when an OTLP endpoint is set,
nothing otherwise (the API's no-op providers cost next to nothing).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import metrics, propagate, trace

log = logging.getLogger("hybrid_router.telemetry")

SCOPE = "hybrid_router"
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
ERROR_TYPE = "error.type"
HTTP_STATUS = "http.response.status_code"
SERVER_ADDRESS = "server.address"
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
    configure_azure_monitor(credential=credential, logger_name="hybrid_router")
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

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", SCOPE)})
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


def tracer(tracer_provider: trace.TracerProvider | None = None) -> trace.Tracer:
    return trace.get_tracer(SCOPE, tracer_provider=tracer_provider)


@contextmanager
def request_span(
    tracer: trace.Tracer, name: str, headers: Mapping[str, str]
) -> Iterator[trace.Span]:
    """The span of one request to the router, continuing the caller's traceparent.

    Under the Functions worker a span for the invocation is already current (it carries the
    caller's context); elsewhere the W3C headers are read here.
    """
    current = trace.get_current_span().get_span_context()
    if current.is_valid:
        with tracer.start_as_current_span(name, kind=trace.SpanKind.INTERNAL) as span:
            yield span
        return
    with tracer.start_as_current_span(
        name, context=propagate.extract(headers), kind=trace.SpanKind.SERVER
    ) as span:
        yield span
