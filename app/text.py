"""What text this API accepts, decided in one place.

Every string a client sends (GraphQL literals, variables, ids once decoded,
cursors) must be valid Unicode without NUL characters: PostgreSQL cannot
store a NUL, and a lone UTF-16 surrogate can be neither stored nor encoded
back as UTF-8. Lengths are bounded so that no single value costs much memory.
"""

from __future__ import annotations


def text_problem(value: str, max_length: int) -> str | None:
    """Why `value` is not acceptable text, or None when it is."""
    if len(value) > max_length:
        return f"text may have at most {max_length} characters"
    if "\x00" in value:
        return "text may not contain NUL (\\u0000) characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "text must be valid Unicode (a lone UTF-16 surrogate is not)"
    return None


def is_clean_text(value: str, max_length: int) -> bool:
    return text_problem(value, max_length) is None
