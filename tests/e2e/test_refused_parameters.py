"""A parameter a Foundry Model refuses is dropped and the same deployment asked again, whichever
way its route refuses it: Azure OpenAI's 400 `unsupported_parameter` or the Model Inference
API's 422 `parameter_not_supported`, which names the parameter only in `detail.loc`
(https://learn.microsoft.com/azure/ai-foundry/model-inference/reference/reference-model-inference-api).
The default small tier, Phi-4-mini, is called on that route (`url_shape: models`)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Emulator

HI = [{"role": "user", "content": "hi"}]


def post(router: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    with router.stream("POST", "/v1/chat/completions", json=body) as reply:
        reply.read()
    return reply


def asked(emulator: Emulator) -> list[tuple[int, dict[str, Any]]]:
    return [(r["status"], r["body"]) for r in emulator.requests("Phi-4-mini")]


@pytest.mark.parametrize("stream", [False, True])
def test_a_parameter_the_model_does_not_implement_is_dropped(
    router: httpx.Client, emulator: Emulator, stream: bool
) -> None:
    # Phi-4-mini has no logprobs: on the models route it answers the 422.
    reply = post(router, {"model": "small", "messages": HI, "logprobs": True, "stream": stream})
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-router-deployment"] == "Phi-4-mini"
    assert "dropped logprobs (rejected by Phi-4-mini)" in reply.headers["x-router-adjusted"]
    (first_status, first), (second_status, second) = asked(emulator)
    assert (first_status, first["logprobs"]) == (422, True)
    assert second_status == 200
    assert "logprobs" not in second


def test_a_sampling_parameter_refused_with_the_422_is_dropped(
    router: httpx.Client, emulator: Emulator
) -> None:
    emulator.fault("Phi-4-mini", "reject_param", times=None, param="frequency_penalty")
    body = {"model": "small", "messages": HI, "frequency_penalty": 0.5, "temperature": 0.3}
    reply = post(router, body)
    assert reply.status_code == 200, reply.text
    assert "dropped frequency_penalty" in reply.headers["x-router-adjusted"]
    (refused_status, refused), (_, answered) = asked(emulator)
    assert refused_status == 422
    assert "frequency_penalty" in refused
    assert "frequency_penalty" not in answered
    assert answered["temperature"] == 0.3  # only the refused parameter goes
