"""Commerce API server: settings, database, domain services, cache, ASGI app and CLI."""
