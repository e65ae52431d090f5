"""The GraphQL endpoint over HTTP and WebSocket.

On top of Strawberry's view: request payloads checked before anything runs
(`app.web.payload`: size, JSON, text), persisted queries and the allowlist
(`app.web.persisted`), bearer-token authentication, the per-request context,
`application/graphql-response+json` when the client asks for it (request
errors are then 4xx without `data`), JSON bodies for every request error
instead of plain text, 405 for a mutation over GET, the error policy applied
to every result, cost budgets (429 and Retry-After when spent), idempotent
mutations (`app.web.idempotency`), the response cache and HTTP caching of
public persisted queries (`app.web.response_cache`), and orjson encoding. The
WebSocket transport (`app.web.websocket`) applies the same checks, the same
persisted-query resolution and the same error policy.

CSRF: a POST must be `application/json`, which no HTML form can send without a
CORS preflight (that `CORS_ORIGINS` decides on); GET runs queries only, never
mutations (405). Subscriptions run over WebSocket only (400 over HTTP).
"""

from __future__ import annotations

import ipaddress
import json
import logging
from typing import Any

import orjson
from cross_web import HTTPException
from cross_web.request import StarletteRequestAdapter
from graphql import GraphQLError, OperationType
from graphql.utilities import get_operation_ast
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from app.accounts.permissions import Viewer
from app.budget import bucket_for
from app.logs import request_facts, request_id_var
from app.services import Services
from app.web.credentials import AuthenticationFailed, authenticate
from app.web.idempotency import IdempotentRequests
from app.web.payload import (
    PayloadLimits,
    RequestRefused,
    from_json_body,
    from_query_params,
)
from app.web.persisted import Resolved, resolve
from app.web.response_cache import PRIVATE, Exchange, ResponseCache, etag, matches
from app.web.websocket import TransportWSHandler
from resolvers.context import Context
from schema.budget import THROTTLED, throttled_error
from schema.cacheability import is_public
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
        self.responses = ResponseCache(services.cache, settings.response_cache_ttl_seconds)
        self.idempotent = IdempotentRequests(
            services.idempotency,
            settings.idempotency_ttl_seconds,
            settings.idempotency_wait_seconds,
        )

    async def resolve(
        self, data: GraphQLRequestData, credential: str | None, client_hint: str | None
    ) -> Resolved:
        """Persisted queries and the allowlist, for HTTP and WebSocket alike."""

        async def is_staff() -> bool:
            try:
                viewer = await self.authenticate(credential)
            except AuthenticationFailed:
                return False
            return viewer is not None and viewer.is_staff

        resolved = await resolve(data, self.services, is_staff=is_staff, client_hint=client_hint)
        facts = request_facts.get()
        if facts is not None:
            facts.operation = resolved.data.operation_name or _operation_name(
                self.schema, resolved.data
            )
        return resolved

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

    async def _viewer(self, request: Request) -> Viewer | None:
        """The caller of an HTTP request, authenticated once however often asked."""
        if not hasattr(request.state, "viewer"):
            try:
                request.state.viewer = await self.authenticate(request.headers.get("authorization"))
            except AuthenticationFailed as exc:
                raise RequestRefused(str(exc), 401, "UNAUTHENTICATED") from None
        return request.state.viewer  # type: ignore[no-any-return]

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:  # type: ignore[override]
        services = self.services
        viewer = None
        client = None
        # A WebSocket is authenticated by its connection_init message, not at the upgrade.
        if not isinstance(request, WebSocket):
            viewer = await self._viewer(request)
            resolved = getattr(request.state, "resolved", None)
            client = resolved.client if resolved is not None else None
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
            budgets=services.budgets,
            client=client,
            broker=services.broker,
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
            facts = request_facts.get()
            if facts is not None:
                facts.error_codes = [_code(e.extensions) for e in result.errors]
        exchange: Exchange | None = getattr(request.state, "exchange", None)
        if exchange is not None and exchange.public and not result.errors and result.data:
            exchange.data = orjson.dumps(result.data)
            cost = (result.extensions or {}).get("cost", {})
            exchange.cost = int(cost.get("requestedQueryCost", 0))
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
        throttled = _throttled(response_data)
        if throttled is not None:
            response.status_code = 429
            response.headers["retry-after"] = str(throttled)
        return response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            if request.method in ("GET", "POST") and not self._shows_ide(request):
                response = await self._graphql(request)
            else:
                response = await self.run(request)
        except HTTPException as exc:
            response = _error_response(exc, request)
        response.headers.setdefault("cache-control", PRIVATE)
        await response(scope, receive, send)

    def _shows_ide(self, request: Request) -> bool:
        return self.should_render_graphql_ide(self.request_adapter_class(request))

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A hashed GET carries no `query` either; browsers asking for */* must still get data.
        return super().should_render_graphql_ide(request) and "extensions" not in (
            request.query_params
        )

    async def _graphql(self, request: Request) -> Response:
        data = await self._read_request(request)
        resolved = await self.resolve(
            data,
            request.headers.get("authorization"),
            request.headers.get("apollographql-client-name"),
        )
        if _is_subscription(self.schema, resolved.data):
            raise RequestRefused(
                "subscriptions are served over WebSocket (graphql-transport-ws at /graphql), "
                "not over HTTP"
            )
        request.state.graphql_request = resolved.data
        request.state.resolved = resolved
        key = request.headers.get("idempotency-key")
        if key is None or request.method != "POST" or not _is_mutation(self.schema, resolved.data):
            return await self._answer(request, resolved)
        viewer = await self._viewer(request)
        caller = f"user:{viewer.user_id}" if viewer else f"address:{client_address(request)}"
        response = await self.idempotent.run(
            caller, key, resolved.data, lambda: self._answer(request, resolved)
        )
        if response.headers.get("idempotent-replayed"):
            facts = request_facts.get()
            if facts is not None:
                facts.cache = "replayed"
        return response

    async def _answer(self, request: Request, resolved: Resolved) -> Response:
        """The response cache first, for public persisted queries; else the operation."""
        exchange = self._exchange(request, resolved)
        request.state.exchange = exchange
        facts = request_facts.get()
        if not exchange.public:
            return await self.run(request)
        if await self.responses.lookup(exchange):
            if facts is not None:
                facts.cache = "hit"
            return await self._cached(request, exchange)
        if facts is not None:
            facts.cache = "miss"
        response = await self.run(request)
        if response.status_code == 200 and exchange.data is not None:
            await self.responses.keep(exchange)
            self._public_headers(request, response, exchange.data)
        return response

    def _exchange(self, request: Request, resolved: Resolved) -> Exchange:
        data = resolved.data
        if resolved.hash is None or data.query is None or "authorization" in request.headers:
            return Exchange()
        public = self.responses.remembered_public(resolved.hash, data.operation_name)
        if public is None:
            try:
                document = self.schema.documents.parse(data.query)
            except GraphQLError:
                public = False
            else:
                public = is_public(self.schema._schema, document, data.operation_name)
            self.responses.remember_public(resolved.hash, data.operation_name, public)
        if not public:
            return Exchange()
        key = ResponseCache.key(resolved.hash, data.operation_name, data.variables)
        facts = request_facts.get()
        if key is None and facts is not None:
            facts.cache = "bypass"
        return Exchange(public=key is not None, key=key)

    async def _cached(self, request: Request, exchange: Exchange) -> Response:
        """A kept answer: paid from the caller's budget like any other, then served."""
        assert exchange.data is not None
        resolved: Resolved = request.state.resolved
        settings = self.services.settings
        bucket = bucket_for(settings, None, resolved.client, client_address(request))
        charge = await self.services.budgets.take(bucket, max(exchange.cost, 1))
        facts = request_facts.get()
        if facts is not None:
            facts.cost = exchange.cost
        report = charge.report()
        report["requestedQueryCost"] = exchange.cost
        media_type = (
            GRAPHQL_RESPONSE if _wants_graphql_response(request.headers.get("accept", "")) else JSON
        )
        if not charge.allowed:
            error = throttled_error(charge).formatted
            if facts is not None:
                facts.error_codes = [THROTTLED]
            body = orjson.dumps({"errors": [error], "extensions": {"cost": report}})
            return Response(
                body,
                status_code=429,
                media_type=media_type,
                headers={"retry-after": str(charge.retry_after_seconds)},
            )
        body = (
            b'{"data":' + exchange.data + b',"extensions":' + orjson.dumps({"cost": report}) + b"}"
        )
        response = Response(body, media_type=media_type)
        self._public_headers(request, response, exchange.data)
        return response

    def _public_headers(self, request: Request, response: Response, data: bytes) -> None:
        """Hashed GETs of public data may be kept by browsers and CDNs; the rest may not."""
        if request.method != "GET":
            return
        tag = etag(data)
        response.headers["etag"] = tag
        response.headers["cache-control"] = (
            f"public, max-age={self.services.settings.http_cache_max_age}"
        )
        response.headers["vary"] = "Accept, Authorization"
        if matches(request.headers.get("if-none-match", ""), tag):
            response.status_code = 304
            response.body = b""
            del response.headers["content-length"]

    async def _read_request(self, request: Request) -> GraphQLRequestData:
        if request.method == "GET":
            return from_query_params(request.query_params, self.limits)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != JSON:
            raise RequestRefused("send the request as application/json")
        return from_json_body(await read_body(request, self.limits.max_body_bytes), self.limits)


def _code(extensions: dict[str, Any] | None) -> str:
    code = (extensions or {}).get("code")
    return code if isinstance(code, str) else "GRAPHQL_ERROR"


def _throttled(response_data: object) -> int | None:
    """The Retry-After of a THROTTLED answer, or None."""
    if not isinstance(response_data, dict):
        return None
    for error in response_data.get("errors") or []:
        extensions = error.get("extensions") or {}
        if extensions.get("code") == THROTTLED:
            return int(extensions.get("retryAfterSeconds", 1))
    return None


def _operation(schema: Any, data: GraphQLRequestData) -> Any:
    """The operation the request asks for (parsed through the schema's document cache), or
    None when the text does not parse or names no such operation."""
    if data.query is None:
        return None
    try:
        document = schema.documents.parse(data.query)
    except GraphQLError:
        return None
    return get_operation_ast(document, data.operation_name)


def _operation_name(schema: Any, data: GraphQLRequestData) -> str | None:
    operation = _operation(schema, data)
    return operation.name.value if operation is not None and operation.name else None


def _is_mutation(schema: Any, data: GraphQLRequestData) -> bool:
    operation = _operation(schema, data)
    return operation is not None and operation.operation is OperationType.MUTATION


def _is_subscription(schema: Any, data: GraphQLRequestData) -> bool:
    operation = _operation(schema, data)
    return operation is not None and operation.operation is OperationType.SUBSCRIPTION


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
    elif status == 404 and not isinstance(exc, RequestRefused):
        code = "NOT_FOUND"
    body = {"errors": [GraphQLError(exc.reason, extensions={"code": code}).formatted]}
    media_type = (
        GRAPHQL_RESPONSE if _wants_graphql_response(request.headers.get("accept", "")) else JSON
    )
    return Response(encode_json(body), status_code=status, media_type=media_type, headers=headers)
