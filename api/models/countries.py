"""The country document: what a reader in one country risks by acting, as curators write it.

Why a module of its own: ``CountryDocument`` validates every write path of
``directory_data/countries/<CC>.toml`` (the importer, a curator's ``country`` submission, an
item of ``/v1/dataset``), as ``Listing`` does for listings. An advisory is about a country,
not about one listing: a law that makes donating or signing dangerous from there, and where
to get help staying safe. ``api.validation.check_country_document`` holds the rules a type
cannot express (a real country code, known languages, the URL and text policy).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta

from api.models.common import Base, CountryCode, HttpsUrl, LanguageTag
from api.models.listings import Translation

__all__ = ["MAX_ADVISORIES", "Advisory", "CountryDocument"]

#: More than this many advisories for one country would not be read; a curator merges them.
MAX_ADVISORIES = 20


class Advisory(Base, kw_only=True):
    """One legal risk for people in a country: localized title and summary, and its evidence."""

    since: dt.date
    """The day the law, ruling or designation took effect (or was signed, where that is what
    the sources date)."""
    sources: Annotated[list[HttpsUrl], Meta(min_length=1, max_length=20)]
    """Where every fact in the advisory can be checked, the most authoritative first."""
    translations: Annotated[dict[LanguageTag, Translation], Meta(min_length=1, max_length=40)]
    """The advisory's title and summary by language: plain text, like a listing's."""


class CountryDocument(Base, kw_only=True):
    """Everything the directory says about one country itself (``countries/<CC>.toml``)."""

    code: CountryCode
    """ISO 3166-1 alpha-2 code, upper case; equal to the file name. Never `XX`."""
    advisories: Annotated[list[Advisory], Meta(max_length=MAX_ADVISORIES)]
    """In the order a reader should see them; empty when none applies any more."""
