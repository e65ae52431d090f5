"""Pricing rules, proven on random carts and promotions (no database)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.money import round_half_up
from app.pricing.engine import (
    BASIS_POINTS,
    Applied,
    PriceLine,
    Pricing,
    PromotionKind,
    PromotionScope,
    Rule,
    price,
)

CATEGORIES = [1, 2, 3]


@st.composite
def carts(draw: st.DrawFn) -> list[PriceLine]:
    count = draw(st.integers(min_value=1, max_value=8))
    return [
        PriceLine(
            key=key,
            product_id=draw(st.integers(min_value=1, max_value=5)),
            category_ids=frozenset(draw(st.sets(st.sampled_from(CATEGORIES), min_size=1))),
            unit_price=draw(st.integers(min_value=0, max_value=500_000)),
            quantity=draw(st.integers(min_value=1, max_value=99)),
        )
        for key in range(1, count + 1)
    ]


@st.composite
def rules(draw: st.DrawFn) -> list[Rule]:
    made = []
    for rule_id in range(1, draw(st.integers(min_value=0, max_value=6)) + 1):
        kind = draw(st.sampled_from(list(PromotionKind)))
        value = (
            draw(st.integers(min_value=1, max_value=BASIS_POINTS))
            if kind is PromotionKind.PERCENTAGE
            else draw(st.integers(min_value=1, max_value=2_000_000))
        )
        scope = draw(st.sampled_from(list(PromotionScope)))
        made.append(
            Rule(
                id=rule_id,
                name=f"promo {rule_id}",
                kind=kind,
                value=value,
                scope=scope,
                category_ids=frozenset(draw(st.sets(st.sampled_from(CATEGORIES)))),
                product_ids=frozenset(draw(st.sets(st.integers(min_value=1, max_value=5)))),
                min_subtotal=draw(st.none() | st.integers(min_value=0, max_value=5_000_000)),
                coupon_code=draw(st.none() | st.just(f"CODE{rule_id}")),
                priority=draw(st.integers(min_value=0, max_value=3)),
                stackable=draw(st.booleans()),
            )
        )
    return made


@settings(max_examples=400, deadline=None)
@given(
    lines=carts(),
    promotions=rules(),
    fee=st.none() | st.integers(min_value=0, max_value=50_000),
    free_over=st.none() | st.integers(min_value=0, max_value=3_000_000),
    tax=st.integers(min_value=0, max_value=2_700),
)
def test_amounts_are_exact_and_never_negative(
    lines: list[PriceLine],
    promotions: list[Rule],
    fee: int | None,
    free_over: int | None,
    tax: int,
) -> None:
    def quote(subtotal: int) -> int:
        assert fee is not None
        return 0 if free_over is not None and subtotal >= free_over else fee

    shipping = quote if fee is not None else None
    result = price(lines, promotions, tax, shipping)
    for line, priced in zip(lines, result.lines, strict=True):
        assert 0 <= priced.discount <= priced.subtotal == line.subtotal
        assert priced.tax == round_half_up((priced.subtotal - priced.discount) * tax, BASIS_POINTS)
        assert priced.total >= 0
    # Each promotion's shares add up to its amount, and all shares to the discount.
    for applied in result.applied:
        assert applied.amount > 0
        if applied.rule.kind is not PromotionKind.FREE_SHIPPING:
            assert sum(applied.line_shares.values()) == applied.amount
    assert sum(sum(a.line_shares.values()) for a in result.applied) == result.discount_total
    shipping_off = sum(
        a.amount for a in result.applied if a.rule.kind is PromotionKind.FREE_SHIPPING
    )
    assert shipping_off == result.shipping_discount
    assert 0 <= result.shipping_total <= (fee or 0)
    assert result.total == (
        result.subtotal - result.discount_total + result.shipping_total + result.tax_total
    )
    assert result.total == sum(p.total for p in result.lines) + result.shipping_total + (
        result.shipping_tax
    )
    # Of the non-stackable promotions, at most one applies, and it is the best choice.
    exclusive = [a for a in result.applied if not a.rule.stackable]
    assert len(exclusive) <= 1
    stackable = [r for r in promotions if r.stackable]
    for rule in promotions:
        if not rule.stackable:
            alternative = price(lines, [*stackable, rule], tax, shipping)
            assert _customer_pays(alternative) >= _customer_pays(result)


def _customer_pays(result: Pricing) -> int:
    return result.subtotal - result.discount_total + result.shipping_total


def _rule(rule_id: int, kind: PromotionKind, value: int, **kw: object) -> Rule:
    return Rule(id=rule_id, name=f"r{rule_id}", kind=kind, value=value, **kw)  # type: ignore[arg-type]


def test_catalog_first_then_order_discounts_apportioned() -> None:
    lines = [
        PriceLine(1, product_id=1, category_ids=frozenset({1}), unit_price=1000, quantity=2),
        PriceLine(2, product_id=2, category_ids=frozenset({2}), unit_price=333, quantity=3),
    ]
    ten_percent_shoes = _rule(
        1, PromotionKind.PERCENTAGE, 1000, scope=PromotionScope.CATEGORIES,
        category_ids=frozenset({1}),
    )  # fmt: skip
    threshold = _rule(2, PromotionKind.THRESHOLD, 500, min_subtotal=2500)
    result = price(lines, [ten_percent_shoes, threshold], 1900, lambda _s: 495)
    # 2000 -> 1800 after 10 %; then 500 off 2799 split 1800:999 by largest remainder.
    assert [a.amount for a in result.applied] == [200, 500]
    assert result.applied[1].line_shares == {1: 322, 2: 178}
    assert [p.discount for p in result.lines] == [522, 178]
    assert result.subtotal == 2999
    assert result.shipping_total == 495
    assert result.tax_total == round_half_up(1478 * 1900, 10000) + round_half_up(
        821 * 1900, 10000
    ) + round_half_up(495 * 1900, 10000)


def test_best_non_stackable_wins_and_threshold_reports_the_gap() -> None:
    lines = [PriceLine(1, product_id=1, category_ids=frozenset({1}), unit_price=4000, quantity=1)]
    small = _rule(1, PromotionKind.FIXED_AMOUNT, 300, coupon_code="A", stackable=False)
    big = _rule(2, PromotionKind.PERCENTAGE, 1500, coupon_code="B", stackable=False)
    far = _rule(3, PromotionKind.THRESHOLD, 1000, min_subtotal=5000)
    result = price(lines, [small, big, far], 0)
    assert [(a.rule.id, a.amount) for a in result.applied] == [(2, 600)]
    reasons = {n.rule.id: n.reason for n in result.not_applied}
    assert reasons[3] == "short by 1600"  # judged after the coupon: 4000 - 600
    assert "better offer" in reasons[1]


def test_free_shipping_waives_the_fee_only() -> None:
    lines = [PriceLine(1, product_id=1, category_ids=frozenset({1}), unit_price=1000, quantity=1)]
    free = _rule(1, PromotionKind.FREE_SHIPPING, 0, min_subtotal=500)
    result = price(lines, [free], 2000, lambda _s: 700)
    assert result.applied == [Applied(free, 700)]
    assert (result.shipping_total, result.shipping_tax, result.discount_total) == (0, 0, 0)
    assert result.total == 1200


def test_scoped_free_shipping_needs_an_item_in_its_scope() -> None:
    bags_only = _rule(
        1, PromotionKind.FREE_SHIPPING, 0, scope=PromotionScope.CATEGORIES,
        category_ids=frozenset({9}),
    )  # fmt: skip
    shoes = [PriceLine(1, product_id=1, category_ids=frozenset({1}), unit_price=1000, quantity=1)]
    result = price(shoes, [bags_only], 0, lambda _s: 700)
    assert result.applied == []
    assert result.shipping_total == 700
    bag = PriceLine(2, product_id=2, category_ids=frozenset({9}), unit_price=500, quantity=1)
    assert price([*shoes, bag], [bags_only], 0, lambda _s: 700).shipping_total == 0
