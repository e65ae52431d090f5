"""GraphQL documents as clients send them: one operation with the fragments it uses.

Client files (like the contract's) hold many operations sharing fragments; a
client sends each operation on its own. Tests, the benchmark and persisted-query
registration all need exactly those standalone documents: `manifest_operations`
makes a persisted-query manifest's entries of them, `check_operation` judges an
entry against the schema and the query limits before it is registered.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import GraphQLError, GraphQLSchema, parse, print_ast, validate
from graphql.language import (
    DocumentNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    Visitor,
    visit,
)

from app.persisted import document_hash
from app.persisted.registry import Checked, ManifestOperation
from schema.limits import Limits, check, measure, scan


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_fragment_spread(self, node: Any, *_: Any) -> None:
        self.names.append(node.name.value)


def standalone_operations(source: str) -> dict[str, DocumentNode]:
    """Operation name -> a document holding that operation and every fragment it needs."""
    document = parse(source)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations: dict[str, DocumentNode] = {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode) or definition.name is None:
            continue
        needed: dict[str, FragmentDefinitionNode] = {}
        # Fragments may spread other fragments: follow them until none is new.
        pending: list[OperationDefinitionNode | FragmentDefinitionNode] = [definition]
        while pending:
            spreads = _Spreads()
            visit(pending.pop(), spreads)
            for name in spreads.names:
                if name not in needed:
                    needed[name] = fragments[name]
                    pending.append(fragments[name])
        operations[definition.name.value] = DocumentNode(definitions=(definition, *needed.values()))
    return operations


def printed_operations(source: str) -> dict[str, str]:
    return {name: print_ast(doc) for name, doc in standalone_operations(source).items()}


def manifest_operations(sources: Iterable[str]) -> list[ManifestOperation]:
    """Every named operation of these client files, standalone, as a manifest lists it."""
    operations: list[ManifestOperation] = []
    for source in sources:
        for name, document in standalone_operations(source).items():
            body = print_ast(document)
            kind = next(
                d.operation.value
                for d in document.definitions
                if isinstance(d, OperationDefinitionNode)
            )
            operations.append(ManifestOperation(document_hash(body), name, kind, body))
    return operations


def check_operation(
    schema: GraphQLSchema, operation: ManifestOperation, limits: Limits
) -> Checked | str:
    """The operation with its cost when this schema would run it; else why not."""
    refused = scan(operation.body, limits)
    if refused is not None:
        return refused.message
    try:
        document = parse(operation.body, max_tokens=limits.max_tokens)
    except GraphQLError as exc:
        return exc.message
    defined = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(defined) != 1:
        return "a registered document holds exactly one operation"
    if defined[0].operation.value != operation.type:
        return f"the document is a {defined[0].operation.value}, not a {operation.type}"
    name = defined[0].name.value if defined[0].name else None
    if operation.name is not None and name != operation.name:
        return f"the document's operation is named {name!r}, not {operation.name!r}"
    errors = validate(schema, document)
    if errors:
        return "; ".join(e.message for e in errors[:3])
    figures = measure(schema, document, None, {})
    refused = check(figures, None, limits)
    if refused is not None:
        return refused.message
    return Checked(operation, figures.cost if figures is not None else 0)
