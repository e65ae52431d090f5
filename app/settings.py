"""Settings: each declared once, with its environment variable, default and meaning.

`Settings` is the one declaration: a field per setting, its environment
variable as the alias, its default and its description (the README's table
says the same, and a test keeps them together). `load_settings` reads the
environment; a malformed value raises `SettingsError` with one line naming the
variable, so the process stops before serving anything. Tests build
`Settings(...)` directly by field name.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
)

from app.countries import normalize_country
from app.money import CURRENCY_EXPONENTS
from app.pricing.tax import DEFAULT_TAX_RATES


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line for the operator."""


# Machine's cores (containers may limit it to fewer: set PASSWORD_HASH_CONCURRENCY).
_CPUS = os.cpu_count() or 1

# Accept the URLs operators usually have and pick the async driver ourselves.
_DATABASE_SCHEMES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


def _database_url(raw: str) -> str:
    if not raw:
        return raw  # filled in from COMMERCE_DATA_DIR by load_settings
    scheme = urlsplit(raw).scheme
    if scheme not in _DATABASE_SCHEMES:
        raise ValueError(
            f"must be a sqlite:// or postgresql:// URL, got scheme {scheme or '(none)'!r}"
        )
    url = _DATABASE_SCHEMES[scheme] + raw[len(scheme) :]
    if url.startswith("postgresql") and not urlsplit(raw).hostname and "host=" not in raw:
        raise ValueError("for PostgreSQL must name a host")
    return url


def _redis_url(raw: str | None) -> str | None:
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in {"redis", "rediss", "unix"}:
        raise ValueError(f"must be a redis:// or rediss:// URL, got scheme {parts.scheme!r}")
    if parts.scheme != "unix" and not parts.hostname:
        raise ValueError("must name a host")
    return raw


def _secret_key(raw: str) -> str:
    if raw and len(raw) < 32:
        raise ValueError("must be at least 32 characters long")
    return raw


def _webhook_secret(raw: str | None) -> str | None:
    if raw is not None and len(raw) < 16:
        raise ValueError("must be at least 16 characters long")
    return raw


_CARRIER_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}")
DEFAULT_CARRIERS = (
    "dhl=https://www.dhl.com/global-en/home/tracking.html?tracking-id={number},"
    "ups=https://www.ups.com/track?tracknum={number},"
    "fedex=https://www.fedex.com/fedextrack/?trknbr={number},"
    "usps=https://tools.usps.com/go/TrackConfirmAction?tLabels={number},"
    "local="
)


def _carriers(raw: object) -> object:
    """CARRIERS="dhl=https://…?id={number},courier=": carrier code = tracking page, where
    {number} stands for the tracking number; an empty page for a carrier without one."""
    if not isinstance(raw, str):
        return raw
    carriers: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        code, sep, page = item.partition("=")
        code, page = code.strip().lower(), page.strip()
        if not sep or not _CARRIER_CODE.fullmatch(code):
            raise ValueError(f"must look like dhl=https://…{{number}},local= ; got {item!r}")
        if page and (urlsplit(page).scheme not in {"http", "https"} or "{number}" not in page):
            raise ValueError(f"the tracking page of {code} must be an http(s) URL with {{number}}")
        carriers[code] = page
    if not carriers:
        raise ValueError("must name at least one carrier")
    return carriers


