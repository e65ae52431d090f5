"""The GraphQL schema: `from schema import schema`."""

from schema.schema import Limits, build_schema

schema = build_schema()

__all__ = ["Limits", "build_schema", "schema"]
