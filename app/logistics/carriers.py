"""The carriers staff may ship with (setting CARRIERS) and their tracking pages."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from app.errors import ErrorCode, fail
from app.text import text_problem

MAX_TRACKING_NUMBER = 100


class Carriers:
    def __init__(self, pages: Mapping[str, str]) -> None:
        self._pages = dict(pages)

    def known(self, code: str) -> bool:
        return code in self._pages

    def codes(self) -> list[str]:
        return sorted(self._pages)

    def require(self, given: str, *field: str) -> str:
        """The carrier's code as configured (any case given); INVALID for any other."""
        code = given.strip().lower()
        if not self.known(code):
            raise fail(
                ErrorCode.INVALID,
                f"unknown carrier; this shop ships with {', '.join(self.codes())}",
                *field,
            )
        return code

    def tracking_url(self, code: str, number: str) -> str | None:
        """The carrier's page for this parcel; None when it has none (or is no longer
        configured)."""
        page = self._pages.get(code)
        return page.replace("{number}", quote(number, safe="")) if page else None


def tracking_number(given: str, *field: str) -> str:
    """A tracking number as carriers print them: visible characters, no spaces inside."""
    number = given.strip()
    if not number:
        raise fail(ErrorCode.REQUIRED, "a tracking number is required", *field)
    problem = text_problem(number, MAX_TRACKING_NUMBER)
    if problem is not None or any(c.isspace() for c in number):
        raise fail(
            ErrorCode.INVALID,
            problem or "a tracking number has no spaces",
            *field,
        )
    return number
