"""Which domain may use which: the purchase path depends one way, and domains know
nothing of GraphQL."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
EDGE = ("strawberry", "graphql", "schema", "resolvers")

_LEDGER_BANS = (
    "app.cart", "app.checkout", "app.orders", "app.payments", "app.inventory",
    "app.promotions", "app.shipping",
)  # fmt: skip

# package -> what it must not import (besides the GraphQL edge)
FORBIDDEN = {
    "cart": ("app.checkout", "app.orders", "app.logistics"),
    "inventory": ("app.cart", "app.checkout", "app.orders", "app.promotions", "app.shipping",
                  "app.logistics"),
    "pricing": ("app.cart", "app.checkout", "app.orders", "app.promotions", "app.shipping"),
    "promotions": ("app.cart", "app.checkout", "app.orders", "app.inventory"),
    "shipping": ("app.cart", "app.checkout", "app.orders", "app.inventory", "app.promotions"),
    # Orders take a refund function (`cancellation.RefundAll`) rather than use payments.
    "orders": ("app.cart", "app.checkout", "app.payments", "app.giftcards", "app.returns",
               "app.reports", "app.logistics"),
    # Parcels know orders and stock; money is not theirs (payments asks them what is sent).
    "logistics": ("app.cart", "app.checkout", "app.payments", "app.giftcards", "app.loyalty",
                  "app.returns", "app.reports", "app.promotions"),
    "checkout": ("app.payments",),
    "payments": ("app.cart", "app.checkout", "app.returns", "app.reports"),
    # The ledgers know orders, payments and refunds by id only.
    "giftcards": (*_LEDGER_BANS, "app.loyalty"),
    "loyalty": (*_LEDGER_BANS, "app.giftcards"),
    # Email knows no domain: every domain may queue mail, an email names its order by id.
    "notifications": (*_LEDGER_BANS, "app.giftcards", "app.loyalty", "app.returns",
                      "app.reports", "app.accounts", "app.catalog", "app.logistics"),
    # Returns are refunded through payments; nothing below them knows returns.
    "returns": ("app.cart", "app.checkout", "app.reports"),
    # Reports read orders and accounts; they change nothing and nobody uses them.
    "reports": ("app.cart", "app.checkout", "app.payments", "app.returns", "app.inventory",
                "app.logistics"),
}  # fmt: skip


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_domain_dependencies_point_one_way(package: str) -> None:
    banned = (*FORBIDDEN[package], *EDGE)
    wrong = sorted(
        f"{path.relative_to(APP.parent)}: {name}"
        for path in sorted((APP / package).rglob("*.py"))
        for name in _imports(path)
        if any(name == b or name.startswith(f"{b}.") for b in banned)
    )
    assert wrong == []


# The edges (HTTP/WebSocket, the command line) may use everything; nothing else may use them.
EDGE_MODULES = ("app/web", "app/cli.py")


def test_the_domain_never_imports_the_web_layer_or_graphql() -> None:
    banned = (*EDGE, "app.web", "app.cli")
    wrong = sorted(
        f"{path.relative_to(APP.parent)}: {name}"
        for path in sorted(APP.rglob("*.py"))
        if not str(path.relative_to(APP.parent)).startswith(EDGE_MODULES)
        for name in _imports(path)
        if any(name == b or name.startswith(f"{b}.") for b in banned)
    )
    assert wrong == []


# Live updates: the domain announces (`app.orders.updates`); only the services wire the
# broker to those announcements (`app.live`), and resolvers subscribe through it.
BROKER_USERS = ("app/broker.py", "app/live.py", "app/services.py")


def test_only_the_services_wire_the_broker() -> None:
    wrong = sorted(
        f"{path.relative_to(APP.parent)}: {name}"
        for path in sorted(APP.rglob("*.py"))
        if not str(path.relative_to(APP.parent)).startswith(BROKER_USERS)
        for name in _imports(path)
        if name.split(".")[:2] in (["app", "broker"], ["app", "live"])
    )
    assert wrong == []
