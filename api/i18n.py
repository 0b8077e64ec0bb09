"""Language negotiation, and country and language names from CLDR (through Babel).

Negotiation, in order (documented in the README):

1. ``?lang=`` wins: it is the only preference. Otherwise ``Accept-Language``, by ``q``.
2. For each preference in turn: an exact match (``pt-BR`` = ``pt-BR``), then a match on the
   language alone (``pt-BR`` takes ``pt`` or ``pt-PT``; ``pt`` takes ``pt-BR``).
3. Nothing matched: English (``en``, else any regional English) if the text exists in
   English, else the first language the text was written in.

Every response says which language each text is in (``lang``), so a partner can mark it up
with the right ``lang`` attribute.
"""

from __future__ import annotations

import functools
import re

from babel import Locale, UnknownLocaleError

from api.models import COUNTRY_WORLDWIDE

__all__ = [
    "DEFAULT_LANGUAGE",
    "ISO_COUNTRIES",
    "best_language",
    "country_name",
    "is_known_language",
    "language_preferences",
    "ui_language",
]

DEFAULT_LANGUAGE = "en"

_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?\Z")

# CLDR names more regions than ISO 3166-1 assigns: these are its exceptional reservations,
# groupings and private-use codes. What remains is exactly the 249 ISO 3166-1 alpha-2 codes.
_CLDR_NOT_ISO = {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"}
ISO_COUNTRIES: frozenset[str] = frozenset(
    code
    for code in Locale("en").territories
    if len(code) == 2 and code.isalpha() and code not in _CLDR_NOT_ISO
)


def canonical_tag(tag: str) -> str | None:
    """``PT-br`` -> ``pt-BR``; None for anything that is not language[-Script][-REGION]."""
    if not _TAG.match(tag):
        return None
    parts = tag.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        out.append(part.title() if len(part) == 4 else part.upper())
    return "-".join(out)


@functools.lru_cache(maxsize=1024)
def _locale(tag: str) -> Locale | None:
    try:
        return Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError):
        return None


def is_known_language(tag: str) -> bool:
    """True when CLDR knows the tag's language (and script and region, if given)."""
    return _locale(tag) is not None


@functools.lru_cache(maxsize=4096)
def language_preferences(lang: str | None, accept_language: str | None) -> tuple[str, ...]:
    """The caller's languages, most preferred first, canonical case, without duplicates."""
    if lang:
        tag = canonical_tag(lang)
        return (tag,) if tag else ()
    if not accept_language:
        return ()
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate(accept_language.split(",")[:32]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        canonical = canonical_tag(tag.strip())
        if canonical and 0 < quality <= 1:
            weighted.append((-quality, index, canonical))
    weighted.sort()
    return tuple(dict.fromkeys(tag for _, _, tag in weighted))


def _primary(tag: str) -> str:
    return tag.split("-", 1)[0]


def best_language(available: tuple[str, ...] | list[str], preferences: tuple[str, ...]) -> str:
    """Pick which of ``available`` (in the order the text was written) to serve."""
    for wanted in preferences:
        if wanted in available:
            return wanted
        base = _primary(wanted)
        same_language = [tag for tag in available if _primary(tag) == base]
        if same_language:
            return base if base in same_language else same_language[0]
    english = [tag for tag in available if _primary(tag) == DEFAULT_LANGUAGE]
    if english:
        return DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in english else english[0]
    return available[0]


def ui_language(preferences: tuple[str, ...]) -> str:
    """The language for names that come from CLDR: the first preference CLDR knows."""
    for tag in preferences:
        if _locale(tag) is not None:
            return tag
        if _locale(_primary(tag)) is not None:
            return _primary(tag)
    return DEFAULT_LANGUAGE


@functools.lru_cache(maxsize=8192)
def country_name(code: str, lang: str) -> str:
    """CLDR's name of a country in ``lang``; ``XX`` is named as CLDR names the world (001)."""
    locale = _locale(lang) or _locale(DEFAULT_LANGUAGE)
    key = "001" if code == COUNTRY_WORLDWIDE else code
    name = locale.territories.get(key) or Locale("en").territories.get(key, code)
    return name[:1].upper() + name[1:]


@functools.lru_cache(maxsize=8192)
def language_name(tag: str, lang: str) -> str:
    """CLDR's name of language ``tag`` in ``lang``."""
    locale = _locale(lang) or _locale(DEFAULT_LANGUAGE)
    target = _locale(tag)
    if target is None:
        return tag
    name = target.get_display_name(locale) or tag
    return name[:1].upper() + name[1:]
