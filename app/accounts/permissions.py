"""Who may do what: staff permissions and ownership, each checked in one place here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.errors import ErrorCode, fail


class Permission(StrEnum):
    MANAGE_PRODUCTS = "MANAGE_PRODUCTS"
    MANAGE_ORDERS = "MANAGE_ORDERS"
    MANAGE_CUSTOMERS = "MANAGE_CUSTOMERS"
    MANAGE_PROMOTIONS = "MANAGE_PROMOTIONS"
    MANAGE_SHIPPING = "MANAGE_SHIPPING"
    # Issuing gift cards creates money: not for everyone who handles orders.
    MANAGE_GIFT_CARDS = "MANAGE_GIFT_CARDS"


ALL_PERMISSIONS: frozenset[Permission] = frozenset(Permission)

# Warehouses and per-warehouse stock are the back office's business: one permission
# for every path to them (a list, `node(id:)`, a variant's `stocks`).
SEE_INVENTORY = Permission.MANAGE_PRODUCTS


def parse_permissions(names: list[str] | tuple[str, ...]) -> frozenset[Permission]:
    """Permission names (any case) to permissions; ValueError names an unknown one."""
    chosen: set[Permission] = set()
    for name in names:
        try:
            chosen.add(Permission(name.strip().upper()))
        except ValueError:
            known = ", ".join(p.value for p in Permission)
            raise ValueError(f"unknown permission {name!r}; known: {known}") from None
    return frozenset(chosen)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is calling: a signed-in user's cached identity."""

    user_id: int
    email: str
    first_name: str
    last_name: str
    is_staff: bool
    permissions: frozenset[Permission]

    def can(self, permission: Permission) -> bool:
        return self.is_staff and permission in self.permissions


def require_permission(viewer: Viewer | None, permission: Permission) -> Viewer:
    """The viewer if it holds `permission`; PERMISSION_DENIED for anyone else."""
    if viewer is None or not viewer.can(permission):
        raise fail(
            ErrorCode.PERMISSION_DENIED,
            f"this operation needs the staff permission {permission.value}",
        )
    return viewer


def require_viewer(viewer: Viewer | None) -> Viewer:
    """The signed-in viewer; UNAUTHENTICATED for anonymous callers."""
    if viewer is None:
        raise fail(ErrorCode.UNAUTHENTICATED, "sign in to do this")
    return viewer


def can_see(viewer: Viewer | None, owner_id: int | None, staff_permission: Permission) -> bool:
    """Ownership, in one place: the owner, or staff holding `staff_permission`."""
    if viewer is None:
        return False
    return (owner_id is not None and viewer.user_id == owner_id) or viewer.can(staff_permission)


def require_owner(viewer: Viewer | None, owner_id: int | None, what: str, *field: str) -> Viewer:
    """The owner of an object; anyone else gets NOT_FOUND, as if it did not exist."""
    if viewer is None or owner_id is None or viewer.user_id != owner_id:
        raise fail(ErrorCode.NOT_FOUND, f"{what} not found", *field)
    return viewer
