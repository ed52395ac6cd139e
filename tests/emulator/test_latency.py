"""Latency: deterministic per request, scaled by speed, 8x for temperature=0 with top_p=0."""

from __future__ import annotations

import httpx
import pytest

from devtools.emulator.chat import latency_for
from devtools.emulator.config import default_deployments
from tests.emulator.helpers import chat, settings


def test_latency_is_deterministic_within_bounds_and_scaled() -> None:
    phi = default_deployments()["Phi-4-mini"]
    samples = [latency_for(phi, f"request {i}".encode(), 1.0, False) for i in range(200)]
    assert all(0.05 <= s <= 0.15 for s in samples)
    assert len(set(samples)) > 100
    assert latency_for(phi, b"same", 1.0, False) == latency_for(phi, b"same", 1.0, False)
    assert latency_for(phi, b"same", 0.5, False) == latency_for(phi, b"same", 1.0, False) / 2
    assert latency_for(phi, b"same", 1.0, True) == 8 * latency_for(phi, b"same", 1.0, False)
    assert latency_for(phi, b"same", 0.0, True) == 0


def applied(client: httpx.Client) -> list[float]:
    """The model latency the emulator applied to each answered request, as it recorded it."""
    return [r["latency_s"] for r in client.get("/control/requests").json()["requests"]]


def test_temperature_zero_with_top_p_zero_is_eight_times_slower(client: httpx.Client) -> None:
    # A fixed 100 ms at speed 0.2 gives 20 ms, and 160 ms when greedy.
    settings(client, speed=0.2, deployments={"gpt-4o": {"latency_ms": [100, 100]}})
    assert chat(client, "gpt-4o", temperature=0, top_p=1).status_code == 200
    assert chat(client, "gpt-4o", temperature=0, top_p=0).status_code == 200
    assert applied(client) == [pytest.approx(0.02), pytest.approx(0.16)]


def test_speed_zero_skips_latency(client: httpx.Client) -> None:
    settings(client, deployments={"gpt-4o": {"latency_ms": [2000, 2000]}})
    assert chat(client, "gpt-4o").status_code == 200
    settings(client, speed=0.001)
    assert chat(client, "gpt-4o").status_code == 200
    assert applied(client) == [0, pytest.approx(0.002)]
