"""What the guard on a small tier's agent turn costs per request, in-process (no HTTP).

The guard reads what the request offered (shared/guard.py: the tool list's parameter schemas,
compiled once per tool list and cached) and checks the answer's tool calls against them. Timed
per request, best of 5 x N, beside what the router does with every answer anyway (decoding its
JSON body) as the baseline of the same run; with the agent loop's six tools (bench/agent_loop.py)
and with 50 tools, each once cached and once on a tool list never seen (compiling its schemas).
For comparison, the same check with the pure-Python `jsonschema` package, where installed.

Run: .venv/bin/python -m bench.guard_cost
"""

from __future__ import annotations

import copy
import itertools
import timeit
from collections.abc import Callable
from typing import Any

import orjson

from bench.agent_loop import TOOLS
from bench.common.table import markdown, ratio
from shared import guard

ROUNDS = 5


def answer(arguments: dict[str, Any], name: str = "get_order") -> dict[str, Any]:
    call = {"name": name, "arguments": orjson.dumps(arguments).decode()}
    message = {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "function": call}]}
    return {
        "id": "chatcmpl-x",
        "object": "chat.completion",
        "model": "gpt-5-nano",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 900, "completion_tokens": 20, "total_tokens": 920},
    }


def many_tools(n: int) -> list[dict[str, Any]]:
    """`n` tools shaped like real ones: a few typed properties, an enum, required fields."""
    tools = []
    for i in range(n):
        parameters = {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "limit": {"type": "integer", "minimum": 1},
                "mode": {"type": "string", "enum": ["fast", "full"]},
            },
            "required": ["id"],
        }
        tools.append(
            {"type": "function", "function": {"name": f"tool_{i}", "parameters": parameters}}
        )
    return tools


def best_us(fn: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=ROUNDS)) / number * 1e6


def main() -> None:
    body = {"messages": [{"role": "user", "content": "x"}], "tools": TOOLS}
    reply = answer({"order_id": "1182"})
    raw = orjson.dumps(reply)
    fifty = many_tools(50)
    fifty_body = {"messages": body["messages"], "tools": fifty}
    fifty_reply = answer({"id": "a", "limit": 3, "mode": "fast"}, name="tool_49")
    fresh = itertools.count()

    def guarded(request: dict[str, Any], answered: dict[str, Any]) -> object:
        return guard.check_chat(guard.chat_expectations(request), answered)

    def never_seen(tools: list[dict[str, Any]], answered: dict[str, Any]) -> Callable[[], object]:
        """A tool list the cache has not seen: the first call of a new agent."""

        def run() -> object:
            renamed = copy.deepcopy(tools)
            renamed[0]["function"]["description"] = f"v{next(fresh)}"
            return guarded({"tools": renamed}, answered)

        return run

    assert guarded(body, reply) is None
    assert guarded(fifty_body, fifty_reply) is None
    rows: list[tuple[str, float]] = [
        (
            "decode the answer (orjson.loads), the baseline",
            best_us(lambda: orjson.loads(raw), 20000),
        ),
        ("guard, 6 tools, cached", best_us(lambda: guarded(body, reply), 20000)),
        ("guard, 50 tools, cached", best_us(lambda: guarded(fifty_body, fifty_reply), 5000)),
        ("guard, 6 tools, a tool list never seen", best_us(never_seen(TOOLS, reply), 500)),
        ("guard, 50 tools, a tool list never seen", best_us(never_seen(fifty, fifty_reply), 100)),
    ]
    rows += reference_rows(reply)
    baseline = rows[0][1]
    table = [[name, f"{us:.1f}", ratio(us, baseline)] for name, us in rows]
    print(
        "### The guard's cost per request (best of "
        f"{ROUNDS} runs; microseconds of one core)\n\n"
        + markdown(["step", "us per request", "vs decoding the answer"], table)
    )


def reference_rows(reply: dict[str, Any]) -> list[tuple[str, float]]:
    """The same argument check with `jsonschema` (pure Python), compiled once, where installed."""
    try:
        import jsonschema  # type: ignore[import-untyped]  # no stubs; for comparison only
    except ImportError:
        return []
    schema = TOOLS[0]["function"]["parameters"]
    validator = jsonschema.validators.validator_for(schema)(schema)
    call = reply["choices"][0]["message"]["tool_calls"][0]["function"]

    def check() -> bool:
        return bool(validator.is_valid(orjson.loads(call["arguments"])))

    return [
        ("for comparison: jsonschema (pure Python), one call's arguments", best_us(check, 5000))
    ]


if __name__ == "__main__":
    main()
