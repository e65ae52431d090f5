"""What a GraphQL request may carry, checked once for every transport.

HTTP bodies, GET parameters and WebSocket `subscribe` messages all become a
`GraphQLRequestData` through `request_data`, so the same request is refused
the same way whichever way it came: JSON that does not parse (not UTF-8,
nested too deep, numbers no double can hold), a body that is not one JSON
object, and any string that is not acceptable text (`app.text`) or list that
is too long, anywhere in the query, the variables or the extensions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from cross_web import HTTPException
from strawberry.http import GraphQLRequestData

from app.text import text_problem

# Input objects in this schema nest four levels at most; far more is an attack.
MAX_JSON_DEPTH = 32


@dataclass(frozen=True, slots=True)
class PayloadLimits:
    max_body_bytes: int
    max_string_length: int
    max_list_length: int


class RequestRefused(HTTPException):
    """A request this server will not run; answered with a GraphQL JSON error body."""

    def __init__(self, reason: str, status: int = 400, code: str = "BAD_REQUEST") -> None:
        super().__init__(status, reason)
        self.code = code


def decode_json(raw: bytes | str, what: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        # orjson's reasons name a position, never the input itself.
        raise RequestRefused(f"{what} is not valid JSON: {exc}") from None


def _where(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p[:40]}" for p in path)


def check_value(value: object, limits: PayloadLimits, what: str) -> None:
    """Refuses bad text, long lists and deep nesting anywhere in a JSON value (iteratively)."""
    stack: list[tuple[object, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item, limits.max_string_length)
            if problem is not None:
                raise RequestRefused(f"{what}{_where(path)}: {problem}")
        elif isinstance(item, float) and not math.isfinite(item):
            raise RequestRefused(f"{what}{_where(path)}: numbers must be finite")
        elif isinstance(item, Mapping | list):
            if len(path) >= MAX_JSON_DEPTH:
                raise RequestRefused(f"{what} nests more than {MAX_JSON_DEPTH} levels deep")
            if len(item) > limits.max_list_length:
                raise RequestRefused(
                    f"{what}{_where(path)} has more than {limits.max_list_length} entries"
                )
            if isinstance(item, list):
                stack.extend((v, (*path, i)) for i, v in enumerate(item))
            else:
                for key, v in item.items():
                    stack.append((key, path))
                    stack.append((v, (*path, str(key))))


def _optional(data: Mapping[str, Any], key: str, kind: type, described: str) -> Any:
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        raise RequestRefused(f"`{key}` must be {described} or null")
    return value


def request_data(data: object, limits: PayloadLimits) -> GraphQLRequestData:
    """The one operation a decoded request asks for."""
    if isinstance(data, list):
        raise RequestRefused("batched requests are not supported: send one operation per request")
    if not isinstance(data, dict):
        raise RequestRefused("the request must be a JSON object with a `query`")
    query = _optional(data, "query", str, "a string")
    variables = _optional(data, "variables", dict, "an object")
    operation_name = _optional(data, "operationName", str, "a string")
    extensions = _optional(data, "extensions", dict, "an object")
    for what, value in (
        ("query", query),
        ("operationName", operation_name),
        ("variables", variables),
        ("extensions", extensions),
    ):
        check_value(value, limits, what)
    return GraphQLRequestData(
        query=query, variables=variables, operation_name=operation_name, extensions=extensions
    )


def from_query_params(params: Mapping[str, str], limits: PayloadLimits) -> GraphQLRequestData:
    """A GET request: `query`, `operationName`, and `variables`/`extensions` as JSON text."""
    data: dict[str, Any] = {
        "query": params.get("query"),
        "operationName": params.get("operationName"),
    }
    for key in ("variables", "extensions"):
        raw = params.get(key)
        if raw:
            check_value(raw, limits, key)
            data[key] = decode_json(raw, key)
    return request_data(data, limits)


def from_json_body(body: bytes, limits: PayloadLimits) -> GraphQLRequestData:
    return request_data(decode_json(body, "the request body"), limits)
