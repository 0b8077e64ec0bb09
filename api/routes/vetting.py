"""Reviewers' view of what needs attention, and the one action the lifecycle rules need.

A listing whose link failed twice in a row leaves the default public lists ("unverified")
until a reviewer acts: approving a change to it, or releasing the hold here after checking
the link by hand.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody, Parameter

from api import curation
from api.auth import Identity, requires
from api.models import (
    ClosingPetition,
    HoldRelease,
    HoldReleased,
    LinkProblem,
    OverdueReview,
    VettingCounts,
    VettingSummary,
)
from api.problems import problem_responses
from api.routes.curation import NO_STORE, SECURITY, WriterDep, report_view
from api.routes.public import Reader
from api.store import Store

__all__ = ["build_summary", "vetting_handlers"]

IdentityDep = NamedDependency[Identity]
ReaderDep = NamedDependency[Reader]

CLOSING_SOON = dt.timedelta(days=14)
RECENTLY_CLOSED = dt.timedelta(days=30)


def build_summary(store: Store, today: dt.date) -> VettingSummary:
    overdue, problems, closing = [], [], []
    for row in store.iter_listings():
        doc = row.document
        if doc.verification.next_review_at < today:
            overdue.append(
                OverdueReview(
                    listing_id=row.id,
                    next_review_at=doc.verification.next_review_at,
                    days_overdue=(today - doc.verification.next_review_at).days,
                )
            )
        closes_at = doc.petition.closes_at if doc.petition else None
        if closes_at is not None and today - RECENTLY_CLOSED <= closes_at <= today + CLOSING_SOON:
            closing.append(ClosingPetition(listing_id=row.id, closes_at=closes_at, days_left=(closes_at - today).days))
        latest = store.list_link_checks(row.id, limit=1)
        if latest and (latest[0].status != "ok" or latest[0].needs_review or row.link_hold):
            check = latest[0]
            problems.append(
                LinkProblem(
                    listing_id=row.id,
                    url=doc.url,
                    status=check.status,  # type: ignore[arg-type]
                    http_status=check.http_status,
                    final_url=check.final_url,
                    checked_at=check.checked_at,
                    consecutive_failures=store.consecutive_broken(row.id),
                    held=row.link_hold,
                    needs_review=check.needs_review,
                    detail=check.detail,
                )
            )
    overdue.sort(key=lambda o: (-o.days_overdue, o.listing_id))
    closing.sort(key=lambda c: (c.closes_at, c.listing_id))
    reports = [report_view(r) for r in store.list_reports(status="open", after_id=None, limit=1000)]
    return VettingSummary(
        as_of=today,
        counts=VettingCounts(
            overdue_reviews=len(overdue),
            link_problems=len(problems),
            held=sum(p.held for p in problems),
            closing_petitions=len(closing),
            open_reports=len(reports),
        ),
        overdue_reviews=overdue,
        link_problems=problems,
        closing_petitions=closing,
        open_reports=reports,
    )


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
    return Response(build_summary(reader.store, reader.today()), headers=NO_STORE)


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
    curation.check_free_text("reason", data.reason)
    today = reader.today()

    def write(store: Store) -> str:
        with store.transaction():
            row = store.get_listing(listing_id)
            if row is None or row.status == "retired":
                raise NotFoundException(detail=f"no listing with id {listing_id!r}")
            if not store.release_link_hold(listing_id):
                raise curation.Conflict(f"listing {listing_id!r} is not held")
            store.add_audit(
                actor=identity.name, action="hold.release", target=f"listing:{listing_id}", details={"reason": data.reason}
            )
        released = store.get_listing(listing_id)
        assert released is not None
        return released.public_status(today)

    status = await writer.run(write)
    return Response(HoldReleased(listing_id=listing_id, status=status), headers=NO_STORE)  # type: ignore[arg-type]


vetting_handlers = [vetting_summary, release_hold]
