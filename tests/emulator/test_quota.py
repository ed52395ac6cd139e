"""TPM/RPM quota: sliding window, 429 with Azure's headers, recovery."""

from __future__ import annotations

import time

import httpx

from devtools.emulator.quota import SlidingWindowQuota
from tests.emulator.helpers import chat, settings


def test_window_admits_until_tokens_run_out_and_says_when_to_retry() -> None:
    quota = SlidingWindowQuota(tpm=1000, rpm=None, window_s=60)
    assert quota.admit(400, now=0).allowed
    assert quota.admit(400, now=10).allowed
    denied = quota.admit(400, now=20)
    assert not denied.allowed
    assert denied.remaining_tokens == 200
    # 200 tokens too many: the first charge (400 at t=0) frees enough at t=60.
    assert denied.retry_after_s == 40
    assert denied.retry_after_header == "40"
    assert denied.retry_after_ms_header == "40000"
    assert quota.admit(400, now=60).allowed


def test_window_counts_requests() -> None:
    quota = SlidingWindowQuota(tpm=None, rpm=2, window_s=10)
    assert quota.admit(1, now=0).allowed
    assert quota.admit(1, now=1).allowed
    denied = quota.admit(1, now=2)
    assert not denied.allowed
    assert denied.remaining_requests == 0
    assert denied.retry_after_s == 8
    assert quota.admit(1, now=10.5).allowed


def test_a_request_bigger_than_the_limit_waits_a_window() -> None:
    quota = SlidingWindowQuota(tpm=100, rpm=None, window_s=60)
    assert quota.admit(101, now=0).retry_after_s == 60


def test_over_quota_is_429_with_azure_headers_until_reset(client: httpx.Client) -> None:
    settings(client, deployments={"Phi-4-mini": {"tpm": 2000}})
    # Each request is charged its prompt estimate plus max_tokens (500).
    remaining = []
    for _ in range(3):
        response = chat(client, max_tokens=500)
        assert response.status_code == 200
        remaining.append(int(response.headers["x-ratelimit-remaining-tokens"]))
    assert remaining == sorted(remaining, reverse=True)
    assert remaining[-1] < 510
    response = chat(client, max_tokens=500)
    assert response.status_code == 429
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert 1000 <= int(response.headers["retry-after-ms"]) <= 60_000
    assert int(response.headers["x-ratelimit-remaining-tokens"]) == remaining[-1]
    assert response.headers["x-ratelimit-remaining-requests"].isdigit()
    assert response.headers["apim-request-id"]
    error = response.json()["error"]
    assert error["code"] == "429"
    assert "exceeded token rate limit" in error["message"]
    assert f"Please retry after {retry_after} seconds" in error["message"]
    # Other deployments have their own quota.
    assert chat(client, "Phi-4", max_tokens=500).status_code == 200
    client.post("/control/reset")
    assert chat(client, max_tokens=500).status_code == 200


def test_default_estimate_is_1000_completion_tokens(client: httpx.Client) -> None:
    settings(client, deployments={"Phi-4-mini": {"tpm": 1500}})
    assert chat(client).status_code == 200
    assert chat(client).status_code == 429
    assert chat(client, max_tokens=100).status_code == 200


def test_rpm_limit(client: httpx.Client) -> None:
    settings(client, deployments={"gpt-4o": {"rpm": 2}})
    assert [chat(client, "gpt-4o").status_code for _ in range(3)] == [200, 200, 429]


def test_quota_recovers_as_the_window_slides(client: httpx.Client) -> None:
    settings(client, quota_window_s=0.3, deployments={"Phi-4-mini": {"rpm": 1}})
    assert chat(client).status_code == 200
    assert chat(client).status_code == 429
    time.sleep(0.35)
    assert chat(client).status_code == 200


def test_rejected_requests_are_not_charged(client: httpx.Client) -> None:
    settings(client, deployments={"Phi-4-mini": {"rpm": 1}})
    assert chat(client, messages=[]).status_code == 400
    assert chat(client).status_code == 200


def test_unlimited_quota_reports_no_remaining(client: httpx.Client) -> None:
    settings(client, deployments={"gpt-4o": {"tpm": None}})
    response = chat(client, "gpt-4o")
    assert "x-ratelimit-remaining-tokens" not in response.headers
    # An Azure OpenAI deployment's rpm derives from tpm, so it is unlimited too.
    assert "x-ratelimit-remaining-requests" not in response.headers
