"""Reasoning deployments reject sampling parameters and max_tokens like Azure does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.emulator.helpers import chat


def test_max_tokens_is_unsupported(client: httpx.Client) -> None:
    response = chat(client, "gpt-5", max_tokens=100)
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "unsupported_parameter",
            "param": "max_tokens",
            "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "type": "invalid_request_error",
        }
    }


@pytest.mark.parametrize(("param", "value"), [("temperature", 0.2), ("top_p", 0.5)])
def test_sampling_other_than_one_is_unsupported_value(
    client: httpx.Client, param: str, value: float
) -> None:
    response = chat(client, "gpt-5", **{param: value})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unsupported_value"
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "body", [{"temperature": 1, "top_p": 1}, {"max_completion_tokens": 50}, {}]
)
def test_accepted_parameters(client: httpx.Client, body: dict[str, Any]) -> None:
    assert chat(client, "gpt-5", **body).status_code == 200


def test_non_reasoning_models_accept_them(client: httpx.Client) -> None:
    response = chat(client, "gpt-4o", max_tokens=100, temperature=0.2, top_p=0.5)
    assert response.status_code == 200
