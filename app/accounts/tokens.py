"""Signed, short-lived access tokens (JWT, HS256).

Expiry is checked against the caller's clock rather than the system's, so that
tests can move time instead of sleeping. Each token carries its user's token
version (`ver`), so that raising the version ends it before it expires.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

_ALGORITHM = "HS256"
_AUDIENCE = "commerce-api"
# Several machines' clocks differ a little; a token from slightly ahead is still fine.
_CLOCK_SKEW = timedelta(seconds=30)


class TokenError(Exception):
    """The access token is expired, malformed, not signed by us or revoked."""


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    #: the user's token version when the token was issued (`User.token_version`)
    version: int


def issue_access_token(
    secret: str, user_id: int, version: int, now: datetime, ttl_seconds: int
) -> AccessToken:
    expires_at = now + timedelta(seconds=ttl_seconds)
    claims = {
        "sub": str(user_id),
        "ver": version,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "aud": _AUDIENCE,
        "typ": "access",
        "jti": secrets.token_hex(8),
    }
    return AccessToken(
        jwt.encode(claims, secret, algorithm=_ALGORITHM), expires_at.replace(microsecond=0)
    )


def read_access_token(secret: str, token: str, now: datetime) -> AccessClaims:
    """The claims of a valid access token; TokenError says why it is not valid.

    Whether its version is still current is for `app.accounts.users.authenticate_token`.
    """
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            audience=_AUDIENCE,
            # Times are checked below against the injected clock, not the system's.
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "require": ["sub", "exp", "iat", "aud"],
            },
        )
    except jwt.InvalidTokenError:
        raise TokenError("the access token is invalid") from None
    if claims.get("typ") != "access":
        raise TokenError("the access token is invalid")
    try:
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
        issued_at = datetime.fromtimestamp(claims["iat"], UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise TokenError("the access token is invalid") from None
    if expires_at <= now:
        raise TokenError("the access token has expired")
    if issued_at > now + _CLOCK_SKEW:
        raise TokenError("the access token is invalid")
    # Tokens issued before versions existed have none: version 0, every user's first.
    version = claims.get("ver", 0)
    if type(version) is not int:
        raise TokenError("the access token is invalid")
    try:
        return AccessClaims(int(claims["sub"]), version)
    except (TypeError, ValueError):
        raise TokenError("the access token is invalid") from None
