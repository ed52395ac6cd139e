from __future__ import annotations

import pytest

from bench import tool_count


def test_the_tool_list_holds_the_asks_function_first_and_no_name_twice() -> None:
    tools = tool_count.tool_list("get_weather", max(tool_count.COUNTS))
    names = [t["function"]["name"] for t in tools]
    assert len(names) == max(tool_count.COUNTS)
    assert names[0] == "get_weather"
    assert len(set(names)) == len(names)


def test_more_tools_than_it_has_is_refused() -> None:
    with pytest.raises(ValueError, match="at most"):
        tool_count.tool_list("get_weather", len(tool_count.OTHERS) + 5)


def test_every_ask_beside_only_its_own_function_is_decided_small() -> None:
    rows = tool_count.rows(counts=(1,))
    assert [row[0] for row in rows] == [ask for ask, _ in tool_count.ASKS]
    for row in rows:
        p, decision = str(row[1]).split()
        assert decision == "s", row
        assert float(p) < 0.05, row
