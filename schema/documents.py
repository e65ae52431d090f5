"""From query text to a document fit to run: scanned, parsed, limited, validated.

Small documents (what real clients send, again and again) are kept parsed and
validated, keyed by their text, so a repeated query skips both steps. Large
ones are never kept: a client sending unique megabyte-sized documents must
not be able to fill the server's memory. The limits (`schema.limits`) are
judged before validation, on every request, since the cost depends on the
variables.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from schema.limits import REPORTED_COST_CAP, Limits, check, measure, scan

# What "small" means: the contract's largest operation is about 2,000 characters.
MAX_KEPT_CHARS = 8192
MAX_KEPT_DOCUMENTS = 512


@dataclass(slots=True)
class _Kept:
    document: DocumentNode
    errors: list[GraphQLError] | None = None


class DocumentStore:
    """One per schema (the validation rules are the schema's); bounded in count and size."""

    def __init__(
        self,
        limits: Limits,
        max_documents: int = MAX_KEPT_DOCUMENTS,
        max_chars: int = MAX_KEPT_CHARS,
    ) -> None:
        self.limits = limits
        self.max_documents = max_documents
        self.max_chars = max_chars
        self._kept: OrderedDict[str, _Kept] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def parse(self, text: str) -> DocumentNode:
        """The parsed document; raises a GraphQLError when the text is refused or invalid."""
        kept = self._kept.get(text)
        if kept is not None:
            self._kept.move_to_end(text)
            return kept.document
        refused = scan(text, self.limits)
        if refused is not None:
            raise refused
        document = parse(text, max_tokens=self.limits.max_tokens)
        if len(text) <= self.max_chars:
            self._kept[text] = _Kept(document)
            while len(self._kept) > self.max_documents:
                self._kept.popitem(last=False)
        return document

    def validate(
        self,
        schema: GraphQLSchema,
        text: str | None,
        document: DocumentNode,
        rules: Sequence[type[ASTValidationRule]],
    ) -> list[GraphQLError]:
        kept = self._kept.get(text) if text is not None else None
        if kept is not None and kept.document is document and kept.errors is not None:
            return kept.errors
        errors = validate_document(schema, document, tuple(rules))
        if kept is not None and kept.document is document:
            kept.errors = errors
        return errors


class DocumentGate(SchemaExtension):
    """Parses through the store, then refuses what is over the limits before validating."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is None and ctx.query:
            ctx.graphql_document = self.store.parse(ctx.query)
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None and ctx.pre_execution_errors is None:
            schema = ctx.schema._schema
            figures = measure(schema, document, ctx.operation_name, ctx.variables)
            if figures is not None and hasattr(ctx.context, "requested_cost"):
                ctx.context.requested_cost = min(figures.cost, REPORTED_COST_CAP)
            refused = check(figures, ctx.operation_name, self.store.limits)
            ctx.pre_execution_errors = (
                [refused]
                if refused is not None
                else self.store.validate(schema, ctx.query, document, ctx.validation_rules)
            )
        yield
