"""Every fault kind, seen from a plain httpx client, plus how faults stack and run out."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.emulator.helpers import API_VERSION, KEY, add_fault, chat, settings

SYSTEM = "Reply with one word: simple or complex."


@pytest.fixture
def fresh(base_url: str, client: httpx.Client) -> Iterator[httpx.Client]:
    """A separate client for calls that break connections or time out."""
    with httpx.Client(base_url=base_url, timeout=10) as own:
        yield own


def stream_lines(
    http: httpx.Client, deployment: str = "Phi-4-mini", timeout: float | None = None
) -> Iterator[str]:
    """Yield SSE lines as they arrive (the caller sees errors where they happen)."""
    with http.stream(
        "POST",
        f"/openai/deployments/{deployment}/chat/completions",
        params={"api-version": API_VERSION},
        json={"messages": [{"role": "user", "content": "Tell me about otters"}], "stream": True},
        headers=KEY,
        timeout=httpx.Timeout(10, read=timeout) if timeout else None,
    ) as response:
        assert response.status_code == 200
        yield from response.iter_lines()


def content_chunks(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        if line.startswith("data: {") and line != "data: {not json":
            delta = json.loads(line[6:])["choices"][0]["delta"]
            if delta.get("content"):
                out.append(delta["content"])
    return out


def recorded(client: httpx.Client) -> list[dict[str, Any]]:
    return client.get("/control/requests").json()["requests"]


def test_rate_limit(client: httpx.Client) -> None:
    add_fault(client, deployment="gpt-5", kind="rate_limit", retry_after_s=3)
    response = chat(client, "gpt-5")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.headers["retry-after-ms"] == "3000"
    assert response.headers["x-ratelimit-remaining-tokens"] == "0"
    assert response.json()["error"]["code"] == "429"
    assert "Please retry after 3 seconds" in response.json()["error"]["message"]
    assert chat(client, "gpt-5").status_code == 200


def test_rate_limit_without_retry_after(client: httpx.Client) -> None:
    add_fault(client, kind="rate_limit", retry_after_s=None)
    response = chat(client)
    assert response.status_code == 429
    assert "retry-after" not in response.headers
    assert "retry-after-ms" not in response.headers


@pytest.mark.parametrize(
    ("spec", "status", "code"),
    [
        ({"kind": "server_error"}, 500, "InternalServerError"),
        ({"kind": "server_error", "status": 502}, 502, "BadGateway"),
        ({"kind": "unavailable"}, 503, "ServiceUnavailable"),
    ],
)
def test_server_errors(client: httpx.Client, spec: dict[str, Any], status: int, code: str) -> None:
    add_fault(client, deployment="Phi-4-mini", **spec)
    response = chat(client)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert chat(client).status_code == 200


def test_unavailable_with_retry_after(client: httpx.Client) -> None:
    add_fault(client, kind="unavailable", retry_after_s=2)
    response = chat(client)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"


def test_reset_drops_the_connection_without_a_response(
    client: httpx.Client, fresh: httpx.Client
) -> None:
    add_fault(client, kind="reset")
    with pytest.raises(httpx.TransportError) as caught:
        chat(fresh)
    # A TCP RST, not a clean close: "connection reset by peer".
    assert isinstance(caught.value, httpx.ReadError)
    assert chat(fresh).status_code == 200
    statuses = [(r["fault"], r["status"]) for r in recorded(client)]
    assert statuses == [("reset", None), (None, 200)]


def test_no_response_holds_until_the_client_gives_up(
    client: httpx.Client, fresh: httpx.Client
) -> None:
    add_fault(client, kind="no_response")
    start = time.perf_counter()
    with pytest.raises(httpx.ReadTimeout):
        fresh.post(
            "/openai/deployments/Phi-4-mini/chat/completions",
            params={"api-version": API_VERSION},
            json={"messages": [{"role": "user", "content": "hi"}]},
            headers=KEY,
            timeout=httpx.Timeout(10, read=0.3),
        )
    assert time.perf_counter() - start >= 0.3
    assert chat(fresh).status_code == 200


def test_no_response_gives_up_after_max_s(client: httpx.Client, fresh: httpx.Client) -> None:
    add_fault(client, kind="no_response", max_s=0.2)
    with pytest.raises(httpx.TransportError):
        chat(fresh)


@pytest.mark.parametrize("stream", [False, True])
def test_slow_first_token(client: httpx.Client, fresh: httpx.Client, stream: bool) -> None:
    add_fault(client, kind="slow_first_token", delay_ms=300, times=2)
    start = time.perf_counter()
    assert chat(fresh, stream=stream).status_code == 200
    assert time.perf_counter() - start >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        fresh.post(
            "/openai/deployments/Phi-4-mini/chat/completions",
            params={"api-version": API_VERSION},
            json={"messages": [{"role": "user", "content": "hi"}], "stream": stream},
            headers=KEY,
            timeout=httpx.Timeout(10, read=0.1),
        )


def test_stream_cut(client: httpx.Client, fresh: httpx.Client) -> None:
    add_fault(client, kind="stream_cut", after_chunks=2)
    lines: list[str] = []
    with pytest.raises(httpx.TransportError):
        lines.extend(stream_lines(fresh))
    assert len(content_chunks(lines)) == 2
    assert "data: [DONE]" not in lines
    assert len(content_chunks(list(stream_lines(fresh)))) > 2


def test_stream_stall(client: httpx.Client, fresh: httpx.Client) -> None:
    add_fault(client, kind="stream_stall", after_chunks=1)
    lines: list[str] = []
    start = time.perf_counter()
    with pytest.raises(httpx.ReadTimeout):
        lines.extend(stream_lines(fresh, timeout=0.3))
    assert time.perf_counter() - start >= 0.3
    assert len(content_chunks(lines)) == 1


def test_malformed_chunk(client: httpx.Client, fresh: httpx.Client) -> None:
    add_fault(client, kind="malformed_chunk", after_chunks=1)
    lines = list(stream_lines(fresh))
    data = [line for line in lines if line.startswith("data: ")]
    assert data[2] == "data: {not json"
    assert data[-1] == "data: [DONE]"


def test_no_done(client: httpx.Client, fresh: httpx.Client) -> None:
    add_fault(client, kind="no_done")
    lines = list(stream_lines(fresh))
    assert content_chunks(lines)
    assert "data: [DONE]" not in lines
    finishes = [
        json.loads(line[6:])["choices"][0]["finish_reason"]
        for line in lines
        if line.startswith("data: {")
    ]
    assert set(finishes) == {None}


def test_stream_faults_skip_non_streaming_requests(client: httpx.Client) -> None:
    add_fault(client, kind="stream_cut", after_chunks=0)
    assert chat(client).status_code == 200
    assert [f["kind"] for f in client.get("/control/faults").json()["faults"]] == ["stream_cut"]


def test_context_length_exceeded_fault(client: httpx.Client) -> None:
    add_fault(client, deployment="gpt-4o", kind="context_length_exceeded")
    response = chat(client, "gpt-4o")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "context_length_exceeded"
    assert error["param"] == "messages"
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("This model's maximum context length is 128000 tokens.")


def test_context_length_exceeded_naturally(client: httpx.Client) -> None:
    settings(client, deployments={"Phi-4": {"context": 100}})
    assert chat(client, "Phi-4", "x" * 300).status_code == 200
    response = chat(client, "Phi-4", "x" * 400)
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "maximum context length is 100 tokens" in message
    assert "your messages resulted in 107 tokens" in message
    response = chat(client, "Phi-4", "x" * 300, max_tokens=50)
    assert response.json()["error"]["code"] == "context_length_exceeded"


def test_content_filter(client: httpx.Client) -> None:
    add_fault(client, kind="content_filter", category="violence")
    response = chat(client)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "content_filter"
    assert error["param"] == "prompt"
    assert error["status"] == 400
    assert "content management policy" in error["message"]
    inner = error["innererror"]
    assert inner["code"] == "ResponsibleAIPolicyViolation"
    assert inner["content_filter_result"]["violence"] == {"filtered": True, "severity": "high"}
    assert inner["content_filter_result"]["hate"] == {"filtered": False, "severity": "safe"}


def test_reject_param_only_when_present(client: httpx.Client) -> None:
    add_fault(client, kind="reject_param", param="seed", times=None)
    assert chat(client).status_code == 200
    response = chat(client, seed=7)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("unsupported_parameter", "seed")


def test_flapping_pattern(client: httpx.Client) -> None:
    add_fault(client, kind="flapping", pattern="fail,ok,fail,ok", times=None)
    assert [chat(client).status_code for _ in range(6)] == [500, 200, 500, 200, 500, 200]


def test_flapping_fail_every(client: httpx.Client) -> None:
    add_fault(client, kind="flapping", fail_every=3, status=503, times=6)
    assert [chat(client).status_code for _ in range(7)] == [503, 200, 200, 503, 200, 200, 200]


def test_classify_answer(client: httpx.Client) -> None:
    add_fault(client, kind="classify_answer", text="**Simple.**")
    # Not a classification: the fault waits for one.
    assert chat(client).json()["choices"][0]["message"]["content"].startswith("[")
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "hi"}]
    data = chat(client, messages=messages).json()
    assert data["choices"][0]["message"]["content"] == "**Simple.**"
    assert chat(client, messages=messages).json()["choices"][0]["message"]["content"] == "simple"


def test_faults_stack_in_order_and_run_out(client: httpx.Client) -> None:
    add_fault(client, kind="server_error", times=2)
    add_fault(client, kind="unavailable")
    assert [chat(client).status_code for _ in range(4)] == [500, 500, 503, 200]


def test_faults_are_per_deployment(client: httpx.Client) -> None:
    add_fault(client, deployment="gpt-5", kind="server_error", times=None)
    assert chat(client, "Phi-4-mini").status_code == 200
    assert chat(client, "gpt-5").status_code == 500
    assert chat(client, "gpt-5").status_code == 500
    stats = client.get("/control/stats").json()["deployments"]
    assert stats["gpt-5"]["faults"] == 2
    assert stats["gpt-5"]["statuses"] == {"500": 2}


def test_list_and_delete_faults(client: httpx.Client) -> None:
    first = add_fault(client, kind="server_error", times=None)
    add_fault(client, deployment="gpt-5", kind="reset")
    listed = client.get("/control/faults").json()["faults"]
    assert [(f["kind"], f["deployment"], f["times"]) for f in listed] == [
        ("server_error", "*", None),
        ("reset", "gpt-5", 1),
    ]
    assert client.delete(f"/control/faults/{first['id']}").json() == {"removed": 1}
    assert client.delete("/control/faults").json() == {"removed": 1}
    assert chat(client).status_code == 200


def test_several_faults_in_one_call(client: httpx.Client) -> None:
    response = client.post(
        "/control/faults", json=[{"kind": "server_error"}, {"kind": "unavailable"}]
    )
    assert response.status_code == 201
    assert [f["kind"] for f in response.json()] == ["server_error", "unavailable"]


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "meltdown"},
        {"kind": "rate_limit", "retry_after": 3},
        {"kind": "reject_param"},
        {"kind": "server_error", "deployment": "nope"},
        {"kind": "server_error", "times": 0},
        {"kind": "flapping"},
        {"kind": "flapping", "pattern": "fail,maybe"},
        {"kind": "flapping", "fail_every": 2, "status": 404},
        {"kind": "stream_cut", "after_chunks": -1},
    ],
)
def test_bad_fault_specs_are_400(client: httpx.Client, spec: dict[str, Any]) -> None:
    response = client.post("/control/faults", json=spec)
    assert response.status_code == 400
    assert client.get("/control/faults").json()["faults"] == []
