"""The server under test: its environment, database, `commerce` commands and process."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
from redis.asyncio import Redis

# Beside the interpreter, so `python -m bench` uses the same virtualenv's `commerce`.
COMMERCE = Path(sys.executable).parent / "commerce"
HOST = "127.0.0.1"
# Inherited values would point the benchmark at someone's real database or cache.
_OWN_VARIABLES = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CACHE_PREFIX", "COMMERCE_DATA_DIR")


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why."""


@contextmanager
def environment(
    data_dir: Path, postgres: str | None, redis: str | None
) -> Iterator[dict[str, str]]:
    """Variables for `commerce`: SQLite in `data_dir`, or a fresh PostgreSQL database."""
    env = {k: v for k, v in os.environ.items() if k not in _OWN_VARIABLES}
    # WARNING: uvicorn's per-request access log would compete with the server for CPU.
    env.update(
        COMMERCE_DATA_DIR=str(data_dir),
        DEBUG="true",
        LOG_LEVEL="WARNING",
        # The load comes from one address: the per-client cost budget and the sign-up and
        # sign-in limits would measure themselves instead of the server.
        COST_BUDGET="1000000000",
        COST_RESTORE_RATE="1000000000",
        SIGNUP_PER_ADDRESS_PER_MINUTE="1000000",
        SIGNUP_PER_MINUTE="1000000",
        SIGNIN_PER_ADDRESS_PER_MINUTE="1000000",
        SIGNIN_PER_MINUTE="1000000",
        # The live-updates measurement pays its order and tracks its parcel by webhook.
        PAYMENT_WEBHOOK_SECRET=secrets.token_urlsafe(24),
        CARRIER_WEBHOOK_SECRET=secrets.token_urlsafe(24),
    )
    if postgres is None or redis is None:
        yield env
        return
    name = f"commerce_bench_{secrets.token_hex(4)}"
    asyncio.run(_create_database(postgres, name))
    try:
        env.update(
            DATABASE_URL=urlsplit(postgres)._replace(path=f"/{name}").geturl(),
            REDIS_URL=redis,
            SECRET_KEY=secrets.token_urlsafe(48),
            # A prefix of our own keeps other users of this Redis out of our figures.
            CACHE_PREFIX=name,
        )
        yield env
    finally:
        asyncio.run(_drop_database(postgres, name))
        asyncio.run(_forget_cache(redis, name))


async def _create_database(admin_url: str, name: str) -> None:
    try:
        connection = await asyncpg.connect(admin_url)
    except (OSError, asyncpg.PostgresError) as exc:
        raise BenchError(f"cannot connect to PostgreSQL at {admin_url}: {exc}") from exc
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        # FORCE: a worker killed on timeout may leave its connections behind.
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def _forget_cache(redis_url: str, prefix: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def commerce(env: dict[str, str], *args: str) -> str:
    """Run `commerce ARGS`, returning its output; a failure stops the benchmark."""
    done = subprocess.run(
        [str(COMMERCE), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BenchError(
            f"`commerce {' '.join(args)}` exited with {done.returncode}:\n{done.stderr.strip()}"
        )
    return done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_server(env: dict[str, str], workers: int, log_path: Path) -> Iterator[str]:
    """Serve with `commerce serve` until the block ends, yielding the base URL."""
    port = _free_port()
    command = [str(COMMERCE), "serve", "--host", HOST, "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: a kill on timeout must reach uvicorn's workers too.
            start_new_session=True,
        )
        try:
            base_url = f"http://{HOST}:{port}"
            _wait_until_healthy(process, base_url, log_path)
            yield base_url
        finally:
            _stop(process)


def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:].strip()
            raise BenchError(f"the server exited with {process.returncode}:\n{tail}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.1)
    raise BenchError(f"the server did not answer {base_url}/healthz within 60 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    # SIGINT is uvicorn's graceful shutdown, which also stops its worker processes.
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
