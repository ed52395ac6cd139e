import orjson
import pytest

from shared.api import (
    MAX_DEPTH,
    WRITE_LIMIT,
    ApiError,
    content_text,
    last_user_text,
    param_path,
    parse_chat_request,
    parse_json_object,
)

OK_MESSAGES = '[{"role": "user", "content": "hi"}]'


@pytest.mark.parametrize(
    ("raw", "code", "param"),
    [
        ("", "invalid_json", None),
        ("{", "invalid_json", None),
        ("[1]", "invalid_json", None),
        ("{}", "missing_required_parameter", "model"),
        ('{"model": "auto"}', "missing_required_parameter", "messages"),
        ('{"model": "auto", "messages": []}', "invalid_value", "messages"),
        ('{"model": "auto", "messages": "hi"}', "invalid_type", "messages"),
        ('{"model": 3, "messages": ' + OK_MESSAGES + "}", "invalid_type", "model"),
        ('{"model": "auto", "messages": [{"role": "x"}]}', "invalid_value", "messages[0].role"),
        (
            '{"model": "auto", "messages": [{"role": "user", "content": 5}]}',
            "invalid_type",
            "messages[0].content",
        ),
        (
            '{"model": "auto", "stream": "yes", "messages": ' + OK_MESSAGES + "}",
            "invalid_type",
            "stream",
        ),
        (
            '{"model": "auto", "temperature": 3, "messages": ' + OK_MESSAGES + "}",
            "invalid_value",
            "temperature",
        ),
        (
            '{"model": "auto", "max_tokens": 0, "messages": ' + OK_MESSAGES + "}",
            "invalid_value",
            "max_tokens",
        ),
    ],
)
def test_bad_bodies_are_400_with_the_param(raw: str, code: str, param: str | None) -> None:
    with pytest.raises(ApiError) as failure:
        parse_chat_request(raw.encode())
    error = failure.value.body()["error"]
    assert failure.value.status == 400
    assert (error["code"], error["param"]) == (code, param)
    assert error["type"] == "invalid_request_error"
    assert error["message"]


def test_valid_body_keeps_unknown_fields_in_the_raw_dict() -> None:
    message = b'{"role": "user", "content": "", "name": "a"}'
    raw = b'{"model": "auto", "seed": 7, "messages": [' + message + b"]}"
    chat, body = parse_chat_request(raw)
    assert chat.model == "auto"
    assert body["seed"] == 7
    assert body["messages"][0]["name"] == "a"


@pytest.mark.parametrize(
    ("message", "param"),
    [
        ('{"role": "user"}', "messages[0].content"),
        ('{"role": "assistant"}', "messages[0].content"),
        ('{"role": "tool", "content": "42"}', "messages[0].tool_call_id"),
    ],
)
def test_message_rules_across_fields(message: str, param: str) -> None:
    with pytest.raises(ApiError) as failure:
        parse_chat_request(f'{{"model": "auto", "messages": [{message}]}}'.encode())
    assert failure.value.param == param


def test_assistant_tool_call_needs_no_content() -> None:
    call = '{"role": "assistant", "tool_calls": [{"id": "1"}]}'
    chat, _ = parse_chat_request(f'{{"model": "auto", "messages": [{call}]}}'.encode())
    assert chat.messages[0].content is None


def test_whole_floats_are_integers_and_forwarded_as_such() -> None:
    raw = b'{"model": "auto", "n": 2.0, "messages": [{"role": "user", "content": "x"}]}'
    chat, body = parse_chat_request(raw)
    assert chat.n == 2
    assert body["n"] == 2
    assert isinstance(body["n"], int)


def test_stream_options_need_stream() -> None:
    raw = b'{"model": "auto", "stream_options": {}, "messages": [{"role": "user", "content": "x"}]}'
    with pytest.raises(ApiError) as failure:
        parse_chat_request(raw)
    assert failure.value.param == "stream_options"


def test_text_of_messages() -> None:
    parts = [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {}}, {"text": "b"}]
    assert content_text(parts) == "a\nb"
    messages = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "x"},
        {"role": "user", "content": parts},
    ]
    assert last_user_text(messages) == "a\nb"
    assert last_user_text([{"role": "system", "content": "s"}]) == ""


def nested(levels: int) -> bytes:
    """A JSON object whose deepest value sits `levels` objects and arrays down."""
    return b'{"a": ' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"


def test_nesting_is_taken_to_the_limit_and_refused_beyond() -> None:
    assert parse_json_object(nested(MAX_DEPTH))
    assert parse_json_object(b'{"wide": [' + b"[], " * 10 * MAX_DEPTH + b"[]]}")
    with pytest.raises(ApiError) as caught:
        parse_json_object(nested(MAX_DEPTH + 1))
    assert (caught.value.status, caught.value.code) == (400, "invalid_json")


def test_write_limit_is_orjsons() -> None:
    value: object = []
    for _ in range(WRITE_LIMIT - 1):
        value = [value]
    assert orjson.dumps(value)
    with pytest.raises(orjson.JSONEncodeError):
        orjson.dumps([value])


def test_param_paths_put_list_positions_in_brackets_as_openai_does() -> None:
    assert param_path(["messages", 2, "tool_calls", 0, "type"]) == "messages[2].tool_calls[0].type"
    assert param_path(["input", 2, "content", 0]) == "input[2].content[0]"
    assert param_path(["tool_choice", "function", "name"]) == "tool_choice.function.name"
    assert param_path(["model"]) == "model"
