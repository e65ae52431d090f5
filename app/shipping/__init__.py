"""Shipping: the methods staff define, whom they serve and what they cost for a cart."""
