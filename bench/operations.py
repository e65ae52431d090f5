"""Standalone documents for the contract operations, as clients send them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphql import parse, print_ast
from graphql.language import (
    DocumentNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    Visitor,
    visit,
)

CONTRACT = Path(__file__).resolve().parent.parent / "tests" / "contract"
STOREFRONT = CONTRACT / "storefront.graphql"
# Staff sign-in and back-office set-up (shipping method, coupon) for the purchase scenarios.
ACCOUNT = CONTRACT / "account.graphql"
ADMIN = CONTRACT / "admin.graphql"


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_fragment_spread(self, node: Any, *_: Any) -> None:
        self.names.append(node.name.value)


def load_operations(path: Path = STOREFRONT) -> dict[str, str]:
    """Operation name -> printed document holding the operation and every fragment it needs."""
    document = parse(path.read_text())
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations: dict[str, str] = {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode) or definition.name is None:
            continue
        needed: dict[str, FragmentDefinitionNode] = {}
        # Fragments may spread other fragments, so follow them until none is new.
        pending: list[OperationDefinitionNode | FragmentDefinitionNode] = [definition]
        while pending:
            spreads = _Spreads()
            visit(pending.pop(), spreads)
            for name in spreads.names:
                if name not in needed:
                    needed[name] = fragments[name]
                    pending.append(fragments[name])
        standalone = DocumentNode(definitions=(definition, *needed.values()))
        operations[definition.name.value] = print_ast(standalone)
    return operations
