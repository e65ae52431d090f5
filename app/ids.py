"""Relay global ids (`base64("Product:42")`) and opaque pagination cursors."""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any

import orjson

from app.text import is_clean_text

# What ids this server issues: a type name and an integer key or a url-safe token.
_TYPE_NAME = re.compile(r"[A-Za-z]{1,64}")
_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
_MAX_ID_LENGTH = 256
_INT64 = 2**63
# Cursor values are sort keys: ids, prices, ranks, names and times.
_MAX_CURSOR_TEXT = 512
_MAX_CURSOR_FLOAT = 2.0**53


def to_global_id(type_name: str, key: int | str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def parse_global_id(value: str) -> tuple[str, str] | None:
    """`(type_name, key)` of a global id, or None when it is not one.

    Only what this server could have issued passes: a forged id cannot smuggle a NUL,
    a lone surrogate or a megabyte of text into a query.
    """
    if len(value) > _MAX_ID_LENGTH:
        return None
    try:
        decoded = base64.b64decode(value.encode("utf-8"), validate=True).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    type_name, sep, key = decoded.partition(":")
    if not sep or not _TYPE_NAME.fullmatch(type_name) or not _KEY.fullmatch(key):
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
    return key if 0 < key < _INT64 else None


class InvalidCursor(ValueError):
    """A cursor that this server did not issue for this list."""


def encode_cursor(kind: str, values: list[Any]) -> str:
    """A cursor holding the sort key of a row; `kind` ties it to one ordering."""
    return base64.urlsafe_b64encode(orjson.dumps([kind, *values])).decode().rstrip("=")


def _sane_cursor_value(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -_INT64 <= value < _INT64
    if isinstance(value, float):
        return math.isfinite(value) and abs(value) <= _MAX_CURSOR_FLOAT
    return isinstance(value, str) and is_clean_text(value, _MAX_CURSOR_TEXT)


def decode_cursor(cursor: str, kind: str, length: int) -> list[Any]:
    """The sort key held by a cursor. Cursors are opaque but not signed, so their values
    are checked like any input: numbers a database column can hold, clean short text."""
    if len(cursor) > _MAX_ID_LENGTH * 4:
        raise InvalidCursor("after is not a valid cursor")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode("utf-8")))
    except (binascii.Error, UnicodeError, ValueError, orjson.JSONDecodeError):
        raise InvalidCursor("after is not a valid cursor") from None
    if not isinstance(data, list) or len(data) != length + 1 or data[0] != kind:
        raise InvalidCursor("after is a cursor for another list or ordering")
    if not all(_sane_cursor_value(v) for v in data[1:]):
        raise InvalidCursor("after is not a valid cursor")
    return data[1:]
