"""Webhook signatures, as the contract specifies them for payment gateways and carriers.

Header `X-Webhook-Timestamp: <unix seconds>` and `X-Webhook-Signature:
sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>`. A signature is
good when it was made with our secret over these exact bytes and its timestamp
is at most `TOLERANCE_SECONDS` from our clock (an old, captured request cannot
be replayed).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

TIMESTAMP_HEADER = "X-Webhook-Timestamp"
SIGNATURE_HEADER = "X-Webhook-Signature"
TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"[0-9]{1,11}")
_SIGNATURE = re.compile(r"sha256=([0-9a-f]{64})")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the signature header for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Both headers, as a sender writes them (the sandbox's tools and tests)."""
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body)}


class SignatureVerdict(StrEnum):
    VALID = "VALID"
    BAD_SIGNATURE = "BAD_SIGNATURE"  # missing, malformed or not made with our secret
    STALE = "STALE"  # signed more than the tolerance away from our clock


@dataclass(frozen=True, slots=True)
class Verdict:
    verdict: SignatureVerdict
    signed_at: datetime | None = None

    @property
    def valid(self) -> bool:
        return self.verdict is SignatureVerdict.VALID


def verify(
    secret: str, timestamp: str | None, signed: str | None, body: bytes, now: datetime
) -> Verdict:
    """Judges the two headers of a request with this body, received `now`."""
    if timestamp is None or signed is None or not _TIMESTAMP.fullmatch(timestamp.strip()):
        return Verdict(SignatureVerdict.BAD_SIGNATURE)
    seconds = int(timestamp.strip())
    match = _SIGNATURE.fullmatch(signed.strip().lower())
    expected = signature(secret, seconds, body)
    if match is None or not hmac.compare_digest(f"sha256={match.group(1)}", expected):
        return Verdict(SignatureVerdict.BAD_SIGNATURE)
    signed_at = datetime.fromtimestamp(seconds, UTC)
    if abs((now - signed_at).total_seconds()) > TOLERANCE_SECONDS:
        return Verdict(SignatureVerdict.STALE, signed_at)
    return Verdict(SignatureVerdict.VALID, signed_at)


def json_object(body: bytes) -> dict[str, Any]:
    """The JSON object a webhook's body holds; ValueError saying what is wrong otherwise."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ValueError("the body is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the body is not a JSON object")
    return data
