"""Exporter set-up (once per process), the router's tracer and its metrics.

Deployed, the Functions worker configures Azure Monitor itself (PYTHON_APPLICATIONINSIGHTS_ENABLE_
TELEMETRY=true with host.json telemetryMode OpenTelemetry): the app must not do it a second time.
Elsewhere: Azure Monitor when a connection string is set, OTLP when an OTLP endpoint is set,
nothing otherwise (the API's no-op providers cost next to nothing).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from opentelemetry import metrics, trace

from shared.telemetry.names import (
    CAPTURE_CONTENT,
    OPERATION_DURATION,
    SCOPE,
    SERVICE_NAME,
    TIME_PER_OUTPUT_CHUNK,
    TIME_TO_FIRST_CHUNK,
    TOKEN_USAGE,
)

__all__ = [
    "WORKER_TRUE",
    "Instruments",
    "capture_content",
    "configure",
    "exporter_for",
    "trace_azure_sdk",
    "tracer",
]

log = logging.getLogger("hybrid_router.telemetry")

_configured = False


# What the Functions Python worker reads as "on" (azure-functions-python-worker, utils:
# is_true_like); the app must agree, or with "1" both would configure Azure Monitor.
WORKER_TRUE = frozenset({"1", "true", "t", "yes", "y"})


def exporter_for(env: Mapping[str, str]) -> str:
    """Where telemetry goes in this environment: a pure choice, made once by `configure`."""
    if env.get("PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY", "").strip().lower() in WORKER_TRUE:
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
    trace_azure_sdk()
    return "otlp"


def trace_azure_sdk() -> None:
    """Spans for the Azure SDK's calls (the Responses store's blob writes) through OpenTelemetry,
    as the Azure Monitor set-up turns on by itself (its `azure_sdk` instrumentation); without
    it, OTLP export shows no storage calls."""
    from azure.core.settings import settings

    settings.tracing_implementation = "opentelemetry"


def capture_content(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get(CAPTURE_CONTENT, "").lower() == "true"


# The GenAI conventions' advisory buckets for a model call's seconds: 0.01 s doubling to 81.92 s.
SECONDS_BUCKETS = [0.01 * 2**i for i in range(14)]


class Instruments:
    """The router's metrics, from the given meter provider or the global one."""

    def __init__(self, meter_provider: metrics.MeterProvider | None = None) -> None:
        meter = metrics.get_meter(SCOPE, meter_provider=meter_provider)
        self.token_usage = meter.create_histogram(
            TOKEN_USAGE,
            unit="{token}",
            description="Tokens used per model call, by gen_ai.token.type",
            explicit_bucket_boundaries_advisory=[4**i for i in range(14)],
        )

        def seconds(name: str, description: str) -> metrics.Histogram:
            return meter.create_histogram(
                name,
                unit="s",
                description=description,
                explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
            )

        self.operation_duration = seconds(OPERATION_DURATION, "Duration of model calls")
        # A stream's duration above is the whole call; its first chunk is measured on its own,
        # and each chunk after it by the time since the one before (shared/upstream/stream.py).
        self.time_to_first_chunk = seconds(
            TIME_TO_FIRST_CHUNK, "Time to the first chunk of a streamed model call"
        )
        self.time_per_output_chunk = seconds(
            TIME_PER_OUTPUT_CHUNK,
            "Time from the end of a streamed chunk to the end of the next one",
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
        self.escalations = meter.create_counter(
            "router.guard.escalations",
            unit="{answer}",
            description="Small-tier agent turns the guard refused, asked again one tier up",
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
