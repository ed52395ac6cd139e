"""Per-request cost of the router's own steps, in-process (no HTTP): what the gateway adds on
top of the server and the upstream client. Microseconds per call, best of 3 x 2000.

Run: .venv/bin/python -m bench.micro
"""

from __future__ import annotations

import asyncio
import timeit
from collections.abc import Callable
from functools import partial

import orjson
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.trace import INVALID_SPAN, SpanKind

from bench.common.table import markdown
from shared import telemetry as t
from shared.api import parse_chat_request
from shared.gateway import JsonResponse, answer_headers
from shared.routing.policy import Decision, decide_locally
from shared.settings import BreakerPolicy, RetryPolicy, load_settings
from shared.upstream.apis import CHAT
from shared.upstream.attempts import AttemptInfo
from shared.upstream.health import HealthBook, estimate_tokens
from shared.upstream.models import shape_for_tier
from shared.upstream.resilience import Resilience
from shared.upstream.stream import ChunkTimes, decode, show
from shared.upstream.urls import target
from shared.upstream.usage import Meter

ANSWER = {
    "id": "x",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 8, "completion_tokens": 9, "total_tokens": 17},
}
CHUNK = orjson.dumps(
    {
        "id": "x",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "Hello "}, "finish_reason": None}],
    }
).decode()


def main() -> None:
    settings = load_settings(
        {"FOUNDRY_ENDPOINT": "https://acct.openai.azure.com", "FOUNDRY_API_KEY": "k"}
    )
    raw = orjson.dumps({"model": "auto", "messages": [{"role": "user", "content": "hi"}]})
    _, body = parse_chat_request(raw)
    tier = settings.tier("small")
    tracer = t.tracer()
    decision = Decision("small", "scorer", "greeting", 0.02)
    loop = asyncio.new_event_loop()

    def span() -> None:
        with tracer.start_as_current_span("x", kind=SpanKind.CLIENT, attributes={"a": 1}) as s:
            s.set_attribute("b", 2)

    async def nothing() -> int:
        return 1

    health = HealthBook({}, BreakerPolicy())
    resilience = Resilience(settings, health, RetryPolicy())

    class Answered:
        headers: dict[str, str] = {}  # noqa: RUF012

    async def answer(tier: object, body: object, info: AttemptInfo) -> Answered:
        return Answered()

    async def one_try() -> object:
        return await resilience.call(tier, body, 1e12, answer)

    # One streamed chunk as attempts.py handles it, metrics on an SDK provider (as exported).
    instruments = t.Instruments(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    usage = partial(Meter(instruments).event, CHAT, tier)
    record = t.StreamRecord(INVALID_SPAN)
    attributes = t.metric_attributes("chat", tier.deployment, tier.url_shape)
    times = ChunkTimes(partial(instruments.time_per_output_chunk.record, attributes=attributes))

    steps: list[tuple[str, Callable[[], object]]] = [
        ("parse + validate the body (orjson, pydantic)", lambda: parse_chat_request(raw)),
        ("decide (scorer)", lambda: decide_locally(settings, "auto", body["messages"], None)),
        ("shape for the tier", lambda: shape_for_tier(body, tier)),
        ("estimate tokens (budget)", lambda: estimate_tokens(body)),
        (
            "attempt span attributes (URL parsed once)",
            lambda: t.attempt_attributes(target(tier).url, tier.deployment, body),
        ),
        ("one OpenTelemetry span (no-op provider)", span),
        (
            "headers + JSON response",
            lambda: JsonResponse(ANSWER, headers=answer_headers(decision, tier, ())),
        ),
        (
            "event loop round trip (baseline for the next)",
            lambda: loop.run_until_complete(nothing()),
        ),
        (
            "resilience: shape, budget, breaker, one successful try, incl. the round trip",
            lambda: loop.run_until_complete(one_try()),
        ),
        (
            "stream chunk: decode + show (span record, usage)",
            lambda: show(decode(CHUNK), record, usage),
        ),
        (
            "stream chunk: the same + time_per_output_chunk",
            lambda: show(decode(CHUNK), record, usage, times),
        ),
    ]
    rows = []
    for name, step in steps:
        seconds = min(timeit.repeat(step, number=2000, repeat=3)) / 2000
        rows.append([name, f"{seconds * 1e6:.1f}"])
    print("# the router's own steps, per request\n")
    print(markdown(["step", "µs"], rows))


if __name__ == "__main__":
    main()
