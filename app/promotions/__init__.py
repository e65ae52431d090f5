"""Promotions: automatic offers and coupons, which apply now, and how often they were used."""
