"""GraphQL over WebSocket (graphql-transport-ws) under the same rules as HTTP.

- Credentials: `{"Authorization": "Bearer <token>"}` in the `connection_init`
  payload (or the upgrade request's Authorization header). A token that is
  malformed, expired or revoked closes the socket with 4403 (Forbidden);
  `subscribe` before `connection_init` closes it with 4401 (the protocol's).
  The token is checked again for each operation, and by subscriptions before
  each update, so a socket outliving its token gets UNAUTHENTICATED errors
  instead of answers. At most MAX_OPERATIONS run at once on one socket; more
  get an error (TOO_MANY_OPERATIONS).
- Every `subscribe` payload passes the same checks as an HTTP body
  (`app.web.payload`) and the same persisted-query resolution, allowlist
  included (`app.web.persisted`, through the view), and every operation gets
  its own request id and its own context (loaders and caches live for one
  operation, as for one request).
- Errors go through the same policy as over HTTP: expected ones keep their
  code, anything else is masked with the request id and logged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.utils.aio import aclosing

from app.logs import new_request_id, request_id_var
from app.text import text_problem
from app.web.credentials import AuthenticationFailed
from app.web.payload import RequestRefused, check_value, request_data
from resolvers.context import Context
from schema.extensions import INTERNAL_ERROR, shape_error

log = logging.getLogger("commerce.websocket")

CLOSE_FORBIDDEN = 4403
CLOSE_BAD_MESSAGE = 4400
MAX_OPERATION_ID = 128
# Subscriptions (and queries) running at once on one socket: each holds a task and a queue.
MAX_OPERATIONS = 32


async def _shaped(source: AsyncIterator[Any], request_id: str) -> AsyncGenerator[Any, None]:
    async for result in source:
        if getattr(result, "errors", None):
            result.errors = [shape_error(e, request_id) for e in result.errors]
        yield result


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    # The view (app.web.view.GraphQLView) provides `limits`, `authenticate` and `credential`.
    view: Any
    context: Context
    _credential: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Registered persisted-query client per operation id, from `subscribe` to its run.
        self._clients: dict[str, str | None] = {}

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload") or {}
        if not self.connection_init_received and isinstance(payload, dict):
            try:
                check_value(payload, self.view.limits, "the connection_init payload")
                given = payload.get("Authorization", payload.get("authorization"))
                credential = given if isinstance(given, str) else self.view.credential(self.context)
                await self.view.authenticate(credential)
            except (AuthenticationFailed, RequestRefused) as exc:
                if self.connection_init_timeout_task:
                    self.connection_init_timeout_task.cancel()
                reason = exc.reason if isinstance(exc, RequestRefused) else str(exc)
                await self.websocket.close(CLOSE_FORBIDDEN, f"Forbidden: {reason}"[:120])
                return
            self._credential = credential
        await super().handle_connection_init(message)

    async def _credential_holds(self) -> bool:
        try:
            await self.view.authenticate(self._credential)
        except AuthenticationFailed:
            return False
        return True

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        operation_id = message.get("id")
        if (
            not isinstance(operation_id, str)
            or not 0 < len(operation_id) <= MAX_OPERATION_ID
            or text_problem(operation_id, MAX_OPERATION_ID) is not None
        ):
            await self.websocket.close(CLOSE_BAD_MESSAGE, "Invalid subscribe message id")
            return
        if not self.connection_acknowledged or operation_id in self.operations:
            await super().handle_subscribe(message)  # closes with the protocol's code
            return
        if len(self.operations) >= MAX_OPERATIONS:
            error = GraphQLError(
                f"at most {MAX_OPERATIONS} operations run at once on one connection",
                extensions={"code": "TOO_MANY_OPERATIONS"},
            )
            await self.send_message(
                {"id": operation_id, "type": "error", "payload": [error.formatted]}
            )
            return
        try:
            resolved = await self.view.resolve(
                request_data(message.get("payload"), self.view.limits), self._credential, None
            )
            data = resolved.data
            if not data.query:
                raise RequestRefused("the subscribe payload needs a `query`")
        except RequestRefused as exc:
            error = GraphQLError(exc.reason, extensions={"code": exc.code})
            await self.send_message(
                {"id": operation_id, "type": "error", "payload": [error.formatted]}
            )
            return
        self._clients[operation_id] = resolved.client
        checked: SubscribeMessage = {
            "id": operation_id,
            "type": "subscribe",
            "payload": {
                "query": data.query,
                "variables": data.variables,
                "operationName": data.operation_name,
                "extensions": data.extensions,
            },
        }
        await super().handle_subscribe(checked)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        # Runs in its own task: the request id set here belongs to this operation only.
        request_id = new_request_id()
        request_id_var.set(request_id)
        client = self._clients.pop(operation.id, None)
        try:
            viewer = await self.view.authenticate(self._credential)
        except AuthenticationFailed as exc:
            error = GraphQLError(str(exc), extensions={"code": "UNAUTHENTICATED"})
            await operation.send_initial_errors([error])
            return
        context = self.context.renewed(request_id, viewer, client)
        context.credential_holds = self._credential_holds
        try:
            source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(source):
                await self._send_result_stream(operation, _shaped(source, request_id))
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return  # the socket was closed for a protocol error; nothing more to send
        except GraphQLError as error:
            # Refused before validation (limits): the client's doing, told as it is.
            await operation.send_initial_errors([shape_error(error, request_id)])
        except Exception as error:
            log.error("unexpected error in a WebSocket operation", exc_info=error)
            masked = GraphQLError(
                INTERNAL_ERROR,
                extensions={"code": "INTERNAL_ERROR", "requestId": request_id},
            )
            await operation.send_initial_errors([masked])
