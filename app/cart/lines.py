"""Changing a cart's lines: all the requested changes, or none of them.

Stock is only checked here; it is taken at checkout, except for reserve-on-add
variants, whose units are held for the line (`app.inventory.holds`). Each step
is one statement for all lines, so a change costs the same however many lines
it touches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.cart.access import CartRules, touch
from app.cart.contents import (
    MAX_LINE_QUANTITY,
    MAX_LINES,
    VariantsById,
    add_lines,
    lines_of,
    on_sale,
    variants_of,
)
from app.cart.models import Cart, CartLine
from app.errors import DomainError, ErrorCode, Problems, fail
from app.inventory import holds
from app.inventory.availability import available_units


@dataclass(frozen=True, slots=True)
class LineChange:
    """A requested quantity for a variant (add) or a line (update); `index` locates errors."""

    key: int
    quantity: int
    index: int


@dataclass(slots=True)
class _Wanted:
    """The quantity wanted of every variant once the request applies, and where in the
    request each changed variant was asked for (for error paths)."""

    lines: dict[int, CartLine]  # by variant
    quantity: dict[int, int]
    where: dict[int, tuple[int, str]] = field(default_factory=dict)

    def changed(self) -> list[int]:
        """Variants whose quantity changes, sorted: stock rows get locked in one order."""
        return sorted(
            v
            for v, q in self.quantity.items()
            if q != (self.lines[v].quantity if v in self.lines else 0)
        )

    def path(self, variant_id: int, default: str, name: str | None = None) -> tuple[str, ...]:
        """Where the variant was asked for: its field (`name`, else the one that asked,
        else `default`) in its entry of `lines`."""
        index, asked = self.where.get(variant_id, (0, default))
        return ("lines", str(index), name or asked)


def _quantity_ok(change: LineChange, lowest: int, problems: Problems) -> bool:
    if lowest <= change.quantity <= MAX_LINE_QUANTITY:
        return True
    problems.add(
        ErrorCode.INVALID,
        f"quantity must be between {lowest} and {MAX_LINE_QUANTITY}",
        "lines", str(change.index), "quantity",
    )  # fmt: skip
    return False


def _wanted(
    lines: Sequence[CartLine],
    adds: Sequence[LineChange],
    updates: Sequence[LineChange],
    removals: Sequence[int],
) -> _Wanted:
    """The request applied to the lines; every problem with it raised at once."""
    by_id = {line.id: line for line in lines}
    wanted = _Wanted({line.variant_id: line for line in lines}, {})
    wanted.quantity = {line.variant_id: line.quantity for line in lines}
    problems = Problems()
    for change in adds:
        if _quantity_ok(change, 1, problems):
            wanted.quantity[change.key] = wanted.quantity.get(change.key, 0) + change.quantity
            wanted.where[change.key] = (change.index, "variant_id")
    for change in updates:
        line = by_id.get(change.key)
        if line is None:
            problems.add(
                ErrorCode.NOT_FOUND,
                "no such line in this cart",
                "lines", str(change.index), "line_id",
            )  # fmt: skip
        elif _quantity_ok(change, 0, problems):
            wanted.quantity[line.variant_id] = change.quantity
            wanted.where[line.variant_id] = (change.index, "quantity")
    for index, line_id in enumerate(removals):
        line = by_id.get(line_id)
        if line is None:
            problems.add(ErrorCode.NOT_FOUND, "no such line in this cart", "line_ids", str(index))
        else:
            wanted.quantity[line.variant_id] = 0
    problems.raise_if_any()
    return wanted


def _check_variants(wanted: _Wanted, changed: Sequence[int], found: VariantsById) -> None:
    for variant_id in changed:
        pair = found.get(variant_id)
        if wanted.quantity[variant_id] > 0 and (pair is None or not on_sale(pair[1])):
            raise fail(
                ErrorCode.NOT_FOUND,
                "no product variant on sale with this id",
                *wanted.path(variant_id, "line_id"),
            )
        if wanted.quantity[variant_id] > MAX_LINE_QUANTITY:
            raise fail(
                ErrorCode.INVALID,
                f"at most {MAX_LINE_QUANTITY} of one variant per cart",
                *wanted.path(variant_id, "line_id", name="quantity"),
            )
    if sum(1 for q in wanted.quantity.values() if q > 0) > MAX_LINES:
        raise fail(ErrorCode.INVALID, f"a cart holds at most {MAX_LINES} lines", "lines")


def _insufficient(available: int, sku: str, path: tuple[str, ...]) -> DomainError:
    return fail(ErrorCode.INSUFFICIENT_STOCK, f"only {max(available, 0)} of {sku} available", *path)


async def _write_lines(
    session: AsyncSession, cart: Cart, wanted: _Wanted, changed: Sequence[int], rules: CartRules
) -> dict[int, int]:
    """Deletes, updates and inserts the changed lines; returns line ids by variant."""
    gone = [wanted.lines[v].id for v in changed if wanted.quantity[v] == 0]
    if gone:
        await session.exec(delete(CartLine).where(col(CartLine.id).in_(gone)))  # type: ignore[call-overload]
    for variant_id in changed:
        if variant_id in wanted.lines and wanted.quantity[variant_id] > 0:
            wanted.lines[variant_id].quantity = wanted.quantity[variant_id]
    assert cart.id is not None
    new = {v: wanted.quantity[v] for v in changed if v not in wanted.lines}
    ids = {v: line.id for v, line in wanted.lines.items() if line.id is not None}
    return ids | await add_lines(session, cart.id, new, rules.now)


async def change_lines(
    session: AsyncSession,
    cart: Cart,
    adds: Sequence[LineChange],
    updates: Sequence[LineChange],
    removals: Sequence[int],
    rules: CartRules,
) -> None:
    """Applies line changes all at once, or none of them (the first problem is raised)."""
    assert cart.id is not None
    wanted = _wanted(await lines_of(session, cart.id), adds, updates, removals)
    changed = wanted.changed()
    if not changed:
        return
    found = await variants_of(session, changed)
    _check_variants(wanted, changed, found)
    holding = [v for v in changed if v in found and found[v][0].reserve_on_add]
    # The changed lines that hold units let them go (they are held again at their new
    # quantity), and so do the lines that go.
    releasing = [
        wanted.lines[v].id
        for v in changed
        if v in wanted.lines and (v in holding or wanted.quantity[v] == 0)
    ]
    locked = await holds.release_for(session, releasing, holding=holding, now=rules.now)  # type: ignore[arg-type]
    kept = [v for v in changed if wanted.quantity[v] > 0]
    # What each line can have: on sale now, its own holds just released included.
    available = await available_units(session, kept)
    for variant_id in kept:
        if wanted.quantity[variant_id] > available.get(variant_id, 0):
            sku = found[variant_id][0].sku
            raise _insufficient(
                available.get(variant_id, 0), sku, wanted.path(variant_id, "quantity")
            )
    line_ids = await _write_lines(session, cart, wanted, changed, rules)
    requests = [holds.HoldRequest(line_ids[v], v, wanted.quantity[v]) for v in kept if v in holding]
    until = rules.now + timedelta(seconds=rules.settings.hold_seconds)
    for variant_id in await holds.hold(session, locked, requests, until):
        sku = found[variant_id][0].sku
        raise _insufficient(locked.units(variant_id), sku, wanted.path(variant_id, "quantity"))
    touch(cart, rules)
    await session.flush()
