"""The ASGI application: GraphQL at /graphql, health checks, metrics, request ids.

`uvicorn app.web.asgi:create_app --factory` (or `commerce serve`) runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import maintenance
from app.columns import utcnow
from app.database import StatementCounter, request_statements
from app.logs import RequestFacts, configure_logging, new_request_id, request_facts, request_id_var
from app.services import Services
from app.settings import Settings, load_settings
from app.web import metrics
from app.web.view import GraphQLView
from app.web.webhooks import carrier_webhook, payment_webhook
from schema import Limits, build_schema

log = logging.getLogger("commerce.http")
# One line per request, without the query string: a GET /graphql carries the whole
# operation and its variables there (a password, if a client sends tokenCreate by GET).
access_log = logging.getLogger("commerce.access")


class RequestIdMiddleware:
    """Gives each request an id (logged, and returned as X-Request-ID), counts its SQL,
    writes the access log (with what the GraphQL layers learnt: operation, cost, cache
    outcome) and records the request's metrics."""

    def __init__(self, app: ASGIApp, expose_sql_count: bool) -> None:
        self.app = app
        self.expose_sql_count = expose_sql_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = new_request_id(incoming)
        id_token = request_id_var.set(request_id)
        counter = StatementCounter()
        sql_token = request_statements.set(counter)
        facts = RequestFacts()
        facts_token = request_facts.set(facts)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                if self.expose_sql_count:
                    headers.append((b"x-sql-statements", str(counter.total).encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            client = scope.get("client")
            is_graphql = scope.get("path") == "/graphql" and scope["type"] == "http"
            access_log.info(
                "%s %s %s %s %.1f ms, %d SQL%s",
                client[0] if client else "-",
                scope.get("method", "WS"),
                scope.get("path"),
                status or "-",
                elapsed * 1000,
                counter.total,
                _graphql_summary(facts) if is_graphql else "",
                extra={
                    "request_id": request_id,
                    "client": client[0] if client else None,
                    "method": scope.get("method", "WS"),
                    "path": scope.get("path"),
                    "status": status or None,
                    "duration_ms": round(elapsed * 1000, 2),
                    "sql": counter.total,
                    "operation": facts.operation,
                    "cost": facts.cost,
                    "cache": facts.cache,
                    "errors": facts.error_codes or None,
                },
            )
            if is_graphql and scope.get("method") in ("GET", "POST"):
                metrics.observe(facts, status, elapsed)
            request_facts.reset(facts_token)
            request_statements.reset(sql_token)
            request_id_var.reset(id_token)


def _graphql_summary(facts: RequestFacts) -> str:
    parts = [f", {facts.operation or 'anonymous'}"]
    if facts.cost is not None:
        parts.append(f"cost {facts.cost}")
    if facts.cache:
        parts.append(f"cache {facts.cache}")
    if facts.error_codes:
        parts.append("errors " + ",".join(facts.error_codes))
    return " ".join(parts)


def create_app(
    settings: Settings | None = None, clock: Callable[[], datetime] = utcnow
) -> Starlette:
    settings = settings or load_settings()
    if not logging.getLogger().handlers:
        # A worker process started by uvicorn: the same log format as `commerce serve`.
        configure_logging(settings.log_level, settings.log_format)
    services = Services.open(settings, clock)
    schema = build_schema(Limits.from_settings(settings), introspection=settings.graphiql)
    graphql = GraphQLView(schema, services)
    services.broker.watch(metrics.LIVE_SUBSCRIBERS.set)

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            async with services.db.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # any failure means not ready
            log.warning("readiness: database unavailable: %s", exc)
            checks["database"] = "unavailable"
        if settings.redis_url:
            checks["redis"] = "ok" if await services.cache.ping() else "unavailable"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", **checks},
            status_code=200 if ready else 503,
        )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        upkeep = (
            asyncio.create_task(
                maintenance.run_forever(services, settings.maintenance_interval_seconds)
            )
            if settings.maintenance_interval_seconds
            else None
        )
        try:
            yield
        finally:
            if upkeep is not None:
                upkeep.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await upkeep
            await services.close()

    app = Starlette(
        debug=False,
        routes=[
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics.metrics),
            Route("/webhooks/payments/{provider}", payment_webhook(services), methods=["POST"]),
            Route("/webhooks/carriers/{carrier}", carrier_webhook(services), methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    if settings.cors_origins:
        any_origin = "*" in settings.cors_origins
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"] if any_origin else list(settings.cors_origins),
            # Never credentials for any origin: a wildcard with credentials would let every
            # site act with the visitor's cookies. Tokens travel in Authorization anyway.
            allow_credentials=not any_origin,
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "x-request-id", "idempotency-key"],
            expose_headers=["x-request-id"],
            max_age=600,
        )
    app.add_middleware(RequestIdMiddleware, expose_sql_count=settings.debug)
    return app
