"""Where a cart goes and how: its shipping address and the chosen shipping method."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.addresses import AddressData, address_fields, clean_address
from app.cart.access import CartRules, touch
from app.cart.models import Cart
from app.errors import ErrorCode, fail
from app.shipping.models import ShippingMethod
from app.shipping.rates import serves


async def set_shipping_address(
    session: AsyncSession, cart: Cart, address: AddressData, rules: CartRules
) -> None:
    """Sets the address; a chosen method that does not serve it is dropped."""
    cleaned = clean_address(address, "address")
    cart.shipping_address = address_fields(cleaned)
    if cart.shipping_method_id is not None:
        method = await session.get(ShippingMethod, cart.shipping_method_id)
        if method is None or not serves(method, cleaned.country):
            cart.shipping_method_id = None
    touch(cart, rules)
    await session.flush()


async def select_shipping_method(
    session: AsyncSession, cart: Cart, method_id: int, rules: CartRules
) -> None:
    country = (cart.shipping_address or {}).get("country")
    if country is None:
        raise fail(
            ErrorCode.SHIPPING_ADDRESS_REQUIRED,
            "set a shipping address first",
            "shipping_method_id",
        )
    method = await session.get(ShippingMethod, method_id)
    if method is None or not method.active:
        raise fail(ErrorCode.NOT_FOUND, "no shipping method with this id", "shipping_method_id")
    if not serves(method, country):
        raise fail(
            ErrorCode.SHIPPING_NOT_AVAILABLE,
            f"{method.name} does not deliver to {country}",
            "shipping_method_id",
        )
    cart.shipping_method_id = method_id
    touch(cart, rules)
    await session.flush()
