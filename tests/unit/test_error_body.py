"""Every upstream error shape becomes OpenAI's envelope, nothing the upstream said lost."""

from __future__ import annotations

from typing import Any

import pytest

from shared.upstream.error_body import UpstreamError, read_error
from shared.upstream.outcomes import caller_error

# The Azure AI Model Inference API's 422, as Microsoft Learn shows it ("Azure AI Model Inference
# API", "Models with disparate set of capabilities"): flat, the offending parameter in `detail`.
INFERENCE_API_422 = {
    "status": 422,
    "code": "parameter_not_supported",
    "detail": {"loc": ["body", "response_format"], "input": "json_object"},
    "message": "One of the parameters contain invalid values.",
}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {
                "error": {
                    "message": "bad",
                    "type": "invalid_request_error",
                    "code": "x",
                    "param": "n",
                }
            },
            UpstreamError("bad", "invalid_request_error", "x", "n", None),
            id="openai",
        ),
        pytest.param(
            INFERENCE_API_422,
            UpstreamError(
                "One of the parameters contain invalid values. (response_format)",
                None,
                "parameter_not_supported",
                "response_format",
                None,
            ),
            id="inference-api-flat",
        ),
        pytest.param(
            {"error": {**INFERENCE_API_422, "detail": {"loc": ["body", "logprobs"], "input": 1}}},
            UpstreamError(
                "One of the parameters contain invalid values. (logprobs)",
                None,
                "parameter_not_supported",
                "logprobs",
                None,
            ),
            id="inference-api-wrapped",
        ),
        pytest.param(
            {
                "detail": [
                    {"type": "extra_forbidden", "loc": ["body", "user"], "msg": "Extra inputs"},
                    {"type": "missing", "loc": ["body", "messages", 0, "content"], "msg": "Req"},
                ]
            },
            UpstreamError(
                "user: Extra inputs; messages[0].content: Req",
                None,
                "extra_forbidden",
                "user",
                None,
            ),
            id="fastapi",
        ),
        pytest.param(
            {"detail": "Not Found"}, UpstreamError("Not Found", None, None, None, None), id="detail"
        ),
        pytest.param(
            {"error": ["Input should be 'user'", "Extra inputs are not permitted"]},
            UpstreamError(
                "Input should be 'user'; Extra inputs are not permitted", None, None, None, None
            ),
            id="list",
        ),
        pytest.param(
            {"error": "Unauthorized", "message": "Access token is missing", "status": 401},
            UpstreamError("Access token is missing; Unauthorized", None, None, None, None),
            id="description",
        ),
        pytest.param(
            {"object": "error", "message": "x", "type": "BadRequestError", "code": 400},
            UpstreamError("x", "BadRequestError", "400", None, None),
            id="vllm",
        ),
        pytest.param({}, UpstreamError(None, None, None, None, None), id="empty"),
    ],
)
def test_each_shape_is_read(body: dict[str, Any], expected: UpstreamError) -> None:
    assert read_error(body) == expected


def test_a_passed_through_422_is_openais_envelope_with_its_status() -> None:
    error = caller_error(422, INFERENCE_API_422, {})
    assert error.status == 422
    assert error.body() == {
        "error": {
            "message": "One of the parameters contain invalid values. (response_format)",
            "type": "invalid_request_error",
            "code": "parameter_not_supported",
            "param": "response_format",
        }
    }


def test_azures_innererror_is_kept_and_its_status_is_not() -> None:
    inner = {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {}}
    body = {"error": {"message": "filtered", "code": "content_filter", "status": 400}}
    error = caller_error(400, {"error": {**body["error"], "innererror": inner}}, {})
    assert error.body()["error"] == {
        "message": "filtered",
        "type": "invalid_request_error",
        "code": "content_filter",
        "param": None,
        "innererror": inner,
    }


def test_a_5xx_keeps_what_the_upstream_said_in_its_message() -> None:
    error = caller_error(500, {"detail": [{"loc": ["body"], "msg": "engine crashed"}]}, {})
    assert (error.status, error.code) == (502, "upstream_error")
    assert "engine crashed" in error.message
