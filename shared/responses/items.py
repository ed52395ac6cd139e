"""A stored response's input items as `GET /v1/responses/{id}/input_items` lists them.

What OpenAI's API reference and Azure's (Foundry REST "List input items for a response") say:
the items "used to generate this response" (openai-python `ResponseItemList.data`): with
`previous_response_id`, the conversation before it as well as the request's own input; each
with an `id`; a cursor page `{"object": "list", "data", "first_id", "last_id", "has_more"}`;
`limit` 1 to 100, default 20; `order` `asc` or `desc`, default `desc`; `after` (and, in Azure's
reference, `before`) an item id that marks the place in the list.
https://developers.openai.com/api/reference/resources/responses/subresources/input_items
https://learn.microsoft.com/azure/foundry/reference/rest/list-input-items
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.api import ApiError
from shared.responses.objects import new_id
from shared.responses.request import invalid

LIMIT_DEFAULT, LIMIT_MAX = 20, 100
ORDERS = ("asc", "desc")
# Query parameters the endpoint takes (`api-version` comes with the AzureOpenAI client); `include`
# asks for fields the router keeps anyway, so it changes nothing.
QUERY = frozenset({"after", "before", "limit", "order", "include", "include[]", "api-version"})
ID_PREFIXES = {"message": "msg", "function_call": "fc", "function_call_output": "fco"}


def item_ids(items: Iterable[dict[str, Any]]) -> list[str]:
    """Each item's id: its own when it has one (outputs, calls the caller sent back), else a new
    one. Kept beside the item, not in it: an input message has no `id` upstream."""
    return [
        item["id"]
        if isinstance(item.get("id"), str)
        else new_id(ID_PREFIXES.get(item["type"], "item"))
        for item in items
    ]


def listed(item: dict[str, Any], item_id: str) -> dict[str, Any]:
    """An item in the form the list returns (openai-python ResponseItem): its id and status, a
    message's text as content parts."""
    shown = {**item, "id": item_id, "status": item.get("status") or "completed"}
    content = item.get("content")
    if item["type"] == "message" and isinstance(content, str):
        if item.get("role") == "assistant":
            shown["content"] = [{"type": "output_text", "text": content, "annotations": []}]
        else:
            shown["content"] = [{"type": "input_text", "text": content}]
    return shown


def page(items: list[dict[str, Any]], query: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """One page of `items` (in the conversation's order) by the list endpoint's parameters."""
    params: dict[str, str] = {}
    for name, value in query:
        if name not in QUERY:
            raise invalid(name, f"Unknown parameter: '{name}'.", "unknown_parameter")
        params[name] = value
    limit = _limit(params.get("limit"))
    order = params.get("order", "desc")
    if order not in ORDERS:
        raise invalid("order", "Invalid value for 'order': must be 'asc' or 'desc'.")
    ordered = items if order == "asc" else items[::-1]
    ids = [item["id"] for item in ordered]
    start = _place(ids, params, "after") + 1 if "after" in params else 0
    end = _place(ids, params, "before") if "before" in params else len(ordered)
    window = ordered[start:end]
    data = window[:limit]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": len(window) > limit,
    }


def _limit(value: str | None) -> int:
    if value is None:
        return LIMIT_DEFAULT
    if not value.isdigit() or not 1 <= int(value) <= LIMIT_MAX:
        raise invalid("limit", f"Invalid value for 'limit': must be from 1 to {LIMIT_MAX}.")
    return int(value)


def _place(ids: list[str], params: dict[str, str], cursor: str) -> int:
    """Where the cursor's item is; a cursor that names no item of this list is a 404 (as an
    unknown response is), never an empty page that reads like the end."""
    try:
        return ids.index(params[cursor])
    except ValueError:
        raise ApiError(
            404,
            f"No input item with id '{params[cursor]}' in this response.",
            code="not_found",
            param=cursor,
        ) from None
