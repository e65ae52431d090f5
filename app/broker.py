"""Publish/subscribe for live updates: Redis pub/sub across processes, or in process.

A subscriber is a bounded queue in this process. Whatever carries messages
between processes hands them to `Fanout`, which offers each to the channel's
local subscribers without ever waiting: a subscriber whose queue is full is
dropped (its iteration raises `Lagged`) rather than slowing the publisher or the
other subscribers. Dropping, not skipping: a client that missed updates knows
it, and resubscribes (and reloads what it shows) instead of showing a state
that silently skipped a step.

With Redis, each process holds one pub/sub connection (`RedisRelay`),
subscribed once to a pattern covering every live channel of this deployment
(`{CACHE_PREFIX}:live:*`). Every process hears every update, which for order
news is a trickle; in exchange a new subscriber costs no round trip to Redis,
and once the relay listens nothing published later can be missed, which is
what lets resolvers subscribe before they check access. Messages are published
from one task per process, in order, through the cache's circuit breaker: an
outage never fails or slows the request whose commit published, and while it
lasts messages reach this process's subscribers only. The listener reconnects
by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from types import TracebackType

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from app.breaker import FAILED, STORE_ERRORS, CircuitBreaker

log = logging.getLogger("commerce.broker")

# The most messages waiting to be published; beyond it (Redis hanging, not refusing)
# news is dropped with a log line rather than held in memory without bound.
PUBLISH_BACKLOG = 10_000
# How long a first subscriber waits for the relay to listen before going on without it.
READY_WAIT_SECONDS = 1.0
# Pauses between reconnections of the listener: doubled from the first up to the last.
RECONNECT_FIRST_SECONDS = 0.1
RECONNECT_MAX_SECONDS = 5.0
CLOSE_WAIT_SECONDS = 2.0
CONFIRM_WAIT_SECONDS = 5


class Lagged(Exception):
    """The subscriber fell more than its queue behind and was dropped."""


class Subscription:
    """One local subscriber of one channel: `async with broker.subscribe(ch) as s`, then
    `async for message in s`. Iteration ends when the broker closes."""

    def __init__(self, broker: Broker, channel: str, size: int) -> None:
        self.channel = channel
        self._broker = broker
        self._size = size
        self._items: deque[bytes] = deque()
        self._ready = asyncio.Event()
        self._ended: Lagged | StopAsyncIteration | None = None

    async def __aenter__(self) -> Subscription:
        await self._broker._add(self)
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._broker._fanout.remove(self)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        while not self._items:
            if self._ended is not None:
                raise self._ended
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def offer(self, message: bytes) -> bool:
        """Queues `message` without waiting; False when the queue was full and this
        subscriber is dropped."""
        if self._ended is not None:
            return False
        if len(self._items) >= self._size:
            # What it holds is stale for a client that must reload anyway.
            self._items.clear()
            self.end(Lagged(self.channel))
            return False
        self._items.append(message)
        self._ready.set()
        return True

    def end(self, how: Lagged | StopAsyncIteration) -> None:
        if self._ended is None:
            self._ended = how
        self._ready.set()


class Fanout:
    """Local subscribers by channel."""

    def __init__(self) -> None:
        self._channels: dict[str, set[Subscription]] = {}
        self.watchers: list[Callable[[int], None]] = []

    def _counted(self) -> None:
        count = self.count
        for watcher in self.watchers:
            watcher(count)

    @property
    def count(self) -> int:
        return sum(len(subscribers) for subscribers in self._channels.values())

    def add(self, subscription: Subscription) -> None:
        self._channels.setdefault(subscription.channel, set()).add(subscription)
        self._counted()

    def remove(self, subscription: Subscription) -> None:
        subscribers = self._channels.get(subscription.channel)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._channels[subscription.channel]
            self._counted()

    def deliver(self, channel: str, message: bytes) -> None:
        for subscription in list(self._channels.get(channel, ())):
            if not subscription.offer(message):
                log.info("subscriber of %s dropped: it fell behind", channel)
                self.remove(subscription)

    def end_all(self) -> None:
        for subscribers in list(self._channels.values()):
            for subscription in subscribers:
                subscription.end(StopAsyncIteration())
        self._channels.clear()
        self._counted()


class RedisRelay:
    """This process's one pub/sub connection, and its one publishing task."""

    def __init__(
        self, url: str, pattern: str, publisher: Redis, breaker: CircuitBreaker, fanout: Fanout
    ) -> None:
        self._url = url
        self._pattern = pattern
        self._publisher = publisher
        self._breaker = breaker
        self._fanout = fanout
        self._outgoing: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(PUBLISH_BACKLOG)
        self._listening = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    def start(self) -> None:
        if not self._tasks and not self._closing:
            self._tasks = [
                asyncio.create_task(self._listen(), name="broker-listen"),
                asyncio.create_task(self._send(), name="broker-publish"),
            ]

    async def ready(self, wait_seconds: float) -> bool:
        self.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), wait_seconds)
        return self._listening.is_set()

    def publish(self, channel: str, message: bytes) -> None:
        self.start()
        try:
            self._outgoing.put_nowait((channel, message))
        except asyncio.QueueFull:
            log.warning("live update on %s dropped: %d waiting to be published", channel,
                        PUBLISH_BACKLOG)  # fmt: skip

    async def _send(self) -> None:
        while True:
            channel, message = await self._outgoing.get()
            try:
                sent = await self._breaker.call(self._publisher.publish(channel, message))
            except Exception:
                log.exception("live update on %s not published", channel)
                sent = FAILED
            if sent is FAILED:
                # Redis is out: this process's subscribers at least hear of it.
                self._fanout.deliver(channel, message)
            self._outgoing.task_done()

    async def _listen(self) -> None:
        pause = RECONNECT_FIRST_SECONDS
        was_down = False
        while not self._closing:
            client = Redis.from_url(
                self._url, socket_connect_timeout=0.5, socket_keepalive=True,
                health_check_interval=5,
            )  # fmt: skip
            pubsub = client.pubsub()
            try:
                await pubsub.psubscribe(self._pattern)
                await _confirmed(pubsub)
                # From here on nothing published is missed.
                self._listening.set()
                if was_down:
                    log.warning("live updates: listening to Redis again")
                was_down, pause = False, RECONNECT_FIRST_SECONDS
                while True:
                    found = await pubsub.get_message(timeout=1.0)
                    if found is not None and found["type"] == "pmessage":
                        self._fanout.deliver(found["channel"].decode(), found["data"])
            except STORE_ERRORS as exc:
                self._listening.clear()
                if not was_down:
                    log.warning("live updates: Redis pub/sub lost, reconnecting: %s", exc)
                was_down = True
            finally:
                with contextlib.suppress(*STORE_ERRORS):
                    await pubsub.aclose()
                with contextlib.suppress(*STORE_ERRORS):
                    await client.aclose()
            await asyncio.sleep(pause)
            pause = min(pause * 2, RECONNECT_MAX_SECONDS)

    async def close(self) -> None:
        self._closing = True
        if self._tasks:
            # What the requests that committed last published still goes out.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outgoing.join(), CLOSE_WAIT_SECONDS)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []


