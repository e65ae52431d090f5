"""The `commerce` command, run as operators run it: as a process with environment variables."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.cli import SCHEMA_FILE
from app.persisted import document_hash
from app.persisted.registry import ManifestOperation, manifest_text, read_manifest

COMMERCE = str(Path(sys.executable).parent / "commerce")


def _run(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMERCE, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    clean.pop("SECRET_KEY", None)
    return {**clean, "COMMERCE_DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING"}


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("DATABASE_URL", "mysql://db/shop", "DATABASE_URL"),
        ("DATABASE_URL", "postgresql:///shop", "DATABASE_URL"),
        ("REDIS_URL", "http://cache", "REDIS_URL"),
        ("SECRET_KEY", "short", "SECRET_KEY"),
        ("DEBUG", "maybe", "DEBUG"),
        ("CACHE_TTL_SECONDS", "soon", "CACHE_TTL_SECONDS"),
        ("CURRENCY", "XXX", "CURRENCY"),
        ("TAX_RATES", "DE=nineteen", "TAX_RATES"),
        ("TAX_RATES", "XX=10", "TAX_RATES"),
        ("PAYMENT_GATEWAY", "stripe", "PAYMENT_GATEWAY"),
        ("PAYMENT_WEBHOOK_SECRET", "short", "PAYMENT_WEBHOOK_SECRET"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line(
    env: dict[str, str], variable: str, value: str, named: str
) -> None:
    result = _run("migrate", env={**env, variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert lines[0].startswith("commerce: configuration error:")


def test_postgres_needs_a_secret_key(env: dict[str, str]) -> None:
    result = _run("migrate", env={**env, "DATABASE_URL": "postgresql://u@127.0.0.1/x"})
    assert result.returncode == 2
    assert "SECRET_KEY is required" in result.stderr


def test_migrate_seed_create_staff_and_serve(env: dict[str, str]) -> None:
    not_migrated = _run("serve", "--port", "1", env=env)
    assert not_migrated.returncode == 2
    assert "commerce migrate" in not_migrated.stderr

    assert _run("migrate", env=env).returncode == 0
    seeded = _run("seed", "--products", "12", "--staff-password", "demo-pass-1234", env=env)
    assert seeded.returncode == 0, seeded.stderr
    assert "12 products" in seeded.stdout
    assert "admin@example.com / password: demo-pass-1234" in seeded.stdout
    again = _run("seed", "--if-empty", env=env)
    assert (again.returncode, again.stdout.strip()) == (
        0,
        "the database already has data; not seeding",
    )
    assert _run("seed", env=env).returncode == 1

    made = _run(
        "create-staff", "Picker@Example.com", "--password", "pick-pack-ship-1",
        "--permissions", "MANAGE_ORDERS", env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "picker@example.com" in made.stdout
    assert "MANAGE_ORDERS" in made.stdout
    assert (
        _run("create-staff", "picker@example.com", "--password", "x" * 12, env=env).returncode == 1
    )
    unknown = _run(
        "create-staff", "p2@example.com", "--password", "x" * 12, "--permissions", "FLY", env=env
    )
    assert unknown.returncode == 2
    assert "FLY" in unknown.stderr

    purged = _run("carts", "purge", env=env)
    assert (purged.returncode, purged.stdout.strip()) == (
        0,
        "purged 0 expired carts; released 0 expired holds",
    )

    signed = {**env, "PAYMENT_WEBHOOK_SECRET": "webhook-secret-for-the-cli"}
    with serving(signed) as (base, logs):
        assert httpx.get(f"{base}/readyz", timeout=5).json()["status"] == "ok"
        # The sandbox's webhooks, signed as the gateway signs them.
        event = ("payments", "webhook", "payment.failed", "sbx_pay_x", "1.00", "--url", base)
        sent = _run(*event, env=signed)
        assert (sent.returncode, sent.stdout.split()[0]) == (0, "200"), sent
        assert '"ignored"' in sent.stdout
        forged = _run(*event, env={**signed, "PAYMENT_WEBHOOK_SECRET": "not-the-servers-secret"})
        assert (forged.returncode, forged.stdout.split()[0]) == (1, "401"), forged
        token = httpx.post(
            f"{base}/graphql",
            json={
                "query": "mutation($e: String!, $p: String!) { tokenCreate(email: $e, password: $p)"
                " { token { accessToken } userErrors { code } } }",
                "variables": {"e": "picker@example.com", "p": "pick-pack-ship-1"},
            },
            timeout=10,
        ).json()["data"]["tokenCreate"]["token"]["accessToken"]
        me = httpx.post(
            f"{base}/graphql",
            json={"query": "{ me { email isStaff } products(first: 1) { totalCount } }"},
            headers={"authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        assert me["data"]["me"] == {"email": "picker@example.com", "isStaff": True}
        assert me["data"]["products"]["totalCount"] > 0
        ide = httpx.get(f"{base}/graphql", headers={"accept": "text/html"}, timeout=5)
        assert ide.status_code == 200
        assert "graphiql" in ide.text.lower()
    assert "Traceback" not in logs.text, logs.text


@dataclass
class Logs:
    text: str = ""


@contextmanager
def serving(env: dict[str, str]) -> Iterator[tuple[str, Logs]]:
    """`commerce serve` as a process on a free port; its log output once it has stopped."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [COMMERCE, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    logs = Logs()
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        yield base, logs
    finally:
        server.terminate()
        _, logs.text = server.communicate(timeout=20)


