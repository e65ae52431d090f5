"""The GraphQL endpoint over HTTP and WebSocket.

On top of Strawberry's view: request payloads checked before anything runs
(`app.web.payload`: size, JSON, text), bearer-token authentication, the
per-request context, `application/graphql-response+json` when the client asks
for it (request errors are then 4xx without `data`), JSON bodies for every
request error instead of plain text, 405 for a mutation over GET, the error
policy applied to every result, and orjson encoding. The WebSocket transport
(`app.web.websocket`) applies the same checks and the same error policy.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from typing import Any

import orjson
from cross_web import HTTPException
from cross_web.request import StarletteRequestAdapter
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from app.accounts.permissions import Viewer
from app.logs import request_id_var
from app.services import Services
from app.web.credentials import AuthenticationFailed, authenticate
from app.web.payload import (
    PayloadLimits,
    RequestRefused,
    from_json_body,
    from_query_params,
)
from app.web.websocket import TransportWSHandler
from resolvers.context import Context
from schema.extensions import shape_error

log = logging.getLogger("commerce.http")

JSON = "application/json"
# How far past MAX_BODY_BYTES a body is still read (and dropped) to answer 413 cleanly.
DRAIN_FACTOR = 8
GRAPHQL_RESPONSE = "application/graphql-response+json"


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


def client_address(request: Request | WebSocket) -> str:
    """The caller's IP (uvicorn takes it from X-Forwarded-For only for TRUSTED_PROXIES).
    Anything that is not an IP address shares one bucket, so that it cannot be varied
    to escape per-address limits."""
    host = request.client.host if request.client else ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return "unknown"


def encode_json(data: object) -> str:
    # Text, not bytes: WebSocket messages must go out as text frames (graphql-ws).
    try:
        return orjson.dumps(data).decode()
    except TypeError:
        # Text orjson refuses (a lone surrogate that slipped into a message) is escaped
        # rather than turned into a failure of its own.
        return json.dumps(data, default=str)


class _RequestAdapter(StarletteRequestAdapter):
    @property
    def request(self) -> Request:
        return self._request


class GraphQLView(GraphQL[Context, None]):
    request_adapter_class = _RequestAdapter
    graphql_transport_ws_handler_class = TransportWSHandler  # type: ignore[assignment]

    def __init__(self, schema: Any, services: Services) -> None:
        settings = services.settings
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.services = services
        self.limits = PayloadLimits(
            max_body_bytes=settings.max_body_bytes,
            max_string_length=settings.max_string_length,
            max_list_length=settings.max_list_length,
        )

    def encode_json(self, data: object) -> str:
        return encode_json(data)

    def decode_json(self, data: str | bytes) -> object:
        """WebSocket messages: bounded like HTTP bodies; a refusal closes the socket (4400)."""
        if len(data) > self.limits.max_body_bytes:
            raise json.JSONDecodeError("message too large", "", 0)
        return orjson.loads(data)

    async def authenticate(self, credential: str | None) -> Viewer | None:
        return await authenticate(self.services, credential)

    def credential(self, context: Context) -> str | None:
        """The Authorization header of the request (or WebSocket upgrade) behind `context`."""
        request = context.request
        return request.headers.get("authorization") if request is not None else None

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:  # type: ignore[override]
        services = self.services
        viewer = None
        # A WebSocket is authenticated by its connection_init message, not at the upgrade.
        if not isinstance(request, WebSocket):
            try:
                viewer = await self.authenticate(request.headers.get("authorization"))
            except AuthenticationFailed as exc:
                raise RequestRefused(str(exc), 401, "UNAUTHENTICATED") from None
        return Context(
            settings=services.settings,
            db=services.db,
            cache=services.cache,
            clock=services.clock,
            request_id=request_id_var.get() or "-",
            viewer=viewer,
            sign_in_limiter=services.sign_in_limiter,
            account_limits=services.account_limits,
            gateway=services.gateway,
            client_address=client_address(request),
            request=request,
            response=response,
        )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = (
            GRAPHQL_RESPONSE if _wants_graphql_response(request.headers.get("accept", "")) else JSON
        )
        return sub_response

    async def parse_http_body(  # type: ignore[override]
        self, request_adapter: _RequestAdapter
    ) -> GraphQLRequestData:
        # Read and checked in __call__, before anything else happens for the request.
        return request_adapter.request.state.graphql_request  # type: ignore[no-any-return]

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:  # type: ignore[override]
        if result.errors:
            result.errors = [shape_error(e, request_id_var.get()) for e in result.errors]
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
            if request.method in ("GET", "POST"):
                request.state.graphql_request = await self._read_request(request)
            response = await self.run(request)
        except HTTPException as exc:
            response = _error_response(exc, request)
        await response(scope, receive, send)

    async def _read_request(self, request: Request) -> GraphQLRequestData:
        if request.method == "GET":
            return from_query_params(request.query_params, self.limits)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != JSON:
            raise RequestRefused("send the request as application/json")
        return from_json_body(await read_body(request, self.limits.max_body_bytes), self.limits)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 once it is over `limit` bytes.

    The rest of a body somewhat over the limit is read and dropped first, so the client
    (still sending) gets to read the 413 instead of a reset connection; a far larger one
    is cut off at once.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit * DRAIN_FACTOR:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit * DRAIN_FACTOR:
            break
        if size <= limit:
            chunks.append(chunk)
    if size > limit:
        raise _too_large(limit)
    return b"".join(chunks)


def _too_large(limit: int) -> RequestRefused:
    return RequestRefused(
        f"the request body is larger than {limit} bytes", 413, "PAYLOAD_TOO_LARGE"
    )


def _error_response(exc: HTTPException, request: Request) -> Response:
    """Request errors as a GraphQL JSON body, so clients can read them."""
    status = exc.status_code
    headers: dict[str, str] = {}
    code = exc.code if isinstance(exc, RequestRefused) else "BAD_REQUEST"
    if code == "UNAUTHENTICATED":
        headers["www-authenticate"] = 'Bearer error="invalid_token"'
    elif status == 400 and "mutations are not allowed when using get" in exc.reason.lower():
        status, code = 405, "METHOD_NOT_ALLOWED"
        headers["allow"] = "POST"
    elif status == 405:
        code = "METHOD_NOT_ALLOWED"
        headers["allow"] = "GET, POST"
    elif status == 404:
        code = "NOT_FOUND"
    body = {"errors": [GraphQLError(exc.reason, extensions={"code": code}).formatted]}
    media_type = (
        GRAPHQL_RESPONSE if _wants_graphql_response(request.headers.get("accept", "")) else JSON
    )
    return Response(encode_json(body), status_code=status, media_type=media_type, headers=headers)
