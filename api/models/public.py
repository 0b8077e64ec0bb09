"""What the public read API serves: listings in one language, countries, topics, the dataset.

Why a module of its own: these are views the server builds (labels, counts, status, revision),
never documents anyone writes; ``api.services.read_model`` fills them.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from api.models.common import Base, Kind, Timestamp
from api.models.countries import CountryDocument
from api.models.listings import DonationBlock, Listing, OrganizationBlock, PetitionBlock, Topic, Verification
from api.models.risks import Safety

__all__ = [
    "AdvisoryView",
    "Country",
    "CountryCounts",
    "DatasetInfo",
    "DatasetItem",
    "Health",
    "LinkCheck",
    "ListingLabels",
    "ListingPage",
    "ListingView",
    "Page",
    "TopicPage",
    "TopicView",
]


class LinkCheck(Base, kw_only=True):
    """The latest automated check of `url`; `unchecked` until the link checker has run."""

    status: Literal["unchecked", "ok", "redirected", "broken", "unreachable"] = "unchecked"
    checked_at: Timestamp | None = None


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
    dir: Literal["ltr", "rtl"]
    """Direction `title` and `summary` run in (from `lang`): mark them up with `dir` beside `lang`."""
    url: str
    countries: list[str]
    topics: list[str]
    languages: list[str]
    """Languages the resource itself is published in."""
    translations: list[str]
    """Languages in which this listing's title and summary exist here."""
    status: Literal["active", "closed", "unverified", "retired"]
    """`closed`: a petition past its `closes_at`; `unverified`: its link failed twice in a row
    and no reviewer has acted yet, or a petition past its `petition.review_by` that nobody has
    re-checked since. Neither is in the default lists (see `include`)."""
    verification: Verification
    review_overdue: bool
    """True when `verification.next_review_at` has passed (a curator should look again), and so
    also when a petition's `petition.review_by` has."""
    link_check: LinkCheck
    revision: int
    """This listing's own revision number; it moves on every accepted change."""
    updated_at: Timestamp
    labels: ListingLabels
    petition: PetitionBlock | None = None
    donation: DonationBlock | None = None
    organization: OrganizationBlock | None = None
    safety: Safety | None = None
    """For the country the request names (`/v1/countries/{code}/listings`, `country=`): how
    states designate the organization there. Null when the request names no country."""


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


class AdvisoryView(msgspec.Struct, kw_only=True):
    """A legal risk for people in this country, in one language (`lang`)."""

    title: str
    summary: str
    lang: str
    """Language of `title` and `summary`: the best match for the request among those the
    advisory has."""
    since: dt.date
    sources: list[str]
    """Where every fact in it can be checked."""


class Country(msgspec.Struct, kw_only=True):
    """A country with listings or advisories; names come from CLDR."""

    code: str
    name: str
    lang: str
    """Language of `name`."""
    worldwide: bool
    """True only for the pseudo-country `XX`, which holds listings for people anywhere."""
    counts: CountryCounts
    advisories: list[AdvisoryView]
    """What a reader in this country risks by acting (donating, signing), and where to get
    help staying safe; in the order curators chose. Empty where there are none."""


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
    updated_at: Timestamp


class DatasetInfo(msgspec.Struct, kw_only=True):
    """The whole public dataset in one document."""

    revision: int
    license: str
    topics: list[Topic]
    listings: list[DatasetItem]
    countries: list[CountryDocument]
    """Every country document (its advisories in every language), by code."""


class Health(msgspec.Struct, kw_only=True):
    """Liveness and what data the process serves."""

    status: Literal["ok"]
    revision: int
    listings: int
