"""Prometheus metrics at /metrics: requests, errors, latency by operation, response-cache
outcomes, throttled requests and live subscribers.

With several worker processes each one writes its samples to files in
PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode, chosen when
the variable is set before the library is imported: `commerce serve` sees to
it) and /metrics adds them up, whichever worker answers the scrape.

Operation names come from clients: only well-formed names get a label of
their own, and only the first `MAX_OPERATIONS` of them in a process, so that
no client can grow the metrics without bound.
"""

from __future__ import annotations

import os
import re

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response

from app.logs import RequestFacts

MAX_OPERATIONS = 200
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

REQUESTS = Counter(
    "commerce_graphql_requests",
    "GraphQL requests answered, by operation and HTTP status class",
    ["operation", "status"],
)
ERRORS = Counter(
    "commerce_graphql_errors",
    "GraphQL errors answered, by operation and error code",
    ["operation", "code"],
)
LATENCY = Histogram(
    "commerce_graphql_request_duration_seconds",
    "Time to answer a GraphQL request, by operation",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RESPONSE_CACHE = Counter(
    "commerce_response_cache",
    "Public persisted queries by response-cache outcome (hit, miss, bypass)",
    ["outcome"],
)
THROTTLED = Counter(
    "commerce_throttled_requests", "Requests refused because their cost budget was spent"
)
# Summed over the live worker processes in multiprocess mode.
LIVE_SUBSCRIBERS = Gauge(
    "commerce_live_subscribers",
    "Subscriptions to live updates open in this process (all processes: their sum)",
    multiprocess_mode="livesum",
)

_seen: set[str] = set()


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if not _NAME.match(name):
        return "other"
    if name not in _seen:
        if len(_seen) >= MAX_OPERATIONS:
            return "other"
        _seen.add(name)
    return name


def observe(facts: RequestFacts, status: int, seconds: float) -> None:
    operation = operation_label(facts.operation)
    REQUESTS.labels(operation, f"{status // 100}xx" if status else "none").inc()
    LATENCY.labels(operation).observe(seconds)
    for code in facts.error_codes:
        ERRORS.labels(operation, code).inc()
    if "THROTTLED" in facts.error_codes:
        THROTTLED.inc()
    if facts.cache in ("hit", "miss", "bypass"):
        RESPONSE_CACHE.labels(facts.cache).inc()


async def metrics(_request: Request) -> Response:
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
