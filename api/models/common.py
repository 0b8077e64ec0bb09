"""The field types every resource shares, and ``Base``, the policy every request struct follows.

Why a module of its own: the listing document, curation, reports, tokens and vetting all
constrain the same kinds of values (slugs, country codes, language tags, https URLs, plain
text); one definition each keeps their limits, patterns and descriptions identical in the
published schema. See ``api.models`` for the struct policy and the ``\\Z`` rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = [
    "COUNTRY_WORLDWIDE",
    "LANGUAGE_TAG_PATTERN",
    "Base",
    "ContactChannel",
    "CountryCode",
    "HttpsUrl",
    "Kind",
    "LanguageTag",
    "Note",
    "Service",
    "ShortText",
    "Slug",
    "Summary",
    "Timestamp",
    "Title",
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
#: A moment in UTC, as RFC 3339 (``2026-11-30T09:20:37Z``). Time zone aware, so the spec says
#: ``format: date-time`` and generated clients parse it as a timestamp, not a plain string.
Timestamp = Annotated[dt.datetime, Meta(tz=True)]
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
#: Free text a person writes for other people (a note, a reason, a resolution).
Note = Annotated[str, Meta(min_length=1, max_length=2000, description="Plain text.")]


class Base(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Shared policy; see the ``api.models`` docstring."""
