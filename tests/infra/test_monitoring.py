"""The operators' Kusto queries, the workbook built from them, and the Bicep that deploys it.

The queries cannot be run here, so these tests pin what they can: every question has a query,
every name a query reads is one the router emits (shared/telemetry/names.py), the span
attributes they read survive the Azure Monitor exporter, and the deployed workbook is the one
the script builds.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

import pytest
from infra_support import (
    INFRA,
    REPO,
    main_bicep,
    module_config,
    module_file,
    modules_using,
    parse_bicep,
    render,
)
from opentelemetry.sdk.metrics import MeterProvider

from shared import telemetry
from shared.routing.policy import DecidedBy
from shared.services.guess import GuessOutcome

MONITORING = INFRA / "monitoring"
WORKBOOK_JSON = MONITORING / "workbook.json"
WORKBOOK_BICEP = INFRA / "modules" / "workbook.bicep"
KQL_FILES = sorted(MONITORING.glob("*.kql"))
# Bicep's loadTextContent reads at most 131,072 characters.
LOAD_TEXT_CONTENT_LIMIT = 131_072

# Constants in shared/telemetry.py that are not attribute names.
NOT_ATTRIBUTES = {"SCOPE", "SERVICE_NAME", "CAPTURE_CONTENT", "PROVIDER_NAME"}
DOTTED_LITERAL = re.compile(r'"([A-Za-z_][\w]*(?:\.[\w]+)+)"')
DIMENSION = re.compile(r'customDimensions\["([^"]+)"\]')
DECIDED_BY_VALUE = re.compile(r'decided_by\s*==\s*"([^"]+)"')
GUESS_VALUE = re.compile(r'guess\s*==\s*"([^"]+)"')
SPAN_TABLES = re.compile(r"\b(requests|dependencies)\b")

# Every question the operators asked -> the query answering it and what its KQL must contain.
QUESTIONS: dict[str, tuple[str, list[str]]] = {
    "share of traffic per tier and per decided_by": (
        "01_traffic_share",
        ['"router.decisions"', '"router.tier"', '"router.decided_by"', "sum(valueSum)"],
    ),
    "cost per day per tier": (
        "02_cost_per_day",
        ['"router.cost.usd"', '"router.tier"', "bin(timestamp, 1d)", "sum(valueSum)"],
    ),
    "p95 latency per tier, end to end, chat completions and Responses": (
        "03_latency_end_to_end",
        [
            '"router.decide"',
            '"router.tier"',
            "percentile(duration, 95)",
            "requests",
            'endswith "/chat/completions"',
            'endswith "/responses"',
        ],
    ),
    "p95 latency per upstream deployment": (
        "04_latency_per_deployment",
        ['"gen_ai.request.model"', "percentile(duration, 95)", "dependencies"],
    ),
    "429 rate per deployment (throttled / attempts)": (
        "05_throttling_rate",
        [
            '"router.upstream.throttled"',
            '"router.deployment"',
            '"gen_ai.client.operation.duration"',
            "sum(valueCount)",
        ],
    ),
    "classifier latency p50/p95/p99 when the classifier decided": (
        "06_classifier_latency",
        [
            '"router.classifier_ms"',
            'decided_by == "classifier"',
            "percentile(classifier_ms, 50)",
            "percentile(classifier_ms, 95)",
            "percentile(classifier_ms, 99)",
        ],
    ),
    "why answers ended (finish reasons) per deployment, as the exporter writes them": (
        "08_finish_reasons",
        [
            '"gen_ai.response.finish_reasons"',
            '"gen_ai.request.model"',
            'extract_all(@"([a-z_]+)"',
            "mv-expand",
            "sum(itemCount)",
        ],
    ),
    "answers started beside the classifier, and the share dropped": (
        "09_answers_started_early",
        ['"router.decide"', '"router.guess"', 'guess == "dropped"', "count()"],
    ),
    "failover rate (more than one attempt, or an attempt on another tier)": (
        "07_failover_rate",
        ['"router.decide"', '"router.tier"', "attempts > 1", "tier != decided_tier"],
    ),
}


@cache
def builder() -> ModuleType:
    """infra/monitoring/build_workbook.py, imported from its path (infra/ is not a package)."""
    path = MONITORING / "build_workbook.py"
    spec = importlib.util.spec_from_file_location("build_workbook", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


@cache
def queries() -> dict[str, Any]:
    return {q.stem: q for q in builder().load_queries(MONITORING)}


def attribute_names() -> set[str]:
    return {
        value
        for name, value in vars(telemetry).items()
        if name.isupper() and isinstance(value, str) and name not in NOT_ATTRIBUTES
    }


def metric_names() -> set[str]:
    instruments = telemetry.Instruments(MeterProvider())
    return {instrument.name for instrument in vars(instruments).values()}


def request_span_name() -> str:
    """The router's span of a chat request: "{method} {path}" as the Functions host routes it."""
    from shared.edge import ENDPOINTS

    prefix = json.loads((REPO / "host.json").read_text())["extensions"]["http"]["routePrefix"]
    chat = [e for e in ENDPOINTS if e.template == "v1/chat/completions" and "POST" in e.methods]
    assert chat, "shared/edge.py no longer routes POST v1/chat/completions"
    return f"POST /{prefix}/{chat[0].template}"


