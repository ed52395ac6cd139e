"""What Application Insights receives: the router (outside Functions) with the real Azure Monitor
exporter, its ingestion endpoint a local server that records the envelopes (ingestion.py).

One router process serves every scenario; each request carries its own traceparent, so its
envelopes are told apart by operation id (the trace id). The envelope fields asserted are the
classic tables' columns: requests.resultCode / success / url, dependencies.type / target /
resultCode / success, customDimensions = properties, operation_ParentId = ai.operation.parentId.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.ingestion import Envelope, Ingestion
from shared.sampling import RATIO_SETTING
from tests.conftest import FAILOVER_TIERS, Emulator, StartRouter

REPO = Path(__file__).resolve().parents[2]
CHAT = "/api/v1/chat/completions"
REQUEST_NAME = f"POST {CHAT}"
GENAI_TYPE = "GenAI | azure.ai.openai"


def exporter_env(ingestion: Ingestion, **extra: str) -> dict[str, str]:
    return {
        "APPLICATIONINSIGHTS_CONNECTION_STRING": ingestion.connection_string(),
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # ms: spans leave in 0.1 s, not 5 s
        "OTEL_METRIC_EXPORT_INTERVAL": "500",
        "OTEL_SERVICE_NAME": "hybrid-router-test",
        "ROUTER_TIERS": json.dumps(FAILOVER_TIERS),
        "ROUTER_PRESET": "classifier",  # "auto" asks the classifier; pinned tiers never do
        "ROUTER_BACKOFF_BASE_S": "0.01",
        "ROUTER_MAX_ATTEMPTS": "2",
        "ROUTER_BREAKER_FAILURES": "1000",  # scenarios share a process: no breaker between them
        **extra,
    }


@pytest.fixture(scope="module")
def router(ingestion: Ingestion, start_module_router: StartRouter) -> Iterator[httpx.Client]:
    url = start_module_router(**exporter_env(ingestion))
    with httpx.Client(base_url=url, timeout=30) as client:
        yield client


class Trace:
    """One request's trace: its id, and the envelopes that arrived for it."""

    def __init__(self, ingestion: Ingestion, trace_id: str | None = None) -> None:
        self.ingestion = ingestion
        self.id = trace_id or secrets.token_hex(16)
        self.traceparent = f"00-{self.id}-{secrets.token_hex(8)}-01"

    def mine(self, items: list[Envelope]) -> list[Envelope]:
        return [e for e in items if e["tags"].get("ai.operation.id") == self.id]

    def wait(self, dependencies: int) -> tuple[Envelope, list[Envelope]]:
        """The request envelope and its dependencies (ordered by time), once all have arrived."""

        def arrived(items: list[Envelope]) -> bool:
            mine = self.mine(items)
            requests = [e for e in mine if e["name"].endswith(".Request")]
            return len(requests) == 1 and len(mine) - 1 >= dependencies

        try:
            items = self.mine(self.ingestion.wait_for(arrived))
        except AssertionError as exc:
            got = [
                (e["name"].rsplit(".", 1)[-1], data(e).get("name"))
                for e in self.mine(self.ingestion.items())
            ]
            raise AssertionError(f"trace {self.id}: {got}") from exc
        (request,) = [e for e in items if e["name"].endswith(".Request")]
        deps = sorted(
            (e for e in items if e["name"].endswith(".RemoteDependency")), key=lambda e: e["time"]
        )
        assert len(deps) == dependencies, [d["data"]["baseData"]["name"] for d in deps]
        return request, deps


def data(envelope: Envelope) -> dict[str, Any]:
    base: dict[str, Any] = envelope["data"]["baseData"]
    return base


def attempts(deps: list[Envelope]) -> list[dict[str, Any]]:
    return [data(d) for d in deps if data(d)["properties"].get("gen_ai.operation.name") == "chat"]


def ask(router: httpx.Client, trace: Trace, model: str = "small", **body: Any) -> httpx.Response:
    # A text of its own: the classifier's verdict cache must not answer for a later "auto".
    text = f"where is my parcel {trace.id[:8]}?"
    payload = {"model": model, "messages": [{"role": "user", "content": text}], **body}
    return router.post(CHAT, json=payload, headers={"traceparent": trace.traceparent})


