"""Error bodies in the shapes Azure OpenAI / Foundry answer with."""

from __future__ import annotations

from typing import Any

import orjson

API_VERSION_FOR_MESSAGES = "2024-10-21"


class ApiError(Exception):
    """An HTTP error answer: status, JSON body and extra headers."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}

    def encoded(self) -> bytes:
        return orjson.dumps(self.body)


def invalid_request(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    """OpenAI's 400 envelope."""
    return ApiError(
        400,
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": param,
                "code": code,
            }
        },
    )


def invalid_json() -> ApiError:
    return invalid_request(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
        "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
        "sent was not valid JSON.)"
    )


def missing_api_version() -> ApiError:
    return ApiError(
        400,
        {
            "error": {
                "code": "MissingApiVersionParameter",
                "message": "The api-version query parameter (?api-version=) is required for all "
                "requests.",
            }
        },
    )


def unauthorized(bearer: bool) -> ApiError:
    if bearer:
        message = (
            "Access token is missing, invalid, audience is incorrect "
            "(https://cognitiveservices.azure.com), or have expired."
        )
    else:
        message = (
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
            "provide a valid key for an active subscription and use a correct regional API "
            "endpoint for your resource."
        )
    return ApiError(401, {"error": {"code": "401", "message": message}})


def deployment_not_found() -> ApiError:
    return ApiError(
        404,
        {
            "error": {
                "code": "DeploymentNotFound",
                "message": "The API deployment for this resource does not exist. If you created "
                "the deployment within the last 5 minutes, please wait a moment and try again.",
            }
        },
    )


def permission_denied() -> ApiError:
    return ApiError(
        403,
        {
            "error": {
                "code": "PermissionDenied",
                "message": "The principal `00000000-0000-0000-0000-00000000e4a1` lacks the "
                "required data action `Microsoft.CognitiveServices/accounts/OpenAI/deployments/"
                "chat/completions/action` to perform `POST /openai/deployments/{deployment-id}/"
                "chat/completions` operation.",
            }
        },
    )


def unsupported_parameter(param: str, hint: str | None = None) -> ApiError:
    message = f"Unsupported parameter: '{param}' is not supported with this model."
    if hint:
        message += f" {hint}"
    return invalid_request(message, param=param, code="unsupported_parameter")


def tools_not_supported() -> ApiError:
    """A tools request to a model without tool calling, on the OpenAI routes.

    Microsoft Learn documents which models call tools, not the error for one that does not; this
    is the closest documented shape, Azure OpenAI's 400 for a parameter the model lacks (as for
    `logprobs`), naming `tools`.
    """
    return unsupported_parameter("tools", "This model does not support tool calling.")


def unsupported_value(param: str, value: Any) -> ApiError:
    return invalid_request(
        f"Unsupported value: '{param}' does not support {value} with this model. Only the "
        "default (1) value is supported.",
        param=param,
        code="unsupported_value",
    )


def context_length(limit: int, prompt: int, completion: int | None) -> ApiError:
    if completion:
        detail = (
            f"However, you requested {prompt + completion} tokens ({prompt} in the messages, "
            f"{completion} in the completion)."
        )
    else:
        detail = f"However, your messages resulted in {prompt} tokens."
    return invalid_request(
        f"This model's maximum context length is {limit} tokens. {detail} Please reduce the "
        "length of the messages or completion.",
        param="messages",
        code="context_length_exceeded",
    )


CONTENT_FILTER_CATEGORIES = ("hate", "jailbreak", "self_harm", "sexual", "violence")


def content_filter(category: str = "hate", severity: str = "high") -> ApiError:
    result: dict[str, Any] = {}
    for name in CONTENT_FILTER_CATEGORIES:
        if name == "jailbreak":
            result[name] = {"filtered": name == category, "detected": name == category}
        elif name == category:
            result[name] = {"filtered": True, "severity": severity}
        else:
            result[name] = {"filtered": False, "severity": "safe"}
    return ApiError(
        400,
        {
            "error": {
                "message": "The response was filtered due to the prompt triggering Azure "
                "OpenAI's content management policy. Please modify your prompt and retry. To "
                "learn more about our content filtering policies please read our documentation: "
                "https://go.microsoft.com/fwlink/?linkid=2198766",
                "type": None,
                "param": "prompt",
                "code": "content_filter",
                "status": 400,
                "innererror": {
                    "code": "ResponsibleAIPolicyViolation",
                    "content_filter_result": result,
                },
            }
        },
    )


def rate_limited(
    retry_after_s: float | None,
    retry_after_header: str | None,
    retry_after_ms_header: str | None,
    remaining_tokens: int = 0,
    remaining_requests: int = 0,
) -> ApiError:
    seconds = retry_after_header or "60"
    message = (
        "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version "
        f"{API_VERSION_FOR_MESSAGES} have exceeded token rate limit of your current AIServices "
        f"S0 pricing tier. Please retry after {seconds} seconds. Please contact Azure support "
        "service if you would like to further increase the default rate limit."
    )
    headers = {
        "x-ratelimit-remaining-tokens": str(max(remaining_tokens, 0)),
        "x-ratelimit-remaining-requests": str(max(remaining_requests, 0)),
    }
    if retry_after_header is not None:
        headers["retry-after"] = retry_after_header
    if retry_after_ms_header is not None:
        headers["retry-after-ms"] = retry_after_ms_header
    return ApiError(429, {"error": {"code": "429", "message": message}}, headers)


_STATUS_ERRORS = {
    500: ("InternalServerError", "The server had an error while processing your request."),
    502: ("BadGateway", "Bad gateway."),
    503: (
        "ServiceUnavailable",
        "The service is temporarily unable to process your request. Please try again later.",
    ),
    504: ("GatewayTimeout", "The operation was timeout."),
}


def server_error(status: int, retry_after_s: float | None = None) -> ApiError:
    code, message = _STATUS_ERRORS.get(status, ("InternalServerError", "Server error."))
    headers = {}
    if retry_after_s is not None:
        headers["retry-after"] = str(max(0, round(retry_after_s)))
        headers["retry-after-ms"] = str(max(0, round(retry_after_s * 1000)))
    return ApiError(status, {"error": {"code": code, "message": message}}, headers)
