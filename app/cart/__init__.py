"""Carts: lines, holds for flash-sale variants, expiry and merging."""
