"""An exception no handler expected: the caller gets a 500 in OpenAI's error envelope (or, once a
stream has begun, an error event in it), the operator log gets its type and frames, and neither
gets its message (it may quote the prompt)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest
from opentelemetry import trace
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared import oplog
from shared.api import SSE_DONE
from shared.edge import ENDPOINTS, FUNCTIONS
from shared.gateway import Gateway, Params, guarded
from shared.settings import Tier, load_settings
from shared.streaming import relay
from shared.upstream.calls import Event, Streamed
from tests.conftest import EMULATOR_KEY, Emulator

SECRET = "SECRET PROMPT TEXT"


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def the_unhandled_error(kept: Kept, where: str) -> tuple[logging.LogRecord, str]:
    """The one unhandled_error record kept, and its line as a log handler prints it: the
    exception's type and the frame that raised it, never its message (the prompt)."""
    [record] = [r for r in kept.records if r.__dict__.get("router.event") == "unhandled_error"]
    logged = kept.format(record)
    assert SECRET not in logged
    assert record.exc_info is None
    assert f"where={where} exception=ValueError" in logged
    assert "in reads_the_prompt" in logged
    return record, logged


@pytest.fixture
def kept() -> Iterator[Kept]:
    handler = Kept()
    oplog.log.addHandler(handler)
    yield handler
    oplog.log.removeHandler(handler)


def reads_the_prompt(text: str) -> None:
    try:
        int(text)
    except ValueError as exc:
        raise ValueError(f"{SECRET}: {text}") from exc


async def failing_handler(request: Request, params: Params) -> Response:
    reads_the_prompt(SECRET)
    return Response()


def chat_request() -> Request:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/chat/completions",
        "raw_path": b"/api/v1/chat/completions",
        "query_string": b"",
        "headers": [(b"host", b"router")],
        "scheme": "http",
        "server": ("router", 80),
        "client": ("127.0.0.1", 5000),
    }
    return Request(scope)


async def test_an_unexpected_exception_is_a_500_envelope_and_a_log_without_its_text(
    kept: Kept,
) -> None:
    chat = next(e for e in FUNCTIONS if e.function == "chat_completions")
    run = guarded(trace.get_tracer("test"), chat, failing_handler)
    response = await run(chat_request())
    assert response.status_code == 500
    assert bytes(response.body).count(b"SECRET") == 0
    error = orjson.loads(response.body)["error"]
    assert error["type"] == "server_error"
    assert error["message"] == "The router failed unexpectedly."

    record, logged = the_unhandled_error(kept, "chat_completions")
    assert record.exc_text is None
    # Enough to debug: the type, where it was raised, and what caused it.
    assert "in failing_handler" in logged
    assert "builtins.ValueError" in logged
    assert logged.count("Traceback (most recent call last):") == 2
    assert record.__dict__["router.exception"] == "ValueError"


async def test_an_unexpected_exception_mid_chat_stream_ends_it_with_an_error_event(
    kept: Kept,
) -> None:
    closed: list[bool] = []

    async def events() -> AsyncIterator[Event]:
        yield Event({"choices": [{"index": 0, "delta": {"content": "Hel"}}]})
        reads_the_prompt(SECRET)

    async def aclose() -> None:
        closed.append(True)

    tier = Tier("small", "Phi-4-mini", "https://foundry.example")
    stream = Streamed(tier, {}, (), events(), aclose)
    sent = [chunk async for chunk in relay(stream, include_usage=False)]

    assert len(sent) == 2  # what arrived first is passed on, then the error, never a [DONE]
    assert SSE_DONE not in sent
    assert b"SECRET" not in b"".join(sent)
    last = orjson.loads(sent[-1].removeprefix(b"data: "))["error"]
    assert (last["type"], last["message"]) == (
        "server_error",
        "The router failed while relaying the answer.",
    )
    assert closed == [True]  # the upstream connection is given back all the same
    record, _ = the_unhandled_error(kept, "chat stream")
    assert record.__dict__["router.where"] == "chat stream"


def fails_after_the_first(events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    """The upstream's own events, until the router breaks on the second one."""

    async def relayed() -> AsyncIterator[Event]:
        yield await anext(events)
        reads_the_prompt(SECRET)

    return relayed()


@pytest.mark.parametrize(
    ("model", "path"),
    [("small", "/chat/completions"), ("large", "/openai/v1/responses")],
    ids=["translated-from-chat", "passed-through"],
)
async def test_an_unexpected_exception_mid_responses_stream_ends_it_failed(
    kept: Kept, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, model: str, path: str
) -> None:
    # The router in-process, so its upstream stream can break; the emulator answers over HTTP.
    gateway = Gateway(
        load_settings({"FOUNDRY_ENDPOINT": emulator.url, "FOUNDRY_API_KEY": EMULATOR_KEY})
    )
    real_stream = gateway.upstream.stream
    closed: list[bool] = []

    async def breaking_stream(*args: Any, **kwargs: Any) -> Streamed:
        streamed = await real_stream(*args, **kwargs)

        async def aclose() -> None:
            closed.append(True)
            await streamed.aclose()

        events = fails_after_the_first(streamed.events)
        return dataclasses.replace(streamed, events=events, aclose=aclose)

    monkeypatch.setattr(gateway.upstream, "stream", breaking_stream)
    create = next(e for e in ENDPOINTS if e.template == "v1/responses")
    app = Starlette(routes=[Route("/api/v1/responses", gateway.endpoint(create), methods=["POST"])])
    body = {"model": model, "input": "tell me a longer story please", "stream": True}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://router"
    ) as client:
        reply = await client.post("/api/v1/responses", json=body)
    await gateway.aclose()

    assert reply.status_code == 200  # the stream had begun: the failure is told in it
    assert emulator.requests()[-1]["path"].endswith(path)  # the relay this case is about
    assert b"SECRET" not in reply.content
    events = [
        orjson.loads(line.removeprefix(b"data: "))
        for line in reply.content.splitlines()
        if line.startswith(b"data: ")
    ]
    kinds = [event["type"] for event in events]
    assert kinds[0] == "response.created"
    assert kinds.count("response.failed") == 1
    assert kinds[-1] == "response.failed"  # it ends there: nothing completes after it
    assert "response.completed" not in kinds
    failed = events[-1]["response"]
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "server_error"
    assert failed["error"]["message"] == "The router failed while relaying the answer."
    assert closed == [True]  # the upstream connection is given back all the same

    record, _ = the_unhandled_error(kept, "responses stream")
    assert record.__dict__["router.exception"] == "ValueError"
