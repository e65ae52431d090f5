"""logistics

Shipments with their lines and carrier events, and the units sent per order line.
Orders that reached a shipping status before shipments existed count their units
not given back as sent.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 19:08:35.737895
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shipment",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "warehouse_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("carrier", sa.String(length=50), nullable=False),
        sa.Column("tracking_number", sa.String(length=100), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_shipment_created_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["shop_order.id"],
            name=op.f("fk_shipment_order_id_shop_order"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouse.id"],
            name=op.f("fk_shipment_warehouse_id_warehouse"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment")),
    )
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipment_order_id"), ["order_id"], unique=False)
        batch_op.create_index("ix_shipment_status", ["status", "id"], unique=False)
        batch_op.create_index(
            "uq_shipment_carrier_tracking", ["carrier", "tracking_number"], unique=True
        )

    op.create_table(
        "shipment_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "shipment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("carrier", sa.String(length=50), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("location", sa.Text(), server_default="", nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipment.id"],
            name=op.f("fk_shipment_event_shipment_id_shipment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_event")),
    )
    with op.batch_alter_table("shipment_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_shipment_event_shipment_occurred", ["shipment_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            "uq_shipment_event_carrier_event", ["carrier", "event_id"], unique=True
        )

    op.create_table(
        "shipment_line",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "shipment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "order_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_shipment_line_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_line.id"],
            name=op.f("fk_shipment_line_order_line_id_order_line"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipment.id"],
            name=op.f("fk_shipment_line_shipment_id_shipment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_line")),
    )
    with op.batch_alter_table("shipment_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shipment_line_order_line_id"), ["order_line_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_shipment_line_shipment_id"), ["shipment_id"], unique=False
        )

    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("quantity_shipped", sa.Integer(), server_default="0", nullable=False)
        )

    op.execute(
        "UPDATE order_line SET quantity_shipped = quantity - quantity_restocked "
        "WHERE order_id IN (SELECT id FROM shop_order "
        "WHERE status IN ('SHIPPED', 'DELIVERED', 'COMPLETED'))"
    )
    # The backstop of the count of units sent, on PostgreSQL (see 0007: SQLite would
    # rebuild the table).
    if op.get_bind().dialect.name == "postgresql":
        op.create_check_constraint(
            op.f("ck_order_line_shipped_within_quantity"),
            "order_line",
            "quantity_shipped >= 0 AND quantity_shipped <= quantity",
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(
            op.f("ck_order_line_shipped_within_quantity"), "order_line", type_="check"
        )
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_column("quantity_shipped")

    with op.batch_alter_table("shipment_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipment_line_shipment_id"))
        batch_op.drop_index(batch_op.f("ix_shipment_line_order_line_id"))

    op.drop_table("shipment_line")
    with op.batch_alter_table("shipment_event", schema=None) as batch_op:
        batch_op.drop_index("uq_shipment_event_carrier_event")
        batch_op.drop_index("ix_shipment_event_shipment_occurred")

    op.drop_table("shipment_event")
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.drop_index("uq_shipment_carrier_tracking")
        batch_op.drop_index("ix_shipment_status")
        batch_op.drop_index(batch_op.f("ix_shipment_order_id"))

    op.drop_table("shipment")
