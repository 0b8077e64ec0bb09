"""The API's response shapes (``openapi/v1.json``, components) as msgspec Structs.

Why these are written out here rather than imported from the server: the client installs with
httpx and msgspec only, and must keep working when the server grows. So, unlike the server's
own models, these structs

- ignore unknown fields (msgspec's default): a field added to the v1 contract later is
  skipped by an old client instead of failing the whole response;
- do not repeat the server's input constraints (lengths, patterns): the server validated the
  data already, and a client that re-checked would break when a limit is raised;
- decode timestamps to ``datetime.datetime`` and days to ``datetime.date``;
- are frozen: a value that came from the server is not edited in place by accident (use
  ``msgspec.structs.replace`` to derive a changed copy).

``tests/test_client.py`` checks every struct reachable from a public endpoint against the
spec: the same field names, the same required fields, the same enum values.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

__all__ = [
    "Advisory",
    "AdvisoryView",
    "Change",
    "ChangePage",
    "Contact",
    "Country",
    "CountryCounts",
    "CountryDocument",
    "CountryPage",
    "CountryRevision",
    "CountryRevisionPage",
    "DatasetInfo",
    "DatasetItem",
    "Designation",
    "DonationBlock",
    "FieldError",
    "Health",
    "Kind",
    "LegalRisk",
    "LinkCheck",
    "Listing",
    "ListingLabels",
    "ListingPage",
    "ListingRevision",
    "ListingRevisionPage",
    "ListingView",
    "OrganizationBlock",
    "PetitionBlock",
    "Problem",
    "Safety",
    "SafetyNote",
    "Status",
    "Topic",
    "TopicPage",
    "TopicView",
    "Translation",
    "Verification",
]

Kind = Literal["donation", "petition", "organization"]
Status = Literal["active", "closed", "unverified", "retired"]
Action = Literal["create", "update", "retire"]


class _Response(msgspec.Struct, kw_only=True, frozen=True):
    """Shared policy; see the module docstring."""


# --- The listing document ----------------------------------------------------------------------


class Translation(_Response, kw_only=True, frozen=True):
    """A listing's title and summary in one language. Plain text, never HTML."""

    title: str
    summary: str


class PetitionBlock(_Response, kw_only=True, frozen=True):
    """What only a petition has."""

    target: str | None = None
    closes_at: dt.date | None = None
    """Last day it collects signatures, when the organizer publishes one."""
    review_by: dt.date | None = None
    """Without ``closes_at``: the last day it stays in the default lists unless re-checked."""


class DonationBlock(_Response, kw_only=True, frozen=True):
    """What only a donation link has."""

    currency: str | None = None
    purpose: str | None = None


class Contact(_Response, kw_only=True, frozen=True):
    """One published way to reach an organization."""

    channel: Literal["email", "phone", "web", "telegram", "signal", "whatsapp"]
    value: str
    note: str | None = None


