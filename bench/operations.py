"""Standalone documents for the contract operations, as clients send them."""

from __future__ import annotations

from pathlib import Path

from schema.operations import printed_operations

CONTRACT = Path(__file__).resolve().parent.parent / "tests" / "contract"
STOREFRONT = CONTRACT / "storefront.graphql"
# Staff sign-in and back-office set-up (shipping method, coupon) for the purchase scenarios.
ACCOUNT = CONTRACT / "account.graphql"
ADMIN = CONTRACT / "admin.graphql"


def load_operations(path: Path = STOREFRONT) -> dict[str, str]:
    """Operation name -> printed document holding the operation and every fragment it needs."""
    return printed_operations(path.read_text())
