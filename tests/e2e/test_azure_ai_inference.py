"""azure-ai-inference's ChatCompletionsClient against the router, as a user points it: the
endpoint is the router's `/api/v1` and the function key goes in `x-functions-key`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.ai.inference import ChatCompletionsClient
from azure.ai.inference.models import UserMessage
from azure.core.credentials import AzureKeyCredential

from tests.conftest import StartRouter

KEY = "s3cret"


@pytest.fixture(scope="module")
def client(start_module_router: StartRouter) -> Iterator[ChatCompletionsClient]:
    url = start_module_router(LOCAL_FUNCTION_KEY=KEY)
    with ChatCompletionsClient(
        endpoint=f"{url}/api/v1",
        credential=AzureKeyCredential("unused"),  # the router authenticates to Foundry itself
        headers={"x-functions-key": KEY},
    ) as chat:
        yield chat


def test_complete_is_routed(client: ChatCompletionsClient) -> None:
    reply = client.complete(messages=[UserMessage("hi")], model="auto")
    assert reply.model == "Phi-4-mini"
    assert reply.choices[0].message.content


def test_get_model_info_finds_the_info_route(client: ChatCompletionsClient) -> None:
    info = client.get_model_info()
    assert info.model_name == "auto"
    assert info.model_type == "chat-completion"
    assert info.model_provider_name == "hybrid-router"