def _smtp_url(raw: str | None) -> str | None:
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError(f"must be an smtp:// or smtps:// URL, got scheme {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError("must name a host")
    try:
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        raise ValueError("has a port that is not a number") from None
    return raw


def _email_from(raw: str) -> str:
    text = raw.strip()
    if "@" not in text or any(c in text for c in "\r\n"):
        raise ValueError(f"must be an address such as Shop <shop@example.com>, got {raw!r}")
    return text


def _currency(raw: str) -> str:
    code = raw.strip().upper()
    if code not in CURRENCY_EXPONENTS:
        raise ValueError(f"must be one of {', '.join(sorted(CURRENCY_EXPONENTS))}, got {raw!r}")
    return code


def _comma_list(raw: object) -> object:
    """Lists come from the environment as comma-separated text."""
    if isinstance(raw, str):
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    return raw


def _tax_rates(raw: object) -> object:
    """TAX_RATES="DE=19,FR=20,US=0" (percent) replaces the built-in table entry by entry."""
    if not isinstance(raw, str):
        return raw
    rates = dict(DEFAULT_TAX_RATES)
    for item in filter(None, (part.strip() for part in raw.split(","))):
        country, sep, percent = item.partition("=")
        code = normalize_country(country)
        try:
            value = Decimal(percent.strip()) * 100
        except InvalidOperation:
            value = Decimal(-1)
        if not sep or code is None or value != value.to_integral_value() or not 0 <= value <= 10000:
            raise ValueError(f"must look like DE=19,FR=20,US=0 (ISO country=percent), got {item!r}")
        rates[code] = int(value)
    return rates


def _proxies(items: tuple[str, ...]) -> tuple[str, ...]:
    for item in items:
        if item == "*":
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"must list IP addresses or networks, got {item!r}") from None
    return items


def _origins(items: tuple[str, ...]) -> tuple[str, ...]:
    for origin in items:
        parts = urlsplit(origin)
        if origin != "*" and (
            parts.scheme not in {"http", "https"} or origin != f"{parts.scheme}://{parts.netloc}"
        ):
            raise ValueError(
                "must list origins such as https://shop.example.com (scheme and host, no path), "
                f"got {origin!r}"
            )
    return items


def _upper(raw: object) -> object:
    return raw.strip().upper() if isinstance(raw, str) else raw


def _lower(raw: object) -> object:
    return raw.strip().lower() if isinstance(raw, str) else raw


_CLIENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _client_budgets(raw: object) -> object:
    """CLIENT_BUDGETS="partner-a=20000,mobile=5000": cost points per registered client."""
    if not isinstance(raw, str):
        return raw
    budgets: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, points = item.partition("=")
        name = name.strip()
        if not sep or not _CLIENT_NAME.match(name) or not points.strip().isdigit():
            raise ValueError(f"must look like partner-a=20000,mobile=5000, got {item!r}")
        budgets[name] = int(points)
        if budgets[name] < 1:
            raise ValueError(f"a budget must be at least 1 point, got {item!r}")
    return budgets


def is_client_name(name: str) -> bool:
    """What a persisted-query client may be called (it names a cost budget, a metric label)."""
    return bool(_CLIENT_NAME.match(name))


