"""The router's work for each API, behind the HTTP adapters (shared/gateway.py): a parsed request
goes in, an `Outcome` comes out. Both APIs are decided the same way (`decide.RouteRequest`) and
reach Foundry through the same seam (shared/upstream/calls.py)."""
