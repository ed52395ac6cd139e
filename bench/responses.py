"""The Responses path's cost beside chat completions, in one run.

1. Translation alone, in process: a Responses request to a chat body, the chat answer back to
   a Response, and a streamed answer's chunks to events (microseconds per request).
2. Over HTTP with wrk, the emulator answering instantly (speed 0), in interleaved rounds: each
   router path against the upstream call it makes, called directly -
   chat completions (router -> emulator chat), Responses translated for the chat-only small
   tier (router -> emulator chat), Responses passed through to the large tier (router ->
   emulator /openai/v1/responses). Added latency p50/p99 and the router's CPU per request.
   `store: false`, so that the store is not in these numbers.
3. The store round trip: the same translated request with `store: true` against a router whose
   state is in Azurite, beside `store: false` (a write per answer; a continued turn adds a read).
4. A long `previous_response_id` chain in Azurite, three ways to lay it out side by side (issue
   13's follow-up): the whole conversation in every response's blob (what the store did first),
   each response's own items with the chain rebuilt by walking `previous_response_id` one read
   per hop, and own items plus the ancestors' ids so the rebuild reads them all at once. Bytes
   stored over the chain, and the rebuild and write at its end.

Run: .venv/bin/python -m bench.responses [--seconds 4] [--rounds 3] [--chain-turns 50]
     .venv/bin/python -m bench.responses --only-chain   # part 4 alone (no wrk needed)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.common import procs, servers, wrk
from bench.common.layout import Layout, layout
from bench.common.stats import median
from bench.common.table import markdown, ratio

HI = "hi"
TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
]
# A typical agent turn: instructions, a few messages and a tool, as the Agents SDK sends it.
TURN = {
    "model": "small",
    "instructions": "You are a helpful assistant. Answer briefly.",
    "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "Weather in Oslo?"}]},
        {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "rain"},
        {"role": "user", "content": "And tomorrow?"},
    ],
    "tools": TOOLS,
    "store": False,
}


def translation(iterations: int) -> str:
    """Microseconds per request of each translation step, pure Python, no I/O."""
    from shared.responses.events import ChatToResponses
    from shared.responses.objects import response_from_chat
    from shared.responses.request import parse_responses_request
    from shared.responses.to_chat import to_chat
    from shared.settings import Tier

    tier = Tier("small", "Phi-4-mini", "http://x")
    raw = orjson.dumps(TURN)
    completion: dict[str, Any] = {
        "created": 1,
        "choices": [{"finish_reason": "stop", "message": {"content": "Rain again, 12 C."}}],
        "usage": {"prompt_tokens": 60, "completion_tokens": 8, "total_tokens": 68},
    }
    pieces = ["Rain ", "again, ", "12 ", "C."]
    chunks: list[dict[str, Any]] = [
        {"choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces
    ]
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    chunks.append({"choices": [], "usage": completion["usage"]})

    def request_side() -> None:
        request = parse_responses_request(raw)
        orjson.dumps(to_chat(request, request.items, tier).body)

    request = parse_responses_request(raw)

    def answer_side() -> None:
        orjson.dumps(response_from_chat(request, "resp_1", completion, "Phi-4-mini"))

    def stream_side() -> None:
        stream = ChatToResponses(request, "resp_1", "Phi-4-mini", 1)
        stream.start()
        for chunk in chunks:
            stream.chunk(chunk)
        stream.finish()
        stream.final_event()

    rows = []
    for name, step in (
        ("request -> chat body (parse, check, translate, encode)", request_side),
        ("chat completion -> Response (build, encode)", answer_side),
        (f"stream: {len(chunks)} chunks -> {len(pieces) + 9} events", stream_side),
    ):
        for _ in range(200):  # warm up
            step()
        times = []
        for _ in range(iterations):
            started = time.perf_counter_ns()
            step()
            times.append((time.perf_counter_ns() - started) / 1000)
        times.sort()
        p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99)]
        rows.append([name, f"{p50:.1f}", f"{p99:.1f}", f"{statistics.fmean(times):.1f}"])
    return f"### translation alone ({iterations} runs each)\n\n" + markdown(
        ["step", "p50 us", "p99 us", "mean us"], rows
    )


def _paths(emulator: procs.Proc, router: procs.Proc) -> dict[str, tuple[procs.Proc, str, bytes]]:
    hi_chat = [{"role": "user", "content": HI}]
    return {
        "chat: direct": (
            emulator,
            emulator.url + "/openai/v1/chat/completions",
            orjson.dumps({"model": "Phi-4-mini", "messages": hi_chat}),
        ),
        "chat: router": (
            router,
            router.url + "/api/v1/chat/completions",
            orjson.dumps({"model": "small", "messages": hi_chat}),
        ),
        "responses translated: router": (
            router,
            router.url + "/api/v1/responses",
            orjson.dumps({"model": "small", "input": HI, "store": False}),
        ),
        "responses: direct": (
            emulator,
            emulator.url + "/openai/v1/responses",
            orjson.dumps({"model": "gpt-5", "input": HI, "store": False}),
        ),
        "responses passed through: router": (
            router,
            router.url + "/api/v1/responses",
            orjson.dumps({"model": "large", "input": HI, "store": False}),
        ),
    }


# Each router path beside the upstream call it makes.
PAIRS = (
    ("chat completions", "chat: router", "chat: direct"),
    ("Responses, translated (small)", "responses translated: router", "chat: direct"),
    ("Responses, passed through (large)", "responses passed through: router", "responses: direct"),
)


def measure(
    paths: dict[str, tuple[procs.Proc, str, bytes]],
    args: argparse.Namespace,
    place: Layout,
    connections: tuple[int, ...],
) -> dict[tuple[str, int], list[tuple[wrk.LoadResult, float]]]:
    headers = {"api-key": servers.EMULATOR_KEY}
    for _, url, body in paths.values():
        check = httpx.post(url, content=body, headers=headers, timeout=10)
        assert check.status_code == 200, (url, check.text)
        wrk.run(url, body, connections=8, seconds=1, headers=headers, cpu=place.load)
    samples: dict[tuple[str, int], list[tuple[wrk.LoadResult, float]]] = defaultdict(list)
    for _ in range(args.rounds):
        for c in connections:
            for name, (proc, url, body) in paths.items():
                before = proc.cpu_s()
                result = wrk.run(
                    url, body, connections=c, seconds=args.seconds, headers=headers, cpu=place.load
                )
                cpu_ms = (proc.cpu_s() - before) * 1000 / max(1, result.requests)
                samples[name, c].append((result, cpu_ms))
    return samples


def over_http(args: argparse.Namespace, place: Layout, logs: Path) -> str:
    emulator = servers.start_emulator(logs, place.load, speed=0)
    router = servers.start_router(emulator, logs, place.gateway)
    try:
        samples = measure(_paths(emulator, router), args, place, (1, 8))
    finally:
        router.stop()
        emulator.stop()
    rows = []
    for c in (1, 8):
        for label, path, base in PAIRS:
            runs = [r for r, _ in samples[path, c]]
            direct = [r for r, _ in samples[base, c]]
            p50, b50 = median([r.p50_ms for r in runs]), median([r.p50_ms for r in direct])
            p99, b99 = median([r.p99_ms for r in runs]), median([r.p99_ms for r in direct])
            rps = median([r.rps for r in runs])
            cpu = median([m for _, m in samples[path, c]])
            errors = sum(r.errors for r in runs + direct)
            rows.append(
                [
                    c,
                    label,
                    f"{b50:.2f}",
                    f"{p50:.2f}",
                    f"**+{p50 - b50:.2f}**",
                    f"+{p99 - b99:.2f}",
                    f"{rps:,.0f}",
                    f"{cpu:.2f}",
                    errors,
                ]
            )
    chat_cpu = median([m for _, m in samples["chat: router", 1]])
    notes = []
    for label, path, _ in PAIRS[1:]:
        cpu = median([m for _, m in samples[path, 1]])
        notes.append(f"- {label}: router CPU per request {ratio(cpu, chat_cpu)} of chat's (c=1)")
    header = [
        "c",
        "path",
        "upstream direct p50 ms",
        "router p50 ms",
        "added p50",
        "added p99",
        "router req/s",
        "router CPU ms/req",
        "errors",
    ]
    return (
        "### over HTTP, emulator speed 0\n\n" + markdown(header, rows) + "\n\n" + "\n".join(notes)
    )


def store_round_trip(args: argparse.Namespace, place: Layout, logs: Path) -> str:
    from devtools import azurite

    storage = azurite.start()
    emulator = servers.start_emulator(logs, place.load, speed=0)
    router = servers.start_router(
        emulator,
        logs,
        place.gateway,
        ROUTER_RESPONSES_CONNECTION_STRING=storage.connection_string,
    )
    try:
        url = router.url + "/api/v1/responses"
        first = httpx.post(url, json={"model": "small", "input": HI}, timeout=10).json()
        paths = {
            "store: false": (
                router,
                url,
                orjson.dumps({"model": "small", "input": HI, "store": False}),
            ),
            "store: true (a write)": (router, url, orjson.dumps({"model": "small", "input": HI})),
            "continued, store: false (a read)": (
                router,
                url,
                orjson.dumps(
                    {
                        "model": "small",
                        "input": HI,
                        "previous_response_id": first["id"],
                        "store": False,
                    }
                ),
            ),
        }
        samples = measure(paths, args, place, (1,))
    finally:
        router.stop()
        emulator.stop()
        storage.stop()
    base = median([r.p50_ms for r, _ in samples["store: false", 1]])
    rows = []
    for name in paths:
        runs = [r for r, _ in samples[name, 1]]
        p50 = median([r.p50_ms for r in runs])
        cpu = median([m for _, m in samples[name, 1]])
        rows.append(
            [name, f"{p50:.2f}", f"+{p50 - base:.2f}", f"{cpu:.2f}", sum(r.errors for r in runs)]
        )
    return "### store round trip, Azurite on loopback, c=1\n\n" + markdown(
        [
            "request (translated, small)",
            "router p50 ms",
            "vs store: false",
            "router CPU ms/req",
            "errors",
        ],
        rows,
    )


def _turn_items(turn: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """One agent turn of typical size: a 300-character ask and a 1,500-character answer."""
    ask = {"type": "message", "role": "user", "content": f"turn {turn}: " + "q" * 300}
    answer = {
        "id": f"msg_{turn:048x}",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "a" * 1500, "annotations": []}],
    }
    return ask, answer


def _response(turn: int, answer: dict[str, Any], previous: str | None) -> dict[str, Any]:
    """A Response object as the store keeps it (its fields around the output, ~0.7 kB)."""
    return {
        "id": f"resp_{turn:048x}",
        "object": "response",
        "created_at": 1,
        "status": "completed",
        "model": "Phi-4-mini",
        "output": [answer],
        "previous_response_id": previous,
        "instructions": "You are a helpful assistant. Answer briefly.",
        "usage": {"input_tokens": 100 * turn, "output_tokens": 400, "total_tokens": 0},
        "tools": TOOLS,
        "metadata": {},
        "text": {"format": {"type": "text"}},
    }


CHAIN_LAYOUTS = (
    "whole conversation per response (the first store)",
    "own items, walk previous_response_id",
    "own items + ancestor ids, parallel reads",
    "store.py, the log from the first turn (ROUTER_RESPONSES_INLINE_BYTES=0)",
    "store.py as built (whole up to 64 kB, then the log)",
)
BUILT = {CHAIN_LAYOUTS[3]: 0, CHAIN_LAYOUTS[4]: 64 * 1024}  # inline_bytes


async def _chain_layouts(connection: str, turns: int, reads: int) -> str:
    """The first three layouts written here with the storage SDK as the store would; the last
    two are shared/responses/store.py's BlobStore itself (its put and get), with and without
    the inline start."""
    import asyncio

    from azure.storage.blob.aio import BlobServiceClient

    from shared.responses.store import NO_HISTORY, BlobStore, StoredResponse, encode_items

    service = BlobServiceClient.from_connection_string(connection)
    containers = {}
    for index, name in enumerate(CHAIN_LAYOUTS):
        containers[name] = service.get_container_client(f"chain-layout-{index}")
        await containers[name].create_container()
    built = {
        name: BlobStore(
            BlobServiceClient.from_connection_string(connection),
            f"chain-layout-{CHAIN_LAYOUTS.index(name)}",
            3600.0,
            inline_bytes=inline,
        )
        for name, inline in BUILT.items()
    }

    async def read(name: str, blob: str) -> dict[str, Any]:
        downloaded = await containers[name].download_blob(blob)
        data: dict[str, Any] = orjson.loads(await downloaded.readall())
        return data

    async def rebuild(name: str, last: str) -> list[dict[str, Any]]:
        """The conversation so far, as the next turn needs it, from the last response's id."""
        if name in built:
            kept = await built[name].get(last)
            assert kept is not None
            return kept.context
        record = await read(name, last)
        if name == CHAIN_LAYOUTS[0]:
            return list(record["context"])
        if name == CHAIN_LAYOUTS[1]:
            records = [record]
            while records[-1]["response"]["previous_response_id"]:
                records.append(await read(name, records[-1]["response"]["previous_response_id"]))
            records.reverse()
        else:
            records = [*await asyncio.gather(*(read(name, a) for a in record["chain"])), record]
        return [i for r in records for i in (*r["input"], *r["response"]["output"])]

    write_ms: dict[str, list[float]] = defaultdict(list)
    context: list[dict[str, Any]] = []
    ids: list[str] = []
    parents = dict.fromkeys(built, NO_HISTORY)
    for turn in range(turns):
        ask, answer = _turn_items(turn)
        response = _response(turn, answer, ids[-1] if ids else None)
        context += [ask, answer]
        blobs = {
            CHAIN_LAYOUTS[0]: {"response": response, "context": context},
            CHAIN_LAYOUTS[1]: {"response": response, "input": [ask]},
            CHAIN_LAYOUTS[2]: {"response": response, "input": [ask], "chain": list(ids)},
        }
        for name, blob in blobs.items():
            raw = orjson.dumps(blob)
            started = time.perf_counter()
            await containers[name].upload_blob(response["id"], raw, overwrite=True)
            if turn >= turns - 5:  # the writes at the chain's end
                write_ms[name].append((time.perf_counter() - started) * 1000)
        for name, store in built.items():
            parent = parents[name]
            item_ids = [*parent.ids, f"msg_in{turn:044x}", answer["id"]]
            record = StoredResponse(
                response,
                list(context),
                "Phi-4-mini",
                time.time() + 3600,
                item_ids,
                parent.size + len(encode_items([ask, answer], item_ids[-2:])),
            )
            started = time.perf_counter()
            await store.put(response["id"], record, parent)
            if turn >= turns - 5:
                write_ms[name].append((time.perf_counter() - started) * 1000)
            got = await store.get(response["id"])
            assert got is not None
            parents[name] = got
        ids.append(response["id"])
    rebuild_ms: dict[str, list[float]] = defaultdict(list)
    for name in CHAIN_LAYOUTS:
        assert await rebuild(name, ids[-1]) == context, name
    for _ in range(reads):  # interleaved, so that the machine's noise falls on all of them
        for name in CHAIN_LAYOUTS:
            started = time.perf_counter()
            await rebuild(name, ids[-1])
            rebuild_ms[name].append((time.perf_counter() - started) * 1000)
    stored = {}
    for name, container in containers.items():
        stored[name] = sum([blob.size async for blob in container.list_blobs()])
        await container.delete_container()
    await service.close()
    for store in built.values():
        await store.aclose()
    conversation = len(orjson.dumps(context))
    rows = [
        [
            name,
            f"{stored[name] / 1024:,.0f}",
            f"{stored[name] / conversation:.1f}x",
            f"{median(rebuild_ms[name]):.2f}",
            f"{sorted(rebuild_ms[name])[int(len(rebuild_ms[name]) * 0.9)]:.2f}",
            f"{median(write_ms[name]):.2f}",
        ]
        for name in CHAIN_LAYOUTS
    ]
    return (
        f"### a {turns}-turn previous_response_id chain in Azurite (loopback), {reads} rebuilds "
        f"each, interleaved\n\nThe conversation itself: {conversation / 1024:,.0f} kB "
        f"({2 * turns} items; a turn is a 300-character ask and a 1,500-character answer).\n\n"
        + markdown(
            [
                "layout",
                "stored kB (every blob)",
                "x the conversation",
                "rebuild at the end p50 ms",
                "p90 ms",
                "write at the end p50 ms",
            ],
            rows,
        )
    )


