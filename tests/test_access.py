"""Every query and mutation declares who may call it, says so in the SDL, and holds to it;
every mutation answers with a payload carrying userErrors."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    is_leaf_type,
)
from graphql.pyutils import Undefined

from app.accounts.permissions import ALL_PERMISSIONS
from schema import schema
from schema.access import ACCESS, PUBLIC, SIGNED_IN, Access
from tests.conftest import Server, make_customer, make_staff
from tests.support import GraphQLClient

SCHEMA = schema._schema
_SCALARS: dict[str, Any] = {
    "ID": "x",
    "String": "x",
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "Decimal": "1",
    "DateTime": "2026-01-01T00:00:00Z",
    "Date": "2026-01-01",
}


def _roots() -> list[tuple[str, str, GraphQLField]]:
    found = []
    roots = (
        ("query", SCHEMA.query_type),
        ("mutation", SCHEMA.mutation_type),
        ("subscription", SCHEMA.subscription_type),
    )
    for kind, root in roots:
        assert root is not None
        found.extend((kind, name, field) for name, field in root.fields.items())
    return found


ROOTS = _roots()


def _access(field: GraphQLField) -> Access | None:
    definition = (field.extensions or {}).get("strawberry-definition")
    access = getattr(definition, "metadata", {}).get(ACCESS)
    return access if isinstance(access, Access) else None


@pytest.mark.parametrize(("kind", "name", "field"), ROOTS, ids=[r[1] for r in ROOTS])
def test_every_root_field_declares_its_access_and_its_description_says_it(
    kind: str, name: str, field: GraphQLField
) -> None:
    access = _access(field)
    assert access is not None, f"{kind} {name} declares no access (schema.access)"
    assert field.description is not None
    assert field.description.endswith(access.sentence), field.description
    if access.permission is not None:
        sentence = f"Requires one of the following permissions: {access.permission.value}."
        assert sentence in field.description


@pytest.mark.parametrize(
    ("name", "field"),
    [(n, f) for k, n, f in ROOTS if k == "mutation"],
    ids=[n for k, n, _ in ROOTS if k == "mutation"],
)
def test_every_mutation_returns_a_payload_with_user_errors(name: str, field: GraphQLField) -> None:
    assert isinstance(field.type, GraphQLNonNull)
    payload = get_named_type(field.type)
    assert isinstance(payload, GraphQLObjectType)
    assert [i.name for i in payload.interfaces] == ["Payload"], name
    assert str(payload.fields["userErrors"].type) == "[UserError!]!"


def _value(type_: GraphQLInputType) -> Any:
    """A well-typed value: enough to reach the resolver, whose first step is the access."""
    if isinstance(type_, GraphQLNonNull):
        return _value(type_.of_type)
    if isinstance(type_, GraphQLList):
        return []
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: _value(f.type)
            for name, f in type_.fields.items()
            if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined
        }
    return _SCALARS[type_.name]  # type: ignore[attr-defined]


async def _call(
    api: GraphQLClient, kind: str, name: str, field: GraphQLField, token: str | None
) -> list[str]:
    """The error codes of calling the field: userErrors for a mutation, errors for a query."""
    required = {a: arg for a, arg in field.args.items() if isinstance(arg.type, GraphQLNonNull)}
    definitions = ", ".join(f"${a}: {arg.type}" for a, arg in required.items())
    arguments = ", ".join(f"{a}: ${a}" for a in required)
    named = get_named_type(field.type)
    selection = (
        ""
        if is_leaf_type(named)
        else " { userErrors { code } }"
        if kind == "mutation"
        else " { __typename }"
    )
    document = (
        f"{kind}{'(' + definitions + ')' if definitions else ''} "
        f"{{ {name}{'(' + arguments + ')' if arguments else ''}{selection} }}"
    )
    result = await api.query(
        document, {a: _value(arg.type) for a, arg in required.items()}, token=token
    )
    if kind == "mutation":
        return [e["code"] for e in result.data[name]["userErrors"]]
    return result.error_codes


DECLARED = [(k, n, f, _access(f)) for k, n, f in ROOTS]


async def test_every_staff_field_refuses_whoever_lacks_its_permission(
    server: Server, api: GraphQLClient
) -> None:
    customer = await make_customer(server)
    checked = 0
    for kind, name, field, access in DECLARED:
        if access is None or access.permission is None:
            continue
        others = await make_staff(
            server, f"not-{name.lower()}@example.com", ALL_PERMISSIONS - {access.permission}
        )
        holder = await make_staff(
            server, f"{name.lower()}@example.com", frozenset({access.permission})
        )
        for token in (None, customer, others):
            assert await _call(api, kind, name, field, token) == ["PERMISSION_DENIED"], name
        assert "PERMISSION_DENIED" not in await _call(api, kind, name, field, holder), name
        checked += 1
    assert checked > 0


async def test_every_signed_in_field_refuses_anonymous_callers(
    server: Server, api: GraphQLClient
) -> None:
    customer = await make_customer(server)
    signed_in = [(k, n, f) for k, n, f, a in DECLARED if a == SIGNED_IN]
    assert signed_in
    for kind, name, field in signed_in:
        assert await _call(api, kind, name, field, None) == ["UNAUTHENTICATED"], name
        assert "UNAUTHENTICATED" not in await _call(api, kind, name, field, customer), name


def test_public_fields_say_no_sign_in_is_required() -> None:
    public = [n for _, n, _, a in DECLARED if a == PUBLIC]
    assert {"node", "nodes", "products", "cart", "cartCreate", "tokenCreate"} <= set(public)
