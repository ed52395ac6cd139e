"""Relaying an upstream chat stream to the caller, truthfully.

Each chunk is re-framed (its `model` names the deployment that answered; its usage arrives
priced by the seam); the stream ends with [DONE] only when the answer is known to be whole. A
cut, a stall, a malformed chunk or an end without finish_reason becomes an in-band error event,
and so does a failure of the router's own while relaying (logged by type and frames only).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from shared import oplog
from shared.api import RELAY_FAILED, SSE_DONE, ApiError, deployment_stream_failed, sse_event
from shared.upstream.calls import Streamed, TransportError


async def relay(stream: Streamed, include_usage: bool) -> AsyncIterator[bytes]:
    tier = stream.tier
    finished = False
    try:
        async for event in stream.events:
            if event.done:
                yield SSE_DONE
                return
            chunk = event.data
            if chunk is None:
                yield stream_error("The model deployment sent a malformed chunk.")
                return
            chunk["model"] = tier.deployment
            choices = chunk.get("choices") or []
            finished = finished or any(c.get("finish_reason") for c in choices)
            # We always ask for usage upstream; the caller sees it only if it asked too.
            if chunk.get("usage") is None or include_usage or choices:
                yield sse_event(chunk)
        if finished:  # a whole answer whose [DONE] was lost is still a whole answer
            yield SSE_DONE
        else:
            yield stream_error("The model deployment ended the stream before the answer.")
    except TransportError as exc:
        yield stream_error(deployment_stream_failed(exc.failure))
    except Exception as exc:  # the headers are sent: the caller learns of it in the stream
        oplog.unhandled_error("chat stream", exc)
        failed = ApiError(500, RELAY_FAILED, type="server_error")
        yield sse_event(failed.body())
    finally:
        await stream.aclose()


def stream_error(message: str) -> bytes:
    """An in-band error event (the OpenAI SDK raises on it); no [DONE] follows."""
    return sse_event(ApiError(502, message, type="api_error", code="upstream_stream_error").body())
