"""What an upstream outcome means, in one place: retry, fail over, drop a parameter or pass on.

Every attempt that does not answer ends in an `AttemptFailed`: the error the caller would see,
what to do next (`action`), and what it says about the deployment's health (`health`, which the
breaker reads). `resilience.py` acts on these; it never looks at a status code itself.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shared.api import ApiError
from shared.settings import Tier
from shared.upstream.error_body import read_error

Action = Literal["retry", "fail_over", "drop_param", "pass_through"]
"""retry: worth another try on the same deployment; fail_over: only another deployment can help;
drop_param: the model refused one parameter, ask it again without; pass_through: the caller's
own error (content filter, bad request), neither retried nor failed over."""

Health = Literal["fault", "throttled", "answered", "neutral"]
"""fault: counts against the breaker; throttled: a 429, a cooldown but no fault; answered: the
deployment works (it judged the request); neutral: says nothing (auth, cancelled by us)."""

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Codes with which a model rejects a parameter another model accepts: drop it, ask again.
# Azure OpenAI answers 400 `unsupported_parameter` / `unsupported_value` naming it in `param`;
# the Foundry Models inference API answers 422 `parameter_not_supported` naming it in
# `detail.loc` ("Azure AI Model Inference API", "Models with disparate set of capabilities":
# https://learn.microsoft.com/azure/ai-foundry/model-inference/reference/reference-model-inference-api).
REJECTED_PARAM_CODES = frozenset(
    {"unsupported_parameter", "unsupported_value", "parameter_not_supported"}
)
UNDROPPABLE = frozenset({"messages", "input", "model", "stream"})
# Headers that tell a client when to come back; passed on with a 429.
RETRY_HEADERS = ("retry-after", "retry-after-ms", "x-ms-retry-after-ms")


@dataclass(eq=False)
class AttemptFailed(Exception):
    """One attempt at one deployment did not answer; what that means for the next step."""

    error: ApiError
    action: Action
    health: Health
    wait_s: float | None = None  # what the deployment asked us to wait
    needs_larger_context: bool = False  # fail over only to a larger context window
    retry_when_last: bool = False  # a timeout: fail over, or retry if no deployment is left
    param: str | None = None  # for drop_param
    dropped: tuple[str, ...] = ()  # parameters dropped on this deployment before this failure

    def __post_init__(self) -> None:
        super().__init__(self.error.message)

    @property
    def auth(self) -> bool:
        return self.error.code == "upstream_auth_failed"


class DeploymentError(ApiError):
    """An error one deployment gave, as the caller gets it (its own 4xx passed through, or the
    last failure when nothing answered), with the tier that gave it and what was changed on the
    way: the caller's x-router-* headers say who refused, as they say who answered.
    `refused`: the deployment answered and refused the request itself (the caller's own 4xx):
    asked again, there or elsewhere, it would be refused again."""

    def __init__(
        self, error: ApiError, tier: Tier, changes: tuple[str, ...], *, refused: bool = False
    ) -> None:
        super().__init__(
            error.status,
            error.message,
            type=error.type,
            code=error.code,
            param=error.param,
            headers=error.headers,
            extra=error.extra,
        )
        self.tier = tier
        self.changes = changes
        self.refused = refused


def from_status(
    status: int, body: dict[str, Any], headers: Mapping[str, str], sent: Mapping[str, Any]
) -> AttemptFailed:
    """A non-2xx answer to the body `sent`."""
    error = caller_error(status, body, headers)
    if status in RETRY_STATUSES:
        throttled = status == 429
        return AttemptFailed(
            error,
            "retry",
            "throttled" if throttled else "fault",
            wait_s=upstream_wait_s(headers),
        )
    if status in (401, 403):
        return AttemptFailed(error, "fail_over", "neutral")  # another account may accept us
    if error.code == "context_length_exceeded":
        return AttemptFailed(error, "fail_over", "answered", needs_larger_context=True)
    param = error.param
    if error.code in REJECTED_PARAM_CODES and param in sent and param not in UNDROPPABLE:
        return AttemptFailed(error, "drop_param", "answered", param=param)
    return AttemptFailed(error, "pass_through", "answered")


def invalid_reply(status: int, problem: str) -> AttemptFailed:
    """A 2xx that is not the API's answer (a proxy's HTML page, JSON without `choices`)."""
    error = ApiError(
        502,
        f"The model deployment answered HTTP {status} with {problem}.",
        type="api_error",
        code="upstream_invalid_reply",
    )
    return AttemptFailed(error, "retry", "fault")


def timed_out(what: str) -> AttemptFailed:
    """No (whole) answer within the attempt's limit: fail over at once while another deployment
    can answer (a hung deployment rarely recovers within a retry), retry when none is left."""
    error = ApiError(504, f"The model deployment {what}.", type="api_error", code="timeout")
    return AttemptFailed(error, "fail_over", "fault", retry_when_last=True)


def too_large(limit_bytes: int) -> AttemptFailed:
    """An answer larger than the deployment can give to this request: something in the path
    is broken; another deployment may answer."""
    error = ApiError(
        502,
        f"The model deployment's answer is over {limit_bytes} bytes, more than it can write "
        "for this request.",
        type="api_error",
        code="upstream_answer_too_large",
    )
    return AttemptFailed(error, "fail_over", "fault")


def unreachable(failure: str) -> AttemptFailed:
    """A connection refused, reset or broken mid-answer."""
    error = ApiError(
        502,
        f"Could not reach the model deployment ({failure}).",
        type="api_error",
        code="upstream_unreachable",
    )
    return AttemptFailed(error, "retry", "fault")


def empty_stream() -> AttemptFailed:
    error = ApiError(502, "The model deployment sent an empty stream.", type="api_error")
    return AttemptFailed(error, "retry", "fault")


def caller_error(status: int, body: dict[str, Any], headers: Mapping[str, str]) -> ApiError:
    """The error the caller sees for an upstream status, in OpenAI's envelope whatever the
    upstream's shape (error_body.py): its own 4xx keep their status and code, the rest becomes a
    5xx that names what failed."""
    error = read_error(body)
    message = error.message or f"The model deployment answered HTTP {status}."
    code = error.code
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
        # Azure OpenAI's content-filter results: part of its envelope, read by its clients.
        extra = {"innererror": error.innererror} if error.innererror is not None else {}
        kind = error.type or "invalid_request_error"
        return ApiError(status, message, type=kind, code=code, param=error.param, extra=extra)
    return ApiError(
        502,
        f"The model deployment failed (HTTP {status}): {message}",
        type="api_error",
        code="upstream_error",
    )


def upstream_wait_s(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The wait a deployment asked for, in seconds, from the most precise header it sent."""
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) / 1000)
            except ValueError:
                pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def remaining_tokens(headers: Mapping[str, str]) -> int | None:
    """What the deployment says is left of its token quota (x-ratelimit-remaining-tokens)."""
    value = headers.get("x-ratelimit-remaining-tokens")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
