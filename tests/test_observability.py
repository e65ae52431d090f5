"""What operators see: a structured access line per request and Prometheus metrics."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client import REGISTRY

from app.logs import JsonFormatter
from tests.conftest import Server
from tests.edge import persisted

CATEGORIES = "query Categories { categories { name } }"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_access_lines_carry_operation_cost_sql_and_cache(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    api = server.client
    await persisted(api, CATEGORIES, register=True)
    with caplog.at_level(logging.INFO, logger="commerce.access"):
        await persisted(api, CATEGORIES, get=True, headers={"x-request-id": "obs-req-0001"})
    line = next(r for r in caplog.records if r.name == "commerce.access")
    assert line.operation == "Categories"  # type: ignore[attr-defined]
    assert line.cache == "hit"  # type: ignore[attr-defined]
    assert line.sql == 0  # type: ignore[attr-defined]
    assert line.cost == 10  # type: ignore[attr-defined]
    entry = json.loads(JsonFormatter().format(line))
    assert entry["request_id"] == "obs-req-0001"
    assert entry["operation"] == "Categories"
    assert entry["status"] == 200
    assert {"duration_ms", "sql", "cost", "cache", "message", "time", "level"} <= set(entry)


async def test_metrics_count_requests_errors_cache_hits_and_latency(server: Server) -> None:
    api = server.client
    requests = sample("commerce_graphql_requests_total", operation="Categories", status="2xx")
    hits = sample("commerce_response_cache_total", outcome="hit")
    errors = sample("commerce_graphql_errors_total", operation="anonymous", code="BAD_REQUEST")
    await persisted(api, CATEGORIES, register=True)
    await persisted(api, CATEGORIES, get=True)
    await api.query('{ product(slug: "a\\u0000") { id } }')
    assert sample("commerce_graphql_requests_total", operation="Categories", status="2xx") == (
        requests + 2
    )
    assert sample("commerce_response_cache_total", outcome="hit") == hits + 1
    assert (
        sample("commerce_graphql_errors_total", operation="anonymous", code="BAD_REQUEST")
        == errors + 1
    )
    assert sample("commerce_graphql_request_duration_seconds_count", operation="Categories") >= 2
    exposed = await api.http.get("/metrics")
    assert exposed.status_code == 200
    assert "commerce_throttled_requests_total" in exposed.text
    assert 'commerce_graphql_requests_total{operation="Categories",status="2xx"}' in exposed.text