def span_names() -> set[str]:
    decider = (REPO / "shared" / "services" / "decide.py").read_text()
    names = set(re.findall(r'start_as_current_span\("([^"]+)"\)', decider))
    assert "router.decide" in names
    return names | {request_span_name()}


def workbook() -> dict[str, Any]:
    return json.loads(WORKBOOK_JSON.read_text())


def query_items() -> list[dict[str, Any]]:
    return [item for item in workbook()["items"] if item["type"] == 3]


# --- the queries -------------------------------------------------------------------------------


def test_every_question_has_a_query() -> None:
    for question, (stem, needed) in QUESTIONS.items():
        assert stem in queries(), f"no query for: {question}"
        kql = queries()[stem].kql
        missing = [snippet for snippet in needed if snippet not in kql]
        assert not missing, f"{stem}.kql ({question}) lacks {missing}"


def test_no_query_without_a_question() -> None:
    assert set(queries()) == {stem for stem, _ in QUESTIONS.values()}


@pytest.mark.parametrize("path", KQL_FILES, ids=lambda p: p.name)
def test_query_file_has_header_and_query(path: Path) -> None:
    query = builder().parse(path)  # raises on a missing or unknown header field
    assert query.kql.strip()
    assert not query.kql.lstrip().startswith("//")
    # The header cites how the telemetry lands in the table it reads.
    assert "azure-monitor" in query.fields["Mapping"]


@pytest.mark.parametrize("path", KQL_FILES, ids=lambda p: p.name)
def test_query_names_only_what_the_router_emits(path: Path) -> None:
    kql = builder().parse(path).kql
    known = attribute_names() | metric_names() | span_names()
    unknown = sorted(set(DOTTED_LITERAL.findall(kql)) - known)
    assert not unknown, f"{path.name} names {unknown}, which shared/telemetry.py does not emit"
    dimensions = set(DIMENSION.findall(kql))
    assert dimensions, f"{path.name} reads no customDimensions"
    assert dimensions <= attribute_names(), f"{path.name}: {dimensions - attribute_names()}"
    for name in re.findall(r'\bname == "([^"]+)"', kql):
        expected = metric_names() if "customMetrics" in kql else span_names()
        assert name in expected, f"{path.name}: no metric or span is named {name!r}"


