"""Where a shipment is, as its carrier last said (by when it happened, not when we heard)."""

from __future__ import annotations

from enum import StrEnum


class ShipmentStatus(StrEnum):
    PENDING = "PENDING"  # handed over; no carrier event yet
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    DELIVERED = "DELIVERED"
    EXCEPTION = "EXCEPTION"  # the carrier reports a problem: shown to the customer and staff


# What a carrier's event may say (a shipment starts PENDING; no carrier says it).
CARRIER_STATUSES = frozenset(ShipmentStatus) - {ShipmentStatus.PENDING}
