"""Which operations answer the same to every anonymous caller: public catalog data only.

Decided from the document alone, by a walk over every field it selects
(fragments included) against a list of public fields. Anything not listed is
taken as private: viewer-dependent roots (`me`, `cart`, `node`, orders),
staff-only data (`warehouses`, `ProductVariant.stocks`) and exact
`quantityAvailable`, which changes with every sale while the catalog version
moves only when a stock status does (`app.catalog.version`). A field added to
the schema is private until someone lists it here.
"""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)
from graphql.utilities import get_operation_ast

_ALL = frozenset({"*"})

PUBLIC_FIELDS: dict[str, frozenset[str]] = {
    "Query": frozenset({"products", "product", "categories", "category"}),
    "ProductConnection": _ALL,
    "ProductEdge": _ALL,
    "PageInfo": _ALL,
    "Product": _ALL,
    "ProductVariant": frozenset(
        {
            "id",
            "sku",
            "name",
            "attributes",
            "price",
            "compareAtPrice",
            "weightGrams",
            "lowStockThreshold",
            "reserveOnAdd",
            "stockStatus",
            "product",
        }
    ),
    "Category": _ALL,
    "Attribute": _ALL,
    "Image": _ALL,
    "Money": _ALL,
    "PriceRange": _ALL,
}


def _public(type_name: str, field: str) -> bool:
    allowed = PUBLIC_FIELDS.get(type_name)
    return allowed is not None and (allowed is _ALL or field in allowed)


def is_public(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> bool:
    """True when the operation is a query selecting public catalog fields only."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return False
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root = schema.query_type
    assert root is not None
    pending: list[tuple[SelectionSetNode, GraphQLNamedType]] = [(operation.selection_set, root)]
    seen: set[tuple[str, str]] = set()
    while pending:
        selection_set, parent = pending.pop()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name == "__typename":
                    continue
                if not _public(parent.name, name):
                    return False
                field = getattr(parent, "fields", {}).get(name)
                if field is None:
                    return False
                if selection.selection_set is not None:
                    pending.append((selection.selection_set, get_named_type(field.type)))
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    found = schema.get_type(selection.type_condition.name.value)
                    if found is None:
                        return False
                    target = found
                pending.append((selection.selection_set, target))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is None:
                    return False
                target_type = schema.get_type(fragment.type_condition.name.value)
                if target_type is None:
                    return False
                if (fragment.name.value, target_type.name) not in seen:
                    seen.add((fragment.name.value, target_type.name))
                    pending.append((fragment.selection_set, target_type))
    return True
