"""The routing benchmark's JSONL files and the deterministic tune / held-out split."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Split = Literal["tune", "heldout", "all"]

# The routing-bench and agent-bench development sets, not shipped in this repository: by default
# beside the checkout (--bench-dir / --agent-dir elsewhere).
DEFAULT_BENCH_DIR = Path(__file__).resolve().parents[3] / "shared" / "routing-bench"
# Agent turns with tools, tool-result turns, short hard asks: whole request bodies.
DEFAULT_AGENT_DIR = DEFAULT_BENCH_DIR.parent / "agent-bench"
TUNE_SHARE = 0.7
# The agent-turn set's files: SGD, ToolSandbox, tau-bench and plain asks, then API-Bank,
# Seal-Tools and ToolAlpaca (every row with tools).
AGENT_FILES = ("traffic.jsonl", "traffic_v2.jsonl")


@dataclass(frozen=True, slots=True)
class Prompt:
    """One benchmark line: traffic lines carry a label, quality lines weak/strong scores."""

    id: str
    source: str
    category: str
    prompt: str
    label: str | None = None  # "simple" | "complex" (traffic.jsonl)
    weak: float | None = None  # quality of the weak model's answer (quality.jsonl)
    strong: float | None = None  # quality of the strong model's answer
    body: Mapping[str, Any] | None = None  # the whole request (agent-bench), else just `prompt`

    @property
    def is_complex(self) -> bool:
        return self.label == "complex"

    @property
    def messages(self) -> Sequence[Mapping[str, Any]]:
        if self.body is not None:
            return self.body["messages"]  # type: ignore[no-any-return]
        return ({"role": "user", "content": self.prompt},)

    @property
    def tools(self) -> Sequence[Any] | None:
        return None if self.body is None else self.body.get("tools")

    @property
    def has_tools(self) -> bool:
        return bool(self.tools)


def split_of(prompt_id: str, salt: str = "") -> Literal["tune", "heldout"]:
    """70/30 by a hash of the id: stable across runs and files, so a prompt that is in both
    traffic.jsonl and quality.jsonl (GSM8K, MT-Bench) lands on the same side of both.
    Another salt gives another split (bench/check_resplits.py); the default is the one used."""
    digest = hashlib.sha256((salt + prompt_id).encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return "tune" if fraction < TUNE_SHARE else "heldout"


def parse_line(line: str) -> Prompt:
    row = json.loads(line)
    return Prompt(
        id=str(row["id"]),
        source=str(row["source"]),
        category=str(row.get("category", "")),
        prompt=str(row["prompt"]),
        label=row.get("label"),
        weak=None if row.get("weak") is None else float(row["weak"]),
        strong=None if row.get("strong") is None else float(row["strong"]),
        body=row.get("body"),
    )


def select(prompts: Iterable[Prompt], split: Split, salt: str = "") -> list[Prompt]:
    return [p for p in prompts if split == "all" or split_of(p.id, salt) == split]


def load(path: Path, split: Split = "all", salt: str = "") -> list[Prompt]:
    with path.open(encoding="utf-8") as handle:
        return select((parse_line(line) for line in handle if line.strip()), split, salt)


def by_source(prompts: Sequence[Prompt]) -> dict[str, list[Prompt]]:
    groups: dict[str, list[Prompt]] = {}
    for prompt in prompts:
        groups.setdefault(prompt.source, []).append(prompt)
    return groups


def load_agent(agent_dir: Path, split: Split = "all", salt: str = "") -> list[Prompt]:
    """Every agent-turn file that exists in `agent_dir`, in AGENT_FILES order."""
    out: list[Prompt] = []
    for name in AGENT_FILES:
        if (agent_dir / name).exists():
            out += load(agent_dir / name, split, salt)
    return out
