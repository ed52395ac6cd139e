"""input_items paging and the listed form of an item: pure functions (shared/responses/items.py)."""

from __future__ import annotations

import pytest

from shared.api import ApiError
from shared.responses.items import item_ids, listed, page

ITEMS = [{"id": f"msg_{n}", "type": "message", "role": "user", "content": []} for n in range(5)]


def ids(result: dict[str, object]) -> list[str]:
    return [item["id"] for item in result["data"]]  # type: ignore[attr-defined, index]


def test_default_is_newest_first_twenty() -> None:
    many = [{**ITEMS[0], "id": f"msg_{n}"} for n in range(25)]
    result = page(many, [])
    assert ids(result)[:2] == ["msg_24", "msg_23"]
    assert (len(result["data"]), result["has_more"]) == (20, True)


def test_after_and_before_bound_the_window_in_the_chosen_order() -> None:
    assert ids(page(ITEMS, [("order", "asc"), ("after", "msg_1"), ("before", "msg_4")])) == [
        "msg_2",
        "msg_3",
    ]
    assert ids(page(ITEMS, [("after", "msg_3")])) == ["msg_2", "msg_1", "msg_0"]


def test_empty_list_has_no_ids_and_include_changes_nothing() -> None:
    assert page([], [("include", "message.input_image.image_url")]) == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }


@pytest.mark.parametrize(
    ("query", "status"), [([("limit", "x")], 400), ([("before", "msg_9")], 404)]
)
def test_bad_query_is_refused(query: list[tuple[str, str]], status: int) -> None:
    with pytest.raises(ApiError) as caught:
        page(ITEMS, query)
    assert caught.value.status == status


def test_listed_message_has_parts_and_ids_are_kept_or_made() -> None:
    user = {"type": "message", "role": "user", "content": "hi"}
    assert listed(user, "msg_1")["content"] == [{"type": "input_text", "text": "hi"}]
    assert listed({**user, "role": "assistant"}, "msg_2")["content"][0]["type"] == "output_text"
    made, kept = item_ids([user, {"type": "function_call", "id": "fc_1"}])
    assert made.startswith("msg_")
    assert kept == "fc_1"
