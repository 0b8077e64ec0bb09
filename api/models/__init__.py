"""The v1 contract's shapes as msgspec Structs.

One struct, ``Listing``, validates every write path: a file in ``directory_data/listings/``,
(later) the ``listing`` of a curator submission, and an item of ``/v1/dataset``. Constraints
live in the types so they show up in the OpenAPI schema too; rules a type cannot express
(known country codes, known topics, id matching its file name) live in ``api.validation``.

Policy for every struct (see msgspec's ``docs/structs.rst``):

- ``forbid_unknown_fields=True``: a misspelt field is an error, never silently dropped;
- ``kw_only=True``: required and optional fields can be declared in any order (msgspec does
  not inherit this option, so every subclass repeats it);
- ``omit_defaults=True``: optional blocks that are absent stay absent when encoded, so an
  export writes back what the curator wrote.

Every ``pattern`` ends in ``\\Z``, never ``$``: msgspec applies patterns with ``re.search``,
and Python's ``$`` also matches before a final newline, so ``"ru\\n"`` would pass ``^[a-z]+$``.
The published spec shows ``\\Z`` as ECMA-262's ``$`` (see ``api.messages.ecma_pattern``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = [
    "COUNTRY_WORLDWIDE",
    "Contact",
    "Country",
    "CountryCounts",
    "DatasetInfo",
    "DonationBlock",
    "Health",
    "LinkCheck",
    "Listing",
    "ListingLabels",
    "ListingPage",
    "ListingView",
    "OrganizationBlock",
    "PetitionBlock",
    "Page",
    "TopicPage",
    "DatasetItem",
    "Topic",
    "TopicFile",
    "TopicView",
    "Translation",
    "Verification",
]

#: The pseudo country code (ISO 3166-1 reserves ``XX`` for user assignment) that marks a
#: listing as serving people anywhere. It never combines with real codes.
COUNTRY_WORLDWIDE = "XX"

Slug = Annotated[
    str,
    Meta(
        min_length=2,
        max_length=80,
        pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z",
        description="Lower-case ASCII letters and digits separated by single hyphens.",
        examples=["ru-russian-lgbt-network"],
    ),
]
CountryCode = Annotated[
    str,
    Meta(
        pattern=r"^[A-Z]{2}\Z",
        description="ISO 3166-1 alpha-2 code, upper case; `XX` means worldwide.",
        examples=["RU"],
    ),
]
#: language[-Script][-REGION] in canonical case.
LANGUAGE_TAG_PATTERN = r"^[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?\Z"
LanguageTag = Annotated[
    str,
    Meta(
        min_length=2,
        max_length=16,
        pattern=LANGUAGE_TAG_PATTERN,
        description="BCP 47 language tag in canonical case: language, optional script, "
        "optional region (`en`, `pt-BR`, `zh-Hant`, `es-419`).",
        examples=["pt-BR"],
    ),
]
HttpsUrl = Annotated[
    str,
    Meta(
        min_length=9,
        max_length=2048,
        pattern=r"^https://",
        description="An absolute `https://` URL.",
        examples=["https://lgbtnet.org/"],
    ),
]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
Summary = Annotated[str, Meta(min_length=1, max_length=2000)]
ShortText = Annotated[str, Meta(min_length=1, max_length=300)]
Kind = Literal["donation", "petition", "organization"]
Service = Literal[
    "advocacy",
    "asylum-support",
    "community",
    "documentation",
    "emergency-relocation",
    "evacuation",
    "financial-aid",
    "health",
    "hotline",
    "information",
    "legal-aid",
    "psychological-support",
    "shelter",
]
ContactChannel = Literal["email", "phone", "web", "telegram", "signal", "whatsapp"]


class Base(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Shared policy; see the module docstring."""


# --- The listing document (one shape for every write path) ---------------------------------


class Translation(Base, kw_only=True):
    """A listing's title and summary in one language. Plain text, never HTML."""

    title: Title
    summary: Summary


class PetitionBlock(Base, kw_only=True):
    """What only a petition has."""

    target: ShortText | None = None
    """Who the petition addresses."""
    closes_at: dt.date | None = None
    """Last day it collects signatures, when the organizer publishes one."""


class DonationBlock(Base, kw_only=True):
    """What only a donation link has."""

    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}\Z", description="ISO 4217 code.")] | None = None
    purpose: ShortText | None = None
    """What the money does, in plain English."""


class Contact(Base, kw_only=True):
    """One published way to reach an organization."""

    channel: ContactChannel
    value: ShortText
    note: ShortText | None = None


