"""Checkout: a cart becomes an order, with its stock taken and its promotions counted.

Checkout uses the cart (its access rules and priced view), inventory, promotions
and orders; nothing of those uses checkout.
"""
