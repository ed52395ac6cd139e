"""The Foundry Models inference route, `POST /models/chat/completions?api-version=...`.

What sets it apart from the OpenAI routes (Azure AI Model Inference API, documented at
https://learn.microsoft.com/azure/ai-foundry/model-inference/reference/reference-model-inference-api):
- `api-version` is required and must be one the API has;
- the deployment is the body's `model`; an unknown one is `unknown_model`, not `DeploymentNotFound`;
- body fields outside the API's own parameters are refused unless the `extra-parameters` header
  says `pass-through` (hand them to the model) or `drop` (remove them).
"""

from __future__ import annotations

from typing import Any

from devtools.emulator.errors import ApiError

API_VERSIONS = frozenset({"2024-05-01-preview", "2024-08-01-preview", "2025-04-01", "2025-05-01"})
# The chat-completions parameters of the Model Inference API itself; anything else is "extra".
KNOWN_PARAMETERS = frozenset(
    {
        "messages",
        "model",
        "frequency_penalty",
        "presence_penalty",
        "temperature",
        "top_p",
        "max_tokens",
        "response_format",
        "stop",
        "stream",
        "tools",
        "tool_choice",
        "seed",
        "modalities",
    }
)
EXTRA_PARAMETERS = ("error", "drop", "pass-through")


def _error(status: int, code: str, message: str) -> ApiError:
    return ApiError(status, {"error": {"code": code, "message": message, "status": status}})


def check_api_version(query: dict[str, str]) -> None:
    version = query.get("api-version")
    if not version:
        raise _error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if version not in API_VERSIONS:
        raise _error(
            400,
            "UnsupportedApiVersion",
            f"Unsupported api-version '{version}'. Supported versions: "
            + ", ".join(sorted(API_VERSIONS)),
        )


def extra_parameters_mode(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == b"extra-parameters":
            mode = value.decode("latin-1").strip().lower()
            if mode not in EXTRA_PARAMETERS:
                raise _error(
                    400,
                    "Invalid input",
                    f"Invalid value '{mode}' for header 'extra-parameters'. Expected one of: "
                    + ", ".join(EXTRA_PARAMETERS),
                )
            return mode
    return "error"


def apply_extra_parameters(body: dict[str, Any], mode: str) -> dict[str, Any]:
    """The body the model sees: unchanged (pass-through), without the extras (drop), or 400."""
    extra = sorted(set(body) - KNOWN_PARAMETERS)
    if not extra or mode == "pass-through":
        return body
    if mode == "drop":
        return {k: v for k, v in body.items() if k in KNOWN_PARAMETERS}
    raise _error(
        400,
        "Invalid input",
        f"Extra parameters {extra} are not allowed when extra-parameters is not set or set to be "
        "'error'. Set extra-parameters to 'pass-through' to pass to the model.",
    )


def missing_model() -> ApiError:
    return _error(400, "Invalid input", "Missing required parameter: 'model'.")


def unknown_model(name: object) -> ApiError:
    return _error(400, "unknown_model", f"Unknown model: {name}")


def parameter_not_supported(param: str, value: Any) -> ApiError:
    """What a model answers on this route for a parameter it does not implement (422).

    Flat, without the `{"error": ...}` wrapper this route's 400s have: the body "Azure AI Model
    Inference API" shows under *Models with disparate set of capabilities*.
    """
    return ApiError(
        422,
        {
            "status": 422,
            "code": "parameter_not_supported",
            "detail": {"loc": ["body", param], "input": value},
            "message": "One of the parameters contain invalid values.",
        },
    )


def tools_not_supported() -> ApiError:
    """A tools request to a Foundry model without tool calling (Phi-4, Phi-4-mini).

    Learn documents only that these models have "Tool calling: No" (Foundry Models from partners
    and community), not the error. The message is what Foundry was seen answering for a Phi-4
    model asked for tools on this route (a 400 passing on the serving engine's own text,
    microsoft/PhiCookBook#289); the envelope is this route's own, as for its other 400s.
    """
    return _error(
        400,
        "BadRequestError",
        '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
    )
