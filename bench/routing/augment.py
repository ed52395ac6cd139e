"""Tool lists on plain prompts, for training: the presence of `tools` must not be a verdict.

Agent frameworks send their tool list on every call, whatever the ask ("hi", a factoid, a
proof). The agent-bench has tools only on agent turns, so a model trained on it alone learns
"tools -> the kind of source that has tools". A third of the tune split's prompts that have no
tools (chosen by a hash of the id) are trained on with a tool list taken from another row
attached, label unchanged: a tool list that does not apply to the ask leaves a simple ask
simple and a hard one hard. Replaced, not duplicated, so no prompt is in two folds at once.
Evaluation always reads the rows as they are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from bench.routing.data import Prompt

SHARE = 1 / 3
SALT = "tools-on-plain-prompts"


def _fraction(text: str) -> float:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


def with_tool_lists(prompts: Sequence[Prompt]) -> list[Prompt]:
    """The prompts, a share of the tool-less ones carrying a tool list from the tool rows."""
    pool: list[Sequence[Any]] = []
    seen: set[str] = set()
    for p in prompts:
        names = ",".join(sorted(t["function"]["name"] for t in p.tools or ()))
        if p.tools and names not in seen:
            seen.add(names)
            pool.append(p.tools)
    if not pool:
        return list(prompts)
    out = []
    for p in prompts:
        if not p.tools and _fraction(SALT + p.id) < SHARE:
            tools = pool[int(_fraction(SALT + "pick" + p.id) * len(pool))]
            p = replace(p, body={"messages": list(p.messages), "tools": list(tools)})
        out.append(p)
    return out
