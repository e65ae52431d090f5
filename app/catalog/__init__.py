"""Catalog: categories, products, variants and warehouses (their stock: `app.inventory`)."""
