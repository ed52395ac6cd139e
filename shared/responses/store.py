"""Conversation state for `store` and `previous_response_id`, in the function app's own storage
account, so any instance continues what any tier answered.

Each stored response is a blob: the Response as returned and its expiry, and its conversation
(input and output items, each with its id). A short conversation is kept whole in the blob, as
the next turn needs it: one write, one read. Past `ROUTER_RESPONSES_INLINE_BYTES` that copy would
make a chain's storage grow with the square of its length, so the conversation moves to one
append blob, `logs/{id of the response that moved it}`: each turn appends its own items where its
previous response's conversation ends (conditionally, `appendpos`), and its blob keeps only where
the conversation ends; rebuilding it is two reads however long it is. A turn that continues a
response which is no longer the end of its log (a second answer to the same response, a full
log) starts a new log with a copy of that conversation: a fork costs one copy, a chain none.
The layouts side by side (whole copies, walking previous_response_id one blob per hop, the log):
bench/responses.py, part 4, and the README. A small blob `items/{id}` per output item names the
response that holds it, so that an item_reference finds an item outside the request's chain.

Reads treat an expired response as gone and delete it; in Azure a lifecycle rule (infra)
removes what is never read again, a log after the TTL since its last append. Authenticated with
the managed identity (azure-identity); a connection string only for Azurite. Without either, an
in-process store (one instance, lost on restart) so that local work without Azurite still
chains. https://learn.microsoft.com/azure/storage/blobs/storage-quickstart-blobs-python
https://learn.microsoft.com/rest/api/storageservices/append-block (x-ms-blob-condition-appendpos)
https://learn.microsoft.com/azure/storage/blobs/lifecycle-management-overview
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from shared.settings import Settings

if TYPE_CHECKING:
    from azure.storage.blob.aio import BlobServiceClient, ContainerClient

# Ids the router makes (objects.new_id): also what keeps a blob name from being anything else.
RESPONSE_ID = re.compile(r"resp_[A-Za-z0-9]{1,100}")
# Item ids (ours, upstream's: msg_..., fc_..., rs_...): what may name an index blob.
ITEM_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")
ITEM_INDEX = "items/"
LOGS = "logs/"
BLOCK_MAX = 4 * 1024 * 1024  # an append block's limit in every service version
# Append Block's refusals that mean "write elsewhere": the log ends past our place (412), or its
# 50,000 blocks are spent (409). https://learn.microsoft.com/rest/api/storageservices/blob-service-error-codes
LOG_MOVED_ON = frozenset({"AppendPositionConditionNotMet", "BlockCountExceedsLimit"})
MEMORY_MAX = 10_000
# The storage SDK's own retries wait 15 s and more between tries (its default policy); every
# call here is bounded as a whole by the caller (bounded_store.py), so: one quick retry, and
# transport limits inside that bound.
SDK_LIMITS: dict[str, Any] = {"connection_timeout": 2, "read_timeout": 10}


def encode_items(items: Iterable[dict[str, Any]], ids: Iterable[str]) -> bytes:
    """Items as the log keeps them: one `[id, item]` JSON line each (JSON escapes newlines)."""
    return b"".join(orjson.dumps([i, item]) + b"\n" for item, i in zip(items, ids, strict=True))


def decode_items(raw: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    pairs = [orjson.loads(line) for line in raw.splitlines()]
    return [item for _, item in pairs], [str(i) for i, _ in pairs]


@dataclass(frozen=True, slots=True)
class LogPlace:
    """Where a response's conversation ends: its log blob and the byte after its last item."""

    log: str
    end: int


@dataclass(frozen=True, slots=True)
class StoredResponse:
    response: dict[str, Any]
    context: list[dict[str, Any]]  # input and output items of the conversation up to here
    deployment: str
    expires_at: float
    ids: list[str] = field(default_factory=list)  # each context item's id, in the same order
    size: int = 0  # the conversation's bytes as encode_items writes them: what the cap counts
    place: LogPlace | None = field(default=None, compare=False)  # a blob store's log

    @property
    def output_ids(self) -> list[str]:
        return self.ids[len(self.ids) - len(self.response.get("output") or []) :]

    def item(self, item_id: str) -> dict[str, Any] | None:
        """The conversation's item with this id (the newest, should a caller reuse one)."""
        for index in range(len(self.ids) - 1, -1, -1):
            if self.ids[index] == item_id:
                return self.context[index]
        return None

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at


NO_HISTORY = StoredResponse({}, [], "", 0.0)


