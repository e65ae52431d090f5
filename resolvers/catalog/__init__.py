"""Catalog resolvers: visibility rules and the calls into `app.catalog`."""
