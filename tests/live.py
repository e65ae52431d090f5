"""Helpers for live-update tests: servers on real sockets (in this process, or uvicorn
processes), graphql-transport-ws clients, and a raw client that stops reading."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect

from app.settings import Settings

PROTOCOL = "graphql-transport-ws"
# Every wait in these tests is bounded: a hang fails the test instead of the run.
WAIT = 5.0
# uvicorn's implementation on the current websockets API (the default one is deprecated).
WS = "websockets-sansio"

ORDER_UPDATED = """
subscription OrderUpdates($orderId: ID!) {
  orderUpdated(orderId: $orderId) { id status amountDue { amount currency } }
}
"""
ORDER_TRACKING = """
subscription OrderTracking($orderId: ID!) {
  orderTracking(orderId: $orderId) { shipmentId status location description occurredAt }
}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def eventually(check: Callable[[], Awaitable[bool] | bool], within: float = WAIT) -> None:
    deadline = time.monotonic() + within
    while True:
        outcome = check()
        if await outcome if isinstance(outcome, Awaitable) else outcome:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {within} s")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """`app` (whose lifespan the caller runs) on a real socket; yields its ws:// URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", ws=WS
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started or task.done())
        assert server.started, "uvicorn did not start"
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, WAIT)


class Client:
    """A graphql-transport-ws client on a real WebSocket."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def subscribe(self, op_id: str, query: str, variables: dict[str, Any]) -> None:
        await self.send({"id": op_id, "type": "subscribe", "payload": {"query": query,
                         "variables": variables}})  # fmt: skip

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def next(self, within: float = WAIT) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv(), within)
        return json.loads(raw)  # type: ignore[no-any-return]

    async def data(self, op_id: str, within: float = WAIT) -> dict[str, Any]:
        message = await self.next(within)
        assert (message["id"], message["type"]) == (op_id, "next"), message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]  # type: ignore[no-any-return]


@asynccontextmanager
async def client(url: str, token: str | None = None) -> AsyncIterator[Client]:
    async with connect(url, subprotocols=[PROTOCOL], open_timeout=WAIT,  # type: ignore[list-item]
                       close_timeout=1) as connection:  # fmt: skip
        found = Client(connection)
        await found.send(
            {"type": "connection_init",
             "payload": {"Authorization": f"Bearer {token}"} if token else {}}
        )  # fmt: skip
        assert await found.next() == {"type": "connection_ack"}
        yield found


def error_codes(message: dict[str, Any]) -> list[str]:
    """The codes of an `error` message, or of a `next` message's errors."""
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    return [error["extensions"]["code"] for error in errors]


class RawSubscriber:
    """A client that subscribes and then never reads: its buffers are tiny, so the server
    soon cannot send to it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, url: str) -> RawSubscriber:
        host, port = url.removeprefix("ws://").split("/", 1)[0].split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        # The stream stops reading the socket once it holds twice `limit`.
        reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /graphql HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {PROTOCOL}\r\n\r\n"
            ).encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    async def send(self, message: dict[str, Any]) -> None:
        payload = json.dumps(message).encode()
        mask = os.urandom(4)
        length = len(payload)
        header = bytes([0x81])
        if length < 126:
            header += bytes([0x80 | length])
        else:
            header += bytes([0x80 | 126]) + length.to_bytes(2, "big")
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(header + mask + masked)
        await self.writer.drain()

    async def read_until(self, marker: bytes, within: float = WAIT) -> bytes:
        """Reads, from now on, until `marker` shows up (or the server closes)."""
        seen = b""

        async def read() -> None:
            nonlocal seen
            while marker not in seen:
                chunk = await self.reader.read(65536)
                if not chunk:
                    return
                seen += chunk

        await asyncio.wait_for(read(), within)
        return seen

    def close(self) -> None:
        self.writer.close()


def server_env(settings: Settings) -> dict[str, str]:
    """What a uvicorn process needs to serve the same database and Redis as `settings`."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DATABASE_URL=settings.database_url,
        SECRET_KEY=settings.secret_key,
        CACHE_PREFIX=settings.cache_prefix,
        PAYMENT_WEBHOOK_SECRET=settings.payment_webhook_secret or "",
        CARRIER_WEBHOOK_SECRET=settings.carrier_webhook_secret or "",
        MAINTENANCE_INTERVAL_SECONDS="0",
        COST_BUDGET=str(settings.cost_budget),
        LOG_LEVEL="WARNING",
    )
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    return env


class Process:
    """A uvicorn process serving the app."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "app.web.asgi:create_app", "--factory",
                 "--host", "127.0.0.1", "--port", str(self.port), "--ws", WS],
                env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    async def ready(self) -> None:
        async with httpx.AsyncClient(timeout=1) as http:

            async def up() -> bool:
                assert self.process.poll() is None, self.log.read_text()
                with contextlib.suppress(httpx.HTTPError):
                    return (await http.get(f"{self.http}/healthz")).status_code == 200
                return False

            await eventually(up, within=30)

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(WAIT * 2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(WAIT)


@contextlib.contextmanager
def processes(env: dict[str, str], folder: Path, count: int) -> Iterator[list[Process]]:
    started: list[Process] = []
    try:
        for n in range(count):
            started.append(Process(env, folder / f"uvicorn-{n}.log"))
        yield started
    finally:
        for process in started:
            process.terminate()
