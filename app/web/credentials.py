"""Who is calling: the bearer token of a request or of a WebSocket connection."""

from __future__ import annotations

from app.accounts.tokens import TokenError, read_access_token
from app.services import Services


class AuthenticationFailed(Exception):
    """The credentials given are not (or no longer) valid; the message is safe to show."""


async def authenticate(services: Services, credential: str | None) -> int | None:
    """The user id of `Bearer <access token>`; None without credentials."""
    if not credential:
        return None
    scheme, _, token = credential.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("the Authorization header must be 'Bearer <access token>'")
    try:
        return read_access_token(services.settings.secret_key, token.strip(), services.clock())
    except TokenError as exc:
        raise AuthenticationFailed(str(exc)) from None
