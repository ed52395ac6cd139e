"""GET /v1/responses/{id}/input_items and item_reference input items, through the unchanged
openai SDK over HTTP against the router and the emulator; both over the blob store in Azurite,
across two router instances."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.conftest import StartRouter

WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.fixture
def sdk(router_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{router_url}/api/v1", api_key="unused", max_retries=0)


@pytest.fixture(scope="module")
def two_routers(
    start_module_router: StartRouter, azurite: str
) -> tuple[openai.OpenAI, openai.OpenAI]:
    clients = []
    for _ in range(2):
        url = start_module_router(ROUTER_RESPONSES_CONNECTION_STRING=azurite)
        clients.append(openai.OpenAI(base_url=f"{url}/api/v1", api_key="unused", max_retries=0))
    return clients[0], clients[1]


def _texts(items: Any) -> list[str]:
    return [part.text for item in items if item.type == "message" for part in item.content]


def test_input_items_are_what_the_response_was_made_from_newest_first(sdk: openai.OpenAI) -> None:
    first = sdk.responses.create(model="small", input="My name is Ada.")
    second = sdk.responses.create(
        model="large", input="What is my name?", previous_response_id=first.id
    )
    page = sdk.responses.input_items.list(second.id)
    # The chain before it (the first ask and its answer), then its own input; newest first.
    assert _texts(page.data) == ["What is my name?", first.output_text, "My name is Ada."]
    assert page.data[0].role == "user"
    assert page.data[1].id == first.output[0].id  # an output keeps the id it was returned with
    assert all(item.id and item.status == "completed" for item in page.data)
    assert page.has_more is False
    oldest_first = sdk.responses.input_items.list(second.id, order="asc")
    assert [i.id for i in oldest_first.data] == [i.id for i in reversed(page.data)]
    # The same ids on every read: a cursor stays valid.
    assert [i.id for i in sdk.responses.input_items.list(second.id).data] == [
        i.id for i in page.data
    ]


def test_paging_with_limit_and_after_walks_every_item_once(sdk: openai.OpenAI) -> None:
    asks = [f"note {n}" for n in range(5)]
    reply = sdk.responses.create(
        model="small", input=[{"role": "user", "content": ask} for ask in asks]
    )
    first = sdk.responses.input_items.list(reply.id, limit=2, order="asc")
    assert (_texts(first.data), first.has_more) == (asks[:2], True)
    raw = sdk.responses.input_items.with_raw_response.list(reply.id, limit=2).http_response.json()
    assert (raw["object"], raw["first_id"], raw["last_id"]) == (
        "list",
        raw["data"][0]["id"],
        raw["data"][1]["id"],
    )
    walked = list(sdk.responses.input_items.list(reply.id, limit=2, order="asc"))  # the SDK pages
    assert _texts(walked) == asks
    after = sdk.responses.input_items.list(reply.id, order="asc", after=first.data[1].id)
    assert _texts(after.data) == asks[2:]


def test_function_calls_are_listed_as_items(tools_router_url: str) -> None:
    sdk = openai.OpenAI(base_url=f"{tools_router_url}/api/v1", api_key="unused", max_retries=0)
    first = sdk.responses.create(
        model="small", input="Please call the tool get_weather for Oslo", tools=[WEATHER]
    )
    (call,) = [item for item in first.output if item.type == "function_call"]
    second = sdk.responses.create(
        model="small",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "rain"}],
        tools=[WEATHER],
    )
    kinds = [item.type for item in sdk.responses.input_items.list(second.id, order="asc")]
    assert kinds == ["message", "function_call", "function_call_output"]


@pytest.mark.parametrize(
    ("query", "status", "param"),
    [
        ({"limit": "0"}, 400, "limit"),
        ({"limit": "101"}, 400, "limit"),
        ({"order": "sideways"}, 400, "order"),
        ({"after": "msg_not_in_this_response"}, 404, "after"),
        ({"made_up": "1"}, 400, "made_up"),
    ],
)
def test_bad_paging_is_a_clear_4xx(
    router: httpx.Client, query: dict[str, str], status: int, param: str
) -> None:
    made = router.post("/v1/responses", json={"model": "small", "input": "hi"}).json()
    reply = router.get(f"/v1/responses/{made['id']}/input_items", params=query)
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert error["param"] == param


def test_unknown_or_deleted_response_is_a_404(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.responses.input_items.list("resp_doesnotexist")
    assert caught.value.code == "not_found"
    reply = sdk.responses.create(model="small", input="hi")
    sdk.responses.delete(reply.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.input_items.list(reply.id)


def test_azure_openai_client_lists_input_items(router_url: str) -> None:
    azure = openai.AzureOpenAI(
        azure_endpoint=f"{router_url}/api", api_key="unused", api_version="preview", max_retries=0
    )
    reply = azure.responses.create(model="small", input="hi")
    assert _texts(azure.responses.input_items.list(reply.id).data) == ["hi"]


def test_item_reference_brings_back_an_item_of_another_response(sdk: openai.OpenAI) -> None:
    # A client that resends the conversation itself, naming the answers it got by id.
    first = sdk.responses.create(model="small", input="My name is Ada.")
    answer = first.output[0].id
    second = sdk.responses.create(
        model="large",
        input=[
            {"role": "user", "content": "My name is Ada."},
            {"type": "item_reference", "id": answer},
            {"role": "user", "content": "What is my name?"},
        ],
    )
    assert second.status == "completed"
    listed = sdk.responses.input_items.list(second.id, order="asc").data
    assert listed[1].id == answer
    assert _texts(listed)[1] == first.output_text  # resolved: the item itself was used


def test_item_reference_upstream_gets_the_item_not_the_reference(
    sdk: openai.OpenAI, emulator: Any
) -> None:
    first = sdk.responses.create(model="small", input="My name is Ada.")
    sdk.responses.create(
        model="large", input=[{"id": first.output[0].id}, {"role": "user", "content": "And?"}]
    )
    sent = emulator.requests("gpt-5")[-1]["body"]["input"]
    assert sent[0]["type"] == "message"
    assert sent[0]["content"][0]["text"] == first.output_text


@pytest.mark.parametrize("referenced", ["unknown", "in the chain"])
def test_bad_item_reference_is_a_400(router: httpx.Client, emulator: Any, referenced: str) -> None:
    first = router.post("/v1/responses", json={"model": "small", "input": "hi"}).json()
    item = first["output"][0]["id"] if referenced == "in the chain" else "msg_unknown"
    emulator.reset()
    reply = router.post(
        "/v1/responses",
        json={
            "model": "small",
            "previous_response_id": first["id"],
            "input": [{"type": "item_reference", "id": item}],
        },
    )
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["param"] == ("input[0].id" if referenced == "unknown" else "input[0]")
    assert emulator.requests() == []  # refused before anything went upstream


def test_items_and_references_cross_instances_in_azurite(
    two_routers: tuple[openai.OpenAI, openai.OpenAI],
) -> None:
    one, two = two_routers
    first = one.responses.create(model="small", input="My name is Ada.")
    second = two.responses.create(
        model="small", input=[{"type": "item_reference", "id": first.output[0].id}]
    )
    assert _texts(one.responses.input_items.list(second.id).data) == [first.output_text]
    third = one.responses.create(model="large", input="And?", previous_response_id=second.id)
    listed = two.responses.input_items.list(third.id, order="asc", limit=1)
    assert _texts(listed.data) == [first.output_text]
    assert listed.has_more is True
    rest = two.responses.input_items.list(third.id, order="asc", after=listed.data[0].id)
    assert _texts(rest.data) == [second.output_text, "And?"]
