"""Settings read from environment variables, checked once at start-up.

Every setting has a safe default for the embedded configuration (SQLite and an
in-process cache). A malformed value raises `SettingsError` with one line that
names the variable, so the process stops before serving anything.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

from app.countries import normalize_country
from app.money import CURRENCY_EXPONENTS
from app.pricing.tax import DEFAULT_TAX_RATES


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line for the operator."""


# Machine's cores (containers may limit it to fewer: set PASSWORD_HASH_CONCURRENCY).
_CPUS = os.cpu_count() or 1

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    secret_key: str
    redis_url: str | None = None
    debug: bool = False
    currency: str = "USD"
    cache_prefix: str = "commerce"
    cache_ttl_seconds: int = 3600
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    db_pool_size: int = 10
    redis_max_connections: int = 50
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 4000
    max_query_cost: int = 5000
    max_query_fields: int = 4000
    max_string_length: int = 50_000
    max_list_length: int = 1000
    max_body_bytes: int = 1024 * 1024
    # Addresses (IPs or CIDR networks) of proxies whose X-Forwarded-For is believed.
    trusted_proxies: tuple[str, ...] = ()
    # Browser origins allowed to call the API (CORS); "*" for any, without credentials.
    cors_origins: tuple[str, ...] = ()
    # GraphiQL at GET /graphql and introspection; on by default for the embedded demo only.
    graphiql: bool = False
    cart_ttl_seconds: int = 30 * 24 * 3600
    hold_seconds: int = 15 * 60
    unpaid_order_timeout_seconds: int = 30 * 60
    maintenance_interval_seconds: int = 30  # 0: no background upkeep in this process
    # Basis points per ISO country (1900 = 19 %); prices are tax-exclusive.
    tax_rates: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_TAX_RATES))
    login_max_failures: int = 5
    login_failure_window_seconds: int = 15 * 60
    # Attempts per minute, successful or not, from one client address and in all.
    signup_per_address_per_minute: int = 5
    signup_per_minute: int = 300
    signin_per_address_per_minute: int = 10
    signin_per_minute: int = 600
    # Each argon2 computation holds 64 MiB and a core for about 0.1 s.
    password_hash_concurrency: int = _CPUS
    password_hash_max_wait_ms: int = 3000
    log_level: str = "INFO"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false (1/0, yes/no), got {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _database_url(env: Mapping[str, str], data_dir: Path) -> str:
    raw = env.get("DATABASE_URL", "").strip()
    if not raw:
        return f"sqlite+aiosqlite:///{data_dir / 'commerce.db'}"
    scheme = urlsplit(raw).scheme
    # Accept the URLs operators usually have and pick the async driver ourselves.
    aliases = {
        "sqlite": "sqlite+aiosqlite",
        "sqlite+aiosqlite": "sqlite+aiosqlite",
        "postgres": "postgresql+asyncpg",
        "postgresql": "postgresql+asyncpg",
        "postgresql+asyncpg": "postgresql+asyncpg",
    }
    if scheme not in aliases:
        raise SettingsError(
            "DATABASE_URL must be a sqlite:// or postgresql:// URL, "
            f"got scheme {scheme or '(none)'!r}"
        )
    rest = raw[len(scheme) :]
    postgres = aliases[scheme].startswith("postgresql")
    if postgres and not urlsplit(raw).hostname and "host=" not in raw:
        raise SettingsError("DATABASE_URL for PostgreSQL must name a host")
    return aliases[scheme] + rest


def _redis_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("REDIS_URL", "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in {"redis", "rediss", "unix"}:
        raise SettingsError(f"REDIS_URL must be a redis:// or rediss:// URL, got {raw!r}")
    if parts.scheme != "unix" and not parts.hostname:
        raise SettingsError(f"REDIS_URL must name a host, got {raw!r}")
    return raw


def _secret_key(env: Mapping[str, str], database_url: str, data_dir: Path) -> str:
    raw = env.get("SECRET_KEY")
    if raw is not None:
        if len(raw) < 32:
            raise SettingsError("SECRET_KEY must be at least 32 characters long")
        return raw
    if not database_url.startswith("sqlite"):
        # Several workers and machines must share one key: it cannot be made up here.
        raise SettingsError("SECRET_KEY is required when DATABASE_URL is not SQLite")
    # Embedded default: one key per data directory, kept across restarts.
    key_file = data_dir / "secret_key"
    if key_file.exists():
        key = key_file.read_text().strip()
        if len(key) >= 32:
            return key
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    return key


def _tax_rates(env: Mapping[str, str]) -> dict[str, int]:
    """TAX_RATES="DE=19,FR=20,US=0" (percent) replaces the built-in table entry by entry."""
    rates = dict(DEFAULT_TAX_RATES)
    raw = env.get("TAX_RATES", "").strip()
    for item in filter(None, (part.strip() for part in raw.split(","))):
        country, sep, percent = item.partition("=")
        code = normalize_country(country)
        try:
            value = Decimal(percent.strip()) * 100
        except InvalidOperation:
            value = Decimal(-1)
        if not sep or code is None or value != value.to_integral_value() or not 0 <= value <= 10000:
            raise SettingsError(
                f"TAX_RATES must look like DE=19,FR=20,US=0 (ISO country=percent), got {item!r}"
            )
        rates[code] = int(value)
    return rates


def _list(env: Mapping[str, str], name: str) -> list[str]:
    return [item.strip() for item in env.get(name, "").split(",") if item.strip()]


def _trusted_proxies(env: Mapping[str, str]) -> tuple[str, ...]:
    """TRUSTED_PROXIES="10.0.0.0/8,192.168.1.7" (or "*", when only proxies can reach us)."""
    proxies = _list(env, "TRUSTED_PROXIES")
    for item in proxies:
        if item == "*":
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise SettingsError(
                f"TRUSTED_PROXIES must list IP addresses or networks, got {item!r}"
            ) from None
    return tuple(proxies)


def _cors_origins(env: Mapping[str, str]) -> tuple[str, ...]:
    """CORS_ORIGINS="https://shop.example.com,https://m.example.com" (or "*")."""
    origins = _list(env, "CORS_ORIGINS")
    for origin in origins:
        parts = urlsplit(origin)
        exact = f"{parts.scheme}://{parts.netloc}"
        if origin != "*" and (parts.scheme not in {"http", "https"} or origin != exact):
            raise SettingsError(
                "CORS_ORIGINS must list origins such as https://shop.example.com "
                f"(scheme and host, no path), got {origin!r}"
            )
    return tuple(origins)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from `env` (the process environment by default)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("COMMERCE_DATA_DIR", "var")).resolve()
    database_url = _database_url(env, data_dir)
    if database_url.startswith("sqlite") and ":memory:" not in database_url:
        Path(database_url.split("///", 1)[-1]).parent.mkdir(parents=True, exist_ok=True)
    currency = env.get("CURRENCY", "USD").strip().upper()
    if currency not in CURRENCY_EXPONENTS:
        known = ", ".join(sorted(CURRENCY_EXPONENTS))
        raise SettingsError(f"CURRENCY must be one of {known}, got {currency!r}")
    log_level = env.get("LOG_LEVEL", "INFO").strip().upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")
    return Settings(
        database_url=database_url,
        secret_key=_secret_key(env, database_url, data_dir),
        redis_url=_redis_url(env),
        debug=_bool(env, "DEBUG", False),
        currency=currency,
        cache_prefix=env.get("CACHE_PREFIX", "commerce").strip() or "commerce",
        cache_ttl_seconds=_int(env, "CACHE_TTL_SECONDS", 3600),
        access_token_ttl_seconds=_int(env, "ACCESS_TOKEN_TTL_SECONDS", 15 * 60),
        refresh_token_ttl_seconds=_int(env, "REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600),
        db_pool_size=_int(env, "DB_POOL_SIZE", 10),
        redis_max_connections=_int(env, "REDIS_MAX_CONNECTIONS", 50),
        max_query_depth=_int(env, "MAX_QUERY_DEPTH", 12),
        max_aliases=_int(env, "MAX_ALIASES", 30),
        max_tokens=_int(env, "MAX_TOKENS", 4000),
        max_query_cost=_int(env, "MAX_QUERY_COST", 5000),
        max_query_fields=_int(env, "MAX_QUERY_FIELDS", 4000),
        max_string_length=_int(env, "MAX_STRING_LENGTH", 50_000),
        max_list_length=_int(env, "MAX_LIST_LENGTH", 1000),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
        trusted_proxies=_trusted_proxies(env),
        cors_origins=_cors_origins(env),
        graphiql=_bool(env, "GRAPHIQL", database_url.startswith("sqlite")),
        cart_ttl_seconds=_int(env, "CART_TTL_SECONDS", 30 * 24 * 3600),
        hold_seconds=_int(env, "CART_HOLD_SECONDS", 15 * 60),
        unpaid_order_timeout_seconds=_int(env, "UNPAID_ORDER_TIMEOUT_SECONDS", 30 * 60),
        maintenance_interval_seconds=_int(env, "MAINTENANCE_INTERVAL_SECONDS", 30, minimum=0),
        tax_rates=_tax_rates(env),
        login_max_failures=_int(env, "LOGIN_MAX_FAILURES", 5),
        login_failure_window_seconds=_int(env, "LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60),
        signup_per_address_per_minute=_int(env, "SIGNUP_PER_ADDRESS_PER_MINUTE", 5),
        signup_per_minute=_int(env, "SIGNUP_PER_MINUTE", 300),
        signin_per_address_per_minute=_int(env, "SIGNIN_PER_ADDRESS_PER_MINUTE", 10),
        signin_per_minute=_int(env, "SIGNIN_PER_MINUTE", 600),
        password_hash_concurrency=_int(env, "PASSWORD_HASH_CONCURRENCY", _CPUS),
        password_hash_max_wait_ms=_int(env, "PASSWORD_HASH_MAX_WAIT_MS", 3000, minimum=0),
        log_level=log_level,
    )
