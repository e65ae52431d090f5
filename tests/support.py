"""Test helpers: the client contract's operations and a GraphQL client over the ASGI app."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from graphql import print_ast
from graphql.language import DocumentNode

from schema.operations import standalone_operations

CONTRACT = Path(__file__).parent / "contract"


@functools.cache
def contract_operations() -> dict[str, DocumentNode]:
    """Every contract operation as a standalone document with the fragments it uses."""
    operations: dict[str, DocumentNode] = {}
    for path in sorted(CONTRACT.glob("*.graphql")):
        operations.update(standalone_operations(path.read_text()))
    return operations


def operation(name: str) -> str:
    return print_ast(contract_operations()[name])


class Clock:
    """A clock the tests move by hand instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Result:
    status: int
    body: dict[str, Any]
    headers: httpx.Headers
    statements: int

    @property
    def data(self) -> dict[str, Any]:
        assert "errors" not in self.body, self.body.get("errors")
        return self.body["data"]  # type: ignore[no-any-return]

    @property
    def answer(self) -> dict[str, Any]:
        """The body without `extensions` (whose cost report differs from request to request)."""
        return {k: v for k, v in self.body.items() if k != "extensions"}

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.body.get("errors") or []

    @property
    def error_codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]


@dataclass
class GraphQLClient:
    http: httpx.AsyncClient
    counter: Any
    token: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    async def query(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Result:
        sent = {"content-type": "application/json", **self.headers, **(headers or {})}
        bearer = token or self.token
        if bearer:
            sent["authorization"] = f"Bearer {bearer}"
        before = self.counter.total
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )
        return Result(
            status=response.status_code,
            body=response.json(),
            headers=response.headers,
            statements=self.counter.total - before,
        )

    async def op(self, name: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> Result:
        """Send the contract operation `name`, exactly as clients do."""
        return await self.query(operation(name), variables, **kwargs)

    def as_user(self, token: str | None) -> GraphQLClient:
        return GraphQLClient(self.http, self.counter, token, dict(self.headers))


class TcpProxy:
    """A TCP relay to a real server that a test can cut and restore (an outage)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update({writer, up_writer})

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()
                self._writers.discard(dst)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


class BlackHole:
    """A server that accepts connections and never answers (a hung Redis, a dropped route)."""

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._swallow, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def _swallow(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while await reader.read(65536):
                pass
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)
