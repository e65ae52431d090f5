"""What a document may ask for, judged before it is validated or run.

Two passes, each linear in the size of the document:

- `scan`, over the text: at most `max_tokens` tokens, brackets nested at most
  `MAX_NESTING` deep (the parser recurses once per level), and every string
  literal acceptable text (`app.text`). Only then is the text parsed.
- `measure`, over the parsed document: its depth, aliases, fields and cost *as
  executed*, that is with every fragment spread expanded. A fragment that
  spreads another twice doubles these figures at each level, so they are
  computed once per fragment (in dependency order, without recursion through
  spreads) and added up, never by walking the expansion.

Cost: objects 1, scalars 0; a field with a `first` argument multiplies what is
under it by `first` (from literals *and* variables, so `first: $n` counts as
n), a field with an `ids` list (`nodes`) by the number of ids, a connection's
`edges`/`nodes` by 1 (already counted by its `first`), any other list by
`LIST_GUESS`. Introspection fields (`__schema`, `__type`) count
for neither depth nor cost: graphql-core's MaxIntrospectionDepthRule bounds them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Source,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.language import Lexer, TokenKind
from graphql.utilities import get_operation_ast

from app.settings import Settings
from app.text import text_problem

LIST_GUESS = 10
# Far deeper than any useful document (a depth-12 query with nested input objects
# needs about 20), and shallow enough for the parser's recursion.
MAX_NESTING = 48
_CONNECTION_LISTS = frozenset({"edges", "nodes"})
_OPENING = frozenset({TokenKind.BRACE_L, TokenKind.PAREN_L, TokenKind.BRACKET_L})
_CLOSING = frozenset({TokenKind.BRACE_R, TokenKind.PAREN_R, TokenKind.BRACKET_R})
_STRINGS = frozenset({TokenKind.STRING, TokenKind.BLOCK_STRING})
# Reported costs are capped so that an absurd one still fits a JSON number.
REPORTED_COST_CAP = 10**15


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_tokens: int
    max_fields: int
    max_cost: int
    max_string_length: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_fields=settings.max_query_fields,
            max_cost=settings.max_query_cost,
            max_string_length=settings.max_string_length,
        )


def refusal(message: str, code: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extensions})


def scan(text: str, limits: Limits) -> GraphQLError | None:
    """Why the text may not be parsed, or None. Syntax errors are left to the parser."""
    lexer = Lexer(Source(text))
    tokens = 0
    nesting = 0
    try:
        token = lexer.advance()
        while token.kind != TokenKind.EOF:
            tokens += 1
            if tokens > limits.max_tokens:
                return refusal(
                    f"the document has more than {limits.max_tokens} tokens",
                    "QUERY_TOO_LARGE",
                )
            if token.kind in _OPENING:
                nesting += 1
                if nesting > MAX_NESTING:
                    return refusal(
                        f"the document nests brackets more than {MAX_NESTING} levels deep",
                        "QUERY_TOO_DEEP",
                    )
            elif token.kind in _CLOSING:
                nesting -= 1
            elif token.kind in _STRINGS:
                problem = text_problem(token.value or "", limits.max_string_length)
                if problem is not None:
                    return refusal(f"a string in the document: {problem}", "BAD_REQUEST")
            token = lexer.advance()
    except GraphQLSyntaxError:
        return None  # the parser reports it, with its location
    return None


@dataclass(frozen=True, slots=True)
class Measure:
    """Figures of a selection set with its fragments expanded."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0
    cost: int = 0
    # Selection sets and fragment spreads inside one another (what validation recurses on).
    nesting: int = 0

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            self.fields + other.fields,
            self.cost + other.cost,
            max(self.nesting, other.nesting),
        )

    def nested(self) -> Measure:
        return Measure(self.depth, self.aliases, self.fields, self.cost, self.nesting + 1)


_NOTHING = Measure()


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> Measure | None:
    """The figures of the operation to run; None when there is no such operation.

    Runs before validation: whatever it cannot judge (unknown fields, bad
    arguments) counts as nothing, and validation reports it.
    """
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    root = schema.get_root_type(operation.operation)
    coerced = _variables(schema, operation, variables)
    measurer = _Measurer(schema, coerced)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    for name in _dependency_order(fragments):
        fragment = fragments[name]
        measurer.fragments[name] = measurer.selection_set(
            fragment.selection_set, schema.get_type(fragment.type_condition.name.value)
        )
    return measurer.selection_set(operation.selection_set, root)


