"""The cart through the storefront API: lines, stock rules, promotions, shipping, merging."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import Server, make_customer
from tests.shop import ADDRESS, Shop, build_shop, cart_op
from tests.support import GraphQLClient


@pytest.fixture
async def shop(server: Server) -> Shop:
    return await build_shop(server)


def amounts(cart: dict[str, Any]) -> dict[str, str]:
    return {
        k: cart[k]["amount"]
        for k in ("subtotal", "discountTotal", "shippingTotal", "taxTotal", "total")
    }


async def new_cart(
    api: GraphQLClient, shop: Shop, *lines: tuple[str, int], token: str | None = None
) -> dict[str, Any]:
    cart, errors = await cart_op(
        api,
        "CartCreate",
        {"lines": [{"variantId": shop.variants[sku], "quantity": q} for sku, q in lines]},
        token,
    )
    assert errors == [], errors
    assert cart is not None
    return cart


async def test_lines_add_update_remove(api: GraphQLClient, shop: Shop) -> None:
    cart = await new_cart(api, shop, ("runner-42", 1), ("tote-red", 2))
    assert len(cart["id"]) > 30, "unguessable"
    assert [(line["variant"]["sku"], line["quantity"]) for line in cart["lines"]] == [
        ("runner-42", 1),
        ("tote-red", 2),
    ]
    assert cart["lines"][1]["variant"]["product"] == {"name": "Tote", "slug": "tote"}
    assert amounts(cart) == {
        "subtotal": "119.98",
        "discountTotal": "0.00",
        "shippingTotal": "0.00",
        "taxTotal": "0.00",
        "total": "119.98",
    }
    added, errors = await cart_op(
        api,
        "CartLinesAdd",
        {"cartId": cart["id"], "lines": [{"variantId": shop.variants["runner-42"], "quantity": 2}]},
    )
    assert errors == []
    assert added["lines"][0]["quantity"] == 3
    tote_line = added["lines"][1]["id"]
    updated, errors = await cart_op(
        api,
        "CartLinesUpdate",
        {"cartId": cart["id"], "lines": [{"lineId": tote_line, "quantity": 0}]},
    )
    assert errors == []
    assert [line["variant"]["sku"] for line in updated["lines"]] == ["runner-42"]
    removed, errors = await cart_op(
        api, "CartLinesRemove", {"cartId": cart["id"], "lineIds": [updated["lines"][0]["id"]]}
    )
    assert (errors, removed["lines"]) == ([], [])


async def test_asking_for_more_than_available_changes_nothing(
    api: GraphQLClient, shop: Shop
) -> None:
    cart = await new_cart(api, shop, ("runner-43", 1))
    _, errors = await cart_op(
        api,
        "CartLinesAdd",
        {
            "cartId": cart["id"],
            "lines": [
                {"variantId": shop.variants["sock-3"], "quantity": 5},
                {"variantId": shop.variants["runner-43"], "quantity": 2},
            ],
        },
    )
    assert errors == [
        {
            "field": ["lines", "1", "variantId"],
            "message": "only 2 of runner-43 available",
            "code": "INSUFFICIENT_STOCK",
        }
    ]
    after = (await api.op("Cart", {"id": cart["id"]})).data["cart"]
    assert [(line["variant"]["sku"], line["quantity"]) for line in after["lines"]] == [
        ("runner-43", 1)
    ]
    assert after["lines"][0]["stockStatus"] == "LOW_STOCK"
    too_many, errors = await cart_op(
        api,
        "CartLinesAdd",
        {"cartId": cart["id"], "lines": [{"variantId": shop.variants["sock-3"], "quantity": 100}]},
    )
    assert too_many is None
    assert errors[0]["code"] == "INVALID"


async def test_unknown_or_unpublished_variants_and_foreign_carts(
    api: GraphQLClient, shop: Shop, server: Server
) -> None:
    await shop.admin("ProductUnpublish", {"id": shop.products["tote"]})
    _, errors = await cart_op(
        api, "CartCreate", {"lines": [{"variantId": shop.variants["tote-red"], "quantity": 1}]}
    )
    assert errors[0]["code"] == "NOT_FOUND"
    alice = await make_customer(server, "alice@example.com")
    bob = await make_customer(server, "bob@example.com")
    alices = await new_cart(api, shop, ("sock-3", 1), token=alice)
    as_bob = await api.op("Cart", {"id": alices["id"]}, token=bob)
    assert as_bob.body["data"] == {"cart": None}
    assert as_bob.error_codes == ["NOT_FOUND"]
    _, errors = await cart_op(
        api,
        "CartLinesAdd",
        {"cartId": alices["id"], "lines": [{"variantId": shop.variants["sock-3"], "quantity": 1}]},
        bob,
    )
    assert errors[0]["code"] == "NOT_FOUND"
    made_up = await api.op("Cart", {"id": "Q2FydDpub3BlLW5vcGU="})
    assert made_up.error_codes == ["NOT_FOUND"]


async def test_signed_in_customer_has_one_cart_everywhere_and_guest_carts_merge(
    api: GraphQLClient, shop: Shop, server: Server
) -> None:
    token = await make_customer(server, "carol@example.com")
    phone = await new_cart(api, shop, ("sock-3", 2), token=token)
    laptop = await new_cart(api, shop, ("tote-red", 1), token=token)
    assert phone["id"] == laptop["id"]
    me = (await api.op("Me", token=token)).data["me"]
    assert me["cart"]["id"] == phone["id"]

    guest = await new_cart(api, shop, ("sock-3", 3), ("runner-43", 2))
    signed_in = await api.op(
        "TokenCreate",
        {
            "email": "carol@example.com",
            "password": "correct horse battery 9",
            "cartId": guest["id"],
        },
    )
    payload = signed_in.data["tokenCreate"]
    assert payload["userErrors"] == []
    merged = {line["variant"]["sku"]: line["quantity"] for line in payload["cart"]["lines"]}
    assert merged == {"sock-3": 5, "tote-red": 1, "runner-43": 2}
    assert payload["cart"]["id"] == phone["id"]
    # The guest cart is gone once merged.
    assert (await api.op("Cart", {"id": guest["id"]})).error_codes == ["NOT_FOUND"]


async def test_merge_caps_quantities_at_what_is_available(
    api: GraphQLClient, shop: Shop, server: Server
) -> None:
    token = await make_customer(server, "dave@example.com")
    await new_cart(api, shop, ("runner-43", 2), token=token)
    guest = await new_cart(api, shop, ("runner-43", 2))
    payload = (
        await api.op(
            "TokenCreate",
            {
                "email": "dave@example.com",
                "password": "correct horse battery 9",
                "cartId": guest["id"],
            },
        )
    ).data["tokenCreate"]
    assert [(line["variant"]["sku"], line["quantity"]) for line in payload["cart"]["lines"]] == [
        ("runner-43", 2)
    ]


async def test_shipping_follows_the_address(api: GraphQLClient, shop: Shop) -> None:
    cart = await new_cart(api, shop, ("runner-42", 1), ("tote-red", 1))
    assert cart["availableShippingMethods"] == []
    _, errors = await cart_op(
        api,
        "CartShippingMethodSelect",
        {"cartId": cart["id"], "shippingMethodId": shop.shipping["Standard"]},
    )
    assert errors[0]["code"] == "SHIPPING_ADDRESS_REQUIRED"
    austria, errors = await cart_op(
        api,
        "CartShippingAddressSet",
        {"cartId": cart["id"], "address": {**ADDRESS, "country": "at"}},
    )
    assert errors == []
    assert austria["shippingAddress"]["country"] == "AT"
    # 800 g -> 1 started kg: 4.90 + 1.00; Express does not serve Austria.
    assert [(m["name"], m["price"]["amount"]) for m in austria["availableShippingMethods"]] == [
        ("Standard", "5.90")
    ]
    _, errors = await cart_op(
        api,
        "CartShippingMethodSelect",
        {"cartId": cart["id"], "shippingMethodId": shop.shipping["Express"]},
    )
    assert errors[0]["code"] == "SHIPPING_NOT_AVAILABLE"
    chosen, errors = await cart_op(
        api,
        "CartShippingMethodSelect",
        {"cartId": cart["id"], "shippingMethodId": shop.shipping["Standard"]},
    )
    assert errors == []
    assert chosen["selectedShippingMethod"]["name"] == "Standard"
    # Austria: 20 % on 99.99 of goods (20.00) and 5.90 shipping (1.18).
    assert amounts(chosen) == {
        "subtotal": "99.99",
        "discountTotal": "0.00",
        "shippingTotal": "5.90",
        "taxTotal": "21.18",
        "total": "127.07",
    }
    nowhere, errors = await cart_op(
        api,
        "CartShippingAddressSet",
        {"cartId": cart["id"], "address": {**ADDRESS, "country": "US"}},
    )
    assert nowhere["availableShippingMethods"] == []
    assert nowhere["selectedShippingMethod"] is None
    bad, errors = await cart_op(
        api,
        "CartShippingAddressSet",
        {"cartId": cart["id"], "address": {**ADDRESS, "country": "XX"}},
    )
    assert bad is None
    assert errors[0]["field"] == ["address", "country"]


async def test_coupons_and_automatic_promotions(api: GraphQLClient, shop: Shop) -> None:
    await shop.promotion(
        name="Shoe week", kind="PERCENTAGE", value="10", scope="CATEGORIES",
        categoryIds=[shop.categories["apparel"]],
    )  # fmt: skip
    await shop.promotion(
        name="Spend 100 save 15", kind="THRESHOLD", value="15.00", minSubtotal="100.00",
        couponCode="save15",
    )  # fmt: skip
    await shop.promotion(
        name="Old", kind="FIXED_AMOUNT", value="5", couponCode="OLD", endsAt="2020-01-01T00:00:00Z"
    )
    await shop.promotion(
        name="Once", kind="FIXED_AMOUNT", value="1", couponCode="ONCE", usageLimit=1
    )
    cart = await new_cart(api, shop, ("runner-42", 1), ("sock-3", 3))
    # 10 % off shoes (apparel includes its sub-categories): 8.00 + 1.00 (9.99 -> 0.999).
    assert [(p["name"], p["amount"]["amount"]) for p in cart["appliedPromotions"]] == [
        ("Shoe week", "9.00")
    ]
    assert cart["discountTotal"]["amount"] == "9.00"

    short, errors = await cart_op(api, "CartCouponApply", {"cartId": cart["id"], "code": "SAVE15"})
    assert short is None
    assert errors == [
        {
            "field": ["code"],
            "message": "the coupon SAVE15 does not apply: spend 19.01 USD more to use it",
            "code": "COUPON_NOT_APPLICABLE",
        }
    ]
    for code, expected in (("nope", "COUPON_INVALID"), ("old", "COUPON_EXPIRED")):
        _, errors = await cart_op(api, "CartCouponApply", {"cartId": cart["id"], "code": code})
        assert errors[0]["code"] == expected

    bigger, _ = await cart_op(
        api,
        "CartLinesAdd",
        {"cartId": cart["id"], "lines": [{"variantId": shop.variants["tote-red"], "quantity": 2}]},
    )
    applied, errors = await cart_op(
        api, "CartCouponApply", {"cartId": cart["id"], "code": "save15"}
    )
    assert errors == []
    assert applied["couponCodes"] == ["SAVE15"]
    promos = {p["name"]: p["amount"]["amount"] for p in applied["appliedPromotions"]}
    # Bags are apparel too: 10 % of 39.98 joins in; the 15.00 is split over all lines.
    assert promos == {"Shoe week": "13.00", "Spend 100 save 15": "15.00"}
    line_discounts = sum(
        int(line["discount"]["amount"].replace(".", "")) for line in applied["lines"]
    )
    assert line_discounts == 2800
    assert applied["discountTotal"]["amount"] == "28.00"
    for line in applied["lines"]:
        sub, disc, tot = (
            int(line[k]["amount"].replace(".", "")) for k in ("subtotal", "discount", "total")
        )
        assert tot == sub - disc
    removed, errors = await cart_op(
        api, "CartCouponRemove", {"cartId": cart["id"], "code": "SAVE15"}
    )
    assert removed["couponCodes"] == []
    assert removed["discountTotal"]["amount"] == "13.00"
    assert bigger is not None


async def test_back_office_inputs_are_checked_and_permissions_enforced(
    api: GraphQLClient, shop: Shop, server: Server
) -> None:
    create = (
        "mutation($input: PromotionInput!) { promotionCreate(input: $input)"
        " { promotion { id } userErrors { field code } } }"
    )
    naive = await api.query(
        create,
        {
            "input": {
                "name": "x",
                "kind": "PERCENTAGE",
                "value": "10",
                "startsAt": "2026-01-01T00:00:00",
            }
        },
        token=shop.staff,
    )
    assert "UTC offset" in naive.errors[0]["message"]
    cases = {
        "value": {"name": "x", "kind": "PERCENTAGE", "value": "150"},
        "minSubtotal": {"name": "x", "kind": "THRESHOLD", "value": "5"},
        "couponCode": {"name": "x", "kind": "FIXED_AMOUNT", "value": "1", "couponCode": "a b"},
        "endsAt": {
            "name": "x", "kind": "FREE_SHIPPING",
            "startsAt": "2026-02-01T00:00:00Z", "endsAt": "2026-01-01T00:00:00+01:00",
        },
    }  # fmt: skip
    for field, data in cases.items():
        errors = (await api.query(create, {"input": data}, token=shop.staff)).data[
            "promotionCreate"
        ]
        assert errors["userErrors"][0]["field"] == ["input", field], field
    await shop.promotion(name="Taken", kind="FIXED_AMOUNT", value="1", couponCode="TAKEN")
    duplicate = await api.query(
        create,
        {"input": {"name": "y", "kind": "FIXED_AMOUNT", "value": "2", "couponCode": "taken"}},
        token=shop.staff,
    )
    assert duplicate.data["promotionCreate"]["userErrors"][0]["code"] == "ALREADY_EXISTS"

    customer = await make_customer(server, "sneaky@example.com")
    refused = await api.query(
        create, {"input": {"name": "z", "kind": "FREE_SHIPPING"}}, token=customer
    )
    assert refused.data["promotionCreate"]["userErrors"][0]["code"] == "PERMISSION_DENIED"
    method = await api.op(
        "ShippingMethodCreate",
        {"input": {"name": "Cheap", "countries": ["DE"], "baseFee": "1.00"}},
        token=customer,
    )
    assert method.data["shippingMethodCreate"]["userErrors"][0]["code"] == "PERMISSION_DENIED"
    bad_method = await api.op(
        "ShippingMethodCreate",
        {
            "input": {
                "name": "Mars",
                "countries": ["ZZ"],
                "baseFee": "1.00",
                "minDays": 9,
                "maxDays": 1,
            }
        },
        token=shop.staff,
    )
    fields = {tuple(e["field"]) for e in bad_method.data["shippingMethodCreate"]["userErrors"]}
    assert fields == {("input", "countries"), ("input", "maxDays")}


async def test_cart_reads_take_the_same_sql_whatever_their_size(
    api: GraphQLClient, shop: Shop
) -> None:
    await shop.product("cap", [("cap-1", "12.00", [5, 5]), ("cap-2", "12.00", [5, 5])])
    await shop.promotion(name="All 5", kind="PERCENTAGE", value="5")
    small = await new_cart(api, shop, ("sock-3", 1))
    large = await new_cart(
        api, shop, ("sock-3", 1), ("runner-42", 1), ("tote-red", 1), ("cap-1", 1), ("cap-2", 2)
    )
    for cart in (small, large):
        await cart_op(api, "CartShippingAddressSet", {"cartId": cart["id"], "address": ADDRESS})
    one = await api.op("Cart", {"id": small["id"]})
    five = await api.op("Cart", {"id": large["id"]})
    assert len(five.data["cart"]["lines"]) == 5
    assert one.statements == five.statements <= 8


async def test_concurrent_first_carts_of_a_customer_make_one_cart(
    api: GraphQLClient, shop: Shop, server: Server
) -> None:
    token = await make_customer(server, "rush@example.com")
    results = await asyncio.gather(
        *(
            cart_op(
                api,
                "CartCreate",
                {"lines": [{"variantId": shop.variants["sock-3"], "quantity": 1}]},
                token,
            )
            for _ in range(6)
        )
    )
    assert all(errors == [] for _, errors in results)
    assert len({cart["id"] for cart, _ in results if cart}) == 1
    me = (await api.op("Me", token=token)).data["me"]["cart"]
    assert me["id"] == results[0][0]["id"]  # type: ignore[index]
    final = (await api.op("Cart", {"id": me["id"]}, token=token)).data["cart"]
    assert final["lines"][0]["quantity"] == 6


async def test_a_free_shipping_coupon_can_be_applied_before_choosing_shipping(
    api: GraphQLClient, shop: Shop
) -> None:
    await shop.promotion(name="Ship free", kind="FREE_SHIPPING", couponCode="SHIPFREE")
    cart = await new_cart(api, shop, ("sock-3", 1))
    applied, errors = await cart_op(
        api, "CartCouponApply", {"cartId": cart["id"], "code": "shipfree"}
    )
    assert errors == []
    assert applied["couponCodes"] == ["SHIPFREE"]
    await cart_op(api, "CartShippingAddressSet", {"cartId": cart["id"], "address": ADDRESS})
    chosen, _ = await cart_op(
        api,
        "CartShippingMethodSelect",
        {"cartId": cart["id"], "shippingMethodId": shop.shipping["Standard"]},
    )
    assert chosen["shippingTotal"]["amount"] == "0.00"
    assert [(p["name"], p["amount"]["amount"]) for p in chosen["appliedPromotions"]] == [
        ("Ship free", "5.90")
    ]
