"""The error policy (what a client sees of an error, what is logged) and operation choice."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionContext

from app.errors import DomainError
from schema.common import wire_path

log = logging.getLogger("commerce.graphql")

INTERNAL_ERROR = "internal error"


def is_unexpected(error: GraphQLError) -> bool:
    """An error the client did not cause: a bug or an outage, to be masked and logged."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError | DomainError):
        return False
    # Errors about the request itself (bad variable values) carry its nodes but no path.
    return error.path is not None or not error.nodes


def _request_id(execution_context: ExecutionContext | None) -> str | None:
    context = getattr(execution_context, "context", None)
    return getattr(context, "request_id", None)


def log_unexpected(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    for error in errors:
        if is_unexpected(error):
            original = error.original_error
            log.error(
                "unexpected error in %s (request %s): %s",
                ".".join(str(p) for p in error.path or []) or "operation",
                _request_id(execution_context),
                original,
                exc_info=(type(original), original, original.__traceback__) if original else None,
            )


def shape_error(error: GraphQLError, request_id: str | None) -> GraphQLError:
    """Expected failures get their stable code; unexpected ones are masked with the request id."""
    original = error.original_error
    if isinstance(original, DomainError):
        problem = original.problems[0]
        extensions: dict[str, Any] = {"code": problem.code.value}
        if problem.field:
            extensions["field"] = wire_path(problem.field)
        return GraphQLError(
            original.args[0], nodes=error.nodes, path=error.path, extensions=extensions
        )
    if is_unexpected(error):
        return GraphQLError(
            INTERNAL_ERROR,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_ERROR", "requestId": request_id},
        )
    return error


class OperationChoice(SchemaExtension):
    """A document with several operations must name the one to run (GraphQL spec, 6.1)."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        # `operation_name` falls back to the first operation; only the client's own choice counts.
        chosen = ctx._provided_operation_name
        if document is not None and not ctx.result and chosen is None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                ctx.result = GraphQLExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            "the document holds several operations: "
                            "name the one to run in operationName",
                            extensions={"code": "BAD_REQUEST"},
                        )
                    ],
                )
        yield
