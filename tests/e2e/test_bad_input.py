"""Bad input gets a clear 4xx in OpenAI's error format, never a 500."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.conftest import StartRouter


def assert_openai_error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error["message"], str)
    assert error["message"]
    assert error["type"] == "invalid_request_error"
    assert "Traceback" not in response.text
    return error


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        (b"{not json", None),
        (b"", None),
        (b'"a string"', None),
        (b'{"model": "auto"}', "messages"),
        (b'{"model": "auto", "messages": []}', "messages"),
        (
            b'{"model": "auto", "messages": [{"role": "user", "content": {"a": 1}}]}',
            "messages[0].content",
        ),
        (b'{"model": ["auto"], "messages": [{"role": "user", "content": "hi"}]}', "model"),
        (b'{"model": "auto", "messages": [{"role": "user", "content": "hi"}], "n": "2"}', "n"),
    ],
)
def test_malformed_bodies(router: httpx.Client, raw: bytes, param: str | None) -> None:
    for path in ("/v1/chat/completions", "/route"):
        response = router.post(path, content=raw, headers={"content-type": "application/json"})
        assert assert_openai_error(response, 400)["param"] == param


def test_unknown_model_lists_valid_ones(router: httpx.Client) -> None:
    body = {"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}
    error = assert_openai_error(router.post("/v1/chat/completions", json=body), 400)
    assert error["code"] == "model_not_found"
    for valid in ("auto", "small", "large"):
        assert valid in str(error["message"])


def test_body_over_the_limit_is_413(start_router: StartRouter) -> None:
    url = start_router(ROUTER_MAX_BODY_BYTES="2048")
    body = {"model": "auto", "messages": [{"role": "user", "content": "x" * 4096}]}
    response = httpx.post(f"{url}/api/v1/chat/completions", json=body)
    assert assert_openai_error(response, 413)["code"] == "request_too_large"

    def chunks() -> object:  # no content-length: the limit holds while reading
        yield b'{"model": "auto", "messages": [{"role": "user", "content": "'
        yield b"y" * 4096
        yield b'"}]}'

    response = httpx.post(f"{url}/api/v1/chat/completions", content=chunks())
    assert_openai_error(response, 413)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}),
        ("/route", {"messages": [{"role": "user", "content": "hi"}]}),
        ("/v1/responses", {"input": "hi"}),
    ],
)
def test_too_deep_json_is_a_400(router: httpx.Client, path: str, body: dict[str, object]) -> None:
    # 254 levels below a field: deeper than any JSON writer the router uses can write back.
    deep = b"[" * 254 + b"]" * 254
    raw = b'{"model": "auto", "metadata": {"x": ' + deep + b"}, " + orjson.dumps(body)[1:]
    error = assert_openai_error(router.post(path, content=raw), 400)
    assert error["code"] == "invalid_json"
