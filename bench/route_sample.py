"""Where a sample of your own traffic would go: the routing figures for requests you logged.

    python -m bench.route_sample requests.jsonl                 # the shipped scorer, balanced
    python -m bench.route_sample requests.jsonl --preset cost
    ROUTER_FUNCTION_KEY=... python -m bench.route_sample requests.jsonl \\
        --endpoint https://<your-function-app>.azurewebsites.net/api   # a deployed router

Each line of the file is one request body as your client sent it: chat completions
(`{"messages": [...], "tools": [...], ...}`) or the Responses API (`{"input": ...,
"instructions": ..., "tools": [...]}`, read as the router reads it: its input as chat turns, its
tools, built-in ones included; a `previous_response_id` or `item_reference` names history the
sample does not hold, so log the whole input).
Its `model` is replaced by `auto`. Two optional keys of your own: `label`, `simple` or
`complex` (what the request needed, where you know it), and `group`, any name to report rows by
(an agent, a feature, an endpoint). Without labels the table says only the share sent small.

Mode `scorer` (no `--endpoint`): the shipped local scorer and the preset's bands, abstentions
settled three ways (all to large, the emulator's keyword classifier, all to small): what the
router decides without asking a model, and the range the classifier's verdicts fall in. With
`--endpoint`: each request through that router's `POST /api/route` (the routing decision only,
no answer is generated), so abstentions are settled by its classifier: a deployed router's
Phi-4-mini. Nothing of the requests' text is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common.table import markdown
from bench.routing.data import Prompt
from bench.routing.outcomes import by_router, by_scorer, header, table
from shared.api import ApiError, chat_request
from shared.responses.request import is_responses_body, responses_request
from shared.responses.service import route_request
from shared.routing.presets import DEFAULT_PRESET, MODES

DEFAULT_GROUP = "your traffic"
LABELS = ("simple", "complex")
OWN_KEYS = ("label", "group")  # the sample's keys beside the request body


class SampleError(ValueError):
    """A line of the sample that is not a labelled request body."""


@dataclass(frozen=True, slots=True)
class Sampled(Prompt):
    """A line of the sample: `body` is what the routing decision reads (a Responses body's
    input as chat turns), `sent` the body as the client sent it (what a running router gets)."""

    sent: Mapping[str, Any] = field(default_factory=dict)


def sent_body(p: Prompt) -> Mapping[str, Any] | None:
    """The body a running router is sent for a line: as the client sent it."""
    return p.sent if isinstance(p, Sampled) else p.body


def parse_sample(lines: Sequence[str]) -> list[Prompt]:
    """The sample's requests, in file order; blank lines skipped."""
    out = []
    for number, text in enumerate(lines, start=1):
        if text.strip():
            out.append(_request(number, text))
    if not out:
        raise SampleError("the sample has no requests")
    return out


def _request(number: int, text: str) -> Prompt:
    try:
        row = json.loads(text)
    except json.JSONDecodeError as bad:
        raise SampleError(f"line {number}: not JSON ({bad.msg})") from None
    if not isinstance(row, Mapping) or not ("messages" in row or "input" in row):
        raise SampleError(f"line {number}: not a request body (no messages, no input)")
    label = row.get("label")
    if label is not None and label not in LABELS:
        raise SampleError(f"line {number}: label must be simple or complex, not {label!r}")
    group = row.get("group", DEFAULT_GROUP)
    if not isinstance(group, str) or not group:
        raise SampleError(f"line {number}: group must be a non-empty string")
    sent: dict[str, Any] = {k: v for k, v in row.items() if k not in OWN_KEYS}
    try:  # checked as the router checks it: what it would refuse with a 400 is named here
        if is_responses_body(sent):
            read: Mapping[str, Any] = _decided_form(number, sent)
        else:
            chat_request({**sent, "model": "auto"})
            read = sent
    except ApiError as refused:
        raise SampleError(f"line {number}: {refused}") from None
    return Sampled(f"line {number}", group, "", "", label=label, body=read, sent=sent)


def _decided_form(number: int, body: dict[str, Any]) -> dict[str, Any]:
    """A Responses API body as the routing decision reads it (route_request): its input as
    chat turns and its tools, functions or built-in."""
    request = responses_request({**body, "model": "auto"})
    stored = request.previous_response_id or any(
        item.get("type") == "item_reference" for item in request.items
    )
    if stored:
        raise SampleError(
            f"line {number}: previous_response_id or an item_reference names a stored "
            "conversation the sample does not hold: log the whole input"
        )
    route = route_request(request, request.items, None)
    return {"messages": list(route.messages), **({"tools": route.tools} if route.tools else {})}


def report(prompts: Sequence[Prompt], endpoint: str | None, preset: str) -> str:
    """The markdown report: a row per group, then per label with and without tools."""
    groups = sorted({p.source for p in prompts})
    if endpoint is None:
        outcomes = by_scorer(prompts, preset)
        settled = ": large / emulator / small"
        how = (
            f"the shipped scorer, preset `{preset}`; abstentions (the classifier's share) settled "
            "three ways: all to large, the emulator's keyword classifier, all to small."
        )
        deciders = ""
    else:
        key = os.environ.get("ROUTER_FUNCTION_KEY")
        decisions, counts = asyncio.run(by_router(prompts, endpoint, key=key, body_of=sent_body))
        outcomes = {"router": decisions}
        settled = ""
        how = f"each request through `POST /api/route` of the router at {endpoint}."
        deciders = "\n\nDecided by: " + ", ".join(f"{k} {v:,}" for k, v in counts.most_common())
    rows = table(outcomes, groups, without_tools=True)
    return f"{len(prompts):,} requests; {how}\n\n" + markdown(header(settled), rows) + deciders


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "sample", type=Path, help="JSONL: one chat completions or Responses body per line"
    )
    parser.add_argument("--preset", choices=MODES, help=f"default {DEFAULT_PRESET}")
    parser.add_argument("--endpoint", help="a running router's base URL (.../api)")
    args = parser.parse_args(argv)
    if args.endpoint and args.preset:
        parser.error("--preset is the scorer's: a router decides with its own ROUTER_PRESET")
    try:
        prompts = parse_sample(args.sample.read_text(encoding="utf-8").splitlines())
    except (OSError, SampleError) as bad:
        sys.exit(f"{args.sample}: {bad}")
    print(report(prompts, args.endpoint, args.preset or DEFAULT_PRESET))


if __name__ == "__main__":
    main()
