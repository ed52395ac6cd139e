"""The classification rule, as a pure function and through the HTTP API."""

from __future__ import annotations

import httpx
import pytest

from devtools.emulator.classify import classify, is_classification_prompt
from tests.emulator.helpers import chat

SYSTEM = "Classify the request. Reply with exactly one word: simple or complex."


@pytest.mark.parametrize(
    "text",
    [
        "What is the capital of France?",
        "hi",
        "Translate 'good morning' to Spanish",
        "What is a planet?",
        "Is my computer on?",
        "When is 2024-01-05?",
        "Who wrote Hamlet?",
    ],
)
def test_simple(text: str) -> None:
    assert classify(text) == "simple"


@pytest.mark.parametrize(
    "text",
    [
        "Plan a three-week trip through Japan",
        "Give me the steps to set up a VPN",
        "Design a URL shortener",
        "Implement quicksort in Rust",
        "Write a function that reverses a list",
        "Debug this stack trace",
        "Calculate the compound interest",
        "Solve for x",
        "Prove that sqrt(2) is irrational",
        "Analyze the quarterly results",
        "Compare Postgres and MySQL",
        "Evaluate this strategy",
        "Optimise my SQL query",
        "Explain why the sky is blue",
        "What are the trade-offs of microservices?",
        "Write an essay about rivers",
        "Migrate our database to Azure",
        "Refactor this class",
        "What is 12*7?",
        "what is 3 + 4",
        "10 - 2",
        " ".join(["word"] * 61),
    ],
)
def test_complex(text: str) -> None:
    assert classify(text) == "complex"


def test_sixty_words_is_still_simple() -> None:
    assert classify(" ".join(["word"] * 60)) == "simple"


def test_classification_prompt_needs_both_words() -> None:
    assert is_classification_prompt("Answer SIMPLE or Complex.")
    assert not is_classification_prompt("Keep it simple.")
    assert not is_classification_prompt("simplest or complexity")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("What is the capital of France?", "simple"), ("Design a distributed cache", "complex")],
)
@pytest.mark.parametrize("deployment", ["Phi-4-mini", "gpt-5"])
def test_classification_answers_exactly_one_word(
    client: httpx.Client, deployment: str, text: str, expected: str
) -> None:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}]
    body = {"max_completion_tokens": 10} if deployment == "gpt-5" else {"max_tokens": 10}
    data = chat(client, deployment, messages=messages, **body).json()
    assert data["choices"][0]["message"]["content"] == expected
    assert data["choices"][0]["finish_reason"] == "stop"


def test_classifies_the_last_user_message(client: httpx.Client) -> None:
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Design a compiler"},
        {"role": "assistant", "content": "complex"},
        {"role": "user", "content": "Who wrote Hamlet?"},
    ]
    data = chat(client, messages=messages).json()
    assert data["choices"][0]["message"]["content"] == "simple"


def test_without_the_system_words_it_is_a_normal_answer(client: httpx.Client) -> None:
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Design a compiler"},
    ]
    data = chat(client, messages=messages).json()
    assert data["choices"][0]["message"]["content"].startswith("[Phi-4-mini] ")