def chain_layouts(turns: int, reads: int) -> str:
    import asyncio

    from devtools import azurite

    storage = azurite.start()
    try:
        return asyncio.run(_chain_layouts(storage.connection_string, turns, reads))
    finally:
        storage.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument("--no-store", action="store_true", help="skip the Azurite parts")
    parser.add_argument("--chain-turns", type=int, default=50)
    parser.add_argument("--chain-reads", type=int, default=30)
    parser.add_argument("--only-chain", action="store_true", help="part 4 alone")
    args = parser.parse_args()
    if args.only_chain:
        print(chain_layouts(args.chain_turns, args.chain_reads), flush=True)
        return
    print(translation(args.iterations) + "\n", flush=True)
    if not wrk.available():
        sys.exit("wrk is needed for the HTTP parts: apt-get install -y wrk")
    place = layout(not args.no_pin)
    print(
        f"# Responses vs chat completions ({place.describe()}; median of {args.rounds} "
        f"interleaved rounds of {args.seconds:g} s)\n",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-responses-") as tmp:
        print(over_http(args, place, Path(tmp)) + "\n", flush=True)
        if not args.no_store:
            print(store_round_trip(args, place, Path(tmp)) + "\n", flush=True)
    if not args.no_store:
        print(chain_layouts(args.chain_turns, args.chain_reads), flush=True)


if __name__ == "__main__":
    main()
