"""How often sign-ups and sign-ins may be tried, and how many passwords are hashed at once.

Both operations cost an argon2 computation (64 MiB, about 0.1 s of a core), so
one client could otherwise slow the whole shop down. Attempts are counted per
client address and in all, successful or not, before any hashing. Failed
sign-ins are throttled further, per email and address (`app.ratelimit.FailureLimiter`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.accounts.passwords import HashingSlots
from app.errors import ErrorCode, fail, try_again_in
from app.ratelimit import Rate, RateLimiter, limit_key
from app.settings import Settings


@dataclass(frozen=True, slots=True)
class _Attempts:
    """One operation's limits: per client address and over all clients."""

    name: str
    what: str  # as said to the client
    per_address: Rate
    overall: Rate


@dataclass(frozen=True, slots=True)
class AccountLimits:
    limiter: RateLimiter
    hashing: HashingSlots
    sign_ups: _Attempts
    sign_ins: _Attempts

    @classmethod
    def from_settings(cls, settings: Settings, limiter: RateLimiter) -> AccountLimits:
        return cls(
            limiter=limiter,
            hashing=HashingSlots(
                settings.password_hash_concurrency, settings.password_hash_max_wait_ms / 1000
            ),
            sign_ups=_Attempts(
                "signup",
                "sign-up attempts",
                Rate(settings.signup_per_address_per_minute),
                Rate(settings.signup_per_minute),
            ),
            sign_ins=_Attempts(
                "signin",
                "sign-in attempts",
                Rate(settings.signin_per_address_per_minute),
                Rate(settings.signin_per_minute),
            ),
        )

    async def admit_sign_up(self, client_address: str, now: datetime) -> None:
        """Counts a sign-up attempt; TOO_MANY_REQUESTS (counting nothing) over a limit."""
        await self._admit(self.sign_ups, client_address, now)

    async def admit_sign_in(self, client_address: str, now: datetime) -> None:
        """Counts a sign-in attempt; TOO_MANY_REQUESTS (counting nothing) over a limit."""
        await self._admit(self.sign_ins, client_address, now)

    async def _admit(self, attempts: _Attempts, client_address: str, now: datetime) -> None:
        throttled = await self.limiter.take(
            (
                (limit_key(f"{attempts.name}:address", client_address), attempts.per_address),
                (f"{attempts.name}:all", attempts.overall),
            ),
            now,
        )
        if throttled is not None:
            raise fail(
                ErrorCode.TOO_MANY_REQUESTS,
                f"too many {attempts.what}; {try_again_in(throttled.retry_after_seconds)}",
            )
