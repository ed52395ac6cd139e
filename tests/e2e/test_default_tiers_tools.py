"""With the default tiers, tools never reach Phi-4-mini, which (as on Foundry) refuses them.

The emulator answers a tools request to Phi-4-mini with a 400 (tests/emulator/
test_tool_calling.py). The default table has a small tier that takes tools, gpt-5-nano: the
router's eligibility sends a simple turn that needs tools there (at the minimal reasoning effort
the tier asks for), a complex one to GPT-5, so a whole tool loop over the real openai client
never meets that 400. Only a pin to the small tier sends tools there, and gets that 400 back as
the caller's error.
"""

from __future__ import annotations

from typing import Any

import httpx
import openai

from tests.conftest import WEATHER_ASK as ASK
from tests.conftest import WEATHER_TOOL, Emulator

PLAN = (
    "Plan a three-step migration of our order history from MySQL to Postgres with no downtime, "
    "with the risks of each step."
)


def test_a_tool_loop_on_default_tiers_stays_small_and_never_sends_tools_to_phi(
    router_url: str, emulator: Emulator
) -> None:
    client = openai.OpenAI(base_url=f"{router_url}/api/v1", api_key="unused", max_retries=0)
    messages: list[Any] = list(ASK)
    raw = client.chat.completions.with_raw_response.create(
        model="auto", messages=messages, tools=[WEATHER_TOOL]
    )
    first = raw.parse()
    (call,) = first.choices[0].message.tool_calls or []
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "21 C and sunny"},
    ]
    second = client.chat.completions.with_raw_response.create(
        model="auto", messages=messages, tools=[WEATHER_TOOL]
    )
    streamed = list(
        client.chat.completions.create(
            model="auto", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    )
    assert [r.headers["x-router-tier"] for r in (raw, second)] == ["small-tools"] * 2
    assert "reasoning_effort minimal" in raw.headers["x-router-adjusted"]
    assert "21 C and sunny" in (second.parse().choices[0].message.content or "")
    assert streamed  # a turn without tools still goes to Phi-4-mini
    sent = emulator.requests()
    assert [(r["deployment"], r["status"]) for r in sent] == [
        ("gpt-5-nano", 200),
        ("gpt-5-nano", 200),
        ("Phi-4-mini", 200),
    ]
    assert all(r["body"]["reasoning_effort"] == "minimal" for r in sent[:2])
    assert all("tools" not in (r["body"] or {}) for r in sent if r["deployment"] == "Phi-4-mini")


def test_a_complex_agent_turn_on_default_tiers_goes_to_gpt_5(
    router_url: str, emulator: Emulator
) -> None:
    body = {"model": "auto", "messages": [{"role": "user", "content": PLAN}]}
    reply = httpx.post(
        f"{router_url}/api/v1/chat/completions",
        json={**body, "tools": [WEATHER_TOOL]},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-router-tier"] == "large"
    assert [r["deployment"] for r in emulator.requests()] == ["gpt-5"]


def test_phi_refuses_what_eligibility_keeps_from_it(emulator: Emulator) -> None:
    # The premise of the test above: the same tools turn sent to Phi-4-mini directly is a 400.
    reply = httpx.post(
        f"{emulator.url}/models/chat/completions",
        params={"api-version": "2024-05-01-preview"},
        headers={"api-key": "emulator-key"},
        json={
            "model": "Phi-4-mini",
            "messages": ASK,
            "tools": [WEATHER_TOOL],
        },
    )
    assert reply.status_code == 400, reply.text


def test_a_pin_to_phi_with_tools_gets_foundrys_400_once(
    router_url: str, emulator: Emulator
) -> None:
    # A pin is what the caller asked for and is not moved: Phi-4-mini's 400 reaches the caller
    # as a clear 4xx in OpenAI's envelope, and a 400 is not retried nor failed over.
    body = {"model": "small", "messages": ASK, "tools": [WEATHER_TOOL]}
    reply = httpx.post(f"{router_url}/api/v1/chat/completions", json=body, timeout=30)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert {"message", "type", "code", "param"} <= set(error)
    assert "tool choice" in error["message"]
    assert [(r["deployment"], r["status"]) for r in emulator.requests()] == [("Phi-4-mini", 400)]
