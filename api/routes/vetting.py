"""Reviewers' view of what needs attention, and the one action the lifecycle rules need.

Thin adapters over ``api.services.vetting``.

A listing whose link failed twice in a row leaves the default public lists ("unverified")
until a reviewer acts: approving a change to it, or releasing the hold here after checking
the link by hand.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from api.auth import requires
from api.credentials import Identity
from api.models import HoldRelease, HoldReleased, VettingSummary
from api.problems import problem_responses
from api.routes.curation import NO_STORE, SECURITY, WriterDep
from api.routes.public import Reader
from api.services import vetting

__all__ = ["vetting_handlers", "IdentityDep", "ReaderDep", "release_hold", "vetting_summary"]

IdentityDep = NamedDependency[Identity]
ReaderDep = NamedDependency[Reader]


@get(
    "/v1/vetting/summary",
    guards=[requires("reviewer")],
    sync_to_thread=False,
    summary="What needs a reviewer",
    description="Overdue reviews, link problems (held listings first among them), petitions closing "
    "soon or recently closed, and open reports, as of today (UTC).",
    responses=problem_responses(400, 401, 403),
    security=SECURITY,
    tags=["vetting"],
)
def vetting_summary(reader: ReaderDep) -> Response[VettingSummary]:
    return Response(vetting.build_summary(reader.store, reader.today()), headers=NO_STORE)


@post(
    "/v1/vetting/holds/{listing_id:str}/release",
    guards=[requires("reviewer")],
    summary="Release a link hold",
    description="After checking a held listing's link by hand, a reviewer puts it back in the default "
    "lists. 409 when the listing is not held.",
    status_code=200,
    responses=problem_responses(400, 401, 403, 404, 409),
    security=SECURITY,
    tags=["vetting"],
)
async def release_hold(
    reader: ReaderDep,
    writer: WriterDep,
    identity: IdentityDep,
    listing_id: Annotated[str, Parameter(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*\Z", max_length=80)],
    data: JSONBody[HoldRelease],
) -> Response[HoldReleased]:
    today = reader.today()
    status = await writer.run(lambda store: vetting.release_hold(store, identity, listing_id, data.reason, today))
    return Response(HoldReleased(listing_id=listing_id, status=status), headers=NO_STORE)  # type: ignore[arg-type]


vetting_handlers = [vetting_summary, release_hold]
