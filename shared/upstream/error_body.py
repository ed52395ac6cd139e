"""Any upstream error body, read into the fields of OpenAI's error envelope.

Not every route Foundry serves answers errors in OpenAI's `{"error": {"message", "type",
"code", "param"}}`. The shapes read here:

- OpenAI's and Azure OpenAI's own envelope, with Azure's `innererror` (content filter results),
  which is kept: Azure OpenAI's clients read it;
- the Azure AI Model Inference API's (Foundry Models, `/models/chat/completions`): flat fields
  `code`, `message`, `status` (the HTTP status again), `error` (a description) and, on a 422
  `UnprocessableContentError`, `detail: {"loc": ["body", param], "value"}` naming the offending
  parameter (Microsoft Learn, "Reference: Chat Completions" and "Azure AI Model Inference API",
  "Models with disparate set of capabilities"), also seen wrapped in `{"error": {...}}`;
- a model server's FastAPI validation error, `{"detail": [{"loc", "msg", "type"}, ...]}` or
  `{"detail": "..."}`, and a list of messages `{"error": ["...", ...]}` (both seen passed on by
  serverless Foundry models: BerriAI/litellm#3899, #4815).

The caller gets one envelope whatever the shape: `param` from the offending field's path, the
upstream's message kept and every problem it listed added to it. Left out: `status` (the HTTP
status says it) and the offending value (`input` / `value`: the caller's own, possibly long).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.api import param_path

# A FastAPI location starts with where the field was (body, query, header), not its name.
LOCATIONS = frozenset({"body", "query", "header", "path"})


@dataclass(frozen=True, slots=True)
class UpstreamError:
    message: str | None
    type: str | None
    code: str | None
    param: str | None
    innererror: dict[str, Any] | None


def read_error(body: Mapping[str, Any]) -> UpstreamError:
    given = body.get("error")
    fields: Mapping[str, Any] = given if isinstance(given, dict) else body
    said = [_text(fields.get("message"))]
    if isinstance(given, str):  # the Model Inference API's `error`: a description
        said.append(given)
    elif isinstance(given, list):
        said.extend(_text(item) for item in given)
    detail = fields.get("detail", body.get("detail"))
    problems = _problems(detail)
    if isinstance(detail, str):
        said.append(detail)
    message = "; ".join(dict.fromkeys(s for s in said if s)) or None
    listed = [p.text for p in problems if p.text and not (message and p.text in message)]
    if listed:
        message = f"{message} ({'; '.join(listed)})" if message else "; ".join(listed)
    code = fields.get("code")
    param = fields.get("param")
    kind = fields.get("type")
    inner = fields.get("innererror")
    first = problems[0] if problems else None
    return UpstreamError(
        message=message,
        type=kind if isinstance(kind, str) and kind else None,
        code=str(code) if code is not None else (first.kind if first else None),
        param=param if isinstance(param, str) else (first.path if first else None),
        innererror=inner if isinstance(inner, dict) else None,
    )


@dataclass(frozen=True, slots=True)
class _Problem:
    path: str | None  # the offending field as OpenAI's `param` names it (messages[0].content)
    text: str | None  # what the upstream said of it, with its path
    kind: str | None  # FastAPI's error type (missing, extra_forbidden, ...)


def _problems(detail: Any) -> list[_Problem]:
    items = [detail] if isinstance(detail, dict) else detail if isinstance(detail, list) else []
    problems = []
    for item in items:
        if not isinstance(item, dict):
            continue
        path = _path(item.get("loc"))
        msg = _text(item.get("msg"))
        text = f"{path}: {msg}" if path and msg else msg or path
        kind = item.get("type")
        problems.append(_Problem(path, text, kind if isinstance(kind, str) else None))
    return problems


def _path(loc: Any) -> str | None:
    if not isinstance(loc, list | tuple) or not loc:
        return None
    parts = [part if isinstance(part, int) else str(part) for part in loc]
    if len(parts) > 1 and parts[0] in LOCATIONS:
        parts = parts[1:]
    return param_path(parts)


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
