"""Closed-loop load: a fixed number of clients, each sending its next request on an answer."""

from __future__ import annotations

import asyncio
import itertools
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

JSON = {"content-type": "application/json"}


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    query: str
    # Request number -> variables, so clients can cycle through slugs or search words.
    variables: Callable[[int], dict[str, Any]]
    # Requests it can still serve, for one whose requests each use up something prepared
    # (a cart can be checked out once); None: unlimited.
    remaining: Callable[[], int] | None = None
    # Cap on warm-up requests, so a warm-up leaves the prepared carts to the measurement.
    warmup_requests: int | None = None


@dataclass(slots=True)
class Result:
    scenario: str
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    # A mutation's expected refusal (e.g. INSUFFICIENT_STOCK): answered fine, but not what the
    # scenario meant to measure, so counted apart from transport and GraphQL errors.
    user_errors: int = 0
    first_user_error: str | None = None

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    def latency_ms(self, fraction: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] * 1000

    def statement_range(self) -> tuple[int, float, int] | None:
        if not self.statements:
            return None
        return min(self.statements), statistics.median(self.statements), max(self.statements)

    def fail(self, reason: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or reason

    def refuse(self, reason: str) -> None:
        self.user_errors += 1
        self.first_user_error = self.first_user_error or reason


async def post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> Any:
    """One GraphQL request whose answer must be clean: for setting scenarios up."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    return body["data"]


async def measure(
    client: httpx.AsyncClient,
    scenario: Scenario,
    concurrency: int,
    seconds: float,
    max_requests: int,
) -> Result:
    """Keep `concurrency` requests in flight until `seconds` pass or `max_requests` are sent.

    A scenario with `remaining` also stops when what it prepared is used up.
    """
    if scenario.remaining is not None:
        max_requests = min(max_requests, scenario.remaining())
    result = Result(scenario.name)
    numbers = itertools.count()
    started = time.perf_counter()
    deadline = started + seconds

    async def client_loop() -> None:
        while time.perf_counter() < deadline:
            number = next(numbers)
            if number >= max_requests:
                return
            await _one(client, scenario, number, result)

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(client_loop())
    result.elapsed = time.perf_counter() - started
    return result


async def _one(client: httpx.AsyncClient, scenario: Scenario, number: int, result: Result) -> None:
    # Encoded up front with orjson: the client shares the CPU with the server.
    payload = orjson.dumps({"query": scenario.query, "variables": scenario.variables(number)})
    sent = time.perf_counter()
    try:
        response = await client.post("/graphql", content=payload, headers=JSON)
    except httpx.HTTPError as exc:
        result.latencies.append(time.perf_counter() - sent)
        result.fail(f"{type(exc).__name__}: {exc}")
        return
    result.latencies.append(time.perf_counter() - sent)
    if count := response.headers.get("x-sql-statements"):
        result.statements.append(int(count))
    if response.status_code != 200:
        result.fail(f"HTTP {response.status_code}: {response.text[:200]}")
        return
    body = orjson.loads(response.content)
    if errors := body.get("errors"):
        result.fail(str(errors[0].get("message")))
        return
    for payload in (body.get("data") or {}).values():
        if isinstance(payload, dict) and (refusals := payload.get("userErrors")):
            result.refuse(f"{refusals[0].get('code')}: {refusals[0].get('message')}")
            return
