"""Cart and checkout mutations of the storefront, and the cart query."""

from __future__ import annotations

import strawberry

from app import ids
from app.cart.lines import LineChange
from app.checkout.complete import CheckoutInput as CheckoutData
from resolvers.cart import carts
from resolvers.checkout import checkout
from schema.access import PUBLIC, mutation, query
from schema.accounts.types import AddressInput
from schema.cart.types import Cart
from schema.common import CtxInfo, Payload, decode_id
from schema.orders.types import Order


@strawberry.input
class CartLineInput:
    variant_id: strawberry.ID
    quantity: int


@strawberry.input
class CartLineUpdateInput:
    line_id: strawberry.ID
    quantity: int = strawberry.field(description="0 removes the line.")


@strawberry.input
class CheckoutInput:
    accept_terms: bool
    idempotency_key: str = strawberry.field(
        description="Chosen by the client per purchase; a retry with it returns the same order."
    )
    email: str | None = strawberry.field(default=None, description="Required for guests.")
    note: str | None = None


def _adds(lines: list[CartLineInput] | None) -> list[LineChange]:
    return [
        LineChange(
            decode_id(line.variant_id, ids.PRODUCT_VARIANT, "lines", str(i), "variantId"),
            line.quantity,
            i,
        )
        for i, line in enumerate(lines or [])
    ]


@strawberry.type
class CartPayload(Payload):
    cart: Cart | None = None


@strawberry.type
class CheckoutCompletePayload(Payload):
    order: Order | None = None


@strawberry.type
class CartQuery:
    @query(PUBLIC, "A cart by id; guests' carts by their id alone.")
    async def cart(self, info: CtxInfo, id: strawberry.ID) -> Cart | None:
        return Cart.from_view(await carts.view(info.context, id), info)


@strawberry.type
class CartMutation:
    @mutation(PUBLIC, "A new guest cart, or the signed-in customer's cart, with these lines added.")
    async def cart_create(
        self, info: CtxInfo, lines: list[CartLineInput] | None = None
    ) -> CartPayload:
        return CartPayload(
            cart=Cart.from_view(await carts.create(info.context, _adds(lines)), info)
        )

    @mutation(PUBLIC, "Add lines (quantities add up for a variant already there).")
    async def cart_lines_add(
        self, info: CtxInfo, cart_id: strawberry.ID, lines: list[CartLineInput]
    ) -> CartPayload:
        view = await carts.add_lines(info.context, cart_id, _adds(lines))
        return CartPayload(cart=Cart.from_view(view, info))

    @mutation(PUBLIC, "Set line quantities; 0 removes the line.")
    async def cart_lines_update(
        self, info: CtxInfo, cart_id: strawberry.ID, lines: list[CartLineUpdateInput]
    ) -> CartPayload:
        updates = [
            LineChange(
                decode_id(line.line_id, ids.CART_LINE, "lines", str(i), "lineId").line_id,
                line.quantity,
                i,
            )
            for i, line in enumerate(lines)
        ]
        return CartPayload(
            cart=Cart.from_view(await carts.update_lines(info.context, cart_id, updates), info)
        )

    @mutation(PUBLIC)
    async def cart_lines_remove(
        self, info: CtxInfo, cart_id: strawberry.ID, line_ids: list[strawberry.ID]
    ) -> CartPayload:
        keys = [
            decode_id(line_id, ids.CART_LINE, "lineIds", str(i)).line_id
            for i, line_id in enumerate(line_ids)
        ]
        return CartPayload(
            cart=Cart.from_view(await carts.remove_lines(info.context, cart_id, keys), info)
        )

    @mutation(PUBLIC)
    async def cart_coupon_apply(
        self, info: CtxInfo, cart_id: strawberry.ID, code: str
    ) -> CartPayload:
        return CartPayload(
            cart=Cart.from_view(await carts.apply_coupon(info.context, cart_id, code), info)
        )

    @mutation(PUBLIC)
    async def cart_coupon_remove(
        self, info: CtxInfo, cart_id: strawberry.ID, code: str
    ) -> CartPayload:
        return CartPayload(
            cart=Cart.from_view(await carts.remove_coupon(info.context, cart_id, code), info)
        )

    @mutation(PUBLIC)
    async def cart_shipping_address_set(
        self, info: CtxInfo, cart_id: strawberry.ID, address: AddressInput
    ) -> CartPayload:
        view = await carts.set_address(info.context, cart_id, address.to_data())
        return CartPayload(cart=Cart.from_view(view, info))

    @mutation(PUBLIC)
    async def cart_shipping_method_select(
        self, info: CtxInfo, cart_id: strawberry.ID, shipping_method_id: strawberry.ID
    ) -> CartPayload:
        method = decode_id(shipping_method_id, ids.SHIPPING_METHOD, "shippingMethodId")
        return CartPayload(
            cart=Cart.from_view(await carts.select_method(info.context, cart_id, method), info)
        )

    @mutation(PUBLIC, "Place the order: re-prices the cart and takes the stock, all or nothing.")
    async def checkout_complete(
        self, info: CtxInfo, cart_id: strawberry.ID, input: CheckoutInput
    ) -> CheckoutCompletePayload:
        data = CheckoutData(
            accept_terms=input.accept_terms,
            idempotency_key=input.idempotency_key,
            email=input.email,
            note=input.note,
        )
        order = await checkout.checkout(info.context, cart_id, data)
        return CheckoutCompletePayload(order=Order.from_model(order))
