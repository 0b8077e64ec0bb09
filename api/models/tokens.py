"""Bearer tokens for curators, reviewers and admins.

Why a module of its own: ``api.services.tokens`` and the admin routes are the only readers,
and a token's secret appears in one shape alone (``TokenCreated``).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from api.models.common import Base, Timestamp

__all__ = [
    "Role",
    "TokenCreate",
    "TokenCreated",
    "TokenInfo",
    "TokenPage",
]

#: What a token may do; roles are ordered, curator < reviewer < admin (see ``api.http.guards``).
Role = Literal["curator", "reviewer", "admin"]


class TokenCreate(Base, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9 ._@-]*[A-Za-z0-9._@-])?\Z", description="The person this token belongs to (no leading or trailing space).")]
    role: Role
    expires_in_days: Annotated[int, Meta(ge=1, le=3650)] | None = None


class TokenInfo(msgspec.Struct, kw_only=True):
    """A token's record; the secret itself is never shown again after creation."""

    id: int
    name: str
    role: Role
    created_at: Timestamp
    expires_at: Timestamp | None
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None


class TokenCreated(TokenInfo, kw_only=True):
    token: str
    """The bearer token. Shown once: store it now."""


class TokenPage(msgspec.Struct, kw_only=True):
    data: list[TokenInfo]
    next_cursor: str | None = None
