"""`make bench`: seed a catalog, serve it with uvicorn and load the storefront operations.

Prints requests per second, latency percentiles and SQL statements per request
(from the `X-SQL-Statements` header the server adds with DEBUG=true).
"""
