"""Markdown tables for benchmark output."""

from __future__ import annotations

from collections.abc import Sequence


def markdown(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base else "n/a"


def percent(x: float) -> str:
    """A share as "12.3%", or "-" where it is undefined (NaN: no rows to take it over)."""
    return "-" if x != x else f"{100 * x:.1f}%"
