"""`Idempotency-Key` on mutations over HTTP: run once, replay the answer to retries.

The key is scoped to its caller (the signed-in user, else the client address),
so nobody can read another caller's stored answer by guessing a key. The
request's fingerprint is its document text, operation name and variables: a
retry whether by hash or in full is the same request; the same key with
anything else is refused (422, `IDEMPOTENCY_KEY_REUSED`). A retry that arrives
while the first is still running waits for its answer (up to
`IDEMPOTENCY_WAIT_SECONDS`, then 409 `IDEMPOTENCY_KEY_IN_USE`). Answers are
kept `IDEMPOTENCY_TTL_SECONDS` (24 hours by default) and replayed with
`Idempotent-Replayed: true`. A throttled request ran nothing, so it is not kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable

import orjson
from starlette.responses import Response
from strawberry.http import GraphQLRequestData

from app.idempotency import Idempotency, State
from app.web.payload import RequestRefused

MAX_KEY_LENGTH = 255
POLL_SECONDS = 0.05


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and all(" " <= c <= "~" for c in key)


def fingerprint(data: GraphQLRequestData) -> str:
    request = [data.query, data.operation_name, data.variables or {}]
    return hashlib.sha256(orjson.dumps(request, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _encode(response: Response) -> bytes:
    return orjson.dumps(
        {
            "status": response.status_code,
            "type": response.headers.get("content-type", "application/json"),
            "body": bytes(response.body).decode(),
        }
    )


def _replay(stored: bytes) -> Response:
    kept = orjson.loads(stored)
    return Response(
        kept["body"],
        status_code=kept["status"],
        headers={"content-type": kept["type"], "idempotent-replayed": "true"},
    )


class IdempotentRequests:
    def __init__(self, store: Idempotency, ttl_seconds: int, wait_seconds: float) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds
        self.wait_seconds = wait_seconds

    async def run(
        self,
        caller: str,
        key: str,
        data: GraphQLRequestData,
        answer: Callable[[], Awaitable[Response]],
    ) -> Response:
        if not _valid_key(key):
            raise RequestRefused(
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
                code="IDEMPOTENCY_KEY_INVALID",
            )
        record = hashlib.sha256(f"{caller}\n{key}".encode()).hexdigest()
        claim = await self.store.claim(record, fingerprint(data))
        deadline = time.monotonic() + self.wait_seconds
        while claim.state is State.RUNNING:
            if time.monotonic() >= deadline:
                raise RequestRefused(
                    "a request with this Idempotency-Key is still running; retry later",
                    409,
                    "IDEMPOTENCY_KEY_IN_USE",
                )
            await asyncio.sleep(POLL_SECONDS)
            claim = await self.store.claim(record, claim.fingerprint)
        if claim.state is State.MISMATCH:
            raise RequestRefused(
                "this Idempotency-Key was used for a different request (document, operation "
                "or variables): use a new key for a new request",
                422,
                "IDEMPOTENCY_KEY_REUSED",
            )
        if claim.state is State.DONE:
            assert claim.response is not None
            return _replay(claim.response)
        try:
            response = await answer()
        except BaseException:
            await self.store.abandon(claim, record)
            raise
        if response.status_code == 429:
            await self.store.abandon(claim, record)
        else:
            await self.store.finish(claim, record, _encode(response), self.ttl_seconds)
        return response
