"""The OpenAI wire format through the router: shaping, pass-through, streaming, upstream errors."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.conftest import Emulator


def chat(text: str = "hi", model: str = "auto", **extra: object) -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def sse_payloads(raw: str) -> list[str]:
    events = [e for e in raw.split("\n\n") if e.strip()]
    assert all(e.startswith("data: ") for e in events), events
    return [e[len("data: ") :] for e in events]


def test_reasoning_model_gets_shaped_parameters(router: httpx.Client, emulator: Emulator) -> None:
    body = chat(model="large", max_tokens=64, temperature=0.3, top_p=0.5)
    response = router.post("/v1/chat/completions", json=body)
    assert response.status_code == 200
    (sent,) = emulator.requests("gpt-5")
    assert sent["body"]["max_completion_tokens"] == 64
    assert not {"max_tokens", "temperature", "top_p"} & set(sent["body"])
    assert "dropped temperature" in response.headers["x-router-adjusted"]


def test_temperature_and_top_p_zero_never_reach_the_model(
    router: httpx.Client, emulator: Emulator
) -> None:
    router.post("/v1/chat/completions", json=chat(model="small", temperature=0, top_p=0))
    (sent,) = emulator.requests("Phi-4-mini")
    assert sent["body"]["temperature"] == 0
    assert sent["body"]["top_p"] != 0


def test_other_openai_fields_pass_through(router: httpx.Client, emulator: Emulator) -> None:
    extra = {
        "response_format": {"type": "json_object"},
        "seed": 11,
        "user": "agent-7",
        "stop": ["END"],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
    }
    # json_object needs the word "json" in the conversation (OpenAI and Azure refuse it otherwise).
    body = chat("hi, answer in json", **extra)
    assert router.post("/v1/chat/completions", json=body).status_code == 200
    (sent,) = emulator.requests()
    assert {k: sent["body"][k] for k in extra} == extra
    assert sent["auth"] == "api-key"


@pytest.mark.parametrize("include_usage", [False, True])
def test_streaming_is_reframed_and_ends_with_done(
    router: httpx.Client, include_usage: bool
) -> None:
    body = chat("hi", stream=True, stream_options={"include_usage": include_usage})
    with router.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-router-tier"] == "small"
        raw = response.read().decode()
    payloads = sse_payloads(raw)
    assert payloads[-1] == "[DONE]"
    chunks = [orjson.loads(p) for p in payloads[:-1]]
    assert all(c["model"] == "Phi-4-mini" for c in chunks)
    assert any(c["choices"] and c["choices"][0].get("finish_reason") for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text
    usage = [c["usage"] for c in chunks if c.get("usage")]
    assert bool(usage) == include_usage
    if include_usage:
        assert usage[-1]["cost_usd"] > 0


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("content_filter", 400, "content_filter"), ("context_length_exceeded", 400, None)],
)
def test_caller_caused_upstream_4xx_pass_through_with_their_code(
    router: httpx.Client, emulator: Emulator, kind: str, status: int, code: str | None
) -> None:
    emulator.fault("Phi-4-mini", kind)
    response = router.post("/v1/chat/completions", json=chat("hi"))
    error = response.json()["error"]
    assert response.status_code == status
    assert error["code"] == (code or kind)
    assert error["message"]
    if kind == "content_filter":
        assert error["innererror"]["code"] == "ResponsibleAIPolicyViolation"


def test_upstream_auth_failure_becomes_502_naming_the_cause(
    router: httpx.Client, emulator: Emulator
) -> None:
    emulator.configure("Phi-4-mini", forbidden=True)
    response = router.post("/v1/chat/completions", json=chat("hi"))
    assert response.status_code == 502
    assert "Cognitive Services User" in response.json()["error"]["message"]
    assert "emulator-key" not in response.text
