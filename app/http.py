"""The GraphQL endpoint over HTTP and WebSocket.

On top of Strawberry's view: bearer-token authentication, the per-request
context, `application/graphql-response+json` when the client asks for it
(request errors are then 4xx without `data`), JSON bodies for request errors
instead of plain text, 405 for a mutation over GET, and orjson encoding.
"""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from app.accounts.permissions import Viewer
from app.accounts.tokens import TokenError
from app.accounts.users import authenticate_token
from app.logs import request_id_var
from app.services import Services
from resolvers.context import Context
from schema.extensions import shape_error

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


class AuthenticationFailed(HTTPException):
    def __init__(self, reason: str) -> None:
        super().__init__(401, reason)


def _wants_graphql_response(accept: str) -> bool:
    """True when the client ranks application/graphql-response+json at least as high as JSON."""
    ranks: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        ranks[media.lower()] = max(q, ranks.get(media.lower(), 0.0))
    new = ranks.get(GRAPHQL_RESPONSE, 0.0)
    return new > 0 and new >= max(
        ranks.get(JSON, 0.0), ranks.get("application/*", 0.0), ranks.get("*/*", 0.0)
    )


def _is_request_error(result: ExecutionResult) -> bool:
    """The operation never ran: the document or variables were refused."""
    return (
        result.data is None
        and bool(result.errors)
        and all(e.path is None for e in result.errors or [])
    )


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: Any, services: Services) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.services = services

    def encode_json(self, data: object) -> str:
        # Text, not bytes: WebSocket messages must go out as text frames (graphql-ws).
        return orjson.dumps(data).decode()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:  # type: ignore[override]
        services = self.services
        return Context(
            settings=services.settings,
            db=services.db,
            cache=services.cache,
            clock=services.clock,
            request_id=request_id_var.get() or "-",
            viewer=await self._authenticate(request.headers.get("authorization")),
            sign_in_limiter=services.sign_in_limiter,
            account_limits=services.account_limits,
            # uvicorn resolves X-Forwarded-For from trusted proxies (--forwarded-allow-ips).
            client_address=request.client.host if request.client else "unknown",
            request=request,
            response=response,
        )

    async def _authenticate(self, header: str | None) -> Viewer | None:
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("the Authorization header must be 'Bearer <access token>'")
        try:
            return await authenticate_token(
                self.services.db,
                self.services.cache,
                self.services.settings.secret_key,
                token.strip(),
                self.services.clock(),
            )
        except TokenError as exc:
            raise AuthenticationFailed(str(exc)) from None

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = (
            GRAPHQL_RESPONSE if _wants_graphql_response(request.headers.get("accept", "")) else JSON
        )
        return sub_response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:  # type: ignore[override]
        if result.errors:
            # Errors raised outside field resolution (a failing extension) skip the
            # schema's error policy: apply it here too, so nothing unexpected leaks
            # (the schema's process_errors has logged them).
            request_id = request_id_var.get()
            result.errors = [shape_error(e, request_id) for e in result.errors]
        data = await super().process_result(request, result)
        if _is_request_error(result) and _wants_graphql_response(request.headers.get("accept", "")):
            data.pop("data", None)  # type: ignore[misc]
        return data

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        media_type = sub_response.media_type or JSON
        response.headers["content-type"] = media_type
        if (
            media_type == GRAPHQL_RESPONSE
            and isinstance(response_data, dict)
            and "data" not in response_data
        ):
            response.status_code = 400
        return response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            await _refuse_nul(request)
            response = await self.run(request)
        except HTTPException as exc:
            response = _error_response(exc, request)
        await response(scope, receive, send)


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


async def _refuse_nul(request: Request) -> None:
    """No text in this API may hold a NUL character (PostgreSQL cannot store one): refuse
    the request up front, rather than fail deep inside it."""
    if any("\x00" in v for v in request.query_params.values()):
        raise HTTPException(400, "text may not contain NUL (\\u0000) characters")
    if request.method != "POST":
        return
    body = await request.body()
    if b"\x00" not in body and b"\\u0000" not in body:
        return
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return  # not JSON: the view reports it
    if b"\x00" in body or _has_nul(parsed):
        raise HTTPException(400, "text may not contain NUL (\\u0000) characters")


def _error_response(exc: HTTPException, request: Request) -> Response:
    """Request errors as a GraphQL JSON body, so clients can read them."""
    status = exc.status_code
    headers: dict[str, str] = {}
    code = "BAD_REQUEST"
    if isinstance(exc, AuthenticationFailed):
        code = "UNAUTHENTICATED"
        headers["www-authenticate"] = 'Bearer error="invalid_token"'
    elif status == 400 and "mutations are not allowed when using get" in exc.reason.lower():
        status, code = 405, "METHOD_NOT_ALLOWED"
        headers["allow"] = "POST"
    elif status == 405:
        code = "METHOD_NOT_ALLOWED"
        headers["allow"] = "GET, POST"
    body = {"errors": [GraphQLError(exc.reason, extensions={"code": code}).formatted]}
    media_type = (
        GRAPHQL_RESPONSE if _wants_graphql_response(request.headers.get("accept", "")) else JSON
    )
    return Response(orjson.dumps(body), status_code=status, media_type=media_type, headers=headers)
