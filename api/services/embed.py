"""What the embed page shows: a page of listings, as a partner's reader sees it.

Why it exists: the embed page (``/embed/v1/listings``, api/routes/embed.py) answers the same
question as the JSON lists, through the same read model, and adds only presentation: the
page's language and direction, each listing's kind in words, and "verified 3 days ago" in the
reader's language (CLDR relative time, through Babel). Those choices are rules too (which
language the page speaks, which link is shown), so they live here, away from HTML and from
litestar; the template (api/templates/embed/listings.html) only lays them out.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Literal

from babel import Locale
from babel.dates import format_timedelta

from api.i18n import best_language, language_name, text_direction
from api.models import ListingPage, ListingView
from api.services.embed_text import EMBED_TEXTS, EmbedText
from api.services.read_model import build_countries
from api.store import Store, Visibility

__all__ = [
    "DEFAULT_LIMIT",
    "EMBED_LANGUAGES",
    "THEMES",
    "EmbedItem",
    "EmbedNote",
    "EmbedSafety",
    "EmbedView",
    "PickerView",
    "Theme",
    "build_embed_view",
    "build_picker_view",
    "embed_language",
    "relative_day",
]

Theme = Literal["auto", "light", "dark"]
THEMES: tuple[str, ...] = ("auto", "light", "dark")
"""``auto`` follows the reader's system (``prefers-color-scheme``); the others force one."""

DEFAULT_LIMIT = 5
"""Listings in a box at the end of an article, unless the tag asks for more (``limit``)."""

EMBED_LANGUAGES: tuple[str, ...] = tuple(EMBED_TEXTS)
"""The languages the page's own words exist in (English first: the fallback)."""


def embed_language(preferences: tuple[str, ...]) -> str:
    """The language the page speaks: the reader's first one we have words in, as texts fall back."""
    return best_language(EMBED_LANGUAGES, preferences)


@functools.lru_cache(maxsize=64)
def _babel_locale(tag: str) -> Locale:
    return Locale.parse(tag, sep="-")


def relative_day(day: dt.date, today: dt.date, lang: str) -> str | None:
    """CLDR's "3 days ago" for ``day`` in ``lang``; None for today (or a future day, which a
    check cannot be), which has words of its own.

    By whole days, so the page changes once a day, as the response caches' keys do.
    """
    days = (today - day).days
    if days <= 0:
        return None
    return format_timedelta(dt.timedelta(days=-days), granularity="day", add_direction=True, locale=_babel_locale(lang))


@dataclass(frozen=True, slots=True)
class EmbedNote:
    """A designation's note as the page shows it: in its own language and direction, which may
    not be the page's (an English note on an Arabic page)."""

    text: str
    lang: str
    dir: str


@dataclass(frozen=True, slots=True)
class EmbedSafety:
    """What the page says above a listing that is risky to act on from the reader's country."""

    level: str
    """``danger`` or ``caution`` (a listing with neither gets no ``EmbedSafety``)."""
    notes: list[EmbedNote]
    """The notes curators wrote; a designation recorded without one adds none (the heading,
    in the page's language, still says it)."""


def _embed_safety(view: ListingView) -> EmbedSafety | None:
    safety = view.safety
    if safety is None or safety.level == "none":
        return None
    notes = [
        EmbedNote(text=note.text, lang=note.lang, dir=text_direction(note.lang))
        for note in safety.notes
        if note.text is not None and note.lang is not None
    ]
    return EmbedSafety(level=safety.level, notes=notes)


@dataclass(frozen=True, slots=True)
class EmbedItem:
    """One listing as the embed page shows it."""

    id: str
    kind: str
    kind_label: str
    title: str
    summary: str
    lang: str
    dir: str
    url: str | None
    """The listing's link; None if it were not https (the vetting refuses that on every write)."""
    checked: str
    """"Verified 3 days ago · link checked today", in the page's language."""
    safety: EmbedSafety | None = None
    """Under a country, when acting on the listing is a danger or a caution there: the template
    shows the heading and each note above the listing."""


@dataclass(frozen=True, slots=True)
class EmbedView:
    """The whole page: its language, direction and theme, its words, and the listings."""

    lang: str
    dir: str
    theme: Theme
    text: EmbedText
    items: list[EmbedItem]

    @property
    def content_languages(self) -> str:
        """Every language on the page: its own, then the listings' (``Content-Language``)."""
        notes = (note.lang for item in self.items if item.safety for note in item.safety.notes)
        return ", ".join(dict.fromkeys([self.lang, *(item.lang for item in self.items), *notes]))


def _checked(view: ListingView, text: EmbedText, lang: str, today: dt.date) -> str:
    verified_ago = relative_day(view.verification.verified_at, today, lang)
    parts = [text.verified.format(ago=verified_ago) if verified_ago else text.verified_today]
    checked_at = view.link_check.checked_at
    if view.link_check.status == "ok" and checked_at is not None:
        link_ago = relative_day(checked_at.date(), today, lang)
        parts.append(text.link_checked.format(ago=link_ago) if link_ago else text.link_checked_today)
    return " · ".join(parts)


def build_embed_view(page: ListingPage, preferences: tuple[str, ...], *, today: dt.date, theme: Theme) -> EmbedView:
    """The embed page for ``page`` (built by the read model from the same parameters as the
    JSON lists), in the reader's ``preferences``."""
    lang = embed_language(preferences)
    text = EMBED_TEXTS[lang]
    items = [
        EmbedItem(
            id=view.id,
            kind=view.kind,
            kind_label=text.kind(view.kind),
            title=view.title,
            summary=view.summary,
            lang=view.lang,
            dir=view.dir,
            url=view.url if view.url.startswith("https://") else None,
            checked=_checked(view, text, lang, today),
            safety=_embed_safety(view),
        )
        for view in page.data
    ]
    return EmbedView(lang=lang, dir=text_direction(lang), theme=theme, text=text, items=items)


@dataclass(frozen=True, slots=True)
class PickerView:
    """What the picker (``/embed/v1/``) offers: for partners, so in English."""

    countries: list[tuple[str, str]]
    """Every country with listings (code, English name), worldwide last."""
    languages: list[tuple[str, str]]
    """Every language the page speaks (tag, "native name (English name)")."""
    kinds: tuple[tuple[str, str], ...] = (("donation", "Donations"), ("petition", "Petitions"), ("organization", "Organizations"))
    themes: tuple[tuple[str, str], ...] = (("auto", "The reader's system setting"), ("light", "Light"), ("dark", "Dark"))
    limit: int = DEFAULT_LIMIT


def _both_names(tag: str) -> str:
    native, english = language_name(tag, tag), language_name(tag, "en")
    return native if native == english else f"{native} ({english})"


def build_picker_view(store: Store, visibility: Visibility) -> PickerView:
    countries = build_countries(store, ("en",), visibility).data
    languages = sorted(
        ((tag, _both_names(tag)) for tag in EMBED_LANGUAGES),
        key=lambda pair: language_name(pair[0], "en"),
    )
    return PickerView(countries=[(c.code, c.name) for c in countries], languages=languages)