def check(
    figures: Measure | None, operation_name: str | None, limits: Limits
) -> GraphQLError | None:
    """Why the operation measured as `figures` (`measure`) may not run, or None."""
    if figures is None:
        return None
    if figures.nesting > MAX_NESTING:
        return refusal(
            f"selections and fragment spreads nest more than {MAX_NESTING} levels deep",
            "QUERY_TOO_DEEP",
        )
    if figures.depth > limits.max_depth:
        name = operation_name or "the operation"
        return refusal(
            f"'{name}' exceeds maximum operation depth of {limits.max_depth}", "QUERY_TOO_DEEP"
        )
    if figures.aliases > limits.max_aliases:
        return refusal(
            f"{min(figures.aliases, REPORTED_COST_CAP)} aliases found; "
            f"allowed: {limits.max_aliases}",
            "TOO_MANY_ALIASES",
        )
    if figures.fields > limits.max_fields:
        return refusal(
            f"the operation selects more than {limits.max_fields} fields once its "
            "fragments are expanded",
            "QUERY_TOO_LARGE",
        )
    if figures.cost > limits.max_cost:
        cost = min(figures.cost, REPORTED_COST_CAP)
        return refusal(
            f"query cost {cost} exceeds the limit of {limits.max_cost}; "
            "ask for fewer items (first) or fewer nested lists",
            "QUERY_TOO_COSTLY",
            cost=cost,
            limit=limits.max_cost,
        )
    return None


def _variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, given: dict[str, Any] | None
) -> dict[str, Any]:
    try:
        coerced = get_variable_values(schema, operation.variable_definitions or (), given or {})
    except (GraphQLError, TypeError, ValueError):
        return {}
    # Bad variables stop the operation before it runs; until then they count as absent.
    return coerced if isinstance(coerced, dict) else {}


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif selection.selection_set is not None:  # type: ignore[attr-defined]
                pending.append(selection.selection_set)  # type: ignore[attr-defined]


def _dependency_order(fragments: dict[str, FragmentDefinitionNode]) -> list[str]:
    """Fragment names, each after the fragments it spreads. Iterative: a chain of a
    thousand fragments must not exhaust Python's stack. A fragment in a cycle (which
    validation refuses) is measured without the spread that closes the cycle."""
    order: list[str] = []
    state: dict[str, bool] = {}  # False: being visited, True: done
    for start in fragments:
        if start in state:
            continue
        state[start] = False
        stack = [(start, iter(list(_spreads(fragments[start].selection_set))))]
        while stack:
            name, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                state[name] = True
                order.append(name)
            elif child in fragments and child not in state:
                state[child] = False
                stack.append((child, iter(list(_spreads(fragments[child].selection_set)))))
    return order


class _Measurer:
    def __init__(self, schema: GraphQLSchema, variables: dict[str, Any]) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments: dict[str, Measure] = {}

    def selection_set(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None
    ) -> Measure:
        total = _NOTHING
        if selection_set is None:
            return total
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total = total + self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = self.schema.get_type(selection.type_condition.name.value)
                total = total + self.selection_set(selection.selection_set, target)
            elif isinstance(selection, FragmentSpreadNode):
                # Unknown or cyclic fragments count as nothing; validation refuses them.
                total = total + self.fragments.get(selection.name.value, _NOTHING).nested()
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        name = node.name.value
        alias = 1 if node.alias else 0
        if name.startswith("__"):
            return Measure(aliases=alias, fields=1)
        definition = getattr(parent, "fields", {}).get(name)
        named = get_named_type(definition.type) if definition is not None else None
        below = self.selection_set(node.selection_set, named)
        depth = 1 + below.depth if node.selection_set is not None else 0
        nesting = below.nesting + 1
        if definition is None:
            return Measure(depth, alias + below.aliases, 1 + below.fields, 0, nesting)
        own = 1 if is_composite_type(named) else 0
        multiplier = self._multiplier(node, definition, parent)
        cost = multiplier * (own + below.cost)
        return Measure(depth, alias + below.aliases, 1 + below.fields, cost, nesting)

    def _multiplier(self, node: FieldNode, definition: Any, parent: Any) -> int:
        arguments: dict[str, Any] = {}
        if definition.args:
            try:
                arguments = get_argument_values(definition, node, self.variables)
            except (GraphQLError, TypeError, ValueError):
                arguments = {}  # validation reports the argument
        first, ids = arguments.get("first"), arguments.get("ids")
        if isinstance(first, int) and first >= 0:
            return first
        if isinstance(ids, list):
            return len(ids)
        if node.name.value in _CONNECTION_LISTS and getattr(parent, "name", "").endswith(
            "Connection"
        ):
            return 1
        if is_list_type(get_nullable_type(definition.type)):
            return LIST_GUESS
        return 1
