"""A fuzz of the public endpoint: no input gets a 5xx or an INTERNAL_ERROR.

Hypothesis draws hostile values for the arguments of every query and mutation
of the schema (NUL, lone surrogates, megabyte strings, huge and negative
numbers, forged ids and cursors, long lists, wrong types), random documents
(deep, wide, fragment fan-outs, token soup) and raw bodies (bytes that are not
UTF-8 or not JSON), and sends them over POST, GET and the WebSocket, as a
guest, a customer and a staff member holding every permission. Whatever comes
back must be a clear refusal or an answer, never a server failure.

The run is derandomised so CI sees the same cases every time; set
FUZZ_EXAMPLES (default 60 per test and database) for a longer hunt.
"""

from __future__ import annotations

import base64
import json
import os
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
    GraphQLScalarType,
    get_named_type,
    is_leaf_type,
)
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from schema import schema
from tests.conftest import Server, make_customer, make_staff
from tests.support import GraphQLClient
from tests.test_websocket import connect

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    # A failure is reported as drawn: shrinking megabyte-sized inputs takes too long for CI.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

SCHEMA = schema._schema


def _global_id(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


HOSTILE_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "\x00",
            "a\x00b",
            "\ud800",
            "x\udfffy",
            "\ufeff",
            "' OR 1=1 --",
            "%00",
            "\\u0000",
            "x" * 60_000,
            "é" * 5000,
            "🛒" * 100,
            _global_id(b"Product:1\x00"),
            _global_id(b"Product:99999999999999999999"),
            _global_id(b"Cart:" + b"A" * 500),
            _global_id(b"Order:-1"),
            _global_id(b"User:1"),
            _global_id(b"Warehouse:1"),
            _global_id(b"\xff\xfe:1"),
            base64.urlsafe_b64encode(b'["NEWEST", "9999-99-99", 1]').decode(),
            base64.urlsafe_b64encode(b'["PRICE_ASC", 1e308, 1]').decode(),
            base64.urlsafe_b64encode(b'["NAME_ASC", "\\u0000", 1]').decode(),
            "2026-13-45T99:99:99Z",
            "19.999999999999999999",
            "-0.00",
            "1e400",
        ]
    ),
)
HOSTILE_INT = st.one_of(
    st.integers(min_value=-5, max_value=200),
    st.sampled_from([2**31, -(2**31) - 1, 2**53, 2**63, 2**64, -(2**63) - 1, 10**30]),
)
JUNK = st.recursive(
    st.one_of(st.none(), st.booleans(), HOSTILE_INT, st.floats(allow_nan=False), HOSTILE_TEXT),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def value_for(type_: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """Mostly well-typed hostile values, sometimes anything at all."""
    if isinstance(type_, GraphQLNonNull):
        return value_for(type_.of_type, depth)
    if depth > 4:
        return st.none()
    if isinstance(type_, GraphQLList):
        item = value_for(type_.of_type, depth + 1)
        # One long list of a small value: enough to pass every list bound there is.
        return st.one_of(st.lists(item, max_size=4), st.just(["x"] * 5000), st.none())
    typed: st.SearchStrategy[Any]
    if isinstance(type_, GraphQLInputObjectType):
        fields = {name: value_for(f.type, depth + 1) for name, f in type_.fields.items()}
        typed = st.fixed_dictionaries({}, optional=fields)
    elif isinstance(type_, GraphQLEnumType):
        typed = st.one_of(st.sampled_from(list(type_.values)), HOSTILE_TEXT)
    elif isinstance(type_, GraphQLScalarType) and type_.name in {"Int", "Float"}:
        typed = st.one_of(HOSTILE_INT, st.floats(allow_nan=False, allow_infinity=False))
    elif isinstance(type_, GraphQLScalarType) and type_.name == "Boolean":
        typed = st.booleans()
    else:
        typed = HOSTILE_TEXT
    return st.one_of(typed, typed, typed, JUNK)


def _selection(field: GraphQLField) -> str:
    named = get_named_type(field.type)
    if is_leaf_type(named):
        return ""
    if isinstance(named, GraphQLObjectType) and "userErrors" in named.fields:
        return " { __typename userErrors { code field } }"
    return " { __typename }"


def operations() -> list[tuple[str, str, GraphQLField]]:
    found = []
    for kind, root in (("query", SCHEMA.query_type), ("mutation", SCHEMA.mutation_type)):
        assert root is not None
        for name, field in root.fields.items():
            found.append((kind, name, field))
    return found


OPERATIONS = operations()


@st.composite
def operation_calls(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    kind, name, field = draw(st.sampled_from(OPERATIONS))
    definitions = ", ".join(f"${a}: {arg.type}" for a, arg in field.args.items())
    arguments = ", ".join(f"{a}: ${a}" for a in field.args)
    document = (
        f"{kind} Fuzz{'(' + definitions + ')' if definitions else ''} "
        f"{{ {name}{'(' + arguments + ')' if arguments else ''}{_selection(field)} }}"
    )
    variables = {a: draw(value_for(arg.type)) for a, arg in field.args.items()}
    return kind, document, variables


TOKENS = st.sampled_from(
    [
        "{", "}", "(", ")", "[", "]", ":", "...", "$n", "!", "=", "@skip", "query", "mutation",
        "fragment F on Query", "fragment G on Product", "...F", "...G", "on", "products",
        "first: 100", "edges", "node", "name", "__typename", "categories", "parent", "children",
        '"\\u0000"', '"x"', "1e999", "99999999999999999999", "#", "\n", "node(id: $n)",
        "a: __typename", "...on Query", "variants", "recommendations(first: 20)",
    ]
)  # fmt: skip


@st.composite
def documents(draw: st.DrawFn) -> str:
    shape = draw(st.sampled_from(["soup", "deep", "wide", "fan"]))
    if shape == "soup":
        return " ".join(draw(st.lists(TOKENS, max_size=80)))
    if shape == "deep":
        levels = draw(st.integers(1, 300))
        field = draw(st.sampled_from(["categories", "parent", "a", "children"]))
        return "{ " + f"{field} {{ " * levels + "name" + " }" * levels + " }"
    if shape == "wide":
        count = draw(st.integers(1, 3000))
        alias = draw(st.booleans())
        return (
            "{ "
            + " ".join(f"a{i}: __typename" if alias else "__typename" for i in range(count))
            + " }"
        )
    levels = draw(st.integers(1, 60))
    leaf = draw(
        st.sampled_from(
            ["__typename", "categories { name }", "products(first: 100) { totalCount }"]
        )
    )
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Query {{ {leaf} }}")
    return "query Fan { ...F0 }\n" + "\n".join(fragments)


def encode(payload: Any) -> bytes:
    # The standard encoder writes lone surrogates as \ud800 escapes, as hostile clients do.
    return json.dumps(payload).encode()


def assert_no_failure(status: int, body: Any, sent: object) -> None:
    assert status < 500, (status, body, sent)
    errors = body.get("errors") or [] if isinstance(body, dict) else []
    codes = [(e.get("extensions") or {}).get("code") for e in errors]
    assert "INTERNAL_ERROR" not in codes, (body, str(sent)[:500])


async def post(api: GraphQLClient, token: str | None, raw: bytes) -> None:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await api.http.post("/graphql", content=raw, headers=headers)
    assert response.headers["content-type"].startswith("application/"), response.text[:200]
    assert_no_failure(response.status_code, response.json(), raw[:500])


@pytest.fixture
async def callers(server: Server) -> list[str | None]:
    return [
        None,
        await make_customer(server, "fuzz-customer@example.com"),
        await make_staff(server, "fuzz-staff@example.com"),
    ]


@FUZZ
@given(call=operation_calls(), who=st.integers(0, 2))
async def test_hostile_arguments_over_post(
    api: GraphQLClient, callers: list[str | None], call: tuple[str, str, dict[str, Any]], who: int
) -> None:
    _kind, document, variables = call
    await post(api, callers[who], encode({"query": document, "variables": variables}))


@FUZZ
@given(call=operation_calls())
async def test_hostile_arguments_over_get(
    api: GraphQLClient, call: tuple[str, str, dict[str, Any]]
) -> None:
    _kind, document, variables = call
    encoded = json.dumps(variables)
    assume(len(encoded) < 16_000)  # longer URLs are refused by the HTTP server itself
    response = await api.http.get("/graphql", params={"query": document, "variables": encoded})
    assert_no_failure(response.status_code, response.json(), (document, variables))
    if _kind == "mutation":
        assert response.status_code in {400, 405, 413}


@FUZZ
@given(document=documents(), who=st.integers(0, 2))
async def test_hostile_documents(
    api: GraphQLClient, callers: list[str | None], document: str, who: int
) -> None:
    await post(api, callers[who], encode({"query": document, "variables": {"n": "x"}}))


@FUZZ
@given(
    raw=st.one_of(
        st.binary(max_size=200),
        JUNK.map(encode),
        st.builds(
            lambda v: b'{"query": "{ __typename }", "variables": ' + v + b"}", JUNK.map(encode)
        ),
        st.integers(1, 2000).map(
            lambda n: b'{"query": "{ __typename }", "v": ' + b"[" * n + b"]" * n + b"}"
        ),
    )
)
async def test_raw_bodies(api: GraphQLClient, raw: bytes) -> None:
    await post(api, None, raw)


@FUZZ
@given(calls=st.lists(st.one_of(operation_calls(), documents()), min_size=1, max_size=6))
async def test_hostile_input_over_the_websocket(
    server: Server, callers: list[str | None], calls: list[Any]
) -> None:
    async with connect(server) as socket:
        await socket.init({"Authorization": f"Bearer {callers[2]}"})
        for index, call in enumerate(calls):
            document, variables = (call, {}) if isinstance(call, str) else (call[1], call[2])
            await socket.send_text(
                json.dumps(
                    {
                        "id": str(index),
                        "type": "subscribe",
                        "payload": {"query": document, "variables": variables},
                    }
                )
            )
            while True:
                message = await socket.next_message()
                if message["type"] == "websocket.close":
                    # Only protocol violations close the socket; never a server failure.
                    assert message["code"] in {4400}, (message, document[:300])
                    return
                frame = json.loads(message["text"])
                if frame["type"] == "error":
                    assert_no_failure(200, {"errors": frame["payload"]}, call)
                    break
                if frame["type"] == "next":
                    assert_no_failure(200, frame["payload"], call)
                if frame["type"] == "complete":
                    break
