"""catalog and accounts

Full-text search is the database's own: an FTS5 table kept by triggers on
SQLite, a generated tsvector column with a GIN index on PostgreSQL. Both are
outside the SQLModel metadata (see `migrations/env.py`). On SQLite a later
batch migration that recreates `product` drops the triggers: recreate them
with `create_sqlite_search()`.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 04:19:04.648000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401 - autogenerate renders AutoString
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_FTS_COLUMNS = "name, tags_text, description"


def create_sqlite_search() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE product_search USING fts5("
        f"{_FTS_COLUMNS}, content='product', content_rowid='id', "
        "tokenize='porter unicode61 remove_diacritics 2')"
    )
    new = "new.id, new.name, new.tags_text, new.description"
    old = "'delete', old.id, old.name, old.tags_text, old.description"
    op.execute(
        "CREATE TRIGGER product_search_ai AFTER INSERT ON product BEGIN "
        f"INSERT INTO product_search(rowid, {_FTS_COLUMNS}) VALUES ({new}); END"
    )
    op.execute(
        "CREATE TRIGGER product_search_ad AFTER DELETE ON product BEGIN "
        f"INSERT INTO product_search(product_search, rowid, {_FTS_COLUMNS}) VALUES ({old}); END"
    )
    op.execute(
        f"CREATE TRIGGER product_search_au AFTER UPDATE OF {_FTS_COLUMNS} ON product BEGIN "
        f"INSERT INTO product_search(product_search, rowid, {_FTS_COLUMNS}) VALUES ({old}); "
        f"INSERT INTO product_search(rowid, {_FTS_COLUMNS}) VALUES ({new}); END"
    )
    op.execute("INSERT INTO product_search(product_search) VALUES ('rebuild')")


def create_postgres_search() -> None:
    op.execute(
        "ALTER TABLE product ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('english', coalesce(name, '')), 'A') || "
        "setweight(to_tsvector('english', coalesce(tags_text, '')), 'B') || "
        "setweight(to_tsvector('english', coalesce(description, '')), 'C')) STORED"
    )
    op.execute("CREATE INDEX ix_product_search_vector ON product USING gin (search_vector)")


def upgrade() -> None:

    op.create_table(
        "category",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["category.id"],
            name=op.f("fk_category_parent_id_category"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category")),
        sa.UniqueConstraint("slug", name=op.f("uq_category_slug")),
    )
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_category_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "user_account",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("is_staff", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "permissions", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("email", name=op.f("uq_user_account_email")),
    )
    op.create_table(
        "warehouse",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouse")),
        sa.UniqueConstraint("code", name=op.f("uq_warehouse_code")),
    )
    op.create_table(
        "product",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("slug", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("seo_title", sa.String(length=300), nullable=False),
        sa.Column("seo_description", sa.String(length=1000), nullable=False),
        sa.Column("tags_text", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "attributes", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("min_price", sa.BigInteger(), nullable=True),
        sa.Column("max_price", sa.BigInteger(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('DRAFT', 'PUBLISHED', 'ARCHIVED')", name=op.f("ck_product_status")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["category.id"],
            name=op.f("fk_product_category_id_category"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
        sa.UniqueConstraint("slug", name=op.f("uq_product_slug")),
    )
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_category_id"), ["category_id"], unique=False)
        batch_op.create_index(
            "ix_product_status_created", ["status", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_product_status_price", ["status", "min_price", "id"], unique=False
        )
    op.create_index("ix_product_status_name", "product", ["status", sa.text("lower(name)"), "id"])
    if op.get_bind().dialect.name == "sqlite":
        create_sqlite_search()
    else:
        create_postgres_search()

    op.create_table(
        "refresh_token",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("family_id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_refresh_token_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_token_token_hash")),
    )
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.create_index("ix_refresh_token_family", ["family_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refresh_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "product_image",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("alt", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_product_image_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_image")),
    )
    with op.batch_alter_table("product_image", schema=None) as batch_op:
        batch_op.create_index(
            "ix_product_image_product_position", ["product_id", "position"], unique=False
        )

    op.create_table(
        "product_tag",
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_product_tag_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "tag", name=op.f("pk_product_tag")),
    )
    with op.batch_alter_table("product_tag", schema=None) as batch_op:
        batch_op.create_index("ix_product_tag_tag", ["tag", "product_id"], unique=False)

    op.create_table(
        "product_variant",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("compare_at_price", sa.BigInteger(), nullable=True),
        sa.Column("weight_grams", sa.Integer(), nullable=False),
        sa.Column("low_stock_threshold", sa.Integer(), nullable=False),
        sa.Column("reserve_on_add", sa.Boolean(), nullable=False),
        sa.Column(
            "attributes", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "compare_at_price IS NULL OR compare_at_price >= 0",
            name=op.f("ck_product_variant_compare_at"),
        ),
        sa.CheckConstraint(
            "low_stock_threshold >= 0", name=op.f("ck_product_variant_threshold_not_negative")
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_product_variant_price_not_negative")),
        sa.CheckConstraint(
            "weight_grams >= 0", name=op.f("ck_product_variant_weight_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_product_variant_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_variant")),
        sa.UniqueConstraint("sku", name=op.f("uq_product_variant_sku")),
    )
    with op.batch_alter_table("product_variant", schema=None) as batch_op:
        batch_op.create_index(
            "ix_product_variant_product_position", ["product_id", "position"], unique=False
        )

    op.create_table(
        "stock",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "variant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "warehouse_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_stock_quantity_not_negative")),
        sa.CheckConstraint("reserved <= quantity", name=op.f("ck_stock_reserved_within_quantity")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_stock_reserved_not_negative")),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["product_variant.id"],
            name=op.f("fk_stock_variant_id_product_variant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouse.id"],
            name=op.f("fk_stock_warehouse_id_warehouse"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock")),
    )
    with op.batch_alter_table("stock", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_warehouse_id"), ["warehouse_id"], unique=False)
        batch_op.create_index(
            "uq_stock_variant_warehouse", ["variant_id", "warehouse_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("stock", schema=None) as batch_op:
        batch_op.drop_index("uq_stock_variant_warehouse")
        batch_op.drop_index(batch_op.f("ix_stock_warehouse_id"))

    op.drop_table("stock")
    with op.batch_alter_table("product_variant", schema=None) as batch_op:
        batch_op.drop_index("ix_product_variant_product_position")

    op.drop_table("product_variant")
    with op.batch_alter_table("product_tag", schema=None) as batch_op:
        batch_op.drop_index("ix_product_tag_tag")

    op.drop_table("product_tag")
    with op.batch_alter_table("product_image", schema=None) as batch_op:
        batch_op.drop_index("ix_product_image_product_position")

    op.drop_table("product_image")
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_token_user_id"))
        batch_op.drop_index("ix_refresh_token_family")

    op.drop_table("refresh_token")
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("product_search_ai", "product_search_ad", "product_search_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS product_search")
    op.drop_index("ix_product_status_name", table_name="product")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_index("ix_product_status_price")
        batch_op.drop_index("ix_product_status_created")
        batch_op.drop_index(batch_op.f("ix_product_category_id"))

    op.drop_table("product")
    op.drop_table("warehouse")
    op.drop_table("user_account")
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_category_parent_id"))

    op.drop_table("category")
