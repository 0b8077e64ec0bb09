"""Vetting: what needs a reviewer's attention, and releasing a link hold.

A listing whose link failed twice in a row leaves the default public lists ("unverified")
until a reviewer acts: approving a change to it, or releasing the hold here after checking
the link by hand.
"""

from __future__ import annotations

import datetime as dt

from api.credentials import Identity
from api.errors import Conflict, NotFound
from api.models import (
    ClosingPetition,
    LinkProblem,
    OverdueReview,
    VettingCounts,
    VettingSummary,
)
from api.services.curation import check_free_text
from api.services.reports import report_view
from api.store import Store, review_deadline

__all__ = ["build_summary", "release_hold", "CLOSING_SOON", "RECENTLY_CLOSED"]

CLOSING_SOON = dt.timedelta(days=14)
RECENTLY_CLOSED = dt.timedelta(days=30)


def build_summary(store: Store, today: dt.date) -> VettingSummary:
    """What needs a reviewer, in a fixed number of queries however many listings there are;
    every open report is in it (and counted), not the first page of them."""
    overdue, problems, closing = [], [], []
    latest_checks = store.link_checks.latest()
    for row in store.listings.each():
        doc = row.document
        if doc.verification.next_review_at < today:
            overdue.append(
                OverdueReview(
                    listing_id=row.id,
                    next_review_at=doc.verification.next_review_at,
                    days_overdue=(today - doc.verification.next_review_at).days,
                    review_by=review_deadline(doc),
                )
            )
        closes_at = doc.petition.closes_at if doc.petition else None
        if closes_at is not None and today - RECENTLY_CLOSED <= closes_at <= today + CLOSING_SOON:
            closing.append(ClosingPetition(listing_id=row.id, closes_at=closes_at, days_left=(closes_at - today).days))
        check = latest_checks.get(row.id)
        if check is not None and (check.status != "ok" or check.needs_review or row.link_hold):
            problems.append(
                LinkProblem(
                    listing_id=row.id,
                    url=doc.url,
                    status=check.status,
                    http_status=check.http_status,
                    final_url=check.final_url,
                    checked_at=check.checked_at,
                    consecutive_failures=check.consecutive_failures,
                    held=row.link_hold,
                    needs_review=check.needs_review,
                    detail=check.detail,
                )
            )
    overdue.sort(key=lambda o: (-o.days_overdue, o.listing_id))
    closing.sort(key=lambda c: (c.closes_at, c.listing_id))
    reports = [report_view(r) for r in store.reports.page(status="open", after_id=None, limit=None)]
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


def release_hold(store: Store, identity: Identity, listing_id: str, reason: str, today: dt.date) -> str:
    """Put a held listing back in the default lists; answers its public status as of ``today``."""
    check_free_text("reason", reason)
    with store.transaction():
        row = store.listings.get(listing_id)
        if row is None or row.status == "retired":
            raise NotFound(f"no listing with id {listing_id!r}")
        if not store.link_checks.release_hold(listing_id):
            raise Conflict(f"listing {listing_id!r} is not held")
        store.audit.add(actor=identity.name, action="hold.release", target=f"listing:{listing_id}", details={"reason": reason})
    released = store.listings.get(listing_id)
    assert released is not None
    return released.public_status(today)
