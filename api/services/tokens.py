"""Tokens: minting, listing and revoking the bearer tokens curators, reviewers and admins use.

Shared by the API (``/v1/tokens``) and the CLI (``actiondir token``), so both apply the same
name rules and write the same audit records. Only a token's hash is ever stored.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from api.credentials import generate_token, hash_token
from api.errors import Conflict, Invalid, NotFound
from api.identity import look_alike_of
from api.models import TokenCreate
from api.store import Store, TokenRow

__all__ = ["create_token", "list_tokens", "revoke_token", "token_state"]


def create_token(store: Store, *, name: str, role: str, expires_in_days: int | None, actor: str) -> tuple[str, TokenRow]:
    """Mint a token; only its hash is stored.

    The name is validated as the API validates it: it identifies a person for the four-eyes
    rule (``api.identity``), so "Ana" and "ANA" are one person, and a name that merely looks
    like another person's ("IoIa" for "Lola") is refused.
    """
    try:
        msgspec.convert({"name": name, "role": role}, TokenCreate)
    except msgspec.ValidationError as exc:
        raise Invalid([("name", str(exc))]) from None
    token = generate_token()
    expires_at = store.now() + dt.timedelta(days=expires_in_days) if expires_in_days else None
    with store.transaction():
        twin = look_alike_of(name, {row.name for row in store.tokens.all()})
        if twin is not None:
            raise Invalid([("name", (
                f"{name!r} looks like {twin!r}, a different person's name: use exactly the same name for "
                "the same person, or a name that cannot be mistaken for it (e.g. add a surname)"))])
        token_id = store.tokens.add(name=name, role=role, token_hash=hash_token(token), expires_at=expires_at)
        store.audit.add(actor=actor, action="token.create", target=f"token:{token_id}",
                        details={"name": name, "role": role, "expires_at": expires_at.isoformat() if expires_at else None})
    row = store.tokens.get(token_id)
    assert row is not None
    return token, row


def list_tokens(store: Store) -> list[TokenRow]:
    """Every token's record, oldest first (never a secret: only hashes are stored)."""
    return store.tokens.all()


def token_state(row: TokenRow, now: dt.datetime) -> str:
    """``revoked``, ``expired`` or ``active`` as of ``now`` (the clock the API's expiry check uses)."""
    if row.revoked_at:
        return "revoked"
    return "expired" if row.expires_at and row.expires_at <= now else "active"


def revoke_token(store: Store, token_id: int, *, actor: str) -> TokenRow:
    """From now on the token answers 401; revoking twice is a conflict, not a silent success."""
    with store.transaction():
        row = store.tokens.get(token_id)
        if row is None:
            raise NotFound(f"no token {token_id}")
        if not store.tokens.revoke(token_id):
            raise Conflict(f"token {token_id} is already revoked")
        store.audit.add(actor=actor, action="token.revoke", target=f"token:{token_id}", details={"name": row.name})
    revoked = store.tokens.get(token_id)
    assert revoked is not None
    return revoked
