"""Relay global ids (`base64("Product:42")`) and opaque pagination cursors.

Every kind of global id this server issues is declared once here, as an
`IdKind`: the type name written inside the id and how its key is written.
Object types encode their ids through their kind, and every id a client sends
is read by `decode` (or a kind's own `decode`), so ids are parsed in one place.
What each kind loads, and who may see it, is `schema.node`'s table over these
kinds; this module stays free of GraphQL so that any layer can read ids.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import orjson

from app.text import is_clean_text

K = TypeVar("K")

# What ids this server issues: a type name and an integer key or a url-safe token.
_TYPE_NAME = re.compile(r"[A-Za-z]{1,64}")
_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
_DIGITS = re.compile(r"[0-9]{1,19}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_ID_LENGTH = 256
_INT64 = 2**63
# Cursor values are sort keys: ids, prices, ranks, names and times.
_MAX_CURSOR_TEXT = 512
_MAX_CURSOR_FLOAT = 2.0**53


def to_global_id(type_name: str, key: int | str) -> str:
    """The id framing alone; object types encode through their `IdKind`."""
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def parse_global_id(value: str) -> tuple[str, str] | None:
    """`(type_name, key text)` of a global id, or None when it is not one.

    Only what this server could have issued passes: a forged id cannot smuggle a NUL,
    a lone surrogate or a megabyte of text into a query. `decode` reads the key too.
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


class KeyFormat(Protocol[K]):
    """How the key of one kind of id is written after `TypeName:`."""

    def write(self, key: K) -> str: ...

    def read(self, text: str) -> K | None:
        """The key, or None when `text` is not one this format writes."""
        ...


class IntKey:
    """A table's integer primary key (a positive 64-bit integer)."""

    def write(self, key: int) -> str:
        return str(key)

    def read(self, text: str) -> int | None:
        if not _DIGITS.fullmatch(text):
            return None
        key = int(text)
        return key if 0 < key < _INT64 else None


class TokenKey:
    """An unguessable url-safe token (a cart's): knowing the id is the access."""

    def write(self, key: str) -> str:
        return key

    def read(self, text: str) -> str | None:
        return text if _TOKEN.fullmatch(text) else None


@dataclass(frozen=True, slots=True)
class CartLineKey:
    """A cart line's row id with a proof that whoever holds the id was shown its cart.

    A guest's access to a cart is knowing the cart's id, and line row ids are
    guessable, so a line id alone must not open a line. The proof is an HMAC of
    the row id keyed with the cart's secret token: only the cart's id could have
    made it, yet the line id does not give the cart's id (and its writes) away.
    `proof` is None for ids issued before lines carried one: they still name a
    line of the cart given beside them in a cart mutation, but open nothing alone.
    """

    line_id: int
    proof: str | None = None

    @classmethod
    def of(cls, line_id: int, cart_token: str) -> CartLineKey:
        return cls(line_id, _proof("CartLine", line_id, cart_token))

    def proven_by(self, cart_token: str) -> bool:
        return _proven(self.proof, "CartLine", self.line_id, cart_token)


@dataclass(frozen=True, slots=True)
class OrderKey:
    """An order's row id with a proof made with the order's secret token (`Order.token`).

    Order row ids (and numbers) are guessable; a guest's order is paid for by its id,
    so a guest's access must be something only whoever was shown the order has: the
    proof. Customers' orders open to their owner (and staff) whatever the proof.
    `proof` is None for bare ids: they still name the order for its owner and staff."""

    order_id: int
    proof: str | None = None

    @classmethod
    def of(cls, order_id: int, order_token: str) -> OrderKey:
        return cls(order_id, _proof("Order", order_id, order_token) if order_token else None)

    def proven_by(self, order_token: str) -> bool:
        return bool(order_token) and _proven(self.proof, "Order", self.order_id, order_token)


