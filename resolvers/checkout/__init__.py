"""Checkout, promotion and shipping resolvers."""
