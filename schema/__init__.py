"""The GraphQL schema: `from schema import schema`."""

from schema.limits import Limits
from schema.schema import build_schema

schema = build_schema()

__all__ = ["Limits", "build_schema", "schema"]
