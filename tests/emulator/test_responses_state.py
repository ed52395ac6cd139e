"""The emulator's Responses API keeps what it stored in its state, so /control/reset forgets it:
a test never continues (or finds) a response another test made."""

from __future__ import annotations

import httpx

from tests.emulator.helpers import KEY


def test_reset_forgets_stored_responses(client: httpx.Client) -> None:
    made = client.post("/openai/v1/responses", json={"model": "gpt-5", "input": "hi"}, headers=KEY)
    assert made.status_code == 200, made.text
    response_id = made.json()["id"]
    assert client.get(f"/openai/v1/responses/{response_id}", headers=KEY).status_code == 200

    client.post("/control/reset").raise_for_status()

    assert client.get(f"/openai/v1/responses/{response_id}", headers=KEY).status_code == 404
    continued = client.post(
        "/openai/v1/responses",
        json={"model": "gpt-5", "input": "and?", "previous_response_id": response_id},
        headers=KEY,
    )
    assert continued.status_code == 400
    assert continued.json()["error"]["code"] == "previous_response_not_found"
