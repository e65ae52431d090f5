"""Catalog: categories, products, variants, warehouses and stock."""
