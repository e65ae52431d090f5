"""Pricing: what a cart costs under the promotions that apply, with shipping and tax.

Pure calculation (no database, no clock), shared by the cart's view and by
checkout, so that what the customer saw is what the order records.
"""
