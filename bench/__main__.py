"""`python -m bench`: see `python -m bench --help`."""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.live import Secrets, measure_live
from bench.load import Result, measure
from bench.operations import ACCOUNT, ADMIN, load_operations
from bench.purchase import Operations, Plan, build_purchase_scenarios
from bench.report import table
from bench.scenarios import build_scenarios
from bench.server import BenchError, commerce, environment, running_server


@dataclass(frozen=True, slots=True)
class Options:
    products: int
    seconds: float
    warmup: float
    concurrency: int
    max_requests: int
    carts: int
    workers: int
    postgres: str | None
    redis: str | None
    subscribers: int
    events: int


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Seed a catalog, serve it and measure the main storefront operations "
        "and the purchase path (cart, checkout).",
    )
    parser.add_argument("--products", type=int, default=10_000, help="catalog size (10000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per scenario (10)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured, per scenario (1)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (16)")
    parser.add_argument(
        "--max-requests", type=int, default=100_000, help="cap per scenario (100000)"
    )
    parser.add_argument(
        "--carts",
        type=int,
        default=300,
        help="carts prepared (untimed) for each of CartLinesAdd and CheckoutComplete, "
        "whose requests each use one up: caps their requests (300)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes; >1 needs --postgres (1)"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="server URL of PostgreSQL, e.g. postgresql://postgres@127.0.0.1:5432/postgres; "
        "a fresh database is created there and dropped afterwards (needs --redis)",
    )
    parser.add_argument("--redis", metavar="URL", help="e.g. redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--subscribers", type=int, default=50,
        help="WebSocket subscribers to one order's tracking for the live-updates figures (50)",
    )  # fmt: skip
    parser.add_argument(
        "--events", type=int, default=300,
        help="carrier webhooks sent for the live-updates figures; 0 skips them (300)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if (args.postgres is None) != (args.redis is None):
        parser.error("--postgres and --redis go together")
    if args.workers > 1 and args.postgres is None:
        parser.error("--workers above 1 needs --postgres and --redis")
    if min(args.products, args.concurrency, args.max_requests, args.carts, args.workers) < 1:
        parser.error(
            "--products, --concurrency, --max-requests, --carts and --workers must be positive"
        )
    if args.subscribers < 1 or args.events < 0:
        parser.error("--subscribers must be positive and --events not negative")
    if args.seconds <= 0 or args.warmup < 0:
        parser.error("--seconds must be positive and --warmup not negative")
    return Options(
        products=args.products,
        seconds=args.seconds,
        warmup=args.warmup,
        concurrency=args.concurrency,
        max_requests=args.max_requests,
        carts=args.carts,
        workers=args.workers,
        postgres=args.postgres,
        redis=args.redis,
        subscribers=args.subscribers,
        events=args.events,
    )


def progress(message: str) -> None:
    # On stderr, so stdout holds only the figures.
    print(f"bench: {message}", file=sys.stderr, flush=True)


async def run_scenarios(
    base_url: str, options: Options, staff_email: str, staff_password: str, secrets: Secrets
) -> list[Result]:
    limits = httpx.Limits(
        max_connections=options.concurrency, max_keepalive_connections=options.concurrency
    )
    storefront = load_operations()
    operations = Operations(storefront, load_operations(ACCOUNT), load_operations(ADMIN))
    carts = min(options.carts, options.max_requests)
    plan = Plan(
        staff_email=staff_email,
        staff_password=staff_password,
        concurrency=options.concurrency,
        carts=carts,
        # One per client: enough to run each code path before the figures count.
        warmup_carts=min(options.concurrency, carts) if options.warmup else 0,
    )
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        scenarios = await build_scenarios(client, storefront)
        progress("setting up the purchase path: shipping method, coupon, prepared carts")
        scenarios += await build_purchase_scenarios(client, operations, plan, progress)
        results = []
        for scenario in scenarios:
            line = f"{scenario.name}: {options.warmup:g} s warm-up, {options.seconds:g} s load"
            if scenario.remaining is not None:
                line += f", {scenario.remaining()} prepared carts"
            progress(line)
            if options.warmup:
                warmup_cap = options.max_requests
                if scenario.warmup_requests is not None:
                    warmup_cap = min(warmup_cap, scenario.warmup_requests)
                await measure(client, scenario, options.concurrency, options.warmup, warmup_cap)
            results.append(
                await measure(
                    client, scenario, options.concurrency, options.seconds, options.max_requests
                )
            )
        if options.events:
            results.extend(
                await measure_live(
                    client, operations, plan, secrets, options.subscribers, options.events,
                    min(options.concurrency, 4), progress,
                )
            )  # fmt: skip
    return results


def run(options: Options) -> None:
    database = "PostgreSQL + Redis" if options.postgres else "SQLite + in-process cache"
    with (
        tempfile.TemporaryDirectory(prefix="commerce-bench-") as data_dir,
        environment(Path(data_dir), options.postgres, options.redis) as env,
    ):
        progress(f"migrating a fresh {database} database")
        commerce(env, "migrate")
        progress(f"seeding {options.products} products")
        # Chosen here, so the purchase scenarios can sign in to set up shipping and a coupon.
        password = secrets.token_urlsafe(18)
        started = time.perf_counter()
        # One argument with "=": a token_urlsafe password may start with "-".
        seeded = commerce(
            env, "seed", "--products", str(options.products), f"--staff-password={password}"
        )
        seed_seconds = time.perf_counter() - started
        staff = re.search(r"^staff account: (\S+) / password: ", seeded, re.MULTILINE)
        if staff is None:
            raise BenchError(f"`commerce seed` named no staff account:\n{seeded.strip()}")
        progress(f"starting the server with {options.workers} worker(s)")
        with running_server(env, options.workers, Path(data_dir) / "server.log") as base_url:
            hooks = Secrets(env["PAYMENT_WEBHOOK_SECRET"], env["CARRIER_WEBHOOK_SECRET"])
            results = asyncio.run(run_scenarios(base_url, options, staff.group(1), password, hooks))
    print(f"database:    {database}, {options.workers} worker(s)")
    print(f"catalog:     {seeded.splitlines()[0]}")
    print(f"seed:        {seed_seconds:.1f} s (whole `commerce seed` process)")
    print(
        f"load:        {options.concurrency} concurrent, {options.seconds:g} s per scenario "
        f"after {options.warmup:g} s warm-up, at most {options.max_requests} requests"
    )
    print(
        f"purchase:    CartLinesAdd and CheckoutComplete use one prepared cart per request, "
        f"at most {min(options.carts, options.max_requests)} measured"
    )
    if options.events:
        print(
            f"live:        {options.subscribers} WebSocket subscribers to one order's tracking; "
            f"{options.events} signed carrier webhooks, 4 at a time; delivery latency from "
            "a webhook's sending to each subscriber hearing it"
        )
    print()
    print(table(results))


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    try:
        run(options)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # The `finally` blocks have stopped the server and removed its data by now.
        print("bench: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