class ResponseStore(Protocol):
    ttl_s: float

    async def put(self, response_id: str, record: StoredResponse, parent: StoredResponse) -> None:
        """Store `record`, which continues `parent` (NO_HISTORY for a new conversation)."""
        ...

    async def get(self, response_id: str, context: bool = True) -> StoredResponse | None:
        """The stored response; without `context`, its conversation may be left unread."""
        ...

    async def delete(self, response_id: str) -> bool: ...

    async def holder(self, item_id: str) -> str | None:
        """The id of the stored response whose output has this item, if any."""
        ...

    async def aclose(self) -> None: ...


class MemoryStore:
    """One process's store: for local work without Azurite, and a bounded one. A record's
    context is a list of references to the items its parent holds too, not a copy of them."""

    def __init__(self, ttl_s: float, max_items: int = MEMORY_MAX) -> None:
        self.ttl_s = ttl_s
        self.max_items = max_items
        self.items: OrderedDict[str, StoredResponse] = OrderedDict()
        self.holders: OrderedDict[str, str] = OrderedDict()  # output item id -> response id

    async def put(self, response_id: str, record: StoredResponse, parent: StoredResponse) -> None:
        self.items[response_id] = record
        for item_id in record.output_ids:
            self.holders[item_id] = response_id
        while len(self.items) > self.max_items:
            self.items.popitem(last=False)
        while len(self.holders) > self.max_items * 4:  # a response names a few output items
            self.holders.popitem(last=False)

    async def holder(self, item_id: str) -> str | None:
        return self.holders.get(item_id)

    async def get(self, response_id: str, context: bool = True) -> StoredResponse | None:
        record = self.items.get(response_id)
        if record is not None and record.expired:
            del self.items[response_id]
            return None
        return record

    async def delete(self, response_id: str) -> bool:
        return self.items.pop(response_id, None) is not None

    async def aclose(self) -> None:
        return None