class OrganizationBlock(Base, kw_only=True):
    """What only an organization has."""

    services: list[Service] = []
    contacts: list[Contact] = []


class Verification(Base, kw_only=True):
    """When a curator last checked the listing against its sources, and when to look again."""

    verified_at: dt.date
    next_review_at: dt.date
    sources: Annotated[list[HttpsUrl], Meta(min_length=1, max_length=20)]


class Listing(Base, kw_only=True):
    """The listing document: what curators write and the importer reads."""

    id: Slug
    kind: Kind
    url: HttpsUrl
    countries: Annotated[list[CountryCode], Meta(min_length=1, max_length=250)]
    topics: Annotated[list[Slug], Meta(min_length=1, max_length=20)]
    languages: Annotated[list[LanguageTag], Meta(min_length=1, max_length=40)]
    """Languages the resource behind `url` itself is published in."""
    translations: Annotated[dict[LanguageTag, Translation], Meta(min_length=1, max_length=40)]
    verification: Verification
    petition: PetitionBlock | None = None
    donation: DonationBlock | None = None
    organization: OrganizationBlock | None = None


class Topic(Base, kw_only=True):
    """One entry of the curated topic taxonomy (``directory_data/topics.toml``)."""

    id: Slug
    labels: Annotated[dict[LanguageTag, Title], Meta(min_length=1)]


class TopicFile(Base, kw_only=True):
    """The whole ``topics.toml`` file."""

    topic: Annotated[list[Topic], Meta(min_length=1)]


# --- Response shapes -------------------------------------------------------------------------


class LinkCheck(Base, kw_only=True):
    """The latest automated check of `url`; `unchecked` until the link checker has run."""

    status: Literal["unchecked", "ok", "redirected", "broken", "unreachable"] = "unchecked"
    checked_at: dt.datetime | None = None


class ListingLabels(msgspec.Struct, kw_only=True):
    """Display names for the codes in a listing, in one language (CLDR and the taxonomy)."""

    lang: str
    """Language of the country and language names."""
    countries: dict[str, str]
    languages: dict[str, str]
    topics: dict[str, str]
    """Topic labels, each in the best language the taxonomy has for the request."""
    topic_langs: dict[str, str]
    """The language of each topic label (it can differ from `lang` when the taxonomy lacks one)."""


class ListingView(msgspec.Struct, kw_only=True):
    """A listing as the public API serves it: one language chosen for title and summary."""

    id: str
    kind: Kind
    title: str
    summary: str
    lang: str
    """Language of `title` and `summary`."""
    url: str
    countries: list[str]
    topics: list[str]
    languages: list[str]
    """Languages the resource itself is published in."""
    translations: list[str]
    """Languages in which this listing's title and summary exist here."""
    status: Literal["active", "closed", "unverified", "retired"]
    """`closed`: a petition past its `closes_at`; `unverified`: its link failed twice in a row
    and no reviewer has acted yet. Neither is in the default lists (see `include`)."""
    verification: Verification
    review_overdue: bool
    """True when `verification.next_review_at` has passed: a curator should look again."""
    link_check: LinkCheck
    revision: int
    """This listing's own revision number; it moves on every accepted change."""
    updated_at: dt.datetime
    labels: ListingLabels
    petition: PetitionBlock | None = None
    donation: DonationBlock | None = None
    organization: OrganizationBlock | None = None


class ListingPage(msgspec.Struct, kw_only=True):
    """One page of listings; follow `next_cursor` until it is null."""

    data: list[ListingView]
    next_cursor: str | None


class CountryCounts(msgspec.Struct, kw_only=True):
    """Active listings per kind that serve this country specifically (worldwide ones excluded)."""

    donation: int
    petition: int
    organization: int
    total: int


class Country(msgspec.Struct, kw_only=True):
    """A country with listings; names come from CLDR."""

    code: str
    name: str
    lang: str
    """Language of `name`."""
    worldwide: bool
    """True only for the pseudo-country `XX`, which holds listings for people anywhere."""
    counts: CountryCounts


class Page(msgspec.Struct, kw_only=True):
    """A list envelope whose items are countries."""

    data: list[Country]
    next_cursor: str | None = None


class TopicView(msgspec.Struct, kw_only=True):
    """A topic with its label in the negotiated language."""

    id: str
    label: str
    lang: str
    labels: dict[str, str]
    """Every label the taxonomy has, by language."""
    listing_count: int


class TopicPage(msgspec.Struct, kw_only=True):
    """The topic taxonomy in the list envelope."""

    data: list[TopicView]
    next_cursor: str | None = None


