"""Relay global ids (`base64("Product:42")`) and opaque pagination cursors."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson


def to_global_id(type_name: str, key: int | str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def parse_global_id(value: str) -> tuple[str, str] | None:
    """`(type_name, key)` of a global id, or None when it is not one."""
    try:
        decoded = base64.b64decode(value.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, sep, key = decoded.partition(":")
    if not sep or not type_name or not key:
        return None
    return type_name, key


def parse_int_id(value: str, expected_type: str) -> int | None:
    """The integer key of a global id of `expected_type`, or None."""
    parsed = parse_global_id(value)
    if parsed is None or parsed[0] != expected_type:
        return None
    try:
        key = int(parsed[1])
    except ValueError:
        return None
    return key if 0 < key < 2**63 else None


class InvalidCursor(ValueError):
    """A cursor that this server did not issue for this list."""


def encode_cursor(kind: str, values: list[Any]) -> str:
    """A cursor holding the sort key of a row; `kind` ties it to one ordering."""
    return base64.urlsafe_b64encode(orjson.dumps([kind, *values])).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, length: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise InvalidCursor("after is not a valid cursor") from None
    if not isinstance(data, list) or len(data) != length + 1 or data[0] != kind:
        raise InvalidCursor("after is a cursor for another list or ordering")
    return data[1:]
