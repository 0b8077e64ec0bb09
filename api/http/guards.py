"""Who may do what: bearer tokens and role guards, and the rate limit on public reports.

Why this shape:

- A token is 32 random bytes, shown once. Only its SHA-256 is stored: tokens are high-entropy,
  so a fast hash is enough (no password stretching needed), and a stolen database does not
  reveal usable tokens. The hash is looked up by index, then compared with
  ``hmac.compare_digest`` so the comparison takes the same time whatever matches.
- Roles are ordered, curator < reviewer < admin: a guard asks for the least role it needs.
- A person is identified by the token's *name*: two tokens whose names read the same (case,
  Unicode form, look-alike letters: ``api.identity.person_key``) are the same person, so the
  four-eyes rule cannot be dodged by minting a second token.
- Every failure is a problem+json: 401 (with ``WWW-Authenticate: Bearer``) for a missing,
  unknown, revoked or expired token; 403 for a known token whose role is too low.
- Anyone may report a listing, so reports are limited per client (``report_rate_limit``),
  keyed by address as api/http/proxies.py reads it behind trusted proxies.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from litestar import Litestar, Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.rate_limit import RateLimitConfig

from api.credentials import Identity, Role, hash_token, tokens_equal
from api.http.proxies import client_address_resolver, parse_networks

__all__ = [
    "RATE_LIMIT_SWEEP_SECONDS",
    "bearer_token",
    "identity_from_headers",
    "provide_identity",
    "report_rate_limit",
    "requires",
    "sweep_rate_limits",
]


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def _unauthorized(detail: str) -> NotAuthorizedException:
    return NotAuthorizedException(detail=detail, headers={"WWW-Authenticate": 'Bearer realm="actiondir"'})


def identity_from_headers(store, authorization: str | None, *, now: dt.datetime | None = None, touch=None) -> Identity:
    """The identity behind an ``Authorization: Bearer`` header, or a 401.

    ``now`` (default: the store's clock) decides expiry. Only reads; the last-use stamp goes
    to ``touch(token_id, now)`` (the app's writer queues it without waiting), or straight to
    the store when there is no writer."""
    token = bearer_token(authorization)
    if token is None:
        raise _unauthorized("this endpoint needs a token: send `Authorization: Bearer <token>`")
    row = store.tokens.get_by_hash(hash_token(token))
    if row is None or not tokens_equal(row.hash, token):
        raise _unauthorized("unknown token")
    now = now or store.clock.now()
    if row.revoked_at is not None:
        raise _unauthorized("this token was revoked; ask an admin for a new one")
    if row.expires_at is not None and row.expires_at <= now:
        raise _unauthorized("this token has expired; ask an admin for a new one")
    (touch or store.tokens.touch)(row.id, now)
    return Identity(token_id=row.id, name=row.name, role=row.role, person=row.person)


def requires(role: Role):
    """A litestar guard: the request's identity must have at least ``role``."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # async: no thread hop
        if connection.scope["method"] == "OPTIONS":
            # A controller's guards also guard litestar's own OPTIONS handler, which only
            # answers Allow; a browser's CORS preflight never carries a token.
            return
        identity = connection.scope.get("actiondir_identity")  # type: ignore[typeddict-item]
        if identity is None:
            store = connection.app.state.store_provider()
            writer = connection.app.state.writer_provider()
            identity = identity_from_headers(
                store, connection.headers.get("authorization"), now=connection.app.state.clock.now(), touch=writer.touch_token
            )
            connection.scope["actiondir_identity"] = identity  # type: ignore[typeddict-unknown-key]
        if not identity.at_least(role):
            raise PermissionDeniedException(detail=f"this needs the {role} role; your token is a {identity.role}")

    guard.__name__ = f"requires_{role}"
    return guard


def provide_identity(request: Request) -> Identity:
    """The identity a role guard established for this request (the ``identity`` dependency)."""
    return request.scope["actiondir_identity"]  # type: ignore[typeddict-item]


# --- the rate limit on public reports ----------------------------------------------------------


async def _is_report(request: Request) -> bool:  # async: litestar runs sync checks in a thread
    return request.method == "POST" and request.url.path.endswith("/reports")


def report_rate_limit(per_minute: int, trusted_proxies: str) -> RateLimitConfig:
    """``per_minute`` reports per client address, behind the ``trusted_proxies`` (a setting)."""
    return RateLimitConfig(
        rate_limit=("minute", per_minute),
        check_throttle_handler=_is_report,
        identifier_for_request=client_address_resolver(parse_networks(trusted_proxies)),
    )


#: How often expired rate-limit entries are dropped: litestar's memory store forgets a key only
#: when that key is read again, so one-off clients would otherwise stay in memory for good.
RATE_LIMIT_SWEEP_SECONDS = 60


async def sweep_rate_limits(app: Litestar) -> None:
    """Run for the app's lifetime (its lifespan starts and cancels it)."""
    store = app.stores.get("rate_limit")
    while True:
        await asyncio.sleep(RATE_LIMIT_SWEEP_SECONDS)
        delete_expired = getattr(store, "delete_expired", None)
        if delete_expired is not None:
            await delete_expired()
