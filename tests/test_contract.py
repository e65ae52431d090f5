"""The client contract: every delivered operation validates against the schema, unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, validate

from schema import schema
from tests.support import CONTRACT, contract_operations

SHARED = Path(__file__).resolve().parents[2] / "shared" / "contract"

# Operations whose issue is not done yet, by the area that brings them. Each must
# still fail validation: once it validates, it leaves this list (and gets its tests).
PENDING: dict[str, set[str]] = {}
PENDING_NAMES = set().union(*PENDING.values())
OPERATIONS = contract_operations()


def test_every_pending_name_is_a_contract_operation() -> None:
    assert not PENDING_NAMES - set(OPERATIONS)


@pytest.mark.parametrize("name", sorted(set(OPERATIONS) - PENDING_NAMES))
def test_delivered_operation_validates(name: str) -> None:
    errors = validate(schema._schema, OPERATIONS[name])
    assert errors == [], [e.message for e in errors]


@pytest.mark.parametrize("name", sorted(PENDING_NAMES))
def test_pending_operation_is_not_yet_served(name: str) -> None:
    document = OPERATIONS[name]
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    # A schema without a root for the operation's kind cannot run it, whatever validation says.
    has_root = schema._schema.get_root_type(operation.operation) is not None
    served = has_root and not validate(schema._schema, document)
    assert not served, f"{name} validates: take it off PENDING"


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared contract is not checked out here")
def test_the_copy_is_the_shared_contract() -> None:
    for path in SHARED.iterdir():
        assert (CONTRACT / path.name).read_text() == path.read_text(), path.name
