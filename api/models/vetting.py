"""Vetting: what needs a reviewer's attention (overdue reviews, link problems, closing
petitions, open reports) and releasing a listing held back by its link checks.

Why a module of its own: ``api.services.vetting`` builds these from the store alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from api.models.common import Base, Note, Timestamp
from api.models.reports import Report

__all__ = [
    "ClosingPetition",
    "HoldRelease",
    "HoldReleased",
    "LinkProblem",
    "OverdueReview",
    "VettingCounts",
    "VettingSummary",
]


class OverdueReview(msgspec.Struct, kw_only=True):
    listing_id: str
    next_review_at: dt.date
    days_overdue: int
    review_by: dt.date | None = None
    """For a petition without a closing day: the last day it stays in the default lists unless
    re-verified (`action: verify` submission); past it, it is `unverified`."""


class LinkProblem(msgspec.Struct, kw_only=True):
    """A listing whose latest link check failed or needs a human look."""

    listing_id: str
    url: str
    status: Literal["ok", "redirected", "broken", "unreachable"]
    http_status: int | None
    final_url: str | None
    checked_at: Timestamp
    consecutive_failures: int
    held: bool
    """Out of the default public lists until a reviewer releases it (or approves a change)."""
    needs_review: bool
    detail: str


class ClosingPetition(msgspec.Struct, kw_only=True):
    listing_id: str
    closes_at: dt.date
    days_left: int
    """Negative once closed."""


class VettingCounts(msgspec.Struct, kw_only=True):
    overdue_reviews: int
    link_problems: int
    held: int
    closing_petitions: int
    open_reports: int


class VettingSummary(msgspec.Struct, kw_only=True):
    """Everything that needs a reviewer, as of one day."""

    as_of: dt.date
    counts: VettingCounts
    overdue_reviews: list[OverdueReview]
    link_problems: list[LinkProblem]
    closing_petitions: list[ClosingPetition]
    """Petitions closing in the next 14 days or closed in the last 30."""
    open_reports: list[Report]


class HoldRelease(Base, kw_only=True):
    reason: Note


class HoldReleased(msgspec.Struct, kw_only=True):
    listing_id: str
    status: Literal["active", "closed", "unverified"]
    """`unverified` when the listing is also a petition past its `review_by`."""
