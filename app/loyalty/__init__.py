"""Loyalty points: earned when an order completes, spent as a tender, with a ledger of
every change linked to its order. Knows nothing of orders or payments beyond their ids."""
