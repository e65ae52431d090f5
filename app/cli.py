"""`commerce`: serve, migrate, seed, create-staff, carts purge, payments and carriers
webhooks, schema export, persisted-queries load and manifest."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from app.persisted.registry import Checked

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="commerce", description="GraphQL commerce API server")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API (http://HOST:PORT/graphql)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (needs PostgreSQL for >1)"
    )

    sub.add_parser("migrate", help="apply database migrations")

    seed = sub.add_parser("seed", help="load the demo catalog into an empty database")
    seed.add_argument("--products", type=int, default=240, help="how many products (default 240)")
    seed.add_argument(
        "--if-empty", action="store_true", help="do nothing when the database has data"
    )
    seed.add_argument(
        "--staff-password", help="password of the demo staff account (random if absent)"
    )

    staff = sub.add_parser("create-staff", help="create a staff account")
    staff.add_argument("email")
    staff.add_argument("--password", help="at least 10 characters (asked for when absent)")
    staff.add_argument(
        "--permissions",
        help="comma-separated, e.g. MANAGE_PRODUCTS,MANAGE_ORDERS (default: all)",
    )

    carts = sub.add_parser("carts", help="cart upkeep")
    carts_sub = carts.add_subparsers(dest="carts_command", required=True)
    carts_sub.add_parser("purge", help="delete carts unused past their expiry, releasing holds")

    payments = sub.add_parser("payments", help="payment tools")
    payments_sub = payments.add_subparsers(dest="payments_command", required=True)
    webhook = payments_sub.add_parser(
        "webhook",
        help="send a signed payment webhook, as the gateway would (PAYMENT_WEBHOOK_SECRET)",
    )
    webhook.add_argument(
        "type", choices=["payment.succeeded", "payment.failed", "refund.succeeded"]
    )
    webhook.add_argument("reference", help="the payment's providerReference")
    webhook.add_argument("amount", help='the amount, e.g. "12.34"')
    webhook.add_argument("--currency", help="default: CURRENCY")
    webhook.add_argument("--event-id", help="default: a new one")
    webhook.add_argument("--url", default="http://127.0.0.1:8000", help="the server's address")

    carriers = sub.add_parser("carriers", help="carrier tools")
    carriers_sub = carriers.add_subparsers(dest="carriers_command", required=True)
    tracking = carriers_sub.add_parser(
        "webhook",
        help="send a signed tracking event, as a carrier would (CARRIER_WEBHOOK_SECRET)",
    )
    tracking.add_argument("carrier", help="a carrier code of CARRIERS, e.g. dhl")
    tracking.add_argument("tracking_number")
    tracking.add_argument(
        "status", choices=["IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED", "EXCEPTION"]
    )
    tracking.add_argument("--location", default="")
    tracking.add_argument("--description", default="")
    tracking.add_argument("--occurred-at", help="ISO 8601 with a time zone; default: now")
    tracking.add_argument("--event-id", help="default: a new one")
    tracking.add_argument("--url", default="http://127.0.0.1:8000", help="the server's address")

    schema = sub.add_parser("schema", help="schema tools")
    schema_sub = schema.add_subparsers(dest="schema_command", required=True)
    export = schema_sub.add_parser("export", help="write the SDL (default schema/schema.graphql)")
    export.add_argument("--output", type=Path, default=SCHEMA_FILE, help="file, or - for stdout")

    persisted = sub.add_parser("persisted-queries", help="trusted documents of named clients")
    persisted_sub = persisted.add_subparsers(dest="persisted_command", required=True)
    load = persisted_sub.add_parser(
        "load",
        help="register a client's documents from an Apollo persisted-query manifest "
        "(replacing the ones it registered before)",
    )
    load.add_argument("file", type=Path, help="apollo-persisted-query-manifest JSON")
    load.add_argument("--client", required=True, help="the partner or app, e.g. partner-a")
    manifest = persisted_sub.add_parser(
        "manifest", help="write a manifest of the operations in .graphql files"
    )
    manifest.add_argument("files", nargs="+", type=Path)
    manifest.add_argument("--output", type=Path, default=Path("-"), help="file, or - for stdout")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "schema":
        return _export_schema(args.output)
    if args.command == "persisted-queries" and args.persisted_command == "manifest":
        return _write_manifest(args.files, args.output)
    try:
        settings = load_settings()
        from app.payments.gateways import open_gateway

        open_gateway(settings)  # an unknown PAYMENT_GATEWAY stops every command here
    except SettingsError as exc:
        print(f"commerce: configuration error: {exc}", file=sys.stderr)
        return 2
    from app.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    if args.command == "serve":
        return _serve(settings, args.host, args.port, args.workers)
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "seed":
        return asyncio.run(_seed(settings, args.products, args.if_empty, args.staff_password))
    if args.command == "carts":
        return asyncio.run(_purge_carts(settings))
    if args.command == "payments":
        return _send_webhook(settings, args)
    if args.command == "carriers":
        return _send_tracking(settings, args)
    if args.command == "create-staff":
        return asyncio.run(_create_staff(settings, args.email, args.password, args.permissions))
    if args.command == "persisted-queries":
        return _load_manifest(settings, args.file, args.client)
    return 2


def _export_schema(output: Path) -> int:
    from schema import schema

    sdl = export_sdl(schema)
    if str(output) == "-":
        sys.stdout.write(sdl)
    else:
        output.write_text(sdl)
        print(f"wrote {output}")
    return 0


def export_sdl(schema: object) -> str:
    return str(schema).rstrip() + "\n"


def _write_manifest(files: Sequence[Path], output: Path) -> int:
    from app.persisted.registry import manifest_text
    from schema.operations import manifest_operations

    try:
        operations = manifest_operations(path.read_text() for path in files)
    except (OSError, ValueError) as exc:  # unreadable file, or a GraphQL syntax error
        print(f"commerce: {exc}", file=sys.stderr)
        return 1
    text = manifest_text(operations)
    if str(output) == "-":
        sys.stdout.write(text)
    else:
        output.write_text(text)
        print(f"wrote {len(operations)} operations to {output}")
    return 0


def _load_manifest(settings: Settings, file: Path, client: str) -> int:
    from app.persisted.registry import ManifestError, read_manifest
    from app.settings import is_client_name
    from schema import Limits, build_schema
    from schema.operations import check_operation

    if not is_client_name(client):
        print("commerce: --client must be 1-64 letters, digits, '.', '_' or '-'", file=sys.stderr)
        return 2
    try:
        operations = read_manifest(file.read_bytes())
    except (OSError, ManifestError) as exc:
        print(f"commerce: {file}: {exc}", file=sys.stderr)
        return 2
    limits = Limits.from_settings(settings)
    schema = build_schema(limits)._schema
    checked: list[Checked] = []
    problems = 0
    for operation in operations:
        outcome = check_operation(schema, operation, limits)
        if isinstance(outcome, str):
            problems += 1
            print(f"commerce: {operation.name or operation.id[:12]}: {outcome}", file=sys.stderr)
        else:
            checked.append(outcome)
    if problems:
        print(f"commerce: nothing registered: {problems} operations refused", file=sys.stderr)
        return 1
    asyncio.run(_register(settings, client, checked))
    budget = settings.client_budgets.get(client, settings.cost_budget)
    print(
        f"registered {len(checked)} documents for {client} "
        f"(highest cost {max((c.cost for c in checked), default=0)}; budget {budget} points)"
    )
    return 0


async def _register(settings: Settings, client: str, checked: Sequence[Checked]) -> None:
    from app.services import Services

    services = Services.open(settings)
    try:
        await services.trusted_documents.replace(client, checked)
    finally:
        await services.close()


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    import uvicorn

    if workers > 1 and settings.is_sqlite:
        print(
            "commerce: several workers need PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)",
            file=sys.stderr,
        )
        return 2
    if workers > 1:
        _metrics_directory(settings)
    # Only the answer matters here, not alembic's account of how it found it.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    if settings.is_sqlite and asyncio.run(_pending(settings)):
        print(
            "commerce: the database is not up to date; run `commerce migrate` first",
            file=sys.stderr,
        )
        return 2
    uvicorn.run(
        "app.web.asgi:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        # The app writes its own access log, without query strings (see app.web.asgi).
        access_log=False,
        # X-Forwarded-For is believed only from the proxies the operator names.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        ws_max_size=settings.max_body_bytes,
        # The websockets package's own (sans-I/O) protocol: its legacy one is deprecated.
        ws="websockets-sansio",
    )
    return 0


def _metrics_directory(settings: Settings) -> None:
    """Workers add up their metrics through files in one directory (prometheus-client's
    multiprocess mode), which must be set before they import the library and must not
    hold files of an earlier run."""
    import os
    import tempfile

    directory = settings.prometheus_multiproc_dir
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="commerce-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


async def _pending(settings: Settings) -> list[str]:
    from app.database import create_engine
    from app.migrate import pending

    engine = create_engine(settings)
    try:
        return await pending(engine)
    finally:
        await engine.dispose()


async def _migrate(settings: Settings) -> int:
    from app.database import create_engine
    from app.migrate import upgrade

    engine = create_engine(settings)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    print("database is up to date")
    return 0


async def _seed(
    settings: Settings, products: int, if_empty: bool, staff_password: str | None
) -> int:
    from app.seed import database_is_empty, seed
    from app.services import Services

    services = Services.open(settings)
    try:
        if not await database_is_empty(services.db):
            if if_empty:
                print("the database already has data; not seeding")
                return 0
            print(
                "commerce: the database is not empty; seed needs an empty catalog", file=sys.stderr
            )
            return 1
        started = time.perf_counter()
        report = await seed(
            services.db, services.cache, products=products, staff_password=staff_password
        )
    finally:
        await services.close()
    print(
        f"seeded {report.categories} categories, {report.products} products, "
        f"{report.variants} variants, {report.warehouses} warehouses "
        f"in {time.perf_counter() - started:.1f} s"
    )
    if report.staff_email:
        print(f"staff account: {report.staff_email} / password: {report.staff_password}")
    return 0


async def _purge_carts(settings: Settings) -> int:
    from app.columns import utcnow
    from app.maintenance import purge_expired_carts, release_expired_holds
    from app.services import Services

    services = Services.open(settings)
    try:
        now = utcnow()
        released = await release_expired_holds(services.db, now)
        total = await purge_expired_carts(services.db, now)
    finally:
        await services.close()
    print(f"purged {total} expired carts; released {released} expired holds")
    return 0


async def _create_staff(
    settings: Settings, email: str, password: str | None, permissions: str | None
) -> int:
    from app.accounts.permissions import ALL_PERMISSIONS, parse_permissions
    from app.accounts.users import create_staff
    from app.columns import utcnow
    from app.errors import DomainError
    from app.services import Services

    try:
        chosen = parse_permissions(permissions.split(",")) if permissions else ALL_PERMISSIONS
    except ValueError as exc:
        print(f"commerce: {exc}", file=sys.stderr)
        return 2
    if password is None:
        password = getpass.getpass("password: ")
    services = Services.open(settings)
    try:
        user = await create_staff(services.db, services.cache, email, password, chosen, utcnow())
    except DomainError as exc:
        print(f"commerce: {exc}", file=sys.stderr)
        return 1
    finally:
        await services.close()
    print(f"staff account {user.email} created with {', '.join(sorted(chosen))}")
    return 0


def _post_signed(secret: str, url: str, body: bytes) -> int:
    """POSTs `body` signed as gateways and carriers sign their webhooks; prints the answer."""
    import urllib.error
    import urllib.request

    from app.signing import signed_headers

    headers = signed_headers(secret, int(time.time()), body)
    request = urllib.request.Request(
        url, data=body, headers={"content-type": "application/json", **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, answer = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, exc.read().decode()
    except OSError as exc:
        print(f"commerce: cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    print(f"{status} {answer}")
    return 0 if status < 300 else 1


def _send_webhook(settings: Settings, args: argparse.Namespace) -> int:
    """Posts a payment event signed with PAYMENT_WEBHOOK_SECRET to a running server."""
    import json
    import secrets

    if not settings.payment_webhook_secret:
        print("commerce: set PAYMENT_WEBHOOK_SECRET to sign webhooks", file=sys.stderr)
        return 2
    body = json.dumps(
        {
            "id": args.event_id or f"evt_{secrets.token_hex(12)}",
            "type": args.type,
            "reference": args.reference,
            "amount": args.amount,
            "currency": args.currency or settings.currency,
        }
    ).encode()
    url = f"{args.url.rstrip('/')}/webhooks/payments/{settings.payment_gateway}"
    return _post_signed(settings.payment_webhook_secret, url, body)


def _send_tracking(settings: Settings, args: argparse.Namespace) -> int:
    """Posts a carrier's tracking event signed with CARRIER_WEBHOOK_SECRET to a running
    server."""
    import json
    import secrets
    from datetime import UTC, datetime

    if not settings.carrier_webhook_secret:
        print("commerce: set CARRIER_WEBHOOK_SECRET to sign webhooks", file=sys.stderr)
        return 2
    body = json.dumps(
        {
            "id": args.event_id or f"trk_{secrets.token_hex(12)}",
            "trackingNumber": args.tracking_number,
            "status": args.status,
            "location": args.location,
            "description": args.description,
            "occurredAt": args.occurred_at or datetime.now(UTC).isoformat(),
        }
    ).encode()
    url = f"{args.url.rstrip('/')}/webhooks/carriers/{args.carrier}"
    return _post_signed(settings.carrier_webhook_secret, url, body)


if __name__ == "__main__":
    sys.exit(main())
