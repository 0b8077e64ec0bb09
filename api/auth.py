"""Bearer tokens, roles and the guards that enforce them.

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
"""

from __future__ import annotations

import datetime as dt

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from api.credentials import ROLES, Identity, Role, generate_token, hash_token, tokens_equal

__all__ = [
    "identity_from_headers",
    "requires",
    "bearer_token",
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
