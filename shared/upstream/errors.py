"""Upstream failures -> caller errors: caller-caused 4xx keep their code, the rest is 5xx."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from shared.api import ApiError

# Headers that tell a client when to come back; passed on with a 429.
RETRY_HEADERS = ("retry-after", "retry-after-ms", "x-ms-retry-after-ms")
# Fields of Azure's error object that carry no secret and help the caller (content filter details).
KEPT_FIELDS = ("innererror", "status")


def from_status(status: int, body: dict[str, Any], headers: Mapping[str, str]) -> ApiError:
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    message = str(error.get("message") or f"The model deployment answered HTTP {status}.")
    code = None if error.get("code") is None else str(error["code"])
    param = error.get("param") if isinstance(error.get("param"), str) else None
    if status in (401, 403):
        return ApiError(
            502,
            f"The router could not authenticate to the model deployment (HTTP {status}). "
            "Check the router's credential: with Entra auth the identity needs the "
            "'Cognitive Services User' role on the Foundry account; with key auth, check "
            "FOUNDRY_API_KEY.",
            type="api_error",
            code="upstream_auth_failed",
        )
    if status == 429:
        kept = {name: headers[name] for name in RETRY_HEADERS if name in headers}
        return ApiError(
            429, message, type="rate_limit_error", code=code or "rate_limit_exceeded", headers=kept
        )
    if 400 <= status < 500:
        extra = {k: error[k] for k in KEPT_FIELDS if k in error}
        kind = str(error.get("type") or "invalid_request_error")
        return ApiError(status, message, type=kind, code=code, param=param, extra=extra)
    return ApiError(
        502,
        f"The model deployment failed (HTTP {status}): {message}",
        type="api_error",
        code="upstream_error",
    )


def is_timeout(exc: httpx.HTTPError) -> bool:
    """A real timeout, not a connection error the aiohttp transport files under ConnectTimeout."""
    return isinstance(exc, httpx.TimeoutException) and (
        exc.__cause__ is None or isinstance(exc.__cause__, TimeoutError)
    )


def failure_name(exc: BaseException) -> str:
    """The name of what went wrong at the bottom (for telemetry's error.type)."""
    return type(exc.__cause__ or exc).__name__


def from_transport(exc: httpx.HTTPError) -> ApiError:
    if is_timeout(exc):
        return ApiError(
            504, "The model deployment did not answer in time.", type="api_error", code="timeout"
        )
    return ApiError(
        502,
        f"Could not reach the model deployment ({failure_name(exc)}).",
        type="api_error",
        code="upstream_unreachable",
    )
