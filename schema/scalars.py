"""Scalars with stricter parsing than Strawberry's defaults."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import strawberry
from graphql import FloatValueNode, IntValueNode, StringValueNode, ValueNode

_DECIMAL = re.compile(r"^-?\d{1,15}(\.\d{1,8})?$")
_DECIMAL_RULE = 'Decimal must be a string of digits with an optional fraction, such as "19.90"'


def _parse_decimal(value: object) -> Decimal:
    # Floats are refused: 19.9 in JSON has already lost exactness on many clients.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(_DECIMAL_RULE)
    text = str(value).strip()
    if not _DECIMAL.match(text):
        raise ValueError(_DECIMAL_RULE)
    return Decimal(text)


def _parse_decimal_literal(node: ValueNode, _variables: object = None) -> Decimal:
    if isinstance(node, StringValueNode | IntValueNode):
        return _parse_decimal(node.value if isinstance(node, StringValueNode) else int(node.value))
    if isinstance(node, FloatValueNode):
        raise ValueError(_DECIMAL_RULE)
    raise ValueError(_DECIMAL_RULE)


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description='An exact decimal amount as a string, such as "19.90". Never a float.',
    serialize=str,
    parse_value=_parse_decimal,
    parse_literal=_parse_decimal_literal,
)

_DATETIME_RULE = "DateTime must be ISO 8601 with a UTC offset, such as 2026-01-31T09:30:00Z"


def _parse_datetime(value: object) -> datetime:
    # A time without an offset means different instants to different clients: refused.
    if not isinstance(value, str):
        raise ValueError(_DATETIME_RULE)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(_DATETIME_RULE) from None
    if parsed.tzinfo is None:
        raise ValueError(_DATETIME_RULE)
    return parsed.astimezone(UTC)


def _parse_datetime_literal(node: ValueNode, _variables: object = None) -> datetime:
    if not isinstance(node, StringValueNode):
        raise ValueError(_DATETIME_RULE)
    return _parse_datetime(node.value)


DateTimeScalar = strawberry.scalar(
    name="DateTime",
    description="An instant, ISO 8601 with a UTC offset, such as 2026-01-31T09:30:00Z.",
    serialize=lambda value: value.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    parse_value=_parse_datetime,
    parse_literal=_parse_datetime_literal,
)

SCALAR_MAP = {Decimal: DecimalScalar, datetime: DateTimeScalar}