Seconds = PositiveInt
Items = Annotated[tuple[str, ...], BeforeValidator(_comma_list)]


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    data_dir: Path = Field(
        Path("var"),
        alias="COMMERCE_DATA_DIR",
        description="where the SQLite file and the generated secret key live",
    )
    database_url: Annotated[str, AfterValidator(_database_url)] = Field(
        "",
        alias="DATABASE_URL",
        description="sqlite://… or postgresql://… (the async driver is chosen for you); "
        "default: SQLite in COMMERCE_DATA_DIR",
    )
    redis_url: Annotated[str | None, AfterValidator(_redis_url)] = Field(
        None, alias="REDIS_URL", description="redis://host:6379/0; unset: an in-process cache"
    )
    secret_key: Annotated[str, AfterValidator(_secret_key)] = Field(
        "",
        alias="SECRET_KEY",
        description="signs access tokens; at least 32 characters; required with PostgreSQL, "
        "generated once into COMMERCE_DATA_DIR on SQLite",
    )
    debug: bool = Field(False, alias="DEBUG", description="adds X-SQL-Statements to responses")
    currency: Annotated[str, AfterValidator(_currency)] = Field(
        "USD", alias="CURRENCY", description="shop currency (ISO 4217)"
    )
    cache_prefix: str = Field("commerce", alias="CACHE_PREFIX", min_length=1)
    cache_ttl_seconds: Seconds = Field(3600, alias="CACHE_TTL_SECONDS")
    access_token_ttl_seconds: Seconds = Field(15 * 60, alias="ACCESS_TOKEN_TTL_SECONDS")
    refresh_token_ttl_seconds: Seconds = Field(30 * 24 * 3600, alias="REFRESH_TOKEN_TTL_SECONDS")
    db_pool_size: PositiveInt = Field(10, alias="DB_POOL_SIZE")
    redis_max_connections: PositiveInt = Field(50, alias="REDIS_MAX_CONNECTIONS")
    max_query_depth: PositiveInt = Field(12, alias="MAX_QUERY_DEPTH")
    max_aliases: PositiveInt = Field(30, alias="MAX_ALIASES")
    max_tokens: PositiveInt = Field(4000, alias="MAX_TOKENS")
    max_query_cost: PositiveInt = Field(5000, alias="MAX_QUERY_COST")
    max_query_fields: PositiveInt = Field(4000, alias="MAX_QUERY_FIELDS")
    max_string_length: PositiveInt = Field(50_000, alias="MAX_STRING_LENGTH")
    max_list_length: PositiveInt = Field(1000, alias="MAX_LIST_LENGTH")
    max_body_bytes: int = Field(1024 * 1024, alias="MAX_BODY_BYTES", ge=1024)
    # Addresses (IPs or CIDR networks) of proxies whose X-Forwarded-For is believed.
    trusted_proxies: Annotated[Items, AfterValidator(_proxies)] = Field((), alias="TRUSTED_PROXIES")
    # Browser origins allowed to call the API (CORS); "*" for any, without credentials.
    cors_origins: Annotated[Items, AfterValidator(_origins)] = Field((), alias="CORS_ORIGINS")
    # GraphiQL at GET /graphql and introspection; on by default for the embedded demo only.
    graphiql: bool = Field(False, alias="GRAPHIQL")
    cart_ttl_seconds: Seconds = Field(30 * 24 * 3600, alias="CART_TTL_SECONDS")
    hold_seconds: Seconds = Field(15 * 60, alias="CART_HOLD_SECONDS")
    unpaid_order_timeout_seconds: Seconds = Field(30 * 60, alias="UNPAID_ORDER_TIMEOUT_SECONDS")
    # 0: no background upkeep in this process.
    maintenance_interval_seconds: NonNegativeInt = Field(30, alias="MAINTENANCE_INTERVAL_SECONDS")
    # Basis points per ISO country (1900 = 19 %); prices are tax-exclusive.
    tax_rates: Annotated[dict[str, int], BeforeValidator(_tax_rates)] = Field(
        default_factory=lambda: dict(DEFAULT_TAX_RATES), alias="TAX_RATES"
    )
    login_max_failures: PositiveInt = Field(5, alias="LOGIN_MAX_FAILURES")
    login_failure_window_seconds: Seconds = Field(15 * 60, alias="LOGIN_FAILURE_WINDOW_SECONDS")
    # Attempts per minute, successful or not, from one client address and in all.
    signup_per_address_per_minute: PositiveInt = Field(5, alias="SIGNUP_PER_ADDRESS_PER_MINUTE")
    signup_per_minute: PositiveInt = Field(300, alias="SIGNUP_PER_MINUTE")
    signin_per_address_per_minute: PositiveInt = Field(10, alias="SIGNIN_PER_ADDRESS_PER_MINUTE")
    signin_per_minute: PositiveInt = Field(600, alias="SIGNIN_PER_MINUTE")
    # Each argon2 computation holds 64 MiB and a core for about 0.1 s.
    password_hash_concurrency: PositiveInt = Field(_CPUS, alias="PASSWORD_HASH_CONCURRENCY")
    password_hash_max_wait_ms: NonNegativeInt = Field(3000, alias="PASSWORD_HASH_MAX_WAIT_MS")
    payment_gateway: str = Field(
        "sandbox",
        alias="PAYMENT_GATEWAY",
        description="the card payment gateway (`sandbox`: the built-in offline one)",
    )
    payment_webhook_secret: Annotated[str | None, AfterValidator(_webhook_secret)] = Field(
        None,
        alias="PAYMENT_WEBHOOK_SECRET",
        description="HMAC key of the payment gateway's webhooks, at least 16 characters; "
        "unset: every payment webhook is refused",
    )
    carrier_webhook_secret: Annotated[str | None, AfterValidator(_webhook_secret)] = Field(
        None,
        alias="CARRIER_WEBHOOK_SECRET",
        description="HMAC key of the carriers' tracking webhooks, at least 16 characters; "
        "unset: every carrier webhook is refused",
    )
    carriers: Annotated[dict[str, str], BeforeValidator(_carriers)] = Field(
        default_factory=lambda: _carriers(DEFAULT_CARRIERS),  # type: ignore[arg-type,return-value]
        alias="CARRIERS",
        description="carriers staff may ship with and their tracking pages, "
        "code=https://…{number} separated by commas ({number}: the tracking number; an "
        "empty page for none)",
    )
    points_earned_per_unit: NonNegativeInt = Field(
        1,
        alias="POINTS_EARNED_PER_UNIT",
        description="loyalty points a customer earns per currency unit of a completed order "
        "(after refunds); 0: none",
    )
    points_per_unit: PositiveInt = Field(
        100,
        alias="POINTS_PER_UNIT",
        description="loyalty points that pay for one currency unit",
    )
    order_auto_complete_days: PositiveInt = Field(
        14,
        alias="ORDER_AUTO_COMPLETE_DAYS",
        description="delivered orders complete by themselves (and earn their points) this "
        "many days after delivery",
    )
    return_window_days: PositiveInt = Field(
        14,
        alias="RETURN_WINDOW_DAYS",
        description="customers may ask to return units of a delivered order this many days "
        "after its delivery",
    )
    smtp_url: Annotated[str | None, AfterValidator(_smtp_url)] = Field(
        None,
        alias="SMTP_URL",
        description="mail server for customer emails, smtp://user:password@host:587 "
        "(STARTTLS when offered) or smtps://…:465; unset: emails stay in the outbox",
    )
    email_from: Annotated[str, AfterValidator(_email_from)] = Field(
        "shop@localhost",
        alias="EMAIL_FROM",
        description="the From of customer emails, e.g. Shop <shop@example.com>",
    )
    smtp_timeout_seconds: PositiveInt = Field(
        10,
        le=30,
        alias="SMTP_TIMEOUT_SECONDS",
        description="how long one try to hand an email to the mail server may take",
    )
    email_max_attempts: PositiveInt = Field(
        10,
        alias="EMAIL_MAX_ATTEMPTS",
        description="tries per email before it is given up (FAILED) and left to staff",
    )
    log_level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], BeforeValidator(_upper)] = (
        Field("INFO", alias="LOG_LEVEL")
    )
    log_format: Annotated[Literal["text", "json"], BeforeValidator(_lower)] = Field(
        "text",
        alias="LOG_FORMAT",
        description="text: one readable line per event; json: one JSON object per line, with "
        "operation, duration, cost, SQL count and cache outcome on access lines",
    )
    prometheus_multiproc_dir: Path | None = Field(
        None,
        alias="PROMETHEUS_MULTIPROC_DIR",
        description="directory where worker processes keep their metrics so that /metrics adds "
        "them up; `commerce serve --workers N` makes one when unset",
    )
    persisted_queries: Annotated[Literal["automatic", "allowlist"], BeforeValidator(_lower)] = (
        Field(
            "automatic",
            alias="PERSISTED_QUERIES",
            description="automatic: any client may register a document by its hash (Apollo APQ); "
            "allowlist: only documents loaded with `commerce persisted-queries load` run",
        )
    )
    allowlist_exempt_staff: bool = Field(
        False,
        alias="ALLOWLIST_EXEMPT_STAFF",
        description="in allowlist mode, staff tokens may still send any document",
    )
    apq_max_documents: PositiveInt = Field(
        10_000,
        alias="APQ_MAX_DOCUMENTS",
        description="automatic persisted queries kept at most; the least recently used go first",
    )
    apq_ttl_seconds: Seconds = Field(
        7 * 24 * 3600,
        alias="APQ_TTL_SECONDS",
        description="an automatic persisted query unused this long is forgotten",
    )
    apq_max_document_bytes: int = Field(
        16 * 1024,
        alias="APQ_MAX_DOCUMENT_BYTES",
        ge=256,
        description="larger documents still run but are not stored under their hash",
    )
    cost_budget: PositiveInt = Field(
        20_000,
        alias="COST_BUDGET",
        description="cost points in each client's bucket (user, registered client or address)",
    )
    cost_restore_rate: PositiveInt = Field(
        1000, alias="COST_RESTORE_RATE", description="cost points a bucket regains per second"
    )
    client_budgets: Annotated[dict[str, int], BeforeValidator(_client_budgets)] = Field(
        default_factory=dict,
        alias="CLIENT_BUDGETS",
        description="bucket size per registered persisted-query client, e.g. "
        "partner-a=20000,mobile=5000 (others get COST_BUDGET)",
    )
    response_cache_ttl_seconds: NonNegativeInt = Field(
        600,
        alias="RESPONSE_CACHE_TTL_SECONDS",
        description="safety-net TTL of cached public persisted-query responses (0: no response "
        "cache); writes make them unreachable at once",
    )
    http_cache_max_age: NonNegativeInt = Field(
        60,
        alias="HTTP_CACHE_MAX_AGE",
        description="max-age of `Cache-Control: public` on hashed GETs of public catalog data",
    )
    idempotency_ttl_seconds: Seconds = Field(
        24 * 3600,
        alias="IDEMPOTENCY_TTL_SECONDS",
        description="how long a response to a request with an Idempotency-Key is replayed",
    )
    subscription_queue_size: PositiveInt = Field(
        64,
        alias="SUBSCRIPTION_QUEUE_SIZE",
        description="updates kept for a subscriber that has not read them yet; one more ends "
        "its subscription with SUBSCRIPTION_LAGGED",
    )
    idempotency_wait_seconds: PositiveInt = Field(
        30,
        alias="IDEMPOTENCY_WAIT_SECONDS",
        description="how long a retry waits for the first request with its key to finish",
    )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes: object) -> Settings:
        return self.model_copy(update=changes)


