"""`make bench`: seed a catalog, serve it with uvicorn and load the storefront operations.

Covers browsing (product lists, detail, search, categories) and the purchase path (cart
creation, adding a line, checkout with a coupon). Prints requests per second, latency
percentiles and SQL statements per request (from the `X-SQL-Statements` header the server
adds with DEBUG=true).
"""
