"""Who is calling: the bearer token of a request or of a WebSocket connection."""

from __future__ import annotations

from app.accounts.permissions import Viewer
from app.accounts.tokens import TokenError
from app.accounts.users import authenticate_token
from app.services import Services


class AuthenticationFailed(Exception):
    """The credentials given are not (or no longer) valid; the message is safe to show."""


async def authenticate(services: Services, credential: str | None) -> Viewer | None:
    """Who `Bearer <access token>` speaks for; None without credentials. A token that is
    malformed, expired or revoked (see `authenticate_token`) is refused."""
    if not credential:
        return None
    scheme, _, token = credential.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("the Authorization header must be 'Bearer <access token>'")
    try:
        return await authenticate_token(
            services.db,
            services.cache,
            services.settings.secret_key,
            token.strip(),
            services.clock(),
        )
    except TokenError as exc:
        raise AuthenticationFailed(str(exc)) from None
