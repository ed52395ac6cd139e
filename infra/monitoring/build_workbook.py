"""Builds workbook.json, the operators' Application Insights workbook, from the .kql files here.

The queries live only in the .kql files (one question each, run as they are in Logs); the workbook
is generated so the two cannot drift. Each file opens with a comment header of fields:

    // Question: the question it answers (the workbook step's title)
    // Source: the table and telemetry it reads
    // Read: how to read the result (shown under the step)
    // Mapping: how the telemetry lands in that table, with sources

A field's text may go on over more comment lines. A final `| render KIND` line, for Logs, is
dropped from the workbook's copy and becomes the step's visualization instead.

Usage: python infra/monitoring/build_workbook.py           (rewrites workbook.json)
       python infra/monitoring/build_workbook.py --check   (exit 1 if workbook.json is stale)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORKBOOK = HERE / "workbook.json"
FIELDS = ("Question", "Source", "Read", "Mapping")
TIME_PARAMETER = "TimeRange"
HOUR_MS = 3_600_000
DEFAULT_RANGE_MS = 24 * HOUR_MS
RANGES_MS = [hours * HOUR_MS for hours in (1, 4, 12, 24, 72, 168, 720)]
RESOURCE_TYPE = "microsoft.insights/components"
# Logs' render kinds -> workbook visualizations (a columnchart is the workbook's barchart).
VISUALIZATIONS = {
    "timechart": "timechart",
    "linechart": "linechart",
    "areachart": "areachart",
    "columnchart": "barchart",
    "barchart": "barchart",
    "piechart": "piechart",
}
FIELD_LINE = re.compile(r"^//\s?(?P<key>[A-Z][a-z]+):\s*(?P<text>.*)$")
RENDER_LINE = re.compile(r"^\|\s*render\s+(?P<kind>\w+)\b.*$")


@dataclass(frozen=True)
class Query:
    stem: str
    fields: dict[str, str]
    kql: str  # the query without its header and render line
    visualization: str

    @property
    def question(self) -> str:
        return self.fields["Question"]


def parse(path: Path) -> Query:
    lines = path.read_text(encoding="utf-8").splitlines()
    fields: dict[str, str] = {}
    key: str | None = None
    while lines and lines[0].startswith("//"):
        line = lines.pop(0)
        if match := FIELD_LINE.match(line):
            key = match["key"]
            fields[key] = match["text"].strip()
        elif key is not None:
            fields[key] += " " + line[2:].strip()
        else:
            raise ValueError(f"{path.name}: header text before the first field: {line!r}")
    missing = [f for f in FIELDS if not fields.get(f)]
    if missing:
        raise ValueError(f"{path.name}: header lacks {missing}")
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise ValueError(f"{path.name}: unknown header fields {unknown}")
    while lines and not lines[-1].strip():
        lines.pop()
    visualization = "table"
    if lines and (render := RENDER_LINE.match(lines[-1].strip())):
        kind = render["kind"]
        if kind not in VISUALIZATIONS:
            raise ValueError(f"{path.name}: no workbook visualization for render {kind}")
        visualization = VISUALIZATIONS[kind]
        lines.pop()
    kql = "\n".join(lines).strip()
    if not kql:
        raise ValueError(f"{path.name}: no query after the header")
    return Query(path.stem, fields, kql, visualization)


def load_queries(folder: Path = HERE) -> list[Query]:
    """The .kql files in name order (their number prefixes order the workbook)."""
    return [parse(path) for path in sorted(folder.glob("*.kql"))]


def _id(name: str) -> str:
    # Stable ids keep the generated file byte-for-byte reproducible.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hybrid-router/workbook/{name}"))


def _time_parameter() -> dict[str, Any]:
    return {
        "type": 9,
        "content": {
            "version": "KqlParameterItem/1.0",
            "parameters": [
                {
                    "id": _id(TIME_PARAMETER),
                    "version": "KqlParameterItem/1.0",
                    "name": TIME_PARAMETER,
                    "label": "Time range",
                    "type": 4,
                    "isRequired": True,
                    "value": {"durationMs": DEFAULT_RANGE_MS},
                    "typeSettings": {
                        "selectableValues": [{"durationMs": ms} for ms in RANGES_MS],
                        "allowCustom": True,
                    },
                }
            ],
            "style": "pills",
            "queryType": 0,
            "resourceType": RESOURCE_TYPE,
        },
        "name": "parameters - time range",
    }


def _query_item(query: Query) -> dict[str, Any]:
    return {
        "type": 3,
        "content": {
            "version": "KqlItem/1.0",
            "query": query.kql,
            "size": 0,
            "title": query.question,
            "timeContext": {"durationMs": DEFAULT_RANGE_MS},
            "timeContextFromParameter": TIME_PARAMETER,
            "queryType": 0,
            "resourceType": RESOURCE_TYPE,
            "visualization": query.visualization,
        },
        "name": f"query - {query.stem}",
    }


def _read_item(query: Query) -> dict[str, Any]:
    text = f"{query.fields['Read']}\n\nQuery: `infra/monitoring/{query.stem}.kql`"
    return {"type": 1, "content": {"json": text}, "name": f"text - {query.stem}"}


def build(queries: list[Query]) -> dict[str, Any]:
    intro = (
        "## hybrid-router\n"
        "Routing, cost, latency and throttling of the router, from its OpenTelemetry in this "
        "Application Insights resource. Generated from `infra/monitoring/*.kql` by "
        "`infra/monitoring/build_workbook.py`: change the queries there, not here."
    )
    items: list[dict[str, Any]] = [
        {"type": 1, "content": {"json": intro}, "name": "text - intro"},
        _time_parameter(),
    ]
    for query in queries:
        items += [_query_item(query), _read_item(query)]
    return {
        "version": "Notebook/1.0",
        "items": items,
        "$schema": "https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json",
    }


def render(workbook: dict[str, Any]) -> str:
    return json.dumps(workbook, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if workbook.json is stale")
    args = parser.parse_args(argv)
    text = render(build(load_queries()))
    if args.check:
        current = WORKBOOK.read_text(encoding="utf-8") if WORKBOOK.exists() else ""
        if current != text:
            print(f"{WORKBOOK} is stale: run python {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    WORKBOOK.write_text(text, encoding="utf-8")
    print(f"wrote {WORKBOOK}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
