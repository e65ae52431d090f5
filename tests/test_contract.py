"""The client contract: every operation validates against the schema, unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import validate

from schema import schema
from tests.support import CONTRACT, contract_operations

SHARED = Path(__file__).resolve().parents[2] / "shared" / "contract"

OPERATIONS = contract_operations()


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_every_contract_operation_validates(name: str) -> None:
    errors = validate(schema._schema, OPERATIONS[name])
    assert errors == [], [e.message for e in errors]


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared contract is not checked out here")
def test_the_copy_is_the_shared_contract() -> None:
    for path in SHARED.iterdir():
        assert (CONTRACT / path.name).read_text() == path.read_text(), path.name
