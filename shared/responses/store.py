"""Conversation state for `store` and `previous_response_id`: one blob per stored response, in
the function app's own storage account, so any instance continues what any tier answered.

A blob holds the Response as returned and the conversation's items so far (what the next turn
needs) with their ids (input_items lists them, item_reference names them), and its expiry; a
small blob `items/{id}` per output item names the response that holds it, so that a reference
finds an item outside the request's own chain. Reads treat an expired blob as gone and delete
it; in Azure a lifecycle rule (infra) removes what is never read again. Authenticated with the
managed identity (azure-identity); a connection string only for Azurite. Without either, an
in-process store (one instance, lost on restart) so that local work without Azurite still chains.
https://learn.microsoft.com/azure/storage/blobs/storage-quickstart-blobs-python (async client)
https://learn.microsoft.com/azure/storage/blobs/lifecycle-management-overview
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import OrderedDict
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
MEMORY_MAX = 10_000


@dataclass(frozen=True, slots=True)
class StoredResponse:
    response: dict[str, Any]
    context: list[dict[str, Any]]  # input and output items of the conversation up to here
    deployment: str
    expires_at: float
    ids: list[str] = field(default_factory=list)  # each context item's id, in the same order

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "response": self.response,
                "context": self.context,
                "ids": self.ids,
                "deployment": self.deployment,
                "expires_at": self.expires_at,
            }
        )

    @classmethod
    def decode(cls, raw: bytes) -> StoredResponse:
        data = orjson.loads(raw)
        context = data["context"]
        ids = data.get("ids") or [str(item.get("id", "")) for item in context]  # written before ids
        return cls(data["response"], context, data["deployment"], data["expires_at"], ids)

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


class ResponseStore(Protocol):
    ttl_s: float

    async def put(self, response_id: str, record: StoredResponse) -> None: ...

    async def get(self, response_id: str) -> StoredResponse | None: ...

    async def delete(self, response_id: str) -> bool: ...

    async def holder(self, item_id: str) -> str | None:
        """The id of the stored response whose output has this item, if any."""
        ...

    async def aclose(self) -> None: ...


class MemoryStore:
    """One process's store: for local work without Azurite, and a bounded one."""

    def __init__(self, ttl_s: float, max_items: int = MEMORY_MAX) -> None:
        self.ttl_s = ttl_s
        self.max_items = max_items
        self.items: OrderedDict[str, StoredResponse] = OrderedDict()
        self.holders: OrderedDict[str, str] = OrderedDict()  # output item id -> response id

    async def put(self, response_id: str, record: StoredResponse) -> None:
        self.items[response_id] = record
        for item_id in record.output_ids:
            self.holders[item_id] = response_id
        while len(self.items) > self.max_items:
            self.items.popitem(last=False)
        while len(self.holders) > self.max_items * 4:  # a response names a few output items
            self.holders.popitem(last=False)

    async def holder(self, item_id: str) -> str | None:
        return self.holders.get(item_id)

    async def get(self, response_id: str) -> StoredResponse | None:
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
        self, service: BlobServiceClient, container: str, ttl_s: float, credential: Any = None
    ) -> None:
        self.service = service
        self.credential = credential
        self.container: ContainerClient = service.get_container_client(container)
        self.ttl_s = ttl_s
        self._exists = False

    async def put(self, response_id: str, record: StoredResponse) -> None:
        from azure.core.exceptions import ResourceExistsError

        if not self._exists:  # infra creates it in Azure; Azurite starts empty
            with contextlib.suppress(ResourceExistsError):
                await self.container.create_container()
            self._exists = True
        index = [ITEM_INDEX + i for i in record.output_ids if ITEM_ID.fullmatch(i)]
        await asyncio.gather(
            self.container.upload_blob(response_id, record.encode(), overwrite=True),
            *(self.container.upload_blob(i, response_id.encode(), overwrite=True) for i in index),
        )

    async def holder(self, item_id: str) -> str | None:
        from azure.core.exceptions import ResourceNotFoundError

        if not ITEM_ID.fullmatch(item_id):
            return None
        try:
            downloaded = await self.container.download_blob(ITEM_INDEX + item_id)
            return (await downloaded.readall()).decode()
        except ResourceNotFoundError:
            return None

    async def get(self, response_id: str) -> StoredResponse | None:
        from azure.core.exceptions import ResourceNotFoundError

        if not RESPONSE_ID.fullmatch(response_id):
            return None
        try:
            downloaded = await self.container.download_blob(response_id)
            record = StoredResponse.decode(await downloaded.readall())
        except ResourceNotFoundError:
            return None
        if record.expired:
            await self.delete(response_id)
            return None
        return record

    async def delete(self, response_id: str) -> bool:
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


def make_store(settings: Settings) -> ResponseStore:
    """Blob storage when configured (connection string for Azurite, else the account URL with
    the managed identity); otherwise the in-process store."""
    ttl = settings.responses_ttl_s
    url = settings.responses_blob_url
    if not (settings.responses_connection_string or url):
        return MemoryStore(ttl)
    # Imported here: the storage SDK is slow to import and only this store needs it.
    from azure.storage.blob.aio import BlobServiceClient

    # The SDK logs every request's headers at INFO, which the Functions worker ships to
    # Application Insights: two lines per stored turn, no use to an operator.
    logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)

    if settings.responses_connection_string or not url:
        service = BlobServiceClient.from_connection_string(
            settings.responses_connection_string or ""
        )
        return BlobStore(service, settings.responses_container, ttl)
    from shared.upstream.auth import make_credential

    credential = make_credential(settings)
    service = BlobServiceClient(url, credential=credential)
    return BlobStore(service, settings.responses_container, ttl, credential)