def variables() -> dict[str, str]:
    """Environment variable -> field name, for every setting."""
    return {str(f.alias): name for name, f in Settings.model_fields.items()}


# Their values hold credentials: an error names the variable, never repeats the value.
_SECRET = frozenset(
    {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PAYMENT_WEBHOOK_SECRET", "SMTP_URL"}
)


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else "a setting"
    message = first["msg"].removeprefix("Value error, ")
    if message.startswith("Input should"):
        message = ": " + message[0].lower() + message[1:]
    else:
        message = " " + message
    if "got" in message or name in _SECRET:
        return name + message
    return f"{name}{message}, got {first['input']!r}"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from `env` (the process environment by default); empty means unset."""
    env = os.environ if env is None else env
    given: dict[str, Any] = {
        name: env[name].strip() for name in variables() if env.get(name, "").strip()
    }
    try:
        settings = Settings.model_validate(given)
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None
    defaults: dict[str, Any] = {}
    data_dir = settings.data_dir.resolve()
    if not settings.database_url:
        defaults["database_url"] = f"sqlite+aiosqlite:///{data_dir / 'commerce.db'}"
    is_sqlite = defaults.get("database_url", settings.database_url).startswith("sqlite")
    if not settings.secret_key:
        if not is_sqlite:
            # Several workers and machines must share one key: it cannot be made up here.
            raise SettingsError("SECRET_KEY is required when DATABASE_URL is not SQLite")
        defaults["secret_key"] = _generated_key(data_dir)
    if "GRAPHIQL" not in given:
        defaults["graphiql"] = is_sqlite
    settings = settings.with_overrides(data_dir=data_dir, **defaults)
    if settings.is_sqlite and ":memory:" not in settings.database_url:
        Path(settings.database_url.split("///", 1)[-1]).parent.mkdir(parents=True, exist_ok=True)
    return settings


def _generated_key(data_dir: Path) -> str:
    """The embedded default: one key per data directory, kept across restarts."""
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