def assert_request(request: Envelope, code: int, success: bool) -> dict[str, Any]:
    base = data(request)
    assert base["name"] == REQUEST_NAME
    assert base["responseCode"] == str(code)
    assert base["success"] is success
    assert base["url"].endswith(CHAT)
    assert request["tags"]["ai.operation.name"] == REQUEST_NAME
    assert request["tags"]["ai.cloud.role"] == "hybrid-router-test"
    return base


def assert_attempt(
    attempt: dict[str, Any], emulator: Emulator, deployment: str, code: int, success: bool
) -> None:
    assert attempt["type"] == GENAI_TYPE
    assert attempt["target"] == httpx.URL(emulator.url).netloc.decode()
    assert attempt["resultCode"] == str(code)
    assert attempt["success"] is success
    assert attempt["data"] == f"{emulator.url}/openai/v1/chat/completions"
    dims = attempt["properties"]
    assert dims["gen_ai.request.model"] == deployment
    assert dims["gen_ai.provider.name"] == dims["gen_ai.system"] == "azure.ai.openai"
    if success:
        assert dims["gen_ai.response.model"]
        assert int(dims["gen_ai.usage.input_tokens"]) > 0
        assert int(dims["gen_ai.usage.output_tokens"]) > 0
        assert "stop" in dims["gen_ai.response.finish_reasons"]


def test_answered_request(router: httpx.Client, ingestion: Ingestion, emulator: Emulator) -> None:
    trace = Trace(ingestion)
    assert ask(router, trace).status_code == 200
    request, deps = trace.wait(dependencies=2)
    base = assert_request(request, 200, True)
    decide, attempt = deps
    assert data(decide)["name"] == "router.decide"
    assert data(decide)["type"] == "InProc"
    assert_attempt(data(attempt), emulator, "Phi-4-mini", 200, True)
    assert data(attempt)["properties"]["router.tier"] == "small"
    for dep in deps:  # children of the request, in the caller's trace
        assert dep["tags"]["ai.operation.parentId"] == base["id"]


def test_retried_429(router: httpx.Client, ingestion: Ingestion, emulator: Emulator) -> None:
    emulator.fault("Phi-4-mini", "rate_limit", times=1, retry_after_ms=50)
    trace = Trace(ingestion)
    assert ask(router, trace).status_code == 200
    request, deps = trace.wait(dependencies=3)
    assert_request(request, 200, True)
    throttled, answered = attempts(deps)
    assert_attempt(throttled, emulator, "Phi-4-mini", 429, False)
    assert_attempt(answered, emulator, "Phi-4-mini", 200, True)
    assert throttled["properties"]["router.attempt"] == "1"
    assert answered["properties"]["router.attempt"] == "2"


def test_failover(router: httpx.Client, ingestion: Ingestion, emulator: Emulator) -> None:
    emulator.fault("Phi-4-mini", "unavailable", times=None)
    trace = Trace(ingestion)
    assert ask(router, trace).json()["model"] == "Phi-4"
    request, deps = trace.wait(dependencies=4)
    assert_request(request, 200, True)
    first, second, answered = attempts(deps)
    for failed in (first, second):
        assert_attempt(failed, emulator, "Phi-4-mini", 503, False)
    assert_attempt(answered, emulator, "Phi-4", 200, True)
    assert answered["properties"]["router.tier"] == "phi4"


def test_502_is_a_failed_request(
    router: httpx.Client, ingestion: Ingestion, emulator: Emulator
) -> None:
    for deployment in ("Phi-4-mini", "Phi-4"):
        emulator.fault(deployment, "server_error", times=None, status=500)
    trace = Trace(ingestion)
    reply = ask(router, trace)
    assert reply.status_code == 502, reply.text
    request, deps = trace.wait(dependencies=5)
    assert_request(request, 502, False)
    failed = attempts(deps)
    assert [a["properties"]["gen_ai.request.model"] for a in failed] == ["Phi-4-mini"] * 2 + [
        "Phi-4"
    ] * 2
    for attempt in failed:
        assert attempt["resultCode"] == "500"
        assert attempt["success"] is False
    # Handled failures are not exceptions (no stack traces in the exceptions table).
    assert not [e for e in trace.mine(ingestion.items()) if e["name"].endswith(".Exception")]