@pytest.mark.parametrize("path", KQL_FILES, ids=lambda p: p.name)
def test_query_compares_with_values_the_router_sets(path: Path) -> None:
    kql = builder().parse(path).kql
    for value in DECIDED_BY_VALUE.findall(kql):
        assert value in get_args(DecidedBy), f"{path.name}: decided_by is never {value!r}"
    for value in GUESS_VALUE.findall(kql):
        assert value in get_args(GuessOutcome), f"{path.name}: router.guess is never {value!r}"
    if '"gen_ai.operation.name"]) == "chat"' in kql:
        from shared.upstream.apis import CHAT  # the attempt spans' gen_ai.operation.name

        assert CHAT.operation == "chat"


def test_metrics_the_queries_read_exist() -> None:
    assert {
        "gen_ai.client.token.usage",
        "gen_ai.client.operation.duration",
        "router.decisions",
        "router.cost.usd",
        "router.upstream.throttled",
    } <= metric_names()


def test_span_attributes_the_queries_read_reach_custom_dimensions() -> None:
    """The exporter keeps http.*, error.type, server.address and the like out of customDimensions
    of spans (metrics keep every attribute): a span query reading one would find nothing."""
    from azure.monitor.opentelemetry.exporter.export.trace._exporter import (
        _is_standard_attribute,
    )

    for stem, query in queries().items():
        if not SPAN_TABLES.search(query.kql):
            continue
        dropped = sorted(k for k in DIMENSION.findall(query.kql) if _is_standard_attribute(k))
        assert not dropped, f"{stem}.kql reads {dropped}, which the exporter drops from spans"


def test_spans_land_in_the_tables_the_queries_read() -> None:
    """SERVER spans -> requests; INTERNAL and CLIENT -> dependencies (InProc for INTERNAL), with
    id / operation_ParentId linking a child to its parent and attributes in customDimensions."""
    from azure.monitor.opentelemetry.exporter.export.trace._exporter import (
        _convert_span_to_envelope,
    )
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind

    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracer = telemetry.tracer(provider)
    with telemetry.request_span(tracer, request_span_name(), {}) as request_span:
        with tracer.start_as_current_span("router.decide") as decide:
            decide.set_attribute(telemetry.TIER, "small")
        with tracer.start_as_current_span("chat Phi-4-mini", kind=SpanKind.CLIENT) as call:
            call.set_attribute(telemetry.OPERATION, "chat")
            call.set_attribute(telemetry.HTTP_STATUS, 429)
    telemetry.end_request(request_span, 200)
    envelopes = {s.name: _convert_span_to_envelope(s) for s in spans.get_finished_spans()}
    request = envelopes[request_span_name()]
    assert request.name.endswith(".Request")  # no current span here: SERVER
    request_id = request.data.base_data.id
    decided = envelopes["router.decide"]
    assert decided.name.endswith(".RemoteDependency")
    assert decided.data.base_data.type == "InProc"
    assert decided.tags["ai.operation.parentId"] == request_id
    assert decided.data.base_data.properties == {telemetry.TIER: "small"}
    attempt = envelopes["chat Phi-4-mini"]
    assert attempt.name.endswith(".RemoteDependency")
    assert attempt.tags["ai.operation.parentId"] == request_id
    assert attempt.data.base_data.properties[telemetry.OPERATION] == "chat"


# --- the workbook ------------------------------------------------------------------------------


def test_workbook_is_what_the_build_script_makes() -> None:
    built = builder().render(builder().build(builder().load_queries(MONITORING)))
    assert WORKBOOK_JSON.read_text() == built, (
        "workbook.json is stale: run python infra/monitoring/build_workbook.py"
    )


def test_workbook_shows_every_query() -> None:
    shown = {item["content"]["query"] for item in query_items()}
    for stem, query in queries().items():
        assert query.kql in shown, f"the workbook lacks {stem}.kql"
    assert len(query_items()) == len(queries())


