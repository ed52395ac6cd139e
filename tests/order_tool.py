"""The agent tool the guard's tests share: get_order(order_id), and a clear ask that calls it."""

from __future__ import annotations

from typing import Any

ORDER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_order",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
    },
}
ORDER_ASK = "Use the get_order tool for order 1182."