def test_stream_attempt_ends_with_the_stream(
    router: httpx.Client, ingestion: Ingestion, emulator: Emulator
) -> None:
    trace = Trace(ingestion)
    reply = ask(router, trace, stream=True)
    assert reply.status_code == 200
    assert reply.text.rstrip().endswith("data: [DONE]")
    request, deps = trace.wait(dependencies=2)
    assert_request(request, 200, True)
    (attempt,) = attempts(deps)
    # Model, finish reason and usage come from the stream's last chunks: the span saw them.
    assert_attempt(attempt, emulator, "Phi-4-mini", 200, True)
    (sent,) = emulator.requests("Phi-4-mini")  # a stream carries the trace context too
    assert sent["headers"]["traceparent"] == f"00-{trace.id}-{attempt['id']}-01"


def test_cut_stream_is_a_failed_dependency(
    router: httpx.Client, ingestion: Ingestion, emulator: Emulator
) -> None:
    emulator.fault("Phi-4-mini", "stream_cut", times=1, after_chunks=2)
    trace = Trace(ingestion)
    reply = ask(router, trace, stream=True)
    assert "upstream_stream_error" in reply.text  # the caller was told in-band
    request, deps = trace.wait(dependencies=2)
    assert_request(request, 200, True)  # the status went out before the cut
    (attempt,) = attempts(deps)
    assert attempt["resultCode"] == "200"
    assert attempt["success"] is False
    assert attempt["properties"]["gen_ai.request.model"] == "Phi-4-mini"


def test_classifier_decision(router: httpx.Client, ingestion: Ingestion) -> None:
    trace = Trace(ingestion)
    assert ask(router, trace, model="auto").status_code == 200
    _, deps = trace.wait(dependencies=3)
    decide = next(data(d) for d in deps if data(d)["name"] == "router.decide")
    assert decide["properties"]["router.decided_by"] == "classifier"
    assert float(decide["properties"]["router.classifier_ms"]) > 0
    classify = next(d for d in deps if d["tags"]["ai.operation.parentId"] == decide["id"])
    assert data(classify)["type"] == GENAI_TYPE


def test_trace_context_reaches_foundry(
    router: httpx.Client, ingestion: Ingestion, emulator: Emulator
) -> None:
    trace = Trace(ingestion)
    assert ask(router, trace).status_code == 200
    _, deps = trace.wait(dependencies=2)
    (attempt,) = attempts(deps)
    (sent,) = emulator.requests("Phi-4-mini")
    headers = {name.lower(): value for name, value in sent["headers"].items()}
    version, trace_id, parent, flags = headers["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", trace.id, "01")
    assert parent == attempt["id"]  # Foundry's side is a child of the attempt's span


def trace_ids(kept: bool, count: int) -> list[str]:
    """Trace ids that Application Insights' sampling hash keeps (or drops) at ratio 0.5."""
    from azure.monitor.opentelemetry.exporter.export.trace._utils import (
        _get_DJB2_sample_score,
    )

    found: list[str] = []
    while len(found) < count:
        trace_id = secrets.token_hex(16)
        if (_get_DJB2_sample_score(trace_id) < 0.5) == kept:
            found.append(trace_id)
    return found


def test_sampling_keeps_or_drops_whole_traces(
    ingestion: Ingestion, start_router: StartRouter
) -> None:
    url = start_router(**exporter_env(ingestion, **{RATIO_SETTING: "0.5"}))
    dropped = [Trace(ingestion, i) for i in trace_ids(kept=False, count=4)]
    kept = [Trace(ingestion, i) for i in trace_ids(kept=True, count=4)]
    with httpx.Client(base_url=url, timeout=30) as client:
        for trace in [*dropped, *kept]:  # spans leave in order: once the kept are in, all are
            assert ask(client, trace).status_code == 200
    for trace in kept:
        request, deps = trace.wait(dependencies=2)
        for envelope in [request, *deps]:
            assert envelope["sampleRate"] == 50.0  # itemCount 2 for every row of the trace
    items = ingestion.items()
    for trace in dropped:
        assert trace.mine(items) == [], "a dropped trace left some of its spans"


# --- the Kusto queries read what arrives -------------------------------------------------------

