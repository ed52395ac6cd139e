"""response_format (json_object, json_schema) and logprobs, as Azure OpenAI answers them."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from devtools.emulator.config import default_deployments
from devtools.emulator.responses import speaks_responses
from devtools.emulator.structured import instance
from tests.emulator.helpers import KEY, chat

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 18},
        "tags": {"type": "array", "items": {"type": "string"}},
        "role": {"enum": ["admin", "user"]},
        "manager": {"anyOf": [{"$ref": "#/$defs/Ref"}, {"type": "null"}]},
        "score": {"type": ["number", "null"]},
    },
    "required": ["name", "age", "tags", "role", "manager", "score"],
    "additionalProperties": False,
    "$defs": {
        "Ref": {
            "type": "object",
            "properties": {"id": {"type": "string", "format": "uuid"}},
            "required": ["id"],
            "additionalProperties": False,
        }
    },
}


def test_instance_fits_the_schema() -> None:
    value = instance(PERSON, "text")
    assert value["name"] == "text"
    assert value["age"] == 18
    assert value["tags"] == ["text"]
    assert value["role"] == "admin"
    assert value["manager"] == {"id": "00000000-0000-4000-8000-000000000000"}
    assert isinstance(value["score"], float)


def test_only_required_fields_when_the_schema_names_them() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}, "b": {}}, "required": ["a"]}
    assert instance(schema, "x") == {"a": "x"}


def schema_format(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": "Person", "strict": True, "schema": schema},
    }


def test_json_schema_answer_is_json_matching_the_schema(client: httpx.Client) -> None:
    response = chat(client, "gpt-4o", "Who is Ada?", response_format=schema_format(PERSON))
    assert response.status_code == 200, response.text
    content = json.loads(response.json()["choices"][0]["message"]["content"])
    assert set(content) == set(PERSON["properties"])
    assert content["name"].startswith("[gpt-4o] ")


def test_json_schema_answer_streams_as_the_same_json(client: httpx.Client) -> None:
    body = {"stream": True, "response_format": schema_format(PERSON)}
    with client.stream(
        "POST",
        "/openai/v1/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "Who?"}], **body},
        headers=KEY,
    ) as response:
        text = "".join(
            json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
            for line in response.iter_lines()
            if line.startswith("data: {")
        )
    assert set(json.loads(text)) == set(PERSON["properties"])


def test_json_object_needs_the_word_json(client: httpx.Client) -> None:
    refused = chat(client, "gpt-4o", "Give me a dict", response_format={"type": "json_object"})
    assert refused.status_code == 400
    assert "json" in refused.json()["error"]["message"]
    ok = chat(client, "gpt-4o", "Answer in JSON", response_format={"type": "json_object"})
    assert ok.status_code == 200, ok.text
    assert isinstance(json.loads(ok.json()["choices"][0]["message"]["content"]), dict)


@pytest.mark.parametrize(
    "fmt",
    [{"type": "xml"}, {"type": "json_schema"}, {"type": "json_schema", "json_schema": {}}],
)
def test_bad_response_format_is_a_400(client: httpx.Client, fmt: dict[str, Any]) -> None:
    response = chat(client, "gpt-4o", "hi json", response_format=fmt)
    assert response.status_code == 400
    assert response.json()["error"]["param"].startswith("response_format")


def test_logprobs_on_a_model_that_has_them(client: httpx.Client) -> None:
    response = chat(client, "gpt-4o", "Hello there", logprobs=True, top_logprobs=2)
    assert response.status_code == 200, response.text
    choice = response.json()["choices"][0]
    tokens = choice["logprobs"]["content"]
    assert "".join(t["token"] for t in tokens) == choice["message"]["content"]
    assert all(len(t["top_logprobs"]) == 2 and t["logprob"] < 0 for t in tokens)


def test_logprobs_stream_per_chunk(client: httpx.Client) -> None:
    with client.stream(
        "POST",
        "/openai/v1/chat/completions",
        json={
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "Hello"}],
            "stream": True,
            "logprobs": True,
        },
        headers=KEY,
    ) as response:
        chunks = [json.loads(x[6:]) for x in response.iter_lines() if x.startswith("data: {")]
    content = [c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
    assert content
    assert all(c["choices"][0]["logprobs"]["content"] for c in content)


@pytest.mark.parametrize("deployment", ["gpt-5", "Phi-4-mini"])
def test_logprobs_refused_by_models_without_them(client: httpx.Client, deployment: str) -> None:
    response = chat(client, deployment, "Hello", logprobs=True)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_parameter"
    assert response.json()["error"]["param"] == "logprobs"


def test_top_logprobs_needs_logprobs(client: httpx.Client) -> None:
    response = chat(client, "gpt-4o", "Hello", top_logprobs=2)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "top_logprobs"


# The Responses API's `text.format`: honoured by every deployment that speaks Responses, as Foundry
# does (the OpenAI SDK's responses.parse and LangChain's structured output send it).
RESPONSES_DEPLOYMENTS = sorted(
    name for name, d in default_deployments().items() if speaks_responses(d)
)
TEXT_FORMAT = {"type": "json_schema", "name": "Person", "strict": True, "schema": PERSON}


def respond(client: httpx.Client, deployment: str, **body: Any) -> httpx.Response:
    payload = {"model": deployment, "input": "Who is Ada?", **body}
    return client.post("/openai/v1/responses", json=payload, headers=KEY)


def output_text(response: dict[str, Any]) -> str:
    return "".join(
        part["text"]
        for item in response["output"]
        if item["type"] == "message"
        for part in item["content"]
    )


def test_some_deployments_speak_responses() -> None:
    assert "gpt-5" in RESPONSES_DEPLOYMENTS


@pytest.mark.parametrize("deployment", RESPONSES_DEPLOYMENTS)
def test_text_format_json_schema_is_answered_with_json_that_fits(
    client: httpx.Client, deployment: str
) -> None:
    response = respond(client, deployment, text={"format": TEXT_FORMAT})
    assert response.status_code == 200, response.text
    content = json.loads(output_text(response.json()))
    assert set(content) == set(PERSON["properties"])
    assert response.json()["text"]["format"]["name"] == "Person"


def test_text_format_streams_as_the_same_json(client: httpx.Client) -> None:
    payload = {"model": "gpt-5", "input": "Who?", "stream": True, "text": {"format": TEXT_FORMAT}}
    with client.stream("POST", "/openai/v1/responses", json=payload, headers=KEY) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: {")]
    events = [json.loads(line[6:]) for line in lines]
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert set(json.loads(deltas)) == set(PERSON["properties"])


def test_text_format_json_object_needs_the_word_json(client: httpx.Client) -> None:
    refused = respond(client, "gpt-5", text={"format": {"type": "json_object"}})
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "input"
    ok = respond(client, "gpt-5", input="Answer in JSON", text={"format": {"type": "json_object"}})
    assert ok.status_code == 200, ok.text
    assert isinstance(json.loads(output_text(ok.json())), dict)


def test_plain_text_format_is_plain_text(client: httpx.Client) -> None:
    response = respond(client, "gpt-5", text={"format": {"type": "text"}})
    assert response.status_code == 200, response.text
    with pytest.raises(json.JSONDecodeError):
        json.loads(output_text(response.json()))


@pytest.mark.parametrize(
    ("fmt", "param"),
    [
        ({"type": "xml"}, "text.format.type"),
        ({"type": "json_schema", "schema": PERSON}, "text.format.name"),
        ({"type": "json_schema", "name": "P", "schema": []}, "text.format.schema"),
    ],
)
def test_bad_text_format_is_a_400(client: httpx.Client, fmt: dict[str, Any], param: str) -> None:
    response = respond(client, "gpt-5", text={"format": fmt})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
