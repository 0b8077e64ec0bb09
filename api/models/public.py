"""What the public read API serves: listings in one language, countries, topics, the dataset.

Why a module of its own: these are views the server builds (labels, counts, status, revision),
never documents anyone writes; ``api.services.read_model`` fills them.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from api.models.common import Base, Kind
from api.models.listings import DonationBlock, Listing, OrganizationBlock, PetitionBlock, Topic, Verification

__all__ = [
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
