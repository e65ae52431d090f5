"""Logistics: shipments of an order's units from a warehouse, and what carriers say of them.

`shipments` sends units (staff's ShipmentCreate), `tracking` applies the
carriers' signed events (late, repeated or out of order), `delivery` moves the
order once every parcel has arrived, `picking` says which units of a line are
still to send and where they sit, `carriers` knows the configured carriers and
their tracking links.
"""
