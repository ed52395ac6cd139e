"""Structured output: `response_format` (chat) and `text.format` (Responses API) checked like
Azure OpenAI, answered with JSON that fits.

A model asked for `json_schema` answers with an instance of the schema; `json_object` with a JSON
object. The emulator builds that instance from the schema alone (deterministic, no model): the
subset OpenAI's strict mode allows (objects, arrays, strings, numbers, integers, booleans, null,
enum, const, anyOf, $ref into $defs), which is what the OpenAI SDK's `.parse()` and LangChain's
`with_structured_output` send. Tool-call arguments use the same generator.
"""

from __future__ import annotations

from typing import Any

import orjson

from devtools.emulator import errors

MAX_DEPTH = 8


def check_response_format(body: dict[str, Any]) -> dict[str, Any] | None:
    """The validated `response_format` of a body (None when absent or `text`); 400 like Azure."""
    fmt = body.get("response_format")
    if fmt is None:
        return None
    if not isinstance(fmt, dict) or fmt.get("type") not in ("text", "json_object", "json_schema"):
        raise errors.invalid_request(
            "Invalid value for 'response_format.type': expected one of 'text', 'json_object' or "
            "'json_schema'.",
            param="response_format.type",
            code="invalid_value",
        )
    kind = fmt["type"]
    if kind == "text":
        return None
    if kind == "json_object":
        # OpenAI refuses json_object unless the conversation asks for JSON.
        if "json" not in orjson.dumps(body.get("messages")).decode().lower():
            raise errors.invalid_request(
                "'messages' must contain the word 'json' in some form, to use 'response_format' "
                "of type 'json_object'.",
                param="messages",
                code=None,
            )
        return fmt
    spec = fmt.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise errors.invalid_request(
            "Missing required parameter: 'response_format.json_schema.name'.",
            param="response_format.json_schema.name",
            code="missing_required_parameter",
        )
    if not isinstance(spec.get("schema", {}), dict):
        raise errors.invalid_request(
            "Invalid type for 'response_format.json_schema.schema': expected an object.",
            param="response_format.json_schema.schema",
            code="invalid_type",
        )
    return fmt


def check_text_format(body: dict[str, Any]) -> dict[str, Any] | None:
    """The Responses API's `text.format`, checked like OpenAI's and given as the chat
    `response_format` it means (None when absent or `text`): the model answers alike."""
    text = body.get("text")
    if text is None:
        return None
    if not isinstance(text, dict):
        raise errors.invalid_request(
            "Invalid type for 'text': expected an object.", param="text", code="invalid_type"
        )
    fmt = text.get("format")
    if fmt is None:
        return None
    if not isinstance(fmt, dict) or fmt.get("type") not in ("text", "json_object", "json_schema"):
        raise errors.invalid_request(
            "Invalid value for 'text.format.type': expected one of 'text', 'json_object' or "
            "'json_schema'.",
            param="text.format.type",
            code="invalid_value",
        )
    if fmt["type"] == "text":
        return None
    if fmt["type"] == "json_object":
        asked = orjson.dumps([body.get("instructions"), body.get("input")]).decode().lower()
        if "json" not in asked:
            raise errors.invalid_request(
                "Response input messages must contain the word 'json' in some form to use "
                "'text.format' of type 'json_object'.",
                param="input",
                code=None,
            )
        return {"type": "json_object"}
    if not isinstance(fmt.get("name"), str):
        raise errors.invalid_request(
            "Missing required parameter: 'text.format.name'.",
            param="text.format.name",
            code="missing_required_parameter",
        )
    if not isinstance(fmt.get("schema", {}), dict):
        raise errors.invalid_request(
            "Invalid type for 'text.format.schema': expected an object.",
            param="text.format.schema",
            code="invalid_type",
        )
    spec = {key: fmt[key] for key in ("name", "schema", "strict", "description") if key in fmt}
    return {"type": "json_schema", "json_schema": spec}


def structured_text(fmt: dict[str, Any], seed_text: str) -> str:
    """The JSON text a model would answer with for this (validated) response_format."""
    if fmt["type"] == "json_object":
        return orjson.dumps({"answer": seed_text}).decode()
    schema = fmt["json_schema"].get("schema") or {"type": "object"}
    return orjson.dumps(instance(schema, seed_text)).decode()


def instance(schema: Any, text: str, root: Any = None, depth: int = 0) -> Any:
    """A value valid against `schema`; strings carry `text` so answers stay recognisable."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return None
    if "$ref" in schema:
        return instance(_resolve(root, schema["$ref"]), text, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            # Prefer a non-null option: `Optional[X]` should still show an X.
            chosen = next((o for o in options if _type_of(o, root) != "null"), options[0])
            return instance(chosen, text, root, depth + 1)
    kind = _type_of(schema, root)
    if kind == "object":
        props = schema.get("properties") or {}
        required = schema.get("required")
        names = list(props) if required is None else [n for n in props if n in required]
        return {name: instance(props[name], text, root, depth + 1) for name in names}
    if kind == "array":
        count = max(1, int(schema.get("minItems") or 1))
        return [instance(schema.get("items") or {}, text, root, depth + 1) for _ in range(count)]
    if kind == "integer":
        return int(schema.get("minimum") or 1)
    if kind == "number":
        return float(schema.get("minimum") or 1.0)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, text)


def _type_of(schema: Any, root: Any) -> str:
    if not isinstance(schema, dict):
        return "string"
    if "$ref" in schema:
        return _type_of(_resolve(root, schema["$ref"]), root)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    return str(kind)


def _resolve(root: Any, ref: str) -> Any:
    """`#/$defs/Name` (or any local JSON pointer) inside the root schema."""
    node = root
    parts = ref.removeprefix("#/").split("/") if ref.startswith("#/") else []
    for part in parts:
        if not isinstance(node, dict):
            return {}
        node = node.get(part.replace("~1", "/").replace("~0", "~"))
    return node if isinstance(node, dict) else {}


def _string(schema: dict[str, Any], text: str) -> str:
    fmt = schema.get("format")
    if fmt == "date-time":
        return "2025-01-01T00:00:00Z"
    if fmt == "date":
        return "2025-01-01"
    if fmt == "email":
        return "someone@example.com"
    if fmt in ("uri", "url"):
        return "https://example.com"
    if fmt == "uuid":
        return "00000000-0000-4000-8000-000000000000"
    value = text or "example"
    low = int(schema.get("minLength") or 0)
    high = schema.get("maxLength")
    if len(value) < low:
        value = value.ljust(low, "x")
    if isinstance(high, int):
        value = value[:high]
    return value
