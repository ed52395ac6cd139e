"""How the number of offered tools moves the score of an ask that one of them performs.

Agent frameworks send every tool on every call, and an agent built on MCP servers may offer
dozens. The scorer reads the tool count as a signal (planning over many tools is complex work),
so a clear one-call ask beside many tools scores higher than the same ask beside a few. Each
row is one ask, its own function first in the list and unrelated functions after it; each
column the same request with that many tools, scored by `score_request` and decided with the
balanced bands with tools: s (small), l (large) or a (abstain: the classifier decides).

Run: .venv/bin/python -m bench.tool_count
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.common.table import markdown
from shared.routing.presets import DEFAULT_PRESET, thresholds_for
from shared.routing.scorer import score_request

COUNTS = (1, 3, 6, 10, 15, 20, 30, 40)
# (ask, the function that performs it)
ASKS = (
    ("What's the weather in Paris right now?", "get_weather"),
    ("Send an email to Bob saying I'll be late", "send_email"),
    ("Track my package 1Z999AA10123456784", "track_package"),
    ("Set a reminder to call mom at 6 pm", "set_reminder"),
)
# Functions unrelated to the asks, offered after the ask's own one
_OTHER_NAMES = """
search_flights book_hotel create_event list_files get_stock_price translate_text get_news
play_music order_food convert_currency find_restaurant get_directions check_balance pay_bill
get_calendar add_contact delete_file read_file write_file search_web get_time call_taxi
rate_movie get_recipe book_doctor cancel_order update_profile get_traffic find_parking
reserve_table get_exchange_rate list_playlists open_ticket close_ticket get_invoice
refund_payment share_document list_orders update_order create_invoice archive_email
"""
OTHERS = tuple(_OTHER_NAMES.split())


def tool(name: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": name.replace("_", " ").capitalize() + ".",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
            },
        },
    }


def padded(own: Sequence[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """The `own` tools first, then unrelated functions (OTHERS) up to `count` tools."""
    names = {t["function"]["name"] for t in own}
    others = [name for name in OTHERS if name not in names]
    if count - len(own) > len(others):
        raise ValueError(f"at most {len(own) + len(others)} tools")
    return [*own, *(tool(name) for name in others[: count - len(own)])]


def tool_list(own: str, count: int) -> list[dict[str, Any]]:
    """`own` first, then unrelated functions up to `count` tools."""
    return padded([tool(own)], count)


def cell(ask: str, own: str, count: int) -> tuple[float, str]:
    """The ask's p_large beside `count` tools and the balanced decision's initial."""
    score = score_request([{"role": "user", "content": ask}], tool_list(own, count))
    decision = thresholds_for(DEFAULT_PRESET, tools=True).decide(score.p_large, score.abstain)
    return score.p_large, decision[0]


def rows(counts: Sequence[int] = COUNTS) -> list[list[object]]:
    """One row per ask: the ask, then "p decision" per tool count."""
    out: list[list[object]] = []
    for ask, own in ASKS:
        cells = (cell(ask, own, n) for n in counts)
        out.append([ask, *(f"{p:.2f} {decision}" for p, decision in cells)])
    return out


def main() -> None:
    header = ["ask", *(f"{n} tool{'s' if n > 1 else ''}" for n in COUNTS)]
    print(markdown(header, rows()))


if __name__ == "__main__":
    main()
