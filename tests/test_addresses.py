"""Address book and ownership: validation, one default, and nobody sees what is not theirs."""

from __future__ import annotations

import asyncio

from app.accounts.permissions import Permission
from tests.conftest import Server, make_customer, make_staff
from tests.support import GraphQLClient

ADDRESSES = "{ me { addresses { id isDefault firstName line1 city country postalCode } } }"
ADDRESS_NODE = "query($id: ID!) { node(id: $id) { id ... on Address { line1 city } } }"
USER_NODE = "query($id: ID!) { node(id: $id) { id ... on User { email } } }"


def address(**changes: str) -> dict[str, str]:
    return {
        "firstName": "Ada",
        "lastName": "Lovelace",
        "line1": "12 St James's Square",
        "city": "London",
        "postalCode": "SW1Y 4JH",
        "country": "gb",
        **changes,
    }


async def add(
    api: GraphQLClient, token: str, set_default: bool | None = None, **changes: str
) -> dict[str, object]:
    variables: dict[str, object] = {"input": address(**changes)}
    if set_default is not None:
        variables["setDefault"] = set_default
    result = await api.op("AddressCreate", variables, token=token)
    return result.data["addressCreate"]  # type: ignore[no-any-return]


async def test_first_address_is_default_and_set_default_moves_it(
    api: GraphQLClient, server: Server
) -> None:
    token = await make_customer(server)
    first = await add(api, token, line1="1 First Street")
    assert first["userErrors"] == []
    assert first["address"]["isDefault"] is True  # type: ignore[index]
    second = await add(api, token, line1="2 Second Street")
    assert second["address"]["isDefault"] is False  # type: ignore[index]
    third = await add(api, token, set_default=True, line1="3 Third Street")
    assert third["address"]["isDefault"] is True  # type: ignore[index]

    book = (await api.query(ADDRESSES, token=token)).data["me"]["addresses"]
    assert [(a["line1"], a["isDefault"]) for a in book] == [
        ("3 Third Street", True),
        ("2 Second Street", False),
        ("1 First Street", False),
    ]
    assert book[0]["country"] == "GB"
    assert book[0]["postalCode"] == "SW1Y 4JH"

    # Deleting the default makes the newest remaining address the default.
    deleted = await api.op("AddressDelete", {"id": third["address"]["id"]}, token=token)  # type: ignore[index]
    assert deleted.data["addressDelete"]["userErrors"] == []
    book = (await api.query(ADDRESSES, token=token)).data["me"]["addresses"]
    assert [(a["line1"], a["isDefault"]) for a in book] == [
        ("2 Second Street", True),
        ("1 First Street", False),
    ]


async def test_invalid_addresses_are_user_errors_and_write_nothing(
    api: GraphQLClient, server: Server
) -> None:
    token = await make_customer(server)
    bad_country = await add(api, token, country="UK")
    assert bad_country["address"] is None
    assert bad_country["userErrors"] == [
        {
            "field": ["input", "country"],
            "message": "'UK' is not an ISO 3166-1 alpha-2 country code (e.g. US, DE)",
            "code": "INVALID",
        }
    ]
    missing = await add(api, token, line1="  ", city="")
    assert [(e["code"], e["field"]) for e in missing["userErrors"]] == [  # type: ignore[union-attr]
        ("REQUIRED", ["input", "line1"]),
        ("REQUIRED", ["input", "city"]),
    ]
    too_long = await add(api, token, postalCode="9" * 21, phone="call me")
    assert {e["field"][-1] for e in too_long["userErrors"]} == {"postalCode", "phone"}  # type: ignore[union-attr]
    assert (await api.query(ADDRESSES, token=token)).data["me"]["addresses"] == []

    anonymous = await api.op("AddressCreate", {"input": address()})
    assert anonymous.data["addressCreate"]["userErrors"][0]["code"] == "UNAUTHENTICATED"


async def test_concurrent_first_addresses_leave_exactly_one_default(
    api: GraphQLClient, server: Server
) -> None:
    token = await make_customer(server)
    results = await asyncio.gather(*(add(api, token, line1=f"{n} Rush Road") for n in range(6)))
    assert all(r["userErrors"] == [] for r in results)
    book = (await api.query(ADDRESSES, token=token)).data["me"]["addresses"]
    assert len(book) == 6
    assert sum(a["isDefault"] for a in book) == 1


async def test_other_customers_addresses_do_not_exist_for_you(
    api: GraphQLClient, server: Server
) -> None:
    alice = await make_customer(server, "alice@example.com")
    bob = await make_customer(server, "bob@example.com")
    alices = (await add(api, alice))["address"]["id"]  # type: ignore[index]
    alice_id = (await api.query("{ me { id } }", token=alice)).data["me"]["id"]

    # Bob sees nothing: the same answer as for an id that does not exist.
    as_bob = await api.query(ADDRESS_NODE, {"id": alices}, token=bob)
    missing = await api.query(ADDRESS_NODE, {"id": "QWRkcmVzczo5OTk5OTk="}, token=bob)
    assert as_bob.answer == missing.answer == {"data": {"node": None}}
    assert (await api.query(ADDRESS_NODE, {"id": alices})).data["node"] is None
    assert (await api.query(USER_NODE, {"id": alice_id}, token=bob)).data["node"] is None

    stolen = await api.op("AddressDelete", {"id": alices}, token=bob)
    unknown = await api.op("AddressDelete", {"id": "QWRkcmVzczo5OTk5OTk="}, token=bob)
    assert stolen.answer == unknown.answer
    assert stolen.data["addressDelete"]["userErrors"] == [
        {"field": ["id"], "message": "address not found", "code": "NOT_FOUND"}
    ]

    # Alice still has it, and sees it by id.
    assert (await api.query(ADDRESS_NODE, {"id": alices}, token=alice)).data["node"]["id"] == alices


async def test_staff_who_manage_customers_can_read_but_others_cannot(
    api: GraphQLClient, server: Server
) -> None:
    alice = await make_customer(server, "alice@example.com")
    alices = (await add(api, alice))["address"]["id"]  # type: ignore[index]
    alice_id = (await api.query("{ me { id } }", token=alice)).data["me"]["id"]
    support = await make_staff(
        server, "support@example.com", frozenset({Permission.MANAGE_CUSTOMERS})
    )
    catalog = await make_staff(
        server, "catalog@example.com", frozenset({Permission.MANAGE_PRODUCTS})
    )

    assert (await api.query(ADDRESS_NODE, {"id": alices}, token=support)).data["node"][
        "city"
    ] == "London"
    user = (await api.query(USER_NODE, {"id": alice_id}, token=support)).data["node"]
    assert user == {"id": alice_id, "email": "alice@example.com"}
    assert (await api.query(ADDRESS_NODE, {"id": alices}, token=catalog)).data["node"] is None
    assert (await api.query(USER_NODE, {"id": alice_id}, token=catalog)).data["node"] is None
    # Support may look, not change a customer's address book.
    refused = await api.op("AddressDelete", {"id": alices}, token=support)
    assert refused.data["addressDelete"]["userErrors"][0]["code"] == "NOT_FOUND"