SIGN_IN = (
    "mutation($e: String!, $p: String!) { tokenCreate(email: $e, password: $p) "
    "{ userErrors { code } } }"
)


def _failed_sign_ins(base: str, forwarded_for: list[str]) -> list[list[str]]:
    """One failed sign-in per address given, each for another email; their error codes."""
    codes = []
    for i, address in enumerate(forwarded_for):
        response = httpx.post(
            f"{base}/graphql",
            json={"query": SIGN_IN, "variables": {"e": f"nobody{i}@example.com", "p": "wrong"}},
            headers={"x-forwarded-for": address},
            timeout=20,
        )
        codes.append([e["code"] for e in response.json()["data"]["tokenCreate"]["userErrors"]])
    return codes


def test_forwarded_for_is_believed_only_from_trusted_proxies(env: dict[str, str]) -> None:
    assert _run("migrate", env=env).returncode == 0
    rotating = [f"203.0.113.{i}" for i in range(7)]
    with serving({**env, "LOG_LEVEL": "INFO"}) as (base, logs):
        codes = _failed_sign_ins(base, rotating)
        # A password sent over GET is refused, and never written to the logs.
        leaked = httpx.get(
            f"{base}/graphql",
            params={"query": SIGN_IN, "variables": '{"e": "a@example.com", "p": "hunter2-secret"}'},
            timeout=10,
        )
    assert leaked.status_code == 405
    assert "TOO_MANY_REQUESTS" in codes[-1], "a rotating header does not escape the limit"
    assert "hunter2-secret" not in logs.text
    assert "GET /graphql 405" in logs.text, "the access log has the request, without its query"

    trusted = {**env, "TRUSTED_PROXIES": "127.0.0.1"}
    with serving(trusted) as (base, _logs):
        codes = _failed_sign_ins(base, [*rotating, "not-an-address", "also-not-one"])
    assert all(c == ["INVALID_CREDENTIALS"] for c in codes[:7]), codes
    bad = _run("migrate", env={**env, "TRUSTED_PROXIES": "everyone"})
    assert bad.returncode == 2
    assert "TRUSTED_PROXIES" in bad.stderr


def test_schema_export_matches_the_committed_sdl(env: dict[str, str]) -> None:
    exported = _run("schema", "export", "--output", "-", env=env)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == SCHEMA_FILE.read_text(), (
        "schema/schema.graphql is stale: run `commerce schema export`"
    )


def test_manifests_are_written_and_loaded_from_the_command_line(
    tmp_path: Path, env: dict[str, str]
) -> None:
    assert _run("migrate", env=env).returncode == 0
    source = tmp_path / "client.graphql"
    source.write_text(
        "query Tree { categories { ...Names } }\nfragment Names on Category { name slug }\n"
        "query One($slug: String!) { category(slug: $slug) { name } }\n"
    )
    manifest = tmp_path / "manifest.json"
    made = _run("persisted-queries", "manifest", str(source), "--output", str(manifest), env=env)
    assert made.returncode == 0, made.stderr
    operations = read_manifest(manifest.read_bytes())
    assert [o.name for o in operations] == ["Tree", "One"]
    assert "fragment Names" in operations[0].body
    assert all(o.id == document_hash(o.body) for o in operations)

    loaded = _run("persisted-queries", "load", str(manifest), "--client", "partner-a", env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "registered 2 documents for partner-a" in loaded.stdout

    broken = json.loads(manifest.read_text())
    broken["operations"][0]["id"] = "0" * 64
    manifest.write_text(json.dumps(broken))
    refused = _run("persisted-queries", "load", str(manifest), "--client", "partner-a", env=env)
    assert refused.returncode == 2
    assert "sha256" in refused.stderr

    invalid = ManifestOperation(document_hash("{ nope }"), None, "query", "{ nope }")
    manifest.write_text(manifest_text([invalid]))
    refused = _run("persisted-queries", "load", str(manifest), "--client", "partner-a", env=env)
    assert refused.returncode == 1
    assert "nothing registered" in refused.stderr
