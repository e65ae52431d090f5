"""Payments: tenders (a card through the gateway, gift cards, points), the gateway's
signed notifications and their inbox, and refunds.

Payments use orders (their status table, amounts and events), gift cards and
loyalty points; orders do not use payments: cancelling an order takes a
`RefundAll` (`app.orders.cancellation`), which `refunds.Refunder` provides.
"""
