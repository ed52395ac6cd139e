"""Sampling that keeps or drops whole traces.

A span whose parent is in this process follows the parent's decision (and carries its sample
rate, so Application Insights' itemCount stays right for every row of the trace). A trace that
enters the router, with no parent or with a remote one (the caller's traceparent, or the Functions
host's invocation span), is sampled by the ratio on a hash of its trace id: the algorithm the
Application Insights SDKs share (ApplicationInsightsSampler), so services sampling at the same
ratio keep the same traces. The caller's sampled flag does not decide: a client must not be able to
switch the router's telemetry volume (or an operator's view of it) on or off.

The exporters' default samplers decide each span on its own (the distro's rate-limited sampler
re-samples a child whose parent carries no sample rate), which split traces: requests arrived
without their router.decide and chat dependencies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

RATIO_SETTING = "ROUTER_TRACE_SAMPLE_RATIO"
SAMPLE_RATE_KEY = "_MS.sampleRate"  # percent; Application Insights' itemCount = 100 / rate


def ratio_from(env: Mapping[str, str]) -> float:
    """The sampling ratio setting, 0..1 (default 1: every trace); a bad value names the setting."""
    raw = env.get(RATIO_SETTING, "").strip()
    if not raw:
        return 1.0
    try:
        ratio = float(raw)
    except ValueError:
        raise ValueError(f"{RATIO_SETTING} must be a number from 0 to 1, not {raw!r}") from None
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"{RATIO_SETTING} must be a number from 0 to 1, not {raw!r}")
    return ratio


class WholeTraces(Sampler):
    def __init__(self, ratio: float) -> None:
        self.ratio = ratio
        self._root: Sampler | None = None
        if ratio < 1.0:
            # Imported only when sampling: the exporter package costs start-up time.
            from azure.monitor.opentelemetry.exporter import ApplicationInsightsSampler

            self._root = ApplicationInsightsSampler(ratio)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        parent = trace.get_current_span(parent_context)
        context = parent.get_span_context()
        if context.is_valid and not context.is_remote:
            return _follow(parent, attributes, context.trace_state)
        if self._root is None:
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, context.trace_state)
        result = self._root.should_sample(
            parent_context, trace_id, name, kind, dict(attributes or {}), links, trace_state
        )
        return SamplingResult(result.decision, result.attributes, context.trace_state)

    def get_description(self) -> str:
        return f"WholeTraces{{{self.ratio}}}"


def _follow(
    parent: trace.Span, attributes: Attributes, trace_state: TraceState | None
) -> SamplingResult:
    if not parent.is_recording():
        return SamplingResult(Decision.DROP, None, trace_state)
    rate = (getattr(parent, "attributes", None) or {}).get(SAMPLE_RATE_KEY)
    if rate is None:
        return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, trace_state)
    return SamplingResult(
        Decision.RECORD_AND_SAMPLE, {**(attributes or {}), SAMPLE_RATE_KEY: rate}, trace_state
    )
