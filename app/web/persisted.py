"""Persisted queries, resolved once for every transport: HTTP GET, HTTP POST, WebSocket.

`resolve` turns a checked request (`app.web.payload.request_data`) into the
request to run, following Apollo's protocol (`extensions.persistedQuery
{version: 1, sha256Hash}`):

- a hash alone runs the document registered under it (a trusted document, or
  in automatic mode one a client registered before); an unknown hash answers
  `PersistedQueryNotFound`, and the client sends the text with the hash;
- a text with a hash must hash to it (else it is refused, and nothing is
  stored); in automatic mode it is then stored under its hash (bounded:
  `app.persisted.store`);
- in allowlist mode (`PERSISTED_QUERIES=allowlist`) only registered documents
  run, whether sent by hash or in full; registration by clients is refused.
  Staff tokens may be exempted (`ALLOWLIST_EXEMPT_STAFF`).

The HTTP view and the WebSocket handler both call `resolve`; nothing else
decides what text runs.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from strawberry.http import GraphQLRequestData

from app.persisted import document_hash
from app.services import Services
from app.web.payload import RequestRefused

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")

NOT_FOUND = "PersistedQueryNotFound"


@dataclass(frozen=True, slots=True)
class Resolved:
    data: GraphQLRequestData  # with the text to run
    hash: str | None = None  # the sha256 the client named the document by
    client: str | None = None  # the registered client whose document it is
    registered: bool = False  # a trusted document


def _persisted_query(extensions: dict[str, object] | None) -> str | None:
    """The sha256 the request names, or None; refuses a malformed `persistedQuery`."""
    if not extensions or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict):
        raise RequestRefused("extensions.persistedQuery must be an object")
    if persisted.get("version") != 1:
        raise RequestRefused(
            "PersistedQueryNotSupported: only persistedQuery version 1 is supported",
            code="PERSISTED_QUERY_NOT_SUPPORTED",
        )
    sha = persisted.get("sha256Hash")
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise RequestRefused("extensions.persistedQuery.sha256Hash must be a sha256 in hex")
    return sha.lower()


def _not_allowed() -> RequestRefused:
    return RequestRefused(
        "this server runs registered documents only: register the operation in your "
        "persisted-query manifest (see the README, Persisted queries)",
        403,
        "PERSISTED_QUERY_NOT_ALLOWED",
    )


async def resolve(
    data: GraphQLRequestData,
    services: Services,
    *,
    is_staff: Callable[[], Awaitable[bool]],
    client_hint: str | None = None,
) -> Resolved:
    """The request to run; RequestRefused for what may not run (see the module)."""
    settings = services.settings
    allowlist = settings.persisted_queries == "allowlist"
    sha = _persisted_query(data.extensions)

    async def exempt() -> bool:
        return settings.allowlist_exempt_staff and await is_staff()

    if sha is None:
        if data.query is None or not allowlist:
            return Resolved(data)
        sha = document_hash(data.query)
        trusted = await services.trusted_documents.find(sha)
        if trusted is not None:
            return Resolved(data, sha, trusted.client(client_hint), registered=True)
        if await exempt():
            return Resolved(data)
        raise _not_allowed()

    if data.query is None:
        trusted = await services.trusted_documents.find(sha)
        if trusted is not None:
            return Resolved(
                replace(data, query=trusted.document), sha, trusted.client(client_hint), True
            )
        if not allowlist:
            text = await services.automatic_queries.get(sha)
            if text is not None:
                return Resolved(replace(data, query=text), sha)
        raise RequestRefused(NOT_FOUND, 404, "PERSISTED_QUERY_NOT_FOUND")

    if document_hash(data.query) != sha:
        raise RequestRefused(
            "provided sha256Hash does not match the query: the document was not stored",
            code="PERSISTED_QUERY_HASH_MISMATCH",
        )
    trusted = await services.trusted_documents.find(sha)
    if trusted is not None:
        return Resolved(data, sha, trusted.client(client_hint), registered=True)
    if allowlist:
        if await exempt():
            return Resolved(data, sha)
        raise _not_allowed()
    if len(data.query.encode()) <= settings.apq_max_document_bytes:
        await services.automatic_queries.put(sha, data.query)
    return Resolved(data, sha)
