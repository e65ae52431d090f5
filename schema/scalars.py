"""Scalars with stricter parsing than Strawberry's defaults."""

from __future__ import annotations

import re
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

SCALAR_MAP = {Decimal: DecimalScalar}
