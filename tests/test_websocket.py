"""GraphQL over WebSocket (graphql-transport-ws): text frames a browser client can read."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.conftest import Server


class Socket:
    """The client end of an in-process ASGI WebSocket connection."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send(self, message: dict[str, Any]) -> None:
        await self.outgoing.put(message)

    async def send_json(self, data: dict[str, Any]) -> None:
        await self.incoming.put({"type": "websocket.receive", "text": json.dumps(data)})

    async def next_frame(self) -> dict[str, Any]:
        message = await asyncio.wait_for(self.outgoing.get(), timeout=5)
        assert message["type"] == "websocket.send", message
        assert message.get("text") is not None, "a text frame, not binary"
        return json.loads(message["text"])  # type: ignore[no-any-return]


async def test_queries_over_graphql_transport_ws(server: Server) -> None:
    socket = Socket()
    scope = {
        "type": "websocket",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "headers": [(b"sec-websocket-protocol", b"graphql-transport-ws")],
        "subprotocols": ["graphql-transport-ws"],
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "asgi": {"version": "3.0"},
    }
    await socket.incoming.put({"type": "websocket.connect"})
    app = asyncio.create_task(server.app(scope, socket.receive, socket.send))
    try:
        accepted = await asyncio.wait_for(socket.outgoing.get(), timeout=5)
        assert accepted["type"] == "websocket.accept"
        assert accepted["subprotocol"] == "graphql-transport-ws"
        await socket.send_json({"type": "connection_init"})
        assert await socket.next_frame() == {"type": "connection_ack"}
        await socket.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }"}}
        )
        assert await socket.next_frame() == {
            "id": "1",
            "type": "next",
            "payload": {"data": {"__typename": "Query"}},
        }
        assert await socket.next_frame() == {"id": "1", "type": "complete"}
    finally:
        await socket.incoming.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(app, timeout=5)
