"""Account tables: users (customers and staff), refresh tokens and addresses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, text
from sqlmodel import Field, SQLModel

from app.columns import BigKey, JSONColumn, UTCDateTime, utcnow


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    # Stored normalised (trimmed, lower-cased), so uniqueness is case-insensitive.
    email: str = Field(max_length=320, unique=True)
    password_hash: str = Field(max_length=200)
    first_name: str = Field(default="", max_length=100)
    last_name: str = Field(default="", max_length=100)
    is_staff: bool = Field(default=False)
    is_active: bool = Field(default=True)
    # Access tokens carry the version they were issued under; raising it ends every
    # one issued before (sign-out, a stolen refresh token, deactivation).
    token_version: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    permissions: list[str] = Field(
        default_factory=list, sa_column=Column(JSONColumn, nullable=False)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class RefreshToken(SQLModel, table=True):
    """One refresh token of a rotation family; only its hash is stored."""

    __tablename__ = "refresh_token"
    __table_args__ = (Index("ix_refresh_token_family", "family_id"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    user_id: int = Field(
        sa_column=Column(
            BigKey, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    family_id: str = Field(sa_column=Column(String(64), nullable=False))
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Address(SQLModel, table=True):
    """A customer's saved address; at most one per user is the default."""

    __tablename__ = "address"
    __table_args__ = (
        # The database, not the code, guarantees a single default under concurrent writes.
        Index(
            "uq_address_default_per_user",
            "user_id",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    user_id: int = Field(
        sa_column=Column(
            BigKey, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    line1: str = Field(max_length=200)
    line2: str = Field(default="", max_length=200)
    city: str = Field(max_length=100)
    region: str = Field(default="", max_length=100)
    postal_code: str = Field(default="", max_length=20)
    country: str = Field(max_length=2)
    phone: str = Field(default="", max_length=32)
    is_default: bool = Field(default=False)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
