"""Expected failures: stable codes that clients program against.

Services raise `DomainError` with one or more `Problem`s. Mutations turn them
into `userErrors`; queries into GraphQL errors carrying the code in
`extensions.code`. Anything else that escapes a resolver is unexpected and is
masked for the client.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    CART_EMPTY = "CART_EMPTY"
    CART_EXPIRED = "CART_EXPIRED"
    COUPON_INVALID = "COUPON_INVALID"
    COUPON_EXPIRED = "COUPON_EXPIRED"
    COUPON_NOT_APPLICABLE = "COUPON_NOT_APPLICABLE"
    COUPON_USAGE_LIMIT = "COUPON_USAGE_LIMIT"
    TERMS_NOT_ACCEPTED = "TERMS_NOT_ACCEPTED"
    SHIPPING_ADDRESS_REQUIRED = "SHIPPING_ADDRESS_REQUIRED"
    SHIPPING_METHOD_REQUIRED = "SHIPPING_METHOD_REQUIRED"
    SHIPPING_NOT_AVAILABLE = "SHIPPING_NOT_AVAILABLE"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    INVALID_STATE = "INVALID_STATE"
    AMOUNT_EXCEEDED = "AMOUNT_EXCEEDED"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"


@dataclass(frozen=True, slots=True)
class Problem:
    code: ErrorCode
    message: str
    field: tuple[str, ...] | None = None


class DomainError(Exception):
    """An expected failure; nothing was changed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("DomainError needs at least one problem")
        self.problems = list(problems)
        super().__init__("; ".join(p.message for p in self.problems))

    @property
    def code(self) -> ErrorCode:
        return self.problems[0].code


class RecordedFailure(DomainError):
    """An expected failure whose writes must stand (a reused refresh token has its family
    revoked): the unit of work commits, and the client still gets the problems."""


def fail(code: ErrorCode, message: str, *field: str) -> DomainError:
    """A one-problem error: `raise fail(ErrorCode.NOT_FOUND, "...", "input", "id")`."""
    return DomainError([Problem(code, message, field or None)])


def field_label(path: Sequence[str]) -> str:
    """The field a path ends at, in words, for messages (`("input", "seo_title")`: seo title)."""
    return path[-1].replace("_", " ")


def try_again_in(seconds: int) -> str:
    """For TOO_MANY_REQUESTS messages: when the client may try again."""
    return f"try again in {seconds} second{'s' if seconds != 1 else ''}"


class Problems:
    """Collects validation problems so that a client learns all of them at once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, code: ErrorCode, message: str, *field: str) -> None:
        self.items.append(Problem(code, message, field or None))

    def raise_if_any(self) -> None:
        if self.items:
            raise DomainError(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)
