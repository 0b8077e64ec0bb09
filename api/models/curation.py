"""Curation: submissions, reviewers' decisions, a listing's history and the changes feed.

Why a module of its own: the four-eyes workflow (``api.services.curation``) reads and writes
only these shapes, plus the listing document they carry.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from api.models.common import Base, HttpsUrl, Note, Slug, Timestamp
from api.models.countries import CountryDocument
from api.models.listings import Listing

__all__ = [
    "BaseRevision",
    "Change",
    "ChangePage",
    "CountryRevision",
    "CountryRevisionPage",
    "CountrySubmission",
    "CreateSubmission",
    "Decision",
    "DecisionCreate",
    "FieldChange",
    "ListingRevision",
    "ListingRevisionPage",
    "RetireSubmission",
    "Sources",
    "Submission",
    "SubmissionCreate",
    "SubmissionPage",
    "UpdateSubmission",
    "VerifySubmission",
]

BaseRevision = Annotated[int, Meta(ge=1, description="The listing revision this change was made from.")]
Sources = Annotated[list[HttpsUrl], Meta(min_length=1, max_length=20, description="Where the change can be checked.")]


class CreateSubmission(Base, kw_only=True, tag_field="action", tag="create"):
    """Propose a new listing."""

    listing: Listing
    note: Note
    sources: Sources


class UpdateSubmission(Base, kw_only=True, tag_field="action", tag="update"):
    """Propose a listing's new content: the whole document as it should become."""

    listing_id: Slug
    base_revision: BaseRevision
    listing: Listing
    note: Note
    sources: Sources


class RetireSubmission(Base, kw_only=True, tag_field="action", tag="retire"):
    """Propose taking a listing down (it stays in the history and the feed)."""

    listing_id: Slug
    base_revision: BaseRevision
    note: Note
    sources: Sources


class VerifySubmission(Base, kw_only=True, tag_field="action", tag="verify"):
    """Say that you re-checked a listing against its sources today and it still stands."""

    # Once a second person approves, verification.verified_at becomes the day of the submission
    # (the server's date) and the review dates those given; nothing else in the listing changes.

    listing_id: Slug
    base_revision: BaseRevision
    next_review_at: dt.date
    """When to look again; not before today."""
    review_by: dt.date | None = None
    """Required for a petition without `closes_at` (its new deadline), refused for any other listing."""
    note: Note
    sources: Sources


class CountrySubmission(Base, kw_only=True, tag_field="action", tag="country"):
    """Propose a country's whole document (its advisories) as it should become."""

    country: CountryDocument
    base_revision: Annotated[
        int,
        Meta(ge=1, description="The country document's revision this change was made from; "
             "leave it out for a country that has none yet."),
    ] | None = None
    note: Note
    sources: Sources


#: A submission's body, told apart by its ``action``.
SubmissionCreate = CreateSubmission | UpdateSubmission | RetireSubmission | VerifySubmission | CountrySubmission


class FieldChange(msgspec.Struct, kw_only=True):
    """One field that a submission changes, as a dotted path into the listing document."""

    field: str
    before: Annotated[object, Meta(extra_json_schema={"description": "The value now (null if absent)."})] = None
    after: Annotated[object, Meta(extra_json_schema={"description": "The proposed value (null if removed)."})] = None


class Decision(msgspec.Struct, kw_only=True):
    """A reviewer's decision on a submission."""

    decision: Literal["approve", "reject"]
    reason: str
    decided_at: Timestamp
    decided_by: str | None = None
    """The reviewer's token name; shown to reviewers only."""
    applied_revision: int | None = None
    """The listing (or country document) revision the approval created."""


class Submission(msgspec.Struct, kw_only=True):
    """A submission as curators and reviewers see it."""

    id: int
    action: Literal["create", "update", "retire", "verify", "country"]
    listing_id: str
    """The listing it is about; `countries/<CC>` for a country document (`action: country`)."""
    base_revision: int | None
    status: Literal["pending", "approved", "rejected"]
    note: str
    sources: list[str]
    submitted_at: Timestamp
    mine: bool
    """True when the token asking belongs to the person who submitted it."""
    submitted_by: str | None = None
    """The submitter's token name; shown to reviewers only."""
    listing: Listing | None = None
    country: CountryDocument | None = None
    """The proposed country document (`action: country`)."""
    decision: Decision | None = None
    current_revision: int | None = None
    """The listing's (or country document's) revision now (null if it does not exist);
    compare with base_revision."""
    diff: list[FieldChange] | None = None
    """Field-by-field changes against the current revision (single-submission view only)."""


class SubmissionPage(msgspec.Struct, kw_only=True):
    data: list[Submission]
    next_cursor: str | None


class DecisionCreate(Base, kw_only=True):
    decision: Literal["approve", "reject"]
    reason: Note


class ListingRevision(msgspec.Struct, kw_only=True):
    """One accepted change of a listing: what changed and when (never who)."""

    revision: int
    action: Literal["create", "update", "retire"]
    at: Timestamp
    changed: list[str]
    """Fields that differ from the previous revision (dotted paths)."""
    listing: Listing


class ListingRevisionPage(msgspec.Struct, kw_only=True):
    data: list[ListingRevision]
    next_cursor: str | None = None


class Change(msgspec.Struct, kw_only=True):
    """An entry of the changes feed. Apply in order: create/update put `listing`, retire removes it."""

    seq: int
    listing_id: str
    revision: int
    action: Literal["create", "update", "retire"]
    at: Timestamp
    listing: Listing | None
    """The listing document after the change; null for a retirement."""


class ChangePage(msgspec.Struct, kw_only=True):
    data: list[Change]
    next_cursor: str
    """Pass as `since` to get what comes after; it is returned even on the last page, so a
    mirror can poll with it."""
    dataset_revision: int


class CountryRevision(msgspec.Struct, kw_only=True):
    """One accepted change of a country document: what changed and when (never who)."""

    revision: int
    action: Literal["create", "update", "retire"]
    at: Timestamp
    changed: list[str]
    """Fields that differ from the previous revision (dotted paths; `advisories` as a whole)."""
    country: CountryDocument


class CountryRevisionPage(msgspec.Struct, kw_only=True):
    data: list[CountryRevision]
    next_cursor: str | None = None
