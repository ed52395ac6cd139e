"""OpenAI chat messages -> the GenAI conventions' message structure (shared/genai_content.py)."""

from __future__ import annotations

from shared.genai_content import StreamedOutput, input_messages, output_messages


def test_text_system_user_and_named_messages() -> None:
    assert input_messages(
        [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi", "name": "ana"},
        ]
    ) == [
        {"role": "system", "parts": [{"type": "text", "content": "be brief"}]},
        {"role": "user", "parts": [{"type": "text", "content": "hi"}], "name": "ana"},
    ]


def test_content_arrays_keep_every_part() -> None:
    (message,) = input_messages(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": "https://x/cat.png"}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    {"type": "input_audio", "input_audio": {"data": "BBBB", "format": "wav"}},
                    {"type": "file", "file": {"file_id": "f1"}},
                ],
            }
        ]
    )
    assert message["parts"] == [
        {"type": "text", "content": "what is this?"},
        {"type": "uri", "modality": "image", "uri": "https://x/cat.png"},
        {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "AAAA"},
        {"type": "blob", "modality": "audio", "mime_type": "audio/wav", "content": "BBBB"},
        {"type": "file", "file": {"file_id": "f1"}},  # a generic part: nothing is dropped
    ]


def test_tool_calls_and_tool_results() -> None:
    messages = input_messages(
        [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "rain"},
        ]
    )
    assert messages == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "weather",
                    "arguments": {"city": "Oslo"},
                }
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_1", "response": "rain"}],
        },
    ]


def test_output_messages_carry_the_finish_reason() -> None:
    assert output_messages(
        [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "hello"},
                "finish_reason": "stop",
            }
        ]
    ) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "hello"}],
            "finish_reason": "stop",
        }
    ]


def test_streamed_output_assembles_text_and_tool_call_fragments() -> None:
    out = StreamedOutput()
    out.add(0, {"role": "assistant", "content": "Let me "})
    out.add(0, {"content": "check."})
    out.add(
        0,
        {"tool_calls": [{"index": 0, "id": "c9", "function": {"name": "we", "arguments": '{"ci'}}]},
    )
    out.add(
        0, {"tool_calls": [{"index": 0, "function": {"name": "ather", "arguments": 'ty": 1}'}}]}
    )
    assert out.messages({0: "tool_calls"}) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Let me check."},
                {"type": "tool_call", "id": "c9", "name": "weather", "arguments": {"city": 1}},
            ],
            "finish_reason": "tool_calls",
        }
    ]


def test_not_a_list_is_no_messages() -> None:
    assert input_messages("hi") == []
    assert output_messages(None) == []


def test_responses_input_and_output_items() -> None:
    from shared.genai_content import response_input, response_output

    assert response_input("hi") == [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
    assert response_input(
        [
            {"role": "user", "content": [{"type": "input_text", "text": "weather?"}]},
            {"type": "function_call", "call_id": "c1", "name": "weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "sun"},
        ]
    ) == [
        {"role": "user", "parts": [{"type": "text", "content": "weather?"}]},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "c1", "name": "weather", "arguments": {}}],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "sun"}]},
    ]
    answer = {
        "status": "completed",
        "output": [
            {"type": "reasoning", "summary": []},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Sunny."}],
            },
        ],
    }
    assert response_output(answer) == [
        {
            "role": "assistant",
            "parts": [{"type": "reasoning", "summary": []}],
            "finish_reason": "stop",
        },
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Sunny."}],
            "finish_reason": "stop",
        },
    ]
