"""bench/parse_ab.py: every body it times is one the parsers take, and the table has a row per
body with each tree's figure and its ratio to the first tree."""

from __future__ import annotations

import re
from pathlib import Path

from bench.parse_ab import bodies, table

ROOT = Path(__file__).resolve().parents[2]


def test_every_body_is_timed_in_every_tree() -> None:
    # A body a parser refuses would end its process (the run is checked), not time an error.
    text = table([ROOT, ROOT], ["a", "b"], rounds=1, calls=20)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "p50" not in line]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows] == list(bodies())
    figure = r"\d+\.\d \(\d+\.\d\dx\)"
    assert all(re.fullmatch(rf"\| .+ \| {figure} \| {figure} \|", row) for row in rows)
    assert all("(1.00x)" in row.split(" | ")[1] for row in rows)  # the first tree is the base
