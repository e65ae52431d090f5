"""Log lines carry the id of the request they belong to; text or JSON, one line each."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


@dataclass(slots=True)
class RequestFacts:
    """What the GraphQL layers learn about one request, for its access line and metrics."""

    operation: str | None = None
    cost: int | None = None
    cache: str | None = None  # response cache: hit, miss, bypass; "replayed" (idempotency)
    error_codes: list[str] = field(default_factory=list)


# Set by the HTTP middleware for each request; the layers below fill it in.
request_facts: contextvars.ContextVar[RequestFacts | None] = contextvars.ContextVar(
    "request_facts", default=None
)

# Attributes an access line may carry (`extra=`), written out by the JSON format.
ACCESS_FIELDS = (
    "client",
    "method",
    "path",
    "status",
    "duration_ms",
    "sql",
    "operation",
    "cost",
    "cache",
    "errors",
)


def new_request_id(incoming: str | None = None) -> str:
    """The caller's X-Request-ID when it is a sane token, else a fresh one."""
    if incoming and _SAFE_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers: no parsing of free text needed."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None) or request_id_var.get() or "-",
            "message": record.getMessage(),
        }
        for name in ACCESS_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str, log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        JsonFormatter()
        if log_format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic's set-up chatter says nothing an operator needs; its upgrades still show.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
