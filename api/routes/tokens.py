"""Tokens: admins mint, list and revoke curators' and reviewers' tokens (api/services/tokens.py)."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.params import JSONBody

from api.http.guards import requires
from api.http.openapi import SECURITY
from api.http.params import IdPath
from api.http.problems import problem_responses
from api.models import TokenCreate, TokenCreated, TokenInfo, TokenPage
from api.routes.common import NO_STORE, IdentityDep, StoreDep, WriterDep
from api.services import tokens
from api.store import TokenRow

__all__ = ["TokensController", "token_info"]


def token_info(row: TokenRow) -> TokenInfo:
    """A token's record as the API shows it: never the secret, nor its hash."""
    return TokenInfo(
        id=row.id,
        name=row.name,
        role=row.role,  # type: ignore[arg-type]
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class TokensController(Controller):
    """Token management, for admins."""

    path = "/v1/tokens"
    tags = ["tokens"]
    guards = [requires("admin")]
    security = SECURITY

    @post(
        "/",
        summary="Create a token",
        description="Admins mint tokens for curators and reviewers. The token is in this answer only.",
        status_code=201,
        responses=problem_responses(400, 401, 403),
    )
    async def create_token(self, writer: WriterDep, identity: IdentityDep, data: JSONBody[TokenCreate]) -> Response[TokenCreated]:
        token, row = await writer.run(
            lambda store: tokens.create_token(
                store, name=data.name, role=data.role, expires_in_days=data.expires_in_days, actor=identity.name
            )
        )
        info = token_info(row)
        created = TokenCreated(token=token, **{f: getattr(info, f) for f in info.__struct_fields__})
        return Response(created, status_code=201, headers=NO_STORE)

    @get(
        "/",
        summary="List tokens",
        description="Every token's record (never the secret).",
        responses=problem_responses(400, 401, 403),
    )
    async def list_tokens(self, store: StoreDep) -> Response[TokenPage]:
        return Response(TokenPage(data=[token_info(r) for r in tokens.list_tokens(store)]), headers=NO_STORE)

    @post(
        "/{token_id:int}/revocation",
        summary="Revoke a token",
        description="From now on the token answers 401.",
        status_code=200,
        responses=problem_responses(400, 401, 403, 404, 409),
    )
    async def revoke_token(self, writer: WriterDep, identity: IdentityDep, token_id: IdPath) -> Response[TokenInfo]:
        row = await writer.run(lambda store: tokens.revoke_token(store, token_id, actor=identity.name))
        return Response(token_info(row), headers=NO_STORE)
