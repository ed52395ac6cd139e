"""The answer started before the classifier's verdict: taken, cancelled or released."""

import asyncio

import pytest

from shared.api import ApiError
from shared.routing.cache import TtlCache
from shared.routing.classifier import Classifier
from shared.routing.eligibility import chat_needs
from shared.routing.policy import Decision, Pending, RoutingPolicy
from shared.services.guess import Guess
from shared.settings import load_settings
from shared.upstream.outcomes import DeploymentError

SMALL = Decision("small-tools", "classifier", "simple")
LARGE = Decision("large", "classifier", "complex")


class Call:
    """A started upstream call that answers when told to, and says how it ended."""

    def __init__(self) -> None:
        self.answer = asyncio.Event()
        self.cancelled = False
        self.closed: list[str] = []

    async def run(self, result: str = "answer") -> str:
        try:
            await self.answer.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return result

    async def close(self, result: str) -> None:
        self.closed.append(result)


def guess(call: Call, result: str = "answer") -> Guess[str]:
    return Guess("small-tools", asyncio.create_task(call.run(result)), call.close)


async def test_a_simple_verdict_takes_the_started_call() -> None:
    call = Call()
    started = guess(call)
    call.answer.set()
    assert await started.take(SMALL) == "answer"
    assert not call.cancelled
    assert call.closed == []


async def test_a_complex_verdict_cancels_the_call_in_flight() -> None:
    call = Call()
    started = guess(call)
    await asyncio.sleep(0)  # the call is under way
    assert await started.take(LARGE) is None
    assert call.cancelled
    assert call.closed == []  # nothing came back to release


async def test_a_call_that_already_answered_is_released_when_dropped() -> None:
    call = Call()
    started = guess(call, "open stream")
    call.answer.set()
    await asyncio.sleep(0)
    assert started.task.done()
    assert await started.take(LARGE) is None
    assert call.closed == ["open stream"]


async def test_a_failed_call_is_nobodys_error_when_dropped() -> None:
    async def fails() -> str:
        raise RuntimeError("the small tier is down")

    closed: list[str] = []

    async def close(result: str) -> None:
        closed.append(result)

    started = Guess("small-tools", asyncio.create_task(fails()), close)
    await asyncio.sleep(0)
    assert await started.take(LARGE) is None
    assert closed == []


async def test_a_call_that_failed_upstream_leaves_the_request_to_be_sent_again() -> None:
    # Its one attempt failed; sent again, the request gets its retries and failover.
    async def fails() -> str:
        raise ApiError(429, "Rate limit is exceeded.", code="429")

    started = Guess("small-tools", asyncio.create_task(fails()), Call().close)
    assert await started.take(SMALL) is None


async def test_a_request_the_tier_refused_is_the_requests_error_when_taken() -> None:
    # Sent again it would be refused again: a content filter, the caller's own 400.
    refusal = ApiError(400, "The response was filtered.", code="content_filter")
    tier = load_settings(ENV).tier("small-tools")

    async def refused() -> str:
        raise DeploymentError(refusal, tier, (), refused=True)

    started = Guess("small-tools", asyncio.create_task(refused()), Call().close)
    with pytest.raises(DeploymentError, match="filtered"):
        await started.take(SMALL)


async def test_a_call_that_broke_the_router_is_the_requests_error_when_taken() -> None:
    async def fails() -> str:
        raise RuntimeError("a bug, not an upstream failure")

    started = Guess("small-tools", asyncio.create_task(fails()), Call().close)
    with pytest.raises(RuntimeError, match="a bug"):
        await started.take(SMALL)


async def test_a_request_cancelled_while_dropping_stays_cancelled() -> None:
    async def slow_to_stop() -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.sleep(10)  # a call that takes its time to end once cancelled
        return "late"

    started = Guess("small-tools", asyncio.create_task(slow_to_stop()), Call().close)
    after_drop: list[str] = []

    async def request() -> None:
        await started.drop()
        after_drop.append("went on")

    task = asyncio.create_task(request())
    await asyncio.sleep(0.01)  # drop() is waiting for the call to end
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert after_drop == []


ENV = {"FOUNDRY_ENDPOINT": "https://a.openai.azure.com", "FOUNDRY_API_KEY": "k"}
TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]


def policy(answers: list[str]) -> RoutingPolicy:
    """The classifier preset (the scorer never decides), its classifier answering `answers`."""
    settings = load_settings({**ENV, "ROUTER_PRESET": "classifier"})

    async def ask(body: dict[str, object]) -> str:
        return answers.pop(0)

    return RoutingPolicy(settings, Classifier(ask, 1.0, TtlCache(60, 10)), TtlCache(60, 10))


async def test_begin_names_the_tier_a_simple_verdict_gives() -> None:
    routing = policy(["simple"])
    body = {"messages": [{"role": "user", "content": "order 42?"}], "tools": TOOLS}
    begun = await routing.begin("auto", body["messages"], TOOLS, needs=chat_needs(body))
    assert isinstance(begun, Pending)
    assert begun.if_simple.tier == "small-tools"  # Phi-4-mini takes no tools
    decision = await routing.settle(begun)
    assert (decision.tier, decision.decided_by) == ("small-tools", "classifier")


async def test_a_remembered_verdict_settles_without_waiting() -> None:
    routing = policy(["complex"])
    messages = [{"role": "user", "content": "order 42?"}]
    first = await routing.decide("auto", messages)
    again = await routing.begin("auto", messages)
    assert (first.tier, first.decided_by) == ("large", "classifier")
    assert isinstance(again, Decision)
    assert (again.tier, again.decided_by) == ("large", "cache")
