"""Gift cards: a code, a balance that never goes below zero, an expiry, and a ledger of
every use and refund. Knows nothing of orders or payments beyond their ids."""