class Broker:
    """Live channels of this deployment (`CACHE_PREFIX` keeps deployments apart)."""

    def __init__(
        self,
        prefix: str,
        queue_size: int,
        relay_url: str | None = None,
        publisher: Redis | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.prefix = f"{prefix}:live:"
        self.queue_size = queue_size
        self._fanout = Fanout()
        self._relay: RedisRelay | None = None
        if relay_url and publisher is not None:
            pattern = _glob_escape(self.prefix) + "*"
            self._relay = RedisRelay(
                relay_url, pattern, publisher, breaker or CircuitBreaker(), self._fanout
            )
        self._closed = False

    @property
    def subscribers(self) -> int:
        """Local subscribers now (all channels)."""
        return self._fanout.count

    def watch(self, watcher: Callable[[int], None]) -> None:
        """`watcher(count)` hears the number of local subscribers each time it changes."""
        self._fanout.watchers.append(watcher)

    def channel(self, *parts: object) -> str:
        return self.prefix + ":".join(str(part) for part in parts)

    def subscribe(self, channel: str) -> Subscription:
        return Subscription(self, channel, self.queue_size)

    async def _add(self, subscription: Subscription) -> None:
        if self._closed:
            subscription.end(StopAsyncIteration())
            return
        if self._relay is not None and not await self._relay.ready(READY_WAIT_SECONDS):
            # The listener has logged the outage already; this subscriber hears this
            # process's news until it is back.
            log.debug("live updates: subscribing while Redis pub/sub is not listening")
        self._fanout.add(subscription)

    def publish(self, channel: str, message: bytes) -> None:
        """Sends `message` to every subscriber of `channel`, in every process; returns at
        once and never raises for Redis's trouble."""
        if self._closed:
            return
        if self._relay is None:
            self._fanout.deliver(channel, message)
        else:
            self._relay.publish(channel, message)

    async def close(self) -> None:
        """Ends every local subscription (their streams complete) and the relay."""
        self._closed = True
        self._fanout.end_all()
        if self._relay is not None:
            await self._relay.close()


async def _confirmed(pubsub: PubSub) -> None:
    """Waits until Redis confirms the subscription (a hanging Redis: TimeoutError)."""
    for _ in range(CONFIRM_WAIT_SECONDS):
        found = await pubsub.get_message(timeout=1.0)
        if found is not None and found["type"] == "psubscribe":
            return
    raise TimeoutError("Redis did not confirm the subscription")


def _glob_escape(text: str) -> str:
    # Redis patterns are globs: a prefix holding * ? [ ] or \ must match only itself.
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)
