"""Shipments and what carriers say of them."""
