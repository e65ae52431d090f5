"""Who may use a cart, opening one, and deleting carts with what their lines held."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.permissions import Viewer, require_owner
from app.accounts.users import lock_user
from app.cart.models import Cart, CartLine, CartStatus
from app.errors import DomainError, ErrorCode, fail
from app.inventory import holds
from app.settings import Settings

CategoryPath = Callable[[int | None], frozenset[int]]


@dataclass(frozen=True, slots=True)
class CartRules:
    """What a cart needs from outside its domain: settings, categories and the time."""

    settings: Settings
    category_path: CategoryPath
    now: datetime


def new_token() -> str:
    return secrets.token_urlsafe(24)


def touch(cart: Cart, rules: CartRules) -> None:
    """The cart was used now: it expires a full TTL from now."""
    cart.updated_at = rules.now
    cart.expires_at = rules.now + timedelta(seconds=rules.settings.cart_ttl_seconds)


def not_found() -> DomainError:
    return fail(ErrorCode.NOT_FOUND, "cart not found", "cart_id")


async def find(session: AsyncSession, token: str, *, lock: bool = False) -> Cart | None:
    query = select(Cart).where(Cart.token == token)
    return (await session.exec(query.with_for_update() if lock else query)).first()


def check_access(cart: Cart | None, viewer: Viewer | None, now: datetime) -> Cart:
    """The cart if the caller may use it: a guest cart by its id, a customer's only by them."""
    if cart is None or cart.status != CartStatus.ACTIVE:
        raise not_found()
    if cart.user_id is not None:
        require_owner(viewer, cart.user_id, "cart", "cart_id")
    if cart.expires_at <= now:
        raise fail(ErrorCode.CART_EXPIRED, "this cart has expired; start a new one", "cart_id")
    return cart


async def active_cart_of(session: AsyncSession, user_id: int, *, lock: bool = False) -> Cart | None:
    query = select(Cart).where(Cart.user_id == user_id, Cart.status == CartStatus.ACTIVE)
    return (await session.exec(query.with_for_update() if lock else query)).first()


async def open_cart(session: AsyncSession, viewer: Viewer | None, rules: CartRules) -> Cart:
    """A signed-in customer's one active cart (made on first use); a new guest cart otherwise."""
    if viewer is not None:
        # User, then cart: the order every path takes. The cart lock keeps this write
        # from overlapping one that came in through the cart's id.
        await lock_user(session, viewer.user_id)
        existing = await active_cart_of(session, viewer.user_id, lock=True)
        if existing is not None and existing.expires_at > rules.now:
            return existing
        if existing is not None:
            await delete_carts(session, [existing])
    cart = Cart(
        token=new_token(),
        user_id=viewer.user_id if viewer else None,
        created_at=rules.now,
        updated_at=rules.now,
        expires_at=rules.now,
    )
    touch(cart, rules)
    session.add(cart)
    await session.flush()
    return cart


async def delete_carts(session: AsyncSession, carts: Sequence[Cart]) -> None:
    """Deletes carts (locked by the caller) with their lines, giving back what the lines
    held first."""
    cart_ids = [cart.id for cart in carts if cart.id is not None]
    line_ids = list(
        (await session.exec(select(CartLine.id).where(col(CartLine.cart_id).in_(cart_ids)))).all()
    )
    await holds.release_for(session, line_ids)  # type: ignore[arg-type]
    await session.exec(delete(CartLine).where(col(CartLine.cart_id).in_(cart_ids)))  # type: ignore[call-overload]
    await session.exec(delete(Cart).where(col(Cart.id).in_(cart_ids)))  # type: ignore[call-overload]