QUERIES = sorted((REPO / "infra" / "monitoring").glob("*.kql"))
TABLES = {"requests": "Request", "dependencies": "RemoteDependency", "customMetrics": "Metric"}
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
NAME_FILTER = re.compile(r'\bname == "([^"]+)"')
DIMENSION_FILTER = re.compile(r'tostring\(customDimensions\["([^"]+)"\]\) == "([^"]+)"')
DIMENSION = re.compile(r'customDimensions\["([^"]+)"\]')


def _metric(envelope: Envelope) -> dict[str, Any]:
    point: dict[str, Any] = data(envelope)["metrics"][0]
    return point


# Each column of the classic tables the queries read -> where an envelope carries it
# (azure-monitor-opentelemetry-exporter, _generated/models: RequestData, RemoteDependencyData,
# MetricsData; tags ContextTagKeys).
COLUMNS: dict[str, Callable[[Envelope], Any]] = {
    "timestamp": lambda e: e.get("time"),
    "itemCount": lambda e: 100 / e.get("sampleRate", 100.0),
    "operation_Id": lambda e: e["tags"].get("ai.operation.id"),
    "operation_ParentId": lambda e: e["tags"].get("ai.operation.parentId"),
    "id": lambda e: data(e).get("id"),
    "duration": lambda e: data(e).get("duration"),
    "success": lambda e: data(e).get("success"),
    "resultCode": lambda e: data(e).get("resultCode", data(e).get("responseCode")),
    "url": lambda e: data(e).get("url"),
    "target": lambda e: data(e).get("target"),
    "type": lambda e: data(e).get("type"),
    "valueSum": lambda e: _metric(e).get("value"),
    "valueCount": lambda e: _metric(e).get("count"),
}


def envelope_name(envelope: Envelope) -> str:
    if envelope["name"].endswith(".Metric"):
        return str(_metric(envelope)["name"])
    return str(data(envelope)["name"])


def statements(kql: str) -> list[tuple[list[str], str]]:
    """(tables read, statement text) for each statement that reads a table directly."""
    out = []
    for statement in kql.split(";"):
        body = re.sub(r"^\s*let\s+\w+\s*=\s*", "", statement.strip())
        union = re.match(r"union\s+([\w\s,]+?)\s*\|", body)
        first = union[1].replace(" ", "").split(",") if union else [body.split()[0]] if body else []
        if first and all(table in TABLES for table in first):
            out.append((first, body))
    return out


@pytest.fixture(scope="module")
def envelopes(router: httpx.Client, ingestion: Ingestion, emulator: Emulator) -> list[Envelope]:
    """Envelopes of a pinned answer, a classifier decision and a retried 429, metrics included."""
    emulator.fault("Phi-4-mini", "rate_limit", times=1, retry_after_ms=20)
    for trace, model in ((Trace(ingestion), "small"), (Trace(ingestion), "auto")):
        assert ask(router, trace, model=model).status_code == 200
        trace.wait(dependencies=3)
    needed = {
        "router.decisions",
        "router.cost.usd",
        "router.upstream.throttled",
        "gen_ai.client.operation.duration",
    }
    return ingestion.wait_for(
        lambda items: needed <= {envelope_name(e) for e in items if e["name"].endswith(".Metric")}
    )


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_query_columns_exist_in_the_envelopes(path: Path, envelopes: list[Envelope]) -> None:
    kql = "\n".join(
        line for line in path.read_text().splitlines() if not line.lstrip().startswith("//")
    )
    found = statements(kql)
    assert found, f"{path.name} reads no table"
    for tables, statement in found:
        rows = [e for e in envelopes if any(e["name"].endswith(f".{TABLES[t]}") for t in tables)]
        for name in NAME_FILTER.findall(statement):
            rows = [e for e in rows if envelope_name(e) == name]
        for key, value in DIMENSION_FILTER.findall(statement):
            rows = [e for e in rows if data(e).get("properties", {}).get(key) == value]
        assert rows, f"{path.name}: no envelope matches the filters of\n{statement}"
        for key in DIMENSION.findall(statement):
            assert any(key in data(e).get("properties", {}) for e in rows), (
                f"{path.name}: customDimensions[{key!r}] is in none of {len(rows)} rows"
            )
        words = set(re.findall(r"\w+", STRING.sub('""', statement)))
        for column in sorted(words & set(COLUMNS)):
            assert any(COLUMNS[column](e) not in (None, "") for e in rows), (
                f"{path.name}: column {column} is empty in all {len(rows)} rows"
            )


