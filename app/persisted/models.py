"""Tables of the API's edge: registered documents, automatic persisted queries without
Redis, and responses kept for idempotent retries without Redis."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.columns import BigKey, UTCDateTime, utcnow


class TrustedDocument(SQLModel, table=True):
    """A document a named client (a partner, an app) registered from its manifest."""

    __tablename__ = "trusted_document"
    __table_args__ = (
        UniqueConstraint("client", "hash", name="uq_trusted_document_client_hash"),
        Index("ix_trusted_document_hash", "hash"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    client: str = Field(max_length=64)
    hash: str = Field(max_length=64)  # sha256 hex of `document`, as clients send it
    operation_name: str | None = Field(default=None, max_length=200)
    operation_type: str = Field(max_length=16)
    document: str = Field(sa_column=Column(Text, nullable=False))
    cost: int  # with every variable at its default
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class AutomaticQuery(SQLModel, table=True):
    """A document registered by its hash (Apollo APQ) while no Redis is configured."""

    __tablename__ = "automatic_persisted_query"
    __table_args__ = (Index("ix_automatic_persisted_query_used_at", "used_at"),)

    hash: str = Field(primary_key=True, max_length=64)
    document: str = Field(sa_column=Column(Text, nullable=False))
    used_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class IdempotencyRecord(SQLModel, table=True):
    """A request made with an Idempotency-Key (while no Redis is configured): running, or
    done with the response to replay."""

    __tablename__ = "idempotency_record"
    __table_args__ = (Index("ix_idempotency_record_expires_at", "expires_at"),)

    key: str = Field(primary_key=True, max_length=64)  # sha256 of caller and key
    fingerprint: str = Field(max_length=64)  # sha256 of the request
    response: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
