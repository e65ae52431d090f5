"""Inventory: the units of every variant in every warehouse, and who may sell them.

The only code that writes the `stock` and `stock_hold` tables (a test keeps it so):
holds for reserve-on-add cart lines (`holds`), taking units for an order
(`sales`), giving them back on cancellation or refund (`returns`), staff
levels, initial stock and moves between warehouses (`levels`). What counts
as available is defined once (`models.Stock.available`) and read through
`availability`. Every writer locks rows in the one order written down in
`locking`.
"""
