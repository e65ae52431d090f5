"""Trusted documents: what each named client (a partner, an app) registered.

A client registers its documents with a manifest in Apollo's format
(`apollo-persisted-query-manifest`, version 1: operations with `id` = sha256 of
`body`, `name`, `type`), loaded with `commerce persisted-queries load`. Loading
replaces the client's whole set in one transaction. Every worker keeps the
registry in memory and rereads it when its revision in the database moved
(checked at most every `refresh_seconds`), so a flood of unknown hashes costs
a dictionary lookup each, never a query.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, func, insert
from sqlmodel import col, select

from app.columns import utcnow
from app.database import Database
from app.persisted import document_hash
from app.persisted.models import TrustedDocument

MANIFEST_FORMAT = "apollo-persisted-query-manifest"
OPERATION_TYPES = frozenset({"query", "mutation", "subscription"})


class ManifestError(ValueError):
    """The manifest cannot be loaded; the message says where and why."""


@dataclass(frozen=True, slots=True)
class ManifestOperation:
    id: str
    name: str | None
    type: str
    body: str


@dataclass(frozen=True, slots=True)
class Checked:
    """An operation the schema accepted, with its cost (variables at their defaults)."""

    operation: ManifestOperation
    cost: int


@dataclass(frozen=True, slots=True)
class Registered:
    hash: str
    document: str
    operation_name: str | None
    cost: int
    clients: tuple[str, ...]  # sorted

    def client(self, hint: str | None) -> str:
        """The registering client named by `hint` when it is one of them, else the first."""
        return hint if hint in self.clients else self.clients[0]


def read_manifest(raw: bytes | str) -> list[ManifestOperation]:
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ManifestError(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f'"format" must be "{MANIFEST_FORMAT}"')
    if data.get("version") != 1:
        raise ManifestError('"version" must be 1')
    entries = data.get("operations")
    if not isinstance(entries, list):
        raise ManifestError('"operations" must be a list')
    operations: list[ManifestOperation] = []
    for i, entry in enumerate(entries):
        where = f"operations[{i}]"
        if not isinstance(entry, dict):
            raise ManifestError(f"{where} must be an object")
        body, id_, name, kind = (entry.get(k) for k in ("body", "id", "name", "type"))
        if not isinstance(body, str) or not body.strip():
            raise ManifestError(f"{where}.body must be the document's text")
        if not isinstance(id_, str) or id_.lower() != document_hash(body):
            raise ManifestError(f"{where}.id must be the sha256 (hex) of its body")
        if name is not None and not isinstance(name, str):
            raise ManifestError(f"{where}.name must be a string")
        if kind not in OPERATION_TYPES:
            raise ManifestError(f"{where}.type must be query, mutation or subscription")
        operations.append(ManifestOperation(id_.lower(), name, kind, body))
    return operations


def manifest_text(operations: Sequence[ManifestOperation]) -> str:
    return (
        orjson.dumps(
            {
                "format": MANIFEST_FORMAT,
                "version": 1,
                "operations": [
                    {"id": o.id, "name": o.name, "type": o.type, "body": o.body} for o in operations
                ],
            },
            option=orjson.OPT_INDENT_2,
        ).decode()
        + "\n"
    )


class Registry:
    refresh_seconds = 2.0

    def __init__(self, db: Database) -> None:
        self._db = db
        self._documents: dict[str, Registered] = {}
        self._revision: tuple[int, int] | None = None
        self._checked_at = float("-inf")

    async def find(self, hash: str) -> Registered | None:
        if time.monotonic() - self._checked_at >= self.refresh_seconds:
            await self._refresh()
        return self._documents.get(hash)

    async def replace(self, client: str, checked: Sequence[Checked]) -> None:
        """Makes `checked` the client's whole set of documents."""
        now = utcnow()
        async with self._db.transaction() as session:
            await session.exec(delete(TrustedDocument).where(col(TrustedDocument.client) == client))  # type: ignore[call-overload]
            if checked:
                await session.exec(  # type: ignore[call-overload]
                    insert(TrustedDocument),
                    params=[
                        {
                            "client": client,
                            "hash": c.operation.id,
                            "operation_name": c.operation.name,
                            "operation_type": c.operation.type,
                            "document": c.operation.body,
                            "cost": c.cost,
                            "created_at": now,
                        }
                        for c in {c.operation.id: c for c in checked}.values()
                    ],
                )
        await self._refresh()

    async def _refresh(self) -> None:
        self._checked_at = time.monotonic()
        async with self._db.session() as session:
            count, last = (
                await session.exec(
                    select(func.count(), func.coalesce(func.max(TrustedDocument.id), 0))
                )
            ).one()
            revision = (int(count), int(last))
            if revision == self._revision:
                return
            rows = (await session.exec(select(TrustedDocument))).all()
        clients: dict[str, list[str]] = {}
        first: dict[str, TrustedDocument] = {}
        for row in rows:
            clients.setdefault(row.hash, []).append(row.client)
            first.setdefault(row.hash, row)
        self._documents = {
            h: Registered(h, row.document, row.operation_name, row.cost, tuple(sorted(clients[h])))
            for h, row in first.items()
        }
        self._revision = revision