class OrganizationBlock(_Response, kw_only=True, frozen=True):
    """What only an organization has."""

    services: list[
        Literal[
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
    ] = []
    contacts: list[Contact] = []


class Verification(_Response, kw_only=True, frozen=True):
    """When a curator last checked the listing against its sources, and when to look again."""

    verified_at: dt.date
    next_review_at: dt.date
    sources: list[str]


Designation = Literal["foreign-agent", "undesirable", "extremist", "banned", "blocked", "other"]


class LegalRisk(_Response, kw_only=True, frozen=True):
    """A state's designation of the organization behind a listing, in one country."""

    country: str
    designation: Designation
    since: dt.date
    sources: list[str]
    note: dict[str, str] = {}
    """What it means for a reader there, by language."""


class Listing(_Response, kw_only=True, frozen=True):
    """The listing document as curators write it, every translation included."""

    id: str
    kind: Kind
    url: str
    countries: list[str]
    topics: list[str]
    languages: list[str]
    """Languages the resource behind ``url`` itself is published in."""
    translations: dict[str, Translation]
    verification: Verification
    petition: PetitionBlock | None = None
    donation: DonationBlock | None = None
    organization: OrganizationBlock | None = None
    legal_risks: list[LegalRisk] = []
    """Designations of the organization by states, per country."""


class Topic(_Response, kw_only=True, frozen=True):
    """One entry of the curated topic taxonomy, with every label it has."""

    id: str
    labels: dict[str, str]


# --- Listings as the public lists serve them ------------------------------------------------------


class LinkCheck(_Response, kw_only=True, frozen=True):
    """The latest automated check of the listing's ``url``."""

    status: Literal["unchecked", "ok", "redirected", "broken", "unreachable"] = "unchecked"
    checked_at: dt.datetime | None = None


class ListingLabels(_Response, kw_only=True, frozen=True):
    """Display names for the codes in a listing, in one language."""

    lang: str
    countries: dict[str, str]
    languages: dict[str, str]
    topics: dict[str, str]
    topic_langs: dict[str, str]
    """The language of each topic label (it can differ from ``lang``)."""


class SafetyNote(_Response, kw_only=True, frozen=True):
    """One designation in the country asked about, as a reader there sees it."""

    designation: Designation
    since: dt.date
    text: str | None
    """The curators' note in the answer's language when there is one; None when none was written."""
    lang: str | None
    sources: list[str]


class Safety(_Response, kw_only=True, frozen=True):
    """What acting on a listing may mean for a reader in the country the request named."""

    level: Literal["none", "caution", "danger"]
    notes: list[SafetyNote]


class ListingView(_Response, kw_only=True, frozen=True):
    """A listing with one language chosen for its title and summary (``lang``)."""

    id: str
    kind: Kind
    title: str
    summary: str
    lang: str
    dir: Literal["ltr", "rtl"]
    """Direction ``title`` and ``summary`` run in: set it as ``dir`` beside ``lang`` when rendering."""
    url: str
    countries: list[str]
    topics: list[str]
    languages: list[str]
    translations: list[str]
    """Languages in which this listing's title and summary exist."""
    status: Status
    verification: Verification
    review_overdue: bool
    link_check: LinkCheck
    revision: int
    updated_at: dt.datetime
    labels: ListingLabels
    petition: PetitionBlock | None = None
    donation: DonationBlock | None = None
    organization: OrganizationBlock | None = None
    safety: Safety | None = None
    """For the country the request named (a country's list, ``country=``); None without one."""


class ListingPage(_Response, kw_only=True, frozen=True):
    """One page of listings; ``next_cursor`` is None on the last one."""

    data: list[ListingView]
    next_cursor: str | None


class ListingRevision(_Response, kw_only=True, frozen=True):
    """One accepted change of a listing: what changed and when (never who)."""

    revision: int
    action: Action
    at: dt.datetime
    changed: list[str]
    listing: Listing


class ListingRevisionPage(_Response, kw_only=True, frozen=True):
    data: list[ListingRevision]
    next_cursor: str | None = None


# --- Countries and topics ----------------------------------------------------------------------------


class CountryCounts(_Response, kw_only=True, frozen=True):
    """Active listings per kind for this country specifically (worldwide ones excluded)."""

    donation: int
    petition: int
    organization: int
    total: int


class AdvisoryView(_Response, kw_only=True, frozen=True):
    """A legal risk for people in a country, in one language (``lang``)."""

    title: str
    summary: str
    lang: str
    since: dt.date
    sources: list[str]


class Country(_Response, kw_only=True, frozen=True):
    code: str
    name: str
    lang: str
    """Language of ``name``."""
    worldwide: bool
    counts: CountryCounts
    advisories: list[AdvisoryView]
    """What a reader there risks by acting, and where to get help staying safe (empty: none)."""


class CountryPage(_Response, kw_only=True, frozen=True):
    """``/v1/countries`` (the spec calls this envelope ``Page``)."""

    data: list[Country]
    next_cursor: str | None = None


class TopicView(_Response, kw_only=True, frozen=True):
    """A topic with its label in the negotiated language."""

    id: str
    label: str
    lang: str
    labels: dict[str, str]
    listing_count: int


class TopicPage(_Response, kw_only=True, frozen=True):
    data: list[TopicView]
    next_cursor: str | None = None


# --- Dataset, changes feed, health ---------------------------------------------------------------------


class DatasetItem(_Response, kw_only=True, frozen=True):
    """The listing document plus what the server owns."""

    listing: Listing
    status: Status
    revision: int
    updated_at: dt.datetime


class Advisory(_Response, kw_only=True, frozen=True):
    """One advisory of a country document, every translation included."""

    since: dt.date
    sources: list[str]
    translations: dict[str, Translation]


class CountryDocument(_Response, kw_only=True, frozen=True):
    """What the directory says about one country itself: its advisories."""

    code: str
    advisories: list[Advisory]


class CountryRevision(_Response, kw_only=True, frozen=True):
    """One accepted change of a country document: what changed and when (never who)."""

    revision: int
    action: Action
    at: dt.datetime
    changed: list[str]
    country: CountryDocument


class CountryRevisionPage(_Response, kw_only=True, frozen=True):
    data: list[CountryRevision]
    next_cursor: str | None = None


class DatasetInfo(_Response, kw_only=True, frozen=True):
    """``/v1/dataset``: everything not retired, with the taxonomy, revision and licence."""

    revision: int
    license: str
    topics: list[Topic]
    listings: list[DatasetItem]
    countries: list[CountryDocument]
    """Every country document (its advisories in every language), by code."""


class Change(_Response, kw_only=True, frozen=True):
    """An entry of the changes feed: create and update put ``listing``, retire removes it."""

    seq: int
    listing_id: str
    revision: int
    action: Action
    at: dt.datetime
    listing: Listing | None
    """None for a retirement."""


class ChangePage(_Response, kw_only=True, frozen=True):
    data: list[Change]
    next_cursor: str
    """Pass as ``since`` for what comes next; present on the last page too, for polling."""
    dataset_revision: int


class Health(_Response, kw_only=True, frozen=True):
    status: Literal["ok"]
    revision: int
    listings: int


# --- Problems (RFC 9457) ------------------------------------------------------------------------------------


class FieldError(_Response, kw_only=True, frozen=True, rename={"in_": "in"}):
    """One input at fault: ``in_`` is where (``query``, ``path``, ``header``, ``body``…)."""

    in_: str
    field: str
    detail: str


class Problem(_Response, kw_only=True, frozen=True):
    """An ``application/problem+json`` body.

    Lenient on purpose: a problem may come from a proxy in front of the API, so only what
    RFC 9457 requires is assumed (``type`` defaults to ``about:blank``; ``title`` and
    ``status`` are filled in from the HTTP status when absent).
    """

    type: str = "about:blank"
    title: str | None = None
    status: int | None = None
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] = []
    current_revision: int | None = None
