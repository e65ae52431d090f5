"""Who may see and act on an order: its owner and staff who manage orders; a guest's
order also whoever holds its proven id (`app.ids.OrderKey`), to pay for it."""

from __future__ import annotations

from app.accounts.permissions import Permission, Viewer, can_see
from app.errors import DomainError, ErrorCode, fail
from app.ids import OrderKey
from app.orders.models import Order

SEE_ORDERS = Permission.MANAGE_ORDERS


def visible(viewer: Viewer | None, order: Order | None) -> bool:
    return order is not None and can_see(viewer, order.user_id, SEE_ORDERS)


def not_found(*field: str) -> DomainError:
    return fail(ErrorCode.NOT_FOUND, "order not found", *field)


def require_visible(viewer: Viewer | None, order: Order | None, *field: str) -> Order:
    """The order for its owner and order staff; NOT_FOUND for anyone else, as for an
    unknown order."""
    if order is None or not visible(viewer, order):
        raise not_found(*field)
    return order


def require_payer(viewer: Viewer | None, order: Order | None, key: OrderKey, *field: str) -> Order:
    """Who may pay: whoever may see the order, and for a guest's order whoever holds its
    proven id."""
    if order is not None and (
        visible(viewer, order) or (order.user_id is None and key.proven_by(order.token))
    ):
        return order
    raise not_found(*field)
