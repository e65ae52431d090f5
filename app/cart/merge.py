"""Signing a guest cart in: its lines join the customer's cart, capped by what is available.

Lines that cannot join (not on sale, nothing more available, the cart full) are
left out; the rest join in one statement per table, however many there are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.permissions import Viewer
from app.accounts.users import lock_user
from app.cart.access import CartRules, active_cart_of, delete_carts, touch
from app.cart.contents import (
    MAX_LINE_QUANTITY,
    MAX_LINES,
    VariantsById,
    add_lines,
    lines_of,
    on_sale,
    variants_of,
)
from app.cart.models import Cart, CartLine, CartStatus
from app.inventory import holds
from app.inventory.availability import available_units
from app.inventory.locking import LockedStock
from app.promotions.offers import MAX_COUPONS_PER_CART


@dataclass(frozen=True, slots=True)
class _Merge:
    variant_id: int
    existing: CartLine | None  # the customer's line for the variant, if any
    quantity: int


def is_mergeable(guest: Cart, now: datetime) -> bool:
    """A cart can be signed in while it is an active guest cart that has not expired."""
    return guest.status == CartStatus.ACTIVE and guest.user_id is None and guest.expires_at > now


def _plan(
    guest_lines: Sequence[CartLine],
    target_lines: Mapping[int, CartLine],
    found: VariantsById,
    available: Mapping[int, int],
    own: Mapping[int, tuple[int, datetime]],
) -> list[_Merge]:
    """The customer's line quantities once the guest's lines join (only those that grow)."""
    merges: list[_Merge] = []
    line_count = len(target_lines)
    for line in guest_lines:
        product = found[line.variant_id][1]
        existing = target_lines.get(line.variant_id)
        current = existing.quantity if existing else 0
        own_held = own[existing.id][0] if existing and existing.id in own else 0
        cap = min(MAX_LINE_QUANTITY, available.get(line.variant_id, 0) + own_held)
        merged = min(current + line.quantity, cap)
        if not on_sale(product) or merged <= current:
            continue
        if existing is None and line_count >= MAX_LINES:
            continue
        merges.append(_Merge(line.variant_id, existing, merged))
        line_count += existing is None
    return merges


async def _write(
    session: AsyncSession, target: Cart, merges: Sequence[_Merge], rules: CartRules
) -> dict[int, int]:
    """The merged quantities on the customer's lines; their ids by variant."""
    ids: dict[int, int] = {}
    for merge in merges:
        if merge.existing is not None and merge.existing.id is not None:
            merge.existing.quantity = merge.quantity
            ids[merge.variant_id] = merge.existing.id
    assert target.id is not None
    new = {m.variant_id: m.quantity for m in merges if m.existing is None}
    return ids | await add_lines(session, target.id, new, rules.now)


async def _hold_again(
    session: AsyncSession,
    locked: LockedStock,
    merges: Sequence[_Merge],
    line_ids: Mapping[int, int],
    reserving: Sequence[int],
    rules: CartRules,
) -> None:
    """The merged quantities of reserve-on-add variants held for the customer's lines."""
    merging = [m for m in merges if m.variant_id in reserving]
    await holds.release(
        session, locked, lines=[m.existing.id for m in merging if m.existing and m.existing.id]
    )
    requests = [
        holds.HoldRequest(line_ids[m.variant_id], m.variant_id, m.quantity) for m in merging
    ]
    until = rules.now + timedelta(seconds=rules.settings.hold_seconds)
    short = await holds.hold(session, locked, requests, until)
    # The caps came from these very rows, locked: they cannot fall short.
    assert not short, short


async def _merge_lines(session: AsyncSession, guest: Cart, target: Cart, rules: CartRules) -> None:
    assert guest.id is not None
    assert target.id is not None
    guest_lines = sorted(await lines_of(session, guest.id), key=lambda line: line.variant_id)
    target_lines = {line.variant_id: line for line in await lines_of(session, target.id)}
    variant_ids = [line.variant_id for line in guest_lines]
    found = await variants_of(session, variant_ids)
    reserving = [v for v in variant_ids if found[v][0].reserve_on_add]
    # The guest's holds end; the merged quantities are held again for the customer's lines.
    locked = await holds.release_for(
        session,
        [line.id for line in guest_lines if line.id is not None],
        holding=reserving,
        now=rules.now,
    )
    available = await available_units(session, variant_ids)
    own = holds.held_by_line(
        await holds.holds_of_lines(session, [line.id for line in target_lines.values() if line.id])
    )
    merges = _plan(guest_lines, target_lines, found, available, own)
    line_ids = await _write(session, target, merges, rules)
    await _hold_again(session, locked, merges, line_ids, reserving, rules)
    await session.exec(delete(CartLine).where(col(CartLine.cart_id) == guest.id))  # type: ignore[call-overload]


async def merge_into_customer_cart(
    session: AsyncSession, guest: Cart, viewer: Viewer, rules: CartRules
) -> Cart:
    """Signs a guest cart in (locked by the caller): it becomes the customer's cart, or its
    lines, coupons and address join the customer's active cart. Returns the customer's cart."""
    await lock_user(session, viewer.user_id)
    target = await active_cart_of(session, viewer.user_id, lock=True)
    if target is None or target.expires_at <= rules.now:
        if target is not None:
            await delete_carts(session, [target])
        guest.user_id = viewer.user_id
        touch(guest, rules)
        await session.flush()
        return guest
    await _merge_lines(session, guest, target, rules)
    for code in guest.coupon_codes:
        if code not in target.coupon_codes:
            target.coupon_codes = [*target.coupon_codes, code][:MAX_COUPONS_PER_CART]
    if target.shipping_address is None and guest.shipping_address is not None:
        target.shipping_address = guest.shipping_address
        target.shipping_method_id = guest.shipping_method_id
    guest.status = CartStatus.MERGED.value
    touch(target, rules)
    await session.flush()
    return target