class BlobStore:
    def __init__(
        self,
        service: BlobServiceClient,
        container: str,
        ttl_s: float,
        credential: Any = None,
        inline_bytes: int = 64 * 1024,
    ) -> None:
        self.service = service
        self.credential = credential
        self.container: ContainerClient = service.get_container_client(container)
        self.ttl_s = ttl_s
        self.inline_bytes = inline_bytes
        from azure.core.exceptions import AzureError

        self.failures: tuple[type[Exception], ...] = (AzureError,)  # storage failing

    async def put(self, response_id: str, record: StoredResponse, parent: StoredResponse) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            await self._put(response_id, record, parent)
        except ResourceNotFoundError as exc:
            # Infra creates the container in Azure, where asking for it first would be a failed
            # call (409) on every start; Azurite starts empty: made on the first write that
            # finds it missing.
            if _error_code(exc) != "ContainerNotFound":
                raise
            await self._create_container()
            await self._put(response_id, record, parent)

    async def _create_container(self) -> None:
        from azure.core.exceptions import ResourceExistsError

        with contextlib.suppress(ResourceExistsError):  # another instance made it meanwhile
            await self.container.create_container()

    async def _put(self, response_id: str, record: StoredResponse, parent: StoredResponse) -> None:
        kept: dict[str, Any] = {
            "response": record.response,
            "deployment": record.deployment,
            "expires_at": record.expires_at,
        }
        if parent.place is None and record.size <= self.inline_bytes:
            kept |= {"context": record.context, "ids": record.ids, "size": record.size}
        else:  # past the threshold, or its parent's conversation is in a log already
            place = await self._append(response_id, record, parent)
            kept |= {"log": place.log, "end": place.end}
        body = orjson.dumps(kept)
        index = [ITEM_INDEX + i for i in record.output_ids if ITEM_ID.fullmatch(i)]
        # The index first, the response's own blob last: that blob is the commit. A write that
        # stops half-way leaves index entries naming a response that is not there, which
        # item_reference then reports as not found, as GET does.
        await asyncio.gather(
            *(self.container.upload_blob(i, response_id.encode(), overwrite=True) for i in index)
        )
        await self.container.upload_blob(response_id, body, overwrite=True)

    async def _append(
        self, response_id: str, record: StoredResponse, parent: StoredResponse
    ) -> LogPlace:
        """The record's items onto its parent's log where the parent's conversation ends; when
        the log has moved on (or is full, or there is none), onto a new log that starts with a
        copy of the parent's conversation."""
        from azure.core.exceptions import HttpResponseError

        grown = len(parent.context)
        turn = encode_items(record.context[grown:], record.ids[grown:])
        if parent.place is not None:
            try:
                return await self._write(parent.place, turn)
            except HttpResponseError as exc:
                if _error_code(exc) not in LOG_MOVED_ON:
                    raise
        log = LogPlace(LOGS + response_id, 0)
        await self.container.get_blob_client(log.log).create_append_blob()
        return await self._write(log, encode_items(parent.context, parent.ids) + turn)

    async def _write(self, place: LogPlace, data: bytes) -> LogPlace:
        """Append `data` at exactly `place.end`, or fail (412) if the log ends elsewhere."""
        blob = self.container.get_blob_client(place.log)
        end = place.end
        for start in range(0, len(data), BLOCK_MAX):
            block = data[start : start + BLOCK_MAX]
            await blob.append_block(block, appendpos_condition=end)
            end += len(block)
        return LogPlace(place.log, end)

    async def holder(self, item_id: str) -> str | None:
        from azure.core.exceptions import ResourceNotFoundError

        if not ITEM_ID.fullmatch(item_id):
            return None
        try:
            downloaded = await self.container.download_blob(ITEM_INDEX + item_id)
            return (await downloaded.readall()).decode()
        except ResourceNotFoundError:
            return None

    async def get(self, response_id: str, context: bool = True) -> StoredResponse | None:
        from azure.core.exceptions import ResourceNotFoundError

        if not RESPONSE_ID.fullmatch(response_id):
            return None
        try:
            downloaded = await self.container.download_blob(response_id)
            data = orjson.loads(await downloaded.readall())
            if data["expires_at"] <= time.time():
                await self.delete(response_id)
                return None
            if "context" in data:  # the whole conversation inline
                items = data["context"]
                # Blobs written before ids were kept: the items' own.
                ids = data.get("ids") or [str(i.get("id", "")) for i in items]
                size = data.get("size") or len(encode_items(items, ids))
                return StoredResponse(
                    data["response"], items, data["deployment"], data["expires_at"], ids, size
                )
            place = LogPlace(data["log"], data["end"])
            items, ids = [], []
            if context and place.end:
                log = await self.container.download_blob(place.log, offset=0, length=place.end)
                items, ids = decode_items(await log.readall())
        except ResourceNotFoundError:  # the response, or (deleted by hand) its log
            return None
        return StoredResponse(
            data["response"], items, data["deployment"], data["expires_at"], ids, place.end, place
        )

    async def delete(self, response_id: str) -> bool:
        """The response's blob; its log stays while the responses that continue it need it
        (the lifecycle rule removes it a TTL after its last append)."""
        from azure.core.exceptions import ResourceNotFoundError

        if not RESPONSE_ID.fullmatch(response_id):
            return False
        try:
            await self.container.delete_blob(response_id)
        except ResourceNotFoundError:
            return False
        return True

    async def aclose(self) -> None:
        await self.service.close()
        if self.credential is not None:
            await self.credential.close()


def _error_code(exc: Exception) -> str | None:
    """The storage service's error code of a failed call (the SDK's StorageErrorCode, set on
    the exception), e.g. "ContainerNotFound"."""
    code = getattr(exc, "error_code", None)
    return None if code is None else str(getattr(code, "value", code))


def make_store(settings: Settings) -> ResponseStore:
    """Blob storage when configured (connection string for Azurite, else the account URL with
    the managed identity); otherwise the in-process store."""
    storage = settings.responses
    ttl = storage.ttl_s
    url = storage.blob_url
    if not (storage.connection_string or url):
        return MemoryStore(ttl)
    # Imported here: the storage SDK is slow to import and only this store needs it.
    from azure.storage.blob.aio import BlobServiceClient, LinearRetry

    # The SDK logs every request's headers at INFO, which the Functions worker ships to
    # Application Insights: two lines per stored turn, no use to an operator.
    logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)

    retry = LinearRetry(backoff=0, retry_total=1, random_jitter_range=0)
    if storage.connection_string or not url:
        service = BlobServiceClient.from_connection_string(
            storage.connection_string or "", retry_policy=retry, **SDK_LIMITS
        )
        return BlobStore(service, storage.container, ttl, inline_bytes=storage.inline_bytes)
    from shared.upstream.auth import make_credential

    credential = make_credential(settings.auth)
    service = BlobServiceClient(url, credential=credential, retry_policy=retry, **SDK_LIMITS)
    return BlobStore(service, storage.container, ttl, credential, storage.inline_bytes)