class DatasetItem(msgspec.Struct, kw_only=True):
    """An item of `/v1/dataset`: the listing document plus server-owned fields."""

    listing: Listing
    status: Literal["active", "closed", "unverified", "retired"]
    revision: int
    updated_at: dt.datetime


class DatasetInfo(msgspec.Struct, kw_only=True):
    """The whole public dataset in one document."""

    revision: int
    license: str
    topics: list[Topic]
    listings: list[DatasetItem]


class Health(msgspec.Struct, kw_only=True):
    """Liveness and what data the process serves."""

    status: Literal["ok"]
    revision: int
    listings: int


# --- Curation: request and response shapes -----------------------------------------------------

Note = Annotated[str, Meta(min_length=1, max_length=2000, description="Plain text.")]
Role = Literal["curator", "reviewer", "admin"]


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


#: A submission's body, told apart by its ``action``.
SubmissionCreate = CreateSubmission | UpdateSubmission | RetireSubmission


class FieldChange(msgspec.Struct, kw_only=True):
    """One field that a submission changes, as a dotted path into the listing document."""

    field: str
    before: Annotated[object, Meta(extra_json_schema={"description": "The value now (null if absent)."})] = None
    after: Annotated[object, Meta(extra_json_schema={"description": "The proposed value (null if removed)."})] = None


class Decision(msgspec.Struct, kw_only=True):
    """A reviewer's decision on a submission."""

    decision: Literal["approve", "reject"]
    reason: str
    decided_at: dt.datetime
    decided_by: str | None = None
    """The reviewer's token name; shown to reviewers only."""
    applied_revision: int | None = None
    """The listing revision the approval created."""


class Submission(msgspec.Struct, kw_only=True):
    """A submission as curators and reviewers see it."""

    id: int
    action: Literal["create", "update", "retire"]
    listing_id: str
    base_revision: int | None
    status: Literal["pending", "approved", "rejected"]
    note: str
    sources: list[str]
    submitted_at: dt.datetime
    mine: bool
    """True when the token asking belongs to the person who submitted it."""
    submitted_by: str | None = None
    """The submitter's token name; shown to reviewers only."""
    listing: Listing | None = None
    decision: Decision | None = None
    current_revision: int | None = None
    """The listing's revision now (null if it does not exist); compare with base_revision."""
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
    at: dt.datetime
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
    at: dt.datetime
    listing: Listing | None
    """The listing document after the change; null for a retirement."""


class ChangePage(msgspec.Struct, kw_only=True):
    data: list[Change]
    next_cursor: str
    """Pass as `since` to get what comes after; it is returned even on the last page, so a
    mirror can poll with it."""
    dataset_revision: int


class ReportCreate(Base, kw_only=True):
    reason: Literal["broken_link", "outdated", "suspicious", "other"]
    details: Annotated[str, Meta(max_length=2000, description="Plain text.")] | None = None


class ReportReceipt(msgspec.Struct, kw_only=True):
    id: int
    status: Literal["open"]


class Report(msgspec.Struct, kw_only=True):
    id: int
    listing_id: str
    reason: Literal["broken_link", "outdated", "suspicious", "other"]
    details: str | None
    status: Literal["open", "resolved"]
    created_at: dt.datetime
    resolved_at: dt.datetime | None = None
    resolution: str | None = None


class ReportPage(msgspec.Struct, kw_only=True):
    data: list[Report]
    next_cursor: str | None


class ReportResolution(Base, kw_only=True):
    resolution: Note


class TokenCreate(Base, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9 ._@-]*[A-Za-z0-9._@-])?\Z", description="The person this token belongs to (no leading or trailing space).")]
    role: Role
    expires_in_days: Annotated[int, Meta(ge=1, le=3650)] | None = None


class TokenInfo(msgspec.Struct, kw_only=True):
    """A token's record; the secret itself is never shown again after creation."""

    id: int
    name: str
    role: Role
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenInfo, kw_only=True):
    token: str
    """The bearer token. Shown once: store it now."""


class TokenPage(msgspec.Struct, kw_only=True):
    data: list[TokenInfo]
    next_cursor: str | None = None


# --- Vetting: what needs a reviewer's attention ----------------------------------------------


class OverdueReview(msgspec.Struct, kw_only=True):
    listing_id: str
    next_review_at: dt.date
    days_overdue: int


class LinkProblem(msgspec.Struct, kw_only=True):
    """A listing whose latest link check failed or needs a human look."""

    listing_id: str
    url: str
    status: Literal["ok", "redirected", "broken", "unreachable"]
    http_status: int | None
    final_url: str | None
    checked_at: dt.datetime
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
    status: Literal["active", "closed"]
