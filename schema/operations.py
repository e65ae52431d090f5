"""GraphQL documents as clients send them: one operation with the fragments it uses.

Client files (like the contract's) hold many operations sharing fragments; a
client sends each operation on its own. Tests, the benchmark and persisted-query
registration all need exactly those standalone documents.
"""

from __future__ import annotations

from typing import Any

from graphql import parse, print_ast
from graphql.language import (
    DocumentNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    Visitor,
    visit,
)


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