def _proof(type_name: str, row_id: int, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"{type_name}:{row_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:16]).decode().rstrip("=")


def _proven(proof: str | None, type_name: str, row_id: int, secret: str) -> bool:
    return proof is not None and hmac.compare_digest(proof, _proof(type_name, row_id, secret))


def _read_proven(text: str) -> tuple[int, str | None] | None:
    """`<row id>_<proof>` or a bare `<row id>`."""
    head, _, proof = text.partition("_")
    row_id = INT_KEY.read(head)
    if row_id is None or (proof and not _TOKEN.fullmatch(proof)):
        return None
    return row_id, proof or None


class CartLineKeyFormat:
    """`<row id>_<proof>`; a bare `<row id>` as issued before (see `CartLineKey`)."""

    def write(self, key: CartLineKey) -> str:
        return f"{key.line_id}_{key.proof}" if key.proof else str(key.line_id)

    def read(self, text: str) -> CartLineKey | None:
        found = _read_proven(text)
        return CartLineKey(*found) if found else None


class OrderKeyFormat:
    """`<row id>_<proof>`; a bare `<row id>` for orders without a token (see `OrderKey`)."""

    def write(self, key: OrderKey) -> str:
        return f"{key.order_id}_{key.proof}" if key.proof else str(key.order_id)

    def read(self, text: str) -> OrderKey | None:
        found = _read_proven(text)
        return OrderKey(*found) if found else None


INT_KEY = IntKey()
TOKEN_KEY = TokenKey()
CART_LINE_KEY = CartLineKeyFormat()
ORDER_KEY = OrderKeyFormat()


@dataclass(frozen=True, slots=True)
class IdKind(Generic[K]):
    """One kind of global id: the type name written inside it and the format of its key."""

    name: str
    key: KeyFormat[K]

    def encode(self, key: K) -> str:
        return to_global_id(self.name, self.key.write(key))

    def decode(self, value: str) -> K | None:
        """The key of an id of this kind; None for anything else (another kind, a forgery)."""
        found = decode(value)
        return found[1] if found is not None and found[0] is self else None


KINDS: dict[str, IdKind[Any]] = {}


def _declare(name: str, key: KeyFormat[K]) -> IdKind[K]:
    kind = IdKind(name, key)
    KINDS[name] = kind
    return kind


PRODUCT = _declare("Product", INT_KEY)
PRODUCT_VARIANT = _declare("ProductVariant", INT_KEY)
CATEGORY = _declare("Category", INT_KEY)
WAREHOUSE = _declare("Warehouse", INT_KEY)
USER = _declare("User", INT_KEY)
ADDRESS = _declare("Address", INT_KEY)
# A cart's shipping address (an Address too): the cart's token, since it is the cart's.
CART_ADDRESS = _declare("CartAddress", TOKEN_KEY)
CART = _declare("Cart", TOKEN_KEY)
CART_LINE = _declare("CartLine", CART_LINE_KEY)
ORDER = _declare("Order", ORDER_KEY)
# An order's shipping address (an Address too): the order's own snapshot.
ORDER_ADDRESS = _declare("OrderAddress", INT_KEY)
ORDER_LINE = _declare("OrderLine", INT_KEY)
PROMOTION = _declare("Promotion", INT_KEY)
SHIPPING_METHOD = _declare("ShippingMethod", INT_KEY)
PAYMENT = _declare("Payment", INT_KEY)
REFUND = _declare("Refund", INT_KEY)
GIFT_CARD = _declare("GiftCard", INT_KEY)
PAYMENT_NOTIFICATION = _declare("PaymentNotification", INT_KEY)
RETURN_REQUEST = _declare("ReturnRequest", INT_KEY)
OUTBOX_EMAIL = _declare("OutboxEmail", INT_KEY)
# Encoded for tracking events before the Shipment node type exists: left out of KINDS
# (which `schema.node` requires a node source for) until logistics registers it there.
SHIPMENT: IdKind[int] = IdKind("Shipment", INT_KEY)


def decode(value: str) -> tuple[IdKind[Any], Any] | None:
    """The kind and key of a global id this server issues; None for anything else."""
    parsed = parse_global_id(value)
    if parsed is None:
        return None
    kind = KINDS.get(parsed[0])
    if kind is None:
        return None
    key = kind.key.read(parsed[1])
    return None if key is None else (kind, key)


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
