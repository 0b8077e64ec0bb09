"""Tokens and who they stand for, without the web: the part of the guards services need.

Why this shape (see api/http/guards.py for the guards): a token is 32 random bytes, shown once, and
only its SHA-256 is stored; roles are ordered, curator < reviewer < admin; a person is the
token's name as ``api.identity.person_key`` reads it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

__all__ = ["ROLES", "TOKEN_PREFIX", "Identity", "Role", "generate_token", "hash_token", "tokens_equal"]

Role = Literal["curator", "reviewer", "admin"]
ROLES: tuple[Role, ...] = ("curator", "reviewer", "admin")
TOKEN_PREFIX = "ad_"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is acting: the token's row id, its name, the person it stands for, and role."""

    token_id: int
    name: str
    role: Role
    person: str
    """The four-eyes identity (``api.identity.person_key`` of the name); compare this, not names."""

    def at_least(self, role: Role) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def generate_token() -> str:
    """A new bearer token: a recognizable prefix and 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(stored_hash: str, token: str) -> bool:
    return hmac.compare_digest(stored_hash, hash_token(token))
