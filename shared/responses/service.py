"""POST /v1/responses end to end, through the same decision and upstream seam as chat.

The router owns the conversation: `previous_response_id` is expanded from the store into the
full list of items, so any tier can take any turn; upstream is asked with `store: false`.
The request is passed through (the seam's RESPONSES api) when the decided tier and its
fallbacks speak Responses, else translated to chat completions and back (every tier speaks
chat). Built-in tools (web_search, mcp, ...) and Responses-only fields make a tier that can't
honour them ineligible.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shared import oplog
from shared.api import RELAY_FAILED, ApiError, deployment_stream_failed, param_path
from shared.responses.bounded_store import BoundedStore, StoreUnavailable
from shared.responses.events import ChatToResponses, sse
from shared.responses.items import item_ids, listed, page
from shared.responses.objects import new_id, now, response_from_chat
from shared.responses.request import (
    FUNCTION,
    PASS_THROUGH_ONLY,
    REFERENCE,
    ResponsesRequest,
    invalid,
)
from shared.responses.store import NO_HISTORY, ResponseStore, StoredResponse, encode_items
from shared.responses.to_chat import (
    chat_messages,
    chat_tools,
    check_calls,
    response_format,
    to_chat,
)
from shared.routing.eligibility import Needs, chat_needs, taker
from shared.routing.policy import Decision
from shared.services.decide import Decider, RouteRequest
from shared.services.guess import close_stream
from shared.services.outcome import Outcome, carrying
from shared.settings import Settings, Tier
from shared.upstream.apis import CHAT, RESPONSES, UpstreamApi
from shared.upstream.calls import Answered, Streamed, TransportError, Upstream
from shared.upstream.resilience import fallback_chain
from shared.upstream.usage import FINAL_EVENTS

# Said on a JSON answer whose response could not be stored (the object says `store: false`).
NOT_STORED_HEADER = "x-router-stored"
# The least time a paid answer's write gets, however little of the request's budget is left.
MIN_WRITE_S = 1.0
# When storage failed, how long a caller should wait before trying again (seconds).
STORE_RETRY_AFTER_S = 5
T = TypeVar("T")


@dataclass
class _Turn:
    request: ResponsesRequest
    history: StoredResponse  # the response it continues (NO_HISTORY: none)
    items: list[dict[str, Any]]  # the whole conversation to send: history, then this input
    ids: list[str]  # each item's id (input_items lists them; not sent upstream)
    size: int  # the conversation's bytes as the store encodes them
    deadline: float  # the request's budget ends here (time.monotonic)
    response_id: str = field(default_factory=lambda: new_id("resp"))


@dataclass(frozen=True, slots=True)
class _Sent:
    """An upstream call made for a turn, before anything is relayed or stored."""

    api: UpstreamApi  # passed through (RESPONSES) or translated (CHAT)
    changes: tuple[str, ...]  # what the translation changed
    call: Answered | Streamed


async def _close_unused(sent: _Sent) -> None:
    await close_stream(sent.call)


def responses_needs(request: ResponsesRequest) -> tuple[str, ...]:
    """What a tier must have for this request beyond chat: built-in tools, Responses fields."""
    return (*request.builtin_tools, *sorted(PASS_THROUGH_ONLY & set(request.body)))


def runs_responses_needs(tier: Tier, wanted: tuple[str, ...], request: ResponsesRequest) -> bool:
    """Whether `tier` can take what `responses_needs` lists (the Responses API, the tools)."""
    if not wanted:
        return True
    if not tier.speaks_responses:
        return False
    return set(request.builtin_tools) <= tier.capabilities


def no_tier_for(request: ResponsesRequest, wanted: tuple[str, ...]) -> ApiError:
    tools = request.builtin_tools
    if tools:
        return ApiError(
            400,
            f"No model behind this router can run the tool {tools[0]!r} "
            f"(tools asked for: {', '.join(tools)}). Remove it or configure a tier that has it.",
            code="unsupported_tool",
            param="tools",
        )
    return invalid(
        wanted[0], f"'{wanted[0]}' needs a model with the Responses API; none is set up."
    )


def route_request(
    request: ResponsesRequest, items: list[dict[str, Any]], session: str | None
) -> RouteRequest:
    """Decided as chat completions are: on the request's chat form (its messages, function tools
    and response format: what the policy and eligibility read), whatever tier then answers."""
    chat = chat_form(request, items)
    # Any kind of tool makes it a tool request: the chat form's functions, else built-in ones.
    tools = chat.get("tools") or request.body.get("tools") or None
    return RouteRequest(
        request.model, chat["messages"], tools, session or request.user, chat_needs(chat)
    )


def chat_form(request: ResponsesRequest, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The chat-completions body the routing decision reads."""
    body: dict[str, Any] = {
        "messages": chat_messages(items, request.body.get("instructions"), strict=False)
    }
    functions = [t for t in request.body.get("tools") or [] if t.get("type") == FUNCTION]
    if functions:
        body["tools"] = chat_tools(functions)
    try:
        fmt = response_format(request.body.get("text") or {})
    except ApiError:
        fmt = None  # refused where it is sent, not here
    if fmt is not None:
        body["response_format"] = fmt
    return body


