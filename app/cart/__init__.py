"""Carts: who may use one (`access`), their lines (`lines`, `contents`), coupons,
shipping address and method (`delivery`), signing a guest cart in (`merge`), the
priced view that checkout orders from (`view`), and deleting unused carts (`purge`).

Units held for flash-sale lines are inventory's (`app.inventory.holds`); prices,
promotions and shipping quotes come from `app.pricing`, `app.promotions` and
`app.shipping`. Nothing here uses checkout: checkout uses the cart.
"""
