"""Query cost: what an operation may ask for, computed before it runs.

Objects cost 1, scalars 0; a field with a `first` argument multiplies the
cost of what is under it by `first` (read from literals *and* variables, so
`first: $n` counts as n), and a list without one by `LIST_GUESS` (a connection's edges are
counted once, by its `first`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast

LIST_GUESS = 10
_CONNECTION_LISTS = frozenset({"edges", "nodes"})


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> int | None:
    """The cost of the operation to run, or None when it cannot be determined."""
    operation = get_operation_ast(document, operation_name)
    root = schema.get_root_type(operation.operation) if operation else None
    if operation is None or root is None:
        return None
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if not isinstance(coerced, dict):
        return None  # bad variables: execution reports them properly
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    try:
        return _Coster(schema, fragments, coerced).selections(
            operation.selection_set, root, frozenset()
        )
    except GraphQLError:
        return None


@dataclass(frozen=True, slots=True)
class _Coster:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]

    def selections(
        self, selection_set: SelectionSetNode | None, parent: Any, visiting: frozenset[str]
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, visiting)
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = self.schema.get_type(selection.type_condition.name.value) or parent
                total += self.selections(selection.selection_set, target, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visiting:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value) or parent
                total += self.selections(fragment.selection_set, target, visiting | {name})
        return total

    def field(self, node: FieldNode, parent: Any, visiting: frozenset[str]) -> int:
        name = node.name.value
        field = getattr(parent, "fields", {}).get(name)
        if name.startswith("__") or field is None:
            return 0
        named = get_named_type(field.type)
        arguments = get_argument_values(field, node, self.variables) if field.args else {}
        first = arguments.get("first")
        if isinstance(first, int) and first >= 0:
            multiplier = first
        elif name in _CONNECTION_LISTS and getattr(parent, "name", "").endswith("Connection"):
            multiplier = 1  # already counted by the connection's `first`
        elif is_list_type(get_nullable_type(field.type)):
            multiplier = LIST_GUESS
        else:
            multiplier = 1
        own = 1 if is_composite_type(named) else 0
        return multiplier * (own + self.selections(node.selection_set, named, visiting))