def test_workbook_query_steps() -> None:
    doc = workbook()
    assert doc["version"] == "Notebook/1.0"
    (parameters,) = [item for item in doc["items"] if item["type"] == 9]
    (time_range,) = parameters["content"]["parameters"]
    assert time_range["type"] == 4  # a time range picker
    for item in query_items():
        content = item["content"]
        assert content["version"] == "KqlItem/1.0"
        assert content["queryType"] == 0  # Logs (Kusto)
        assert content["resourceType"] == "microsoft.insights/components"
        assert content["timeContextFromParameter"] == time_range["name"]
        assert isinstance(content["size"], int)
        assert content["visualization"] in {"table", *builder().VISUALIZATIONS.values()}
        assert content["title"]
        assert "| render" not in content["query"]  # the step's visualization draws it


def test_workbook_fits_load_text_content() -> None:
    assert len(WORKBOOK_JSON.read_text()) < LOAD_TEXT_CONTENT_LIMIT


def test_build_rejects_a_query_without_its_header(tmp_path: Path) -> None:
    bad = tmp_path / "bad.kql"
    bad.write_text("// Question: Why?\n// Source: requests\ncustomMetrics | take 1\n")
    with pytest.raises(ValueError, match="lacks"):
        builder().parse(bad)


def test_build_maps_render_to_visualization(tmp_path: Path) -> None:
    header = "".join(f"// {field}: {field.lower()}\n" for field in builder().FIELDS)
    good = tmp_path / "good.kql"
    good.write_text(
        header + "requests\n| summarize count() by bin(timestamp, 1h)\n| render columnchart\n"
    )
    query = builder().parse(good)
    assert (query.visualization, query.kql.splitlines()[-1]) == (
        "barchart",
        "| summarize count() by bin(timestamp, 1h)",
    )
    odd = tmp_path / "odd.kql"
    odd.write_text(header + "requests\n| render ladderchart\n")
    with pytest.raises(ValueError, match="ladderchart"):
        builder().parse(odd)


# --- the Bicep ---------------------------------------------------------------------------------


def test_main_deploys_the_workbook_on_the_app_insights_component() -> None:
    assert modules_using("workbook.bicep") == ["workbook"]
    config = module_config("workbook")
    assert render(config["scope"]) == "rg"
    assert render(config["params"]["applicationInsightsName"]) == (
        "monitoring.outputs.applicationInsightsName"
    )
    # ... which the monitoring module sets to its Application Insights component.
    monitoring = parse_bicep(module_file("monitoring"))
    name = render(monitoring["outputs"]["applicationInsightsName"]["value"])
    symbol = name.removesuffix(".name")
    assert monitoring["resources"][symbol]["type"] == "Microsoft.Insights/components"
    outputs = main_bicep()["outputs"]
    assert render(outputs["MONITORING_WORKBOOK_ID"]["value"]) == "workbook.outputs.id"


def test_workbook_module_links_the_component() -> None:
    template = parse_bicep(WORKBOOK_BICEP)
    resources = template["resources"]
    (component,) = [r for r in resources.values() if r["type"] == "Microsoft.Insights/components"]
    assert component["existing"] is True
    assert component["config"]["name"] == "applicationInsightsName"
    symbol = next(s for s, r in resources.items() if r is component)
    (book,) = [r for r in resources.values() if r["type"] == "Microsoft.Insights/workbooks"]
    config = book["config"]
    assert config["kind"] == "shared"
    assert config["properties"]["category"] == "workbook"
    assert render(config["properties"]["sourceId"]) == f"{symbol}.id"
    # A fixed name, so each deployment updates the same workbook instead of adding one.
    name = render(config["name"])
    assert name.startswith(f"guid({symbol}.id, ")
    assert "newGuid" not in name
    assert "utcNow" not in name
    assert {"id", "name"} <= set(template["outputs"])


def test_workbook_module_loads_the_generated_workbook() -> None:
    (book,) = [
        r
        for r in parse_bicep(WORKBOOK_BICEP)["resources"].values()
        if r["type"] == "Microsoft.Insights/workbooks"
    ]
    loaded = book["config"]["properties"]["serializedData"]["function"]
    assert loaded["type"] == "load_text_content"
    path = (WORKBOOK_BICEP.parent / loaded["parameters"]["file_path"]).resolve()
    assert path == WORKBOOK_JSON
