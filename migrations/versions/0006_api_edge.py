"""api edge

Registered (trusted) documents per client; automatic persisted queries and
idempotent responses for servers that run without Redis.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 16:56:47.252860
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "automatic_persisted_query",
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_automatic_persisted_query")),
    )
    with op.batch_alter_table("automatic_persisted_query", schema=None) as batch_op:
        batch_op.create_index("ix_automatic_persisted_query_used_at", ["used_at"], unique=False)

    op.create_table(
        "idempotency_record",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("response", sa.LargeBinary(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_record")),
    )
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.create_index("ix_idempotency_record_expires_at", ["expires_at"], unique=False)

    op.create_table(
        "trusted_document",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("client", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("operation_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("operation_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_document")),
        sa.UniqueConstraint("client", "hash", name="uq_trusted_document_client_hash"),
    )
    with op.batch_alter_table("trusted_document", schema=None) as batch_op:
        batch_op.create_index("ix_trusted_document_hash", ["hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trusted_document", schema=None) as batch_op:
        batch_op.drop_index("ix_trusted_document_hash")

    op.drop_table("trusted_document")
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_record_expires_at")

    op.drop_table("idempotency_record")
    with op.batch_alter_table("automatic_persisted_query", schema=None) as batch_op:
        batch_op.drop_index("ix_automatic_persisted_query_used_at")

    op.drop_table("automatic_persisted_query")
