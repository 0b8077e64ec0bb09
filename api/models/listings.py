"""The listing document and the topic taxonomy: what curators write and the importer reads.

Why a module of its own: ``Listing`` is the one shape that validates every write path (a file
in ``directory_data/listings/``, the ``listing`` of a curator submission, an item of
``/v1/dataset``), so it stands apart from the views built from it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta

from api.models.common import (
    Base,
    ContactChannel,
    CountryCode,
    HttpsUrl,
    Kind,
    LanguageTag,
    Service,
    ShortText,
    Slug,
    Summary,
    Title,
)
from api.models.risks import LegalRisk

__all__ = [
    "Contact",
    "DonationBlock",
    "Listing",
    "OrganizationBlock",
    "PetitionBlock",
    "Topic",
    "TopicFile",
    "Translation",
    "Verification",
]


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
    review_by: dt.date | None = None
    """For a petition without `closes_at` (and only then): the last day it stays in the default
    lists unless a person re-checks that it is still open. Our own scheduling, not the organizer's."""


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
    legal_risks: Annotated[list[LegalRisk], Meta(max_length=50)] = []
    """Designations of the organization by states, per country (see `api.models.risks`)."""


class Topic(Base, kw_only=True):
    """One entry of the curated topic taxonomy (``directory_data/topics.toml``)."""

    id: Slug
    labels: Annotated[dict[LanguageTag, Title], Meta(min_length=1)]


class TopicFile(Base, kw_only=True):
    """The whole ``topics.toml`` file."""

    topic: Annotated[list[Topic], Meta(min_length=1)]
