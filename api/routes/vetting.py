"""Reviewers' view of what needs attention, and the one action the lifecycle rules need.

Thin adapters over ``api.services.vetting``.

A listing whose link failed twice in a row leaves the default public lists ("unverified")
until a reviewer acts: approving a change to it, or releasing the hold here after checking
the link by hand.
"""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.params import JSONBody

from api.http.guards import requires
from api.http.openapi import SECURITY
from api.http.params import ListingIdPath
from api.http.problems import problem_responses
from api.models import HoldRelease, HoldReleased, VettingSummary
from api.routes.common import NO_STORE, IdentityDep, ReaderDep, WriterDep
from api.services import vetting

__all__ = ["VettingController"]


class VettingController(Controller):
    """What needs a reviewer, for reviewers."""

    path = "/v1/vetting"
    tags = ["vetting"]
    guards = [requires("reviewer")]
    security = SECURITY

    @get(
        "/summary",
        summary="What needs a reviewer",
        description="Overdue reviews, link problems (held listings first among them), petitions closing "
        "soon or recently closed, and open reports, as of today (UTC).",
        responses=problem_responses(400, 401, 403),
    )
    async def get_vetting_summary(self, reader: ReaderDep) -> Response[VettingSummary]:
        return Response(vetting.build_summary(reader.store, reader.today()), headers=NO_STORE)

    @post(
        "/holds/{listing_id:str}/release",
        summary="Release a link hold",
        description="After checking a held listing's link by hand, a reviewer puts it back in the default "
        "lists. 409 when the listing is not held.",
        status_code=200,
        responses=problem_responses(400, 401, 403, 404, 409),
    )
    async def release_hold(
        self, reader: ReaderDep, writer: WriterDep, identity: IdentityDep, listing_id: ListingIdPath, data: JSONBody[HoldRelease],
    ) -> Response[HoldReleased]:
        today = reader.today()
        status = await writer.run(lambda store: vetting.release_hold(store, identity, listing_id, data.reason, today))
        return Response(HoldReleased(listing_id=listing_id, status=status), headers=NO_STORE)  # type: ignore[arg-type]