def passthrough_body(turn: _Turn) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The request for tiers that speak Responses: the conversation inline and nothing stored
    upstream (the router stores it); the seam fits model and parameters to each tier."""
    body = dict(turn.request.body)
    body.pop("previous_response_id", None)
    body["store"] = False
    # Reasoning items name server-side state we never asked upstream to keep; only their
    # encrypted form can be sent back (include: reasoning.encrypted_content).
    items = [i for i in turn.items if i["type"] != "reasoning" or i.get("encrypted_content")]
    body["input"] = items
    if len(items) != len(turn.items):
        return body, ("dropped reasoning items without encrypted_content",)
    return body, ()


class ResponsesService:
    """A parsed Responses request in, an `Outcome` out (create); stored responses read and
    deleted (retrieve, input_items, delete)."""

    def __init__(
        self, settings: Settings, store: ResponseStore, decider: Decider, upstream: Upstream
    ) -> None:
        self.settings = settings
        timeout_s = settings.responses.timeout_s
        self.store = BoundedStore(store, timeout_s, getattr(store, "failures", ()))
        self.decider = decider
        self.upstream = upstream

    # ---- create --------------------------------------------------------------------------

    async def create(
        self, request: ResponsesRequest, session: str | None, deadline: float
    ) -> Outcome:
        turn = await self._turn(request, deadline)
        route = route_request(request, turn.items, session)

        async def send(decision: Decision, *, one_shot: bool = False) -> _Sent:
            return await self._send(turn, decision, route.needs, deadline, one_shot)

        decision, sent = await self.decider.decide_and_send(route, send, _close_unused)
        with carrying(decision):
            return await self._finish(turn, decision, sent)

    async def _send(
        self, turn: _Turn, decision: Decision, chat_needed: Needs, deadline: float, one_shot: bool
    ) -> _Sent:
        """The upstream call for `decision`: nothing is stored or relayed yet (`_finish`)."""
        first = self._eligible_first(turn, decision)
        eligible = self._fallback_filter(turn, chat_needed)
        api, body, changes = self._plan(turn, first)
        call = self.upstream.stream if turn.request.stream else self.upstream.complete
        sent = await call(first, body, deadline, api, one_shot=one_shot, eligible=eligible)
        return _Sent(api, changes, sent)

    async def _finish(self, turn: _Turn, decision: Decision, sent: _Sent) -> Outcome:
        """The answer relayed (a stream) or reframed and stored (JSON)."""
        request, api, changes = turn.request, sent.api, sent.changes
        if isinstance(sent.call, Streamed):
            streamed = sent.call
            events = (
                self._relay_responses(turn, streamed)
                if api is RESPONSES
                else self._relay_chat(turn, streamed)
            )
            return Outcome(decision, streamed.tier, (*changes, *streamed.changes), events=events)
        answered = sent.call
        tier = answered.tier
        if api is RESPONSES:
            response = self._reframed(turn, answered.body, tier)
        else:
            response = response_from_chat(request, turn.response_id, answered.body, tier.deployment)
        stored = await self._keep(turn, response, tier)
        headers = {} if stored else {NOT_STORED_HEADER: "false"}
        return Outcome(
            decision,
            tier,
            (*changes, *answered.changes),
            body=response,
            cost=answered.cost,
            headers=headers,
        )

    async def decide(
        self, request: ResponsesRequest, session: str | None, deadline: float
    ) -> tuple[Decision, Tier]:
        """The routing decision alone (POST /api/route) and the tier that would answer it:
        the conversation is read as `create` reads it, nothing is sent or stored."""
        turn = await self._turn(request, deadline)
        decision = await self.decider.decide(route_request(request, turn.items, session))
        return decision, self._eligible_first(turn, decision)

    async def _turn(self, request: ResponsesRequest, deadline: float) -> _Turn:
        """The whole conversation of a request: the stored one it continues, then its input
        with each reference resolved; checked before any model is asked, so storage that
        fails here is a 503 that cost nothing, not a paid answer lost."""
        try:
            async with asyncio.timeout(self.store.timeout_s):
                history = await self._history(request)
                given, given_ids = await self._resolved(request.items, history)
        except (StoreUnavailable, TimeoutError):
            raise store_unavailable() from None
        size = history.size + len(encode_items(given, given_ids))
        if size > self.settings.responses.max_chain_bytes:
            raise conversation_too_large(size, self.settings.responses.max_chain_bytes)
        # Outputs must answer calls made before them, this turn's or the stored ones'.
        check_calls(history.context + given, offset=len(history.context))
        return _Turn(
            request, history, history.context + given, history.ids + given_ids, size, deadline
        )

    def _plan(
        self, turn: _Turn, first: Tier
    ) -> tuple[UpstreamApi, dict[str, Any], tuple[str, ...]]:
        """Pass through when the first tier and every fallback after it speak Responses (or the
        request needs them to); otherwise chat completions, which every tier speaks."""
        chain = fallback_chain(self.settings, first)
        if responses_needs(turn.request) or all(t.speaks_responses for t in chain):
            body, changes = passthrough_body(turn)
            return RESPONSES, body, changes
        chat = to_chat(turn.request, turn.items, first)
        return CHAT, chat.body, chat.changes

    async def _history(self, request: ResponsesRequest) -> StoredResponse:
        """The conversation `previous_response_id` continues (none: an empty one)."""
        previous = request.previous_response_id
        if previous is None:
            return NO_HISTORY
        record = await self.store.get(previous)
        if record is None:
            raise invalid(
                "previous_response_id",
                f"Previous response with id '{previous}' not found.",
                "previous_response_not_found",
            )
        return record

    async def _resolved(
        self, items: list[dict[str, Any]], history: StoredResponse
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """The caller's input with each item_reference replaced by the stored item it names
        (upstream never sees a reference: it is asked with store false), and every item's id.
        A reference names an output item of any stored response, or an item of the chain it
        continues only once: OpenAI refuses the same item twice ("Duplicate item found with id
        ...", its 400 as quoted in https://github.com/vercel/ai/pull/15492)."""
        resolved, ids = list(items), item_ids(items)
        for index, item in enumerate(items):
            if item["type"] != REFERENCE:
                continue
            if history.item(item["id"]) is not None:
                raise invalid(
                    param_path(("input", index)),
                    f"Duplicate item found with id {item['id']}: the response named in "
                    "previous_response_id has it already. Remove it from input and try again.",
                )
            holder = await self.store.holder(item["id"])
            record = await self.store.get(holder) if holder else None
            found = record.item(item["id"]) if record else None
            if found is None:
                raise invalid(
                    param_path(("input", index, "id")), f"Item with id '{item['id']}' not found."
                )
            resolved[index] = found
        return resolved, ids

    def _fallback_filter(self, turn: _Turn, chat_needed: Needs) -> Callable[[Tier], bool]:
        """Which fallbacks can take this request: what its chat form needs (tools, schema...)
        and, when it needs the Responses API itself (built-in tools), a tier that has it."""
        takes_chat = taker(self.settings.tiers, chat_needed)
        wanted = responses_needs(turn.request)
        return lambda tier: takes_chat(tier) and runs_responses_needs(tier, wanted, turn.request)

    def _eligible_first(self, turn: _Turn, decision: Decision) -> Tier:
        """The decided tier, or when it can't run what the request needs, the first that can
        (the large tier first); a pin that can't is the caller's to change."""
        wanted = responses_needs(turn.request)
        tier = self.settings.tier(decision.tier)
        if runs_responses_needs(tier, wanted, turn.request):
            return tier
        if decision.decided_by == "pin":
            raise ApiError(
                400,
                f"The model '{turn.request.model}' cannot take {', '.join(wanted)}; "
                "use 'auto' or a tier that can.",
                code="unsupported_tool" if turn.request.builtin_tools else "unsupported_parameter",
                param="tools" if turn.request.builtin_tools else wanted[0],
            )
        order = sorted(
            self.settings.tiers, key=lambda t: t.name != self.settings.routing.large_tier
        )
        for candidate in order:
            if runs_responses_needs(candidate, wanted, turn.request):
                return candidate
        raise no_tier_for(turn.request, wanted)

    def _reframed(self, turn: _Turn, upstream: dict[str, Any], tier: Tier) -> dict[str, Any]:
        """An upstream Response as ours: our id (the one the store knows), the deployment that
        answered, the caller's own store and previous_response_id."""
        response = dict(upstream)
        response["id"] = turn.response_id
        response["model"] = tier.deployment
        response["store"] = turn.request.store
        response["previous_response_id"] = turn.request.previous_response_id
        return response

    async def _keep(self, turn: _Turn, response: dict[str, Any], tier: Tier) -> bool:
        """Store a finished turn (nothing when store is false, nothing half-way). False when
        it was to be stored and storage would not take it: the answer still goes to the caller,
        its `store` set to false to say so."""
        if not turn.request.store or response.get("status") not in ("completed", "incomplete"):
            return True
        output = list(response.get("output") or [])
        output_ids = item_ids(output)
        record = StoredResponse(
            response,
            turn.items + output,
            tier.deployment,
            time.time() + self.store.ttl_s,
            turn.ids + output_ids,
            turn.size + len(encode_items(output, output_ids)),
        )
        # Inside the request's budget, but never less than MIN_WRITE_S: the answer is paid for.
        limit = max(MIN_WRITE_S, turn.deadline - time.monotonic())
        if await self.store.put(turn.response_id, record, turn.history, limit):
            return True
        response["store"] = False
        return False

    # ---- streams -------------------------------------------------------------------------

    async def _relay_chat(self, turn: _Turn, streamed: Streamed) -> AsyncIterator[bytes]:
        """A chat stream translated into Responses events; stored once it is whole."""
        tier = streamed.tier
        stream = ChatToResponses(turn.request, turn.response_id, tier.deployment, now())
        for event in stream.start():
            yield event
        try:
            async for upstream_event in streamed.events:
                if upstream_event.done:
                    break
                chunk = upstream_event.data
                if chunk is None:
                    for event in stream.fail("The model deployment sent a malformed chunk."):
                        yield event
                    return
                # Its usage arrives priced: the completed event carries usage.cost_usd.
                for event in stream.chunk(chunk):
                    yield event
            if stream.finish_reason is None:
                for event in stream.fail(
                    "The model deployment ended the stream before the answer."
                ):
                    yield event
                return
            for event in stream.finish():
                yield event
            assert stream.final is not None
            await self._keep(turn, stream.final, tier)
            yield stream.final_event()
        except TransportError as exc:
            for event in stream.fail(deployment_stream_failed(exc.failure)):
                yield event
        except Exception as exc:  # a stream always ends in completed or failed
            oplog.unhandled_error("responses stream", exc)
            for event in stream.fail(RELAY_FAILED):
                yield event
        finally:
            await streamed.aclose()

    async def _relay_responses(self, turn: _Turn, streamed: Streamed) -> AsyncIterator[bytes]:
        """An upstream Responses stream, re-framed (our id, the deployment); a stream that ends
        without its final event ends in response.failed."""
        tier = streamed.tier
        sequence = -1
        snapshot: dict[str, Any] = {}
        try:
            async for upstream_event in streamed.events:
                if upstream_event.done:
                    break
                event = upstream_event.data
                if event is None:
                    yield self._failed(
                        turn,
                        tier,
                        snapshot,
                        sequence,
                        deployment_stream_failed("a malformed event"),
                    )
                    return
                # A final event's usage arrives priced (usage.cost_usd).
                sequence = event.get("sequence_number", sequence + 1)
                if isinstance(event.get("response"), dict):
                    event["response"] = snapshot = self._reframed(turn, event["response"], tier)
                kind = event.get("type")
                if kind in FINAL_EVENTS:
                    await self._keep(turn, snapshot, tier)
                yield sse(event)
                if kind in (*FINAL_EVENTS, "response.failed", "error"):
                    return
            yield self._failed(
                turn, tier, snapshot, sequence, deployment_stream_failed("an end before the answer")
            )
        except TransportError as exc:
            yield self._failed(
                turn, tier, snapshot, sequence, deployment_stream_failed(exc.failure)
            )
        except Exception as exc:  # a stream always ends in completed or failed
            oplog.unhandled_error("responses stream", exc)
            yield self._failed(turn, tier, snapshot, sequence, RELAY_FAILED)
        finally:
            await streamed.aclose()

    def _failed(
        self, turn: _Turn, tier: Tier, snapshot: dict[str, Any], sequence: int, message: str
    ) -> bytes:
        response = dict(snapshot) or self._reframed(turn, {"output": [], "usage": None}, tier)
        response["status"] = "failed"
        response["error"] = {
            "code": "server_error",
            "message": message,
        }
        return sse(
            {"type": "response.failed", "sequence_number": sequence + 1, "response": response}
        )

    # ---- retrieve, delete ----------------------------------------------------------------

    async def retrieve(self, response_id: str) -> dict[str, Any]:
        record = await self._from_store(self.store.get(response_id, context=False))
        if record is None:
            raise not_found(response_id)
        return record.response

    async def input_items(
        self, response_id: str, query: Iterable[tuple[str, str]]
    ) -> dict[str, Any]:
        """GET /v1/responses/{id}/input_items: what this response was made from (items.py)."""
        record = await self._from_store(self.store.get(response_id))
        if record is None:
            raise not_found(response_id)
        made_from = len(record.context) - len(record.output_ids)
        pairs = zip(record.context[:made_from], record.ids[:made_from], strict=True)
        return page([listed(item, item_id) for item, item_id in pairs], query)

    async def delete(self, response_id: str) -> dict[str, Any]:
        if not await self._from_store(self.store.delete(response_id)):
            raise not_found(response_id)
        return {"id": response_id, "object": "response", "deleted": True}

    async def _from_store(self, call: Awaitable[T]) -> T:
        """A storage call for GET or DELETE: storage failing is a 503."""
        try:
            return await call
        except StoreUnavailable:
            raise store_unavailable() from None

    async def aclose(self) -> None:
        await self.store.aclose()


def store_unavailable() -> ApiError:
    """Storage down, paused or slow: a 503 the caller may retry, and no model was asked."""
    return ApiError(
        503,
        "The Responses store did not answer in time; nothing was sent to a model. "
        f"Try again in {STORE_RETRY_AFTER_S} seconds.",
        type="api_error",
        code="store_unavailable",
        headers={"retry-after": str(STORE_RETRY_AFTER_S)},
    )


def conversation_too_large(size: int, limit: int) -> ApiError:
    """A conversation over the router's cap, in the words and code OpenAI uses for an input
    over a model's context window (400 context_length_exceeded, param input); never cut."""
    return invalid(
        "input",
        f"Your input exceeds the context window of this router: the conversation (the "
        f"previous_response_id chain and this input) is {size} bytes, over its limit of "
        f"{limit}. Start a new conversation, or send a shorter history as input.",
        "context_length_exceeded",
    )


def not_found(response_id: str) -> ApiError:
    return ApiError(
        404, f"Response with id '{response_id}' not found.", code="not_found", param="response_id"
    )
