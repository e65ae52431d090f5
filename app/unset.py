"""`UNSET`: a field the caller did not give, as opposed to one given as null."""

from __future__ import annotations

from enum import Enum
from typing import Final, Literal, TypeAlias, TypeVar

T = TypeVar("T")


class _Unset(Enum):
    UNSET = "UNSET"

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset.UNSET
Maybe: TypeAlias = T | Literal[_Unset.UNSET]
