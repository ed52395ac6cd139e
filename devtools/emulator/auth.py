"""Who may call the model endpoints: the API key, or a bearer token this emulator issued."""

from __future__ import annotations

import hmac

from devtools.emulator import errors
from devtools.emulator.state import EmulatorState

REDACTED = b"<redacted>"


def credentials(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, str | None]:
    """(api-key header, bearer token) as sent; either may be None."""
    api_key = bearer = None
    for name, value in headers:
        if name == b"api-key":
            api_key = value.decode("latin-1")
        elif name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                bearer = token.strip()
    return api_key, bearer


def auth_kind(api_key: str | None, bearer: str | None) -> str:
    if api_key is not None:
        return "api-key"
    return "bearer" if bearer is not None else "none"


def check(
    state: EmulatorState, api_key: str | None, bearer: str | None, key_as_bearer: bool
) -> None:
    """Raise 401 unless the caller holds the key or a live emulator-issued token.

    `key_as_bearer`: the v1 API also takes the key as `Authorization: Bearer <key>`, which is
    what the plain openai SDK sends.
    """
    expected = state.config.api_key
    if api_key is not None:
        if expected and hmac.compare_digest(api_key.encode(), expected.encode()):
            return
        raise errors.unauthorized(bearer=False)
    if bearer is not None:
        if state.tokens.is_valid(bearer):
            return
        if key_as_bearer and expected and hmac.compare_digest(bearer.encode(), expected.encode()):
            return
        raise errors.unauthorized(bearer=True)
    raise errors.unauthorized(bearer=False)


def redact(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Lower-cased headers for the request log, with keys and tokens hidden."""
    out: dict[str, str] = {}
    for name, value in headers:
        if name == b"api-key" or name == b"x-identity-header":
            value = REDACTED
        elif name == b"authorization":
            scheme = value.split(b" ", 1)[0]
            value = scheme + b" " + REDACTED
        out[name.decode("latin-1")] = value.decode("latin-1")
    return out
