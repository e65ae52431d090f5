"""Pricing a cart: promotions, shipping discount and tax, exact to the minor unit.

A pure function of its inputs (no database, no clock), shared by the cart view
and by checkout, so what the customer saw is what the order records.

Order of calculation:
1. Catalog promotions (PERCENTAGE / FIXED_AMOUNT without a coupon) per line.
2. Order promotions (THRESHOLD, FREE_SHIPPING) and every coupon, on the lines'
   discounted amounts; an order-level discount is apportioned to the lines it
   covers in proportion to their remaining amounts (largest remainder), so the
   shares add up to it exactly.
Within each phase, stackable promotions all apply; of the non-stackable ones
only the best for the customer does. Higher `priority` applies first.
3. Shipping: the method's fee (see `shipping.quote`) less FREE_SHIPPING.
4. Tax per line on its discounted amount, and on net shipping, rounded half up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from app.money import allocate, round_half_up

BASIS_POINTS = 10_000  # 100 %


class PromotionKind(StrEnum):
    PERCENTAGE = "PERCENTAGE"
    FIXED_AMOUNT = "FIXED_AMOUNT"
    THRESHOLD = "THRESHOLD"
    FREE_SHIPPING = "FREE_SHIPPING"


class PromotionScope(StrEnum):
    ALL = "ALL"
    CATEGORIES = "CATEGORIES"
    PRODUCTS = "PRODUCTS"


CATALOG_KINDS = frozenset({PromotionKind.PERCENTAGE, PromotionKind.FIXED_AMOUNT})


@dataclass(frozen=True, slots=True)
class PriceLine:
    key: int
    product_id: int
    category_ids: frozenset[int]  # the product's category and all its ancestors
    unit_price: int
    quantity: int

    @property
    def subtotal(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class Rule:
    """A promotion as pricing sees it. `value`: basis points for PERCENTAGE, else minor units."""

    id: int
    name: str
    kind: PromotionKind
    value: int
    scope: PromotionScope = PromotionScope.ALL
    category_ids: frozenset[int] = frozenset()
    product_ids: frozenset[int] = frozenset()
    min_subtotal: int | None = None
    coupon_code: str | None = None
    priority: int = 0
    stackable: bool = True

    def covers(self, line: PriceLine) -> bool:
        if self.scope is PromotionScope.CATEGORIES:
            return bool(self.category_ids & line.category_ids)
        if self.scope is PromotionScope.PRODUCTS:
            return line.product_id in self.product_ids
        return True

    @property
    def order_phase(self) -> bool:
        return self.coupon_code is not None or self.kind not in CATALOG_KINDS


@dataclass(frozen=True, slots=True)
class PricedLine:
    key: int
    subtotal: int
    discount: int
    tax: int

    @property
    def total(self) -> int:
        return self.subtotal - self.discount + self.tax


@dataclass(frozen=True, slots=True)
class Applied:
    rule: Rule
    amount: int  # off the lines and, for FREE_SHIPPING, off shipping
    line_shares: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NotApplied:
    rule: Rule
    reason: str
    missing: int | None = None  # how much more must be spent, when that is the reason


@dataclass(frozen=True, slots=True)
class Pricing:
    lines: list[PricedLine]
    applied: list[Applied]
    not_applied: list[NotApplied]
    shipping_fee: int  # before FREE_SHIPPING
    shipping_discount: int
    shipping_tax: int

    @property
    def subtotal(self) -> int:
        return sum(line.subtotal for line in self.lines)

    @property
    def discount_total(self) -> int:
        return sum(line.discount for line in self.lines)

    @property
    def shipping_total(self) -> int:
        return self.shipping_fee - self.shipping_discount

    @property
    def tax_total(self) -> int:
        return sum(line.tax for line in self.lines) + self.shipping_tax

    @property
    def total(self) -> int:
        return self.subtotal - self.discount_total + self.shipping_total + self.tax_total


class _State:
    def __init__(self, lines: Sequence[PriceLine]) -> None:
        self.remaining = {line.key: line.subtotal for line in lines}
        self.discount = dict.fromkeys(self.remaining, 0)
        self.shipping = 0


def _effect(
    rule: Rule, lines: Sequence[PriceLine], state: _State, in_order_phase: bool
) -> Applied | NotApplied:
    """What `rule` takes off given the amounts still remaining (no change to `state`)."""
    covered = [line for line in lines if rule.covers(line) and state.remaining[line.key] > 0]
    # Free shipping on the whole order needs no item; scoped, it needs one in its scope.
    if not covered and (
        rule.kind is not PromotionKind.FREE_SHIPPING or rule.scope is not PromotionScope.ALL
    ):
        return NotApplied(rule, "it does not apply to any item in the cart")
    base = sum(state.remaining[line.key] for line in covered)
    if rule.min_subtotal is not None and base < rule.min_subtotal:
        missing = rule.min_subtotal - base
        return NotApplied(rule, f"short by {missing}", missing)
    if rule.kind is PromotionKind.FREE_SHIPPING:
        if state.shipping <= 0:
            return NotApplied(rule, "there is no shipping fee to waive")
        return Applied(rule, state.shipping)
    shares: dict[int, int]
    if not in_order_phase:
        # Catalog promotions price each line on its own.
        shares = {}
        for line in covered:
            left = state.remaining[line.key]
            if rule.kind is PromotionKind.PERCENTAGE:
                off = round_half_up(left * rule.value, BASIS_POINTS)
            else:
                off = rule.value * line.quantity
            shares[line.key] = min(off, left)
    else:
        if rule.kind is PromotionKind.PERCENTAGE:
            amount = round_half_up(base * rule.value, BASIS_POINTS)
        else:
            amount = rule.value
        amount = min(amount, base)
        parts = allocate(amount, [state.remaining[line.key] for line in covered])
        shares = {line.key: part for line, part in zip(covered, parts, strict=True)}
    shares = {key: off for key, off in shares.items() if off > 0}
    total = sum(shares.values())
    if total == 0:
        return NotApplied(rule, "it takes nothing off this cart")
    return Applied(rule, total, shares)


def _apply(applied: Applied, state: _State) -> None:
    for key, off in applied.line_shares.items():
        state.remaining[key] -= off
        state.discount[key] += off
    if applied.rule.kind is PromotionKind.FREE_SHIPPING:
        state.shipping -= applied.amount


def _order(rule: Rule) -> tuple[int, int]:
    return (-rule.priority, rule.id)


def _run_phase(
    rules: Sequence[Rule], lines: Sequence[PriceLine], state: _State, in_order_phase: bool
) -> tuple[list[Applied], list[NotApplied]]:
    applied: list[Applied] = []
    not_applied: list[NotApplied] = []
    for rule in sorted(rules, key=_order):
        effect = _effect(rule, lines, state, in_order_phase)
        if isinstance(effect, Applied):
            _apply(effect, state)
            applied.append(effect)
        else:
            not_applied.append(effect)
    return applied, not_applied


def _run(
    rules: Sequence[Rule],
    lines: Sequence[PriceLine],
    shipping_fee: Callable[[int], int] | None,
) -> tuple[_State, int, list[Applied], list[NotApplied]]:
    """Both phases with these rules: (final amounts, shipping fee, applied, not applied)."""
    state = _State(lines)
    applied, not_applied = _run_phase(
        [r for r in rules if not r.order_phase], lines, state, in_order_phase=False
    )
    fee = shipping_fee(sum(state.remaining.values())) if shipping_fee else 0
    state.shipping = fee
    more, missed = _run_phase(
        [r for r in rules if r.order_phase], lines, state, in_order_phase=True
    )
    return state, fee, applied + more, not_applied + missed


def price(
    lines: Sequence[PriceLine],
    rules: Sequence[Rule],
    tax_rate_bp: int,
    shipping_fee: Callable[[int], int] | None = None,
) -> Pricing:
    """Prices `lines` under `rules`.

    `shipping_fee` gives the selected method's fee for a merchandise subtotal (after
    catalog promotions, which is what "free over" compares); None when none is chosen.
    """
    stackable = [r for r in rules if r.stackable]
    exclusive = sorted((r for r in rules if not r.stackable), key=_order)
    # Of the promotions that cannot be combined, the one that leaves the customer paying
    # least goes with all the stackable ones (ties: higher priority, then older).
    best: tuple[int, _State, int, list[Applied], list[NotApplied]] | None = None
    best_rule: Rule | None = None
    for candidate in [None, *exclusive]:
        state, fee, applied, not_applied = _run(
            [*stackable, *([candidate] if candidate else [])], lines, shipping_fee
        )
        pays = sum(state.remaining.values()) + state.shipping  # before tax
        if candidate is not None and all(a.rule is not candidate for a in applied):
            continue
        if best is None or pays < best[0]:
            best, best_rule = (pays, state, fee, applied, not_applied), candidate
    assert best is not None
    _pays, state, fee, applied, not_applied = best
    for rule in exclusive:
        if rule is not best_rule:
            alone = _run([*stackable, rule], lines, shipping_fee)[3]
            missed = next((n for n in alone if n.rule is rule), None)
            not_applied.append(
                missed or NotApplied(rule, "a better offer that cannot be combined applies")
            )
    priced = [
        PricedLine(
            key=line.key,
            subtotal=line.subtotal,
            discount=state.discount[line.key],
            tax=round_half_up(state.remaining[line.key] * tax_rate_bp, BASIS_POINTS),
        )
        for line in lines
    ]
    return Pricing(
        lines=priced,
        applied=applied,
        not_applied=not_applied,
        shipping_fee=fee,
        shipping_discount=fee - state.shipping,
        shipping_tax=round_half_up(state.shipping * tax_rate_bp, BASIS_POINTS),
    )
