"""after sales

Line refunds (units and amounts refunded and restocked per order line, the
shipping refunded per order, the lines of each refund), return requests with
their lines, the email outbox, and order indexes for the back office's list and
the sales report.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 17:47:55.690843
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["shop_order.id"],
            name=op.f("fk_email_outbox_order_id_shop_order"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_outbox")),
    )
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_email_outbox_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_email_outbox_order_id"), ["order_id"], unique=False)

    op.create_table(
        "return_request",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "decided_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refund_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_return_request_created_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["user_account.id"],
            name=op.f("fk_return_request_decided_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["shop_order.id"], name=op.f("fk_return_request_order_id_shop_order")
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refund.id"], name=op.f("fk_return_request_refund_id_refund")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_request")),
    )
    with op.batch_alter_table("return_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_return_request_order_id"), ["order_id"], unique=False)

    op.create_table(
        "refund_line",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "refund_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "order_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_refund_line_amount_not_negative")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_refund_line_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_line.id"],
            name=op.f("fk_refund_line_order_line_id_order_line"),
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refund.id"], name=op.f("fk_refund_line_refund_id_refund")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_line")),
    )
    with op.batch_alter_table("refund_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refund_line_order_line_id"), ["order_line_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_refund_line_refund_id"), ["refund_id"], unique=False)

    op.create_table(
        "return_request_line",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "return_request_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "order_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("damaged", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "damaged >= 0 AND damaged <= quantity",
            name=op.f("ck_return_request_line_damaged_within_quantity"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_return_request_line_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_line.id"],
            name=op.f("fk_return_request_line_order_line_id_order_line"),
        ),
        sa.ForeignKeyConstraint(
            ["return_request_id"],
            ["return_request.id"],
            name=op.f("fk_return_request_line_return_request_id_return_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_request_line")),
    )
    with op.batch_alter_table("return_request_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_return_request_line_order_line_id"), ["order_line_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_return_request_line_return_request_id"),
            ["return_request_id"],
            unique=False,
        )

    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("quantity_refunded", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("amount_refunded", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("quantity_restocked", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shipping", sa.BigInteger(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shipping_refunded", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.create_index("ix_shop_order_email_placed", ["email", "placed_at"], unique=False)
        batch_op.create_index("ix_shop_order_placed", ["placed_at", "id"], unique=False)

    # Backstops of the conditional updates, on PostgreSQL: adding a CHECK to a table that
    # exists would make SQLite rebuild it (and its foreign keys cascade on the drop).
    if op.get_bind().dialect.name == "postgresql":
        for table, name, condition in CHECKS:
            op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, condition)


CHECKS = (
    (
        "order_line",
        "refunded_within_quantity",
        "quantity_refunded >= 0 AND quantity_refunded <= quantity",
    ),
    ("order_line", "refunded_within_total", "amount_refunded >= 0 AND amount_refunded <= total"),
    (
        "order_line",
        "restocked_within_quantity",
        "quantity_restocked >= 0 AND quantity_restocked <= quantity",
    ),
    ("refund", "shipping_within_amount", "shipping >= 0 AND shipping <= amount"),
    (
        "shop_order",
        "shipping_refunded_within_paid",
        "shipping_refunded >= 0 AND shipping_refunded <= shipping_total + shipping_tax",
    ),
)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, name, _condition in CHECKS:
            op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.drop_index("ix_shop_order_placed")
        batch_op.drop_index("ix_shop_order_email_placed")
        batch_op.drop_column("shipping_refunded")

    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_column("shipping")

    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_column("quantity_restocked")
        batch_op.drop_column("amount_refunded")
        batch_op.drop_column("quantity_refunded")

    with op.batch_alter_table("return_request_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_request_line_return_request_id"))
        batch_op.drop_index(batch_op.f("ix_return_request_line_order_line_id"))

    op.drop_table("return_request_line")
    with op.batch_alter_table("refund_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refund_line_refund_id"))
        batch_op.drop_index(batch_op.f("ix_refund_line_order_line_id"))

    op.drop_table("refund_line")
    with op.batch_alter_table("return_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_request_order_id"))

    op.drop_table("return_request")
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_outbox_order_id"))
        batch_op.drop_index("ix_email_outbox_due")

    op.drop_table("email_outbox")