def test_content_capture_arrives_in_the_genai_structure(
    ingestion: Ingestion, start_router: StartRouter, router: httpx.Client
) -> None:
    env = exporter_env(ingestion, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true")
    url = start_router(**env)
    json_trace, stream_trace = Trace(ingestion), Trace(ingestion)
    with httpx.Client(base_url=url, timeout=30) as capturing:
        assert ask(capturing, json_trace).status_code == 200
        assert ask(capturing, stream_trace, stream=True).status_code == 200
    for trace in (json_trace, stream_trace):
        _, deps = trace.wait(dependencies=2)
        (attempt,) = attempts(deps)
        sent = json.loads(attempt["properties"]["gen_ai.input.messages"])
        assert sent == [
            {
                "role": "user",
                "parts": [{"type": "text", "content": f"where is my parcel {trace.id[:8]}?"}],
            }
        ]
        (answer,) = json.loads(attempt["properties"]["gen_ai.output.messages"])
        assert answer["role"] == "assistant"
        assert answer["finish_reason"] == "stop"
        assert answer["parts"][0]["type"] == "text"
        assert answer["parts"][0]["content"]
    # Off by default: the module's router records no content.
    default = Trace(ingestion)
    assert ask(router, default).status_code == 200
    _, deps = default.wait(dependencies=2)
    assert not [d for d in deps if "gen_ai.input.messages" in data(d)["properties"]]


# --- the queries' filters and parsing, applied to what arrives ----------------------------------

MONITORING = REPO / "infra" / "monitoring"


def name_filter(query: str) -> Callable[[str], bool]:
    """A query's `| where name startswith ...` line (with endswith, and, or) as a predicate."""
    lines = (MONITORING / f"{query}.kql").read_text().splitlines()
    (line,) = [x.strip() for x in lines if x.strip().startswith("| where name startswith ")]
    expression = re.sub(
        r'name (startswith|endswith) ("[^"]*")',
        lambda m: f"name.{m[1]}({m[2]})",
        line.removeprefix("| where "),
    )
    assert re.fullmatch(r'[\w\s.()"/]+', expression), expression  # nothing but the filter
    return lambda name: bool(eval(expression, {}, {"name": name}))


def test_end_to_end_latency_reads_chat_and_responses_requests(
    router: httpx.Client, ingestion: Ingestion
) -> None:
    chat, responses = Trace(ingestion), Trace(ingestion)
    assert ask(router, chat).status_code == 200
    reply = router.post(
        "/api/v1/responses",
        json={"model": "small", "input": "where is my parcel?"},
        headers={"traceparent": responses.traceparent},
    )
    assert reply.status_code == 200, reply.text
    wanted = name_filter("03_latency_end_to_end")
    for trace in (chat, responses):
        request, _ = trace.wait(dependencies=2)
        assert wanted(data(request)["name"]), data(request)["name"]
    assert not wanted("GET /api/v1/responses/{response_id}")


def finish_reasons(dimension: str) -> list[str]:
    """08_finish_reasons' extract_all(@"([a-z_]+)", ...), in Python."""
    kql = (MONITORING / "08_finish_reasons.kql").read_text()
    (pattern,) = re.findall(r'extract_all\(@"([^"]+)"', kql)
    return re.findall(pattern, dimension)


def test_finish_reasons_are_read_as_the_exporter_writes_them(
    router: httpx.Client, ingestion: Ingestion
) -> None:
    trace = Trace(ingestion)
    assert ask(router, trace).status_code == 200
    _, deps = trace.wait(dependencies=2)
    (attempt,) = attempts(deps)
    written = attempt["properties"]["gen_ai.response.finish_reasons"]
    # The exporter writes the tuple's Python text, not JSON (Azure/azure-sdk-for-python#32483).
    assert written in ("('stop',)", '["stop"]'), written
    assert finish_reasons(written) == ["stop"]
    assert finish_reasons("('length', 'stop')") == ["length", "stop"]
