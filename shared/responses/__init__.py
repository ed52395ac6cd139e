"""The Responses API in front of tiers that speak it and tiers that speak only chat completions:
the request read and checked (request.py), translated both ways (to_chat.py; objects.py and
events.py back), and the conversation state that lets `previous_response_id` cross tiers and
instances (store.py, bounded by bounded_store.py)."""
