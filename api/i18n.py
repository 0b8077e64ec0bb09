"""Language negotiation, and country and language names from CLDR (through Babel).

Negotiation, in order (documented in the README):

1. ``?lang=`` wins: it is the only preference. Otherwise ``Accept-Language``, by ``q``.
2. For each preference in turn: an exact match (``pt-BR`` = ``pt-BR``), then a match on the
   language alone (``pt-BR`` takes ``pt`` or ``pt-PT``; ``pt`` takes ``pt-BR``).
3. Nothing matched: English (``en``, else any regional English) if the text exists in
   English, else the first language the text was written in.

Every response says which language each text is in (``lang``) and which way it runs
(``dir``, ``text_direction``), so a partner can mark it up with the right ``lang`` and ``dir``
attributes.

``Accept-Language`` is read up to its first 1,024 characters and 16 items (no browser sends
more; a longer header costs no more than that), and never looked up in CLDR tag by tag: the
names of countries and languages come from the first preference among the locales Babel
ships (a fixed list), found by set membership. No cache is keyed on a header of unbounded
size, and response caches key on what the answer depends on (``answer_languages``), so
random tags and headers cannot grow them.
"""

from __future__ import annotations

import functools
import re

from babel import Locale, UnknownLocaleError, localedata

from api.models import COUNTRY_WORLDWIDE

__all__ = [
    "DEFAULT_LANGUAGE",
    "ISO_COUNTRIES",
    "MAX_ACCEPT_LANGUAGE_CHARS",
    "MAX_PREFERENCES",
    "answer_languages",
    "best_language",
    "country_name",
    "is_known_language",
    "language_preferences",
    "text_preferences",
    "ui_language",
    "SHORT_ACCEPT_LANGUAGE_CHARS",
    "canonical_tag",
    "language_name",
    "text_direction",
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


@functools.lru_cache(maxsize=2048)  # holds every locale ui_language can answer with
def _locale(tag: str) -> Locale | None:
    try:
        return Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError):
        return None


def is_known_language(tag: str) -> bool:
    """True when CLDR knows the tag's language (and script and region, if given)."""
    return _locale(tag) is not None


MAX_ACCEPT_LANGUAGE_CHARS = 1024
"""How much of ``Accept-Language`` is read: browsers send well under 100 characters."""
MAX_PREFERENCES = 16
"""How many of its items count (before sorting by ``q``)."""
SHORT_ACCEPT_LANGUAGE_CHARS = 128
"""Headers up to this long (every browser's) are parsed once per process, in a bounded cache."""


def language_preferences(lang: str | None, accept_language: str | None) -> tuple[str, ...]:
    """The caller's languages, most preferred first, canonical case, without duplicates."""
    if len(lang or "") + len(accept_language or "") <= SHORT_ACCEPT_LANGUAGE_CHARS:
        return _short_preferences(lang, accept_language)
    return _preferences(lang, accept_language)


def _preferences(lang: str | None, accept_language: str | None) -> tuple[str, ...]:
    if lang:
        tag = canonical_tag(lang)
        return (tag,) if tag else ()
    if not accept_language:
        return ()
    return _parse_accept_language(accept_language)


def _parse_accept_language(accept_language: str) -> tuple[str, ...]:
    """Read the first ``MAX_ACCEPT_LANGUAGE_CHARS`` and ``MAX_PREFERENCES`` items, by ``q``.

    A long header is parsed on every request (a few microseconds, bounded): a cache keyed on
    it would be memory an attacker fills, every unique header an entry of any size.
    """
    head = accept_language[:MAX_ACCEPT_LANGUAGE_CHARS]
    items = head.split(",", MAX_PREFERENCES)
    if len(items) > MAX_PREFERENCES:
        items.pop()  # the unread rest of the header
    elif len(accept_language) > MAX_ACCEPT_LANGUAGE_CHARS:
        items.pop()  # the item cut by the size bound: "de-CH" cut to "de" would say something else
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate(items):
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


#: Parsing a browser's header costs about 8 µs, a hit 0.1 µs. At most 1,024 keys of at most
#: 128 characters (about 0.3 MB), whatever clients send.
_short_preferences = functools.lru_cache(maxsize=1024)(_preferences)


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


@functools.cache
def _cldr_locales() -> frozenset[str]:
    """Every tag ``ui_language`` may answer with: the locales Babel ships, in our tag form.

    A fixed list (about 1,080), so names are loaded for at most that many locales per process
    whatever the requests say. Region-only spellings that Babel resolves to a scripted locale
    (``zh-TW`` -> ``zh_Hant_TW``, ``sr-ME`` -> ``sr_Latn_ME``) are included as they were always
    accepted. Built on first use (about 20 ms).
    """
    tags = {tag for ident in localedata.locale_identifiers() if (tag := canonical_tag(ident.replace("_", "-")))}
    for tag in [t for t in tags if t.count("-") == 2]:
        language, _, region = tag.split("-")
        short = f"{language}-{region}"
        if short not in tags and (locale := _locale(short)) is not None and str(locale) == tag.replace("-", "_"):
            tags.add(short)
    return frozenset(tags)


def ui_language(preferences: tuple[str, ...]) -> str:
    """The language for names that come from CLDR: the first preference CLDR has a locale for
    (else its language alone), found without parsing any tag."""
    known = _cldr_locales()
    for tag in preferences:
        if tag in known:
            return tag
        if _primary(tag) in known:
            return _primary(tag)
    return DEFAULT_LANGUAGE


@functools.lru_cache(maxsize=4)  # one set of tags per dataset revision
def _languages_of(tags: frozenset[str]) -> frozenset[str]:
    return frozenset(_primary(tag) for tag in tags)


def text_preferences(preferences: tuple[str, ...], tags: frozenset[str]) -> tuple[str, ...]:
    """``preferences`` reduced to what can change ``best_language`` for texts in ``tags``.

    For any text whose languages are among ``tags``, ``best_language`` gives the same answer
    for the result as for ``preferences``:

    * a preference whose language no text has never matches, so it is dropped;
    * only the first preference of each language counts (the first one with a language the
      text has decides), so later ones are dropped;
    * a tag that no text has exactly can only match on its language (``pt-AO`` behaves as
      ``pt``), so it is replaced by its language.
    """
    languages = _languages_of(tags)
    seen: set[str] = set()
    reduced = []
    for tag in preferences:
        language = _primary(tag)
        if language in languages and language not in seen:
            seen.add(language)
            reduced.append(tag if tag in tags else language)
    return tuple(reduced)


def answer_languages(
    preferences: tuple[str, ...], tags: frozenset[str] | None, names: bool
) -> tuple[tuple[str, ...] | None, str | None]:
    """What an answer's languages depend on, for cache keys: ``text_preferences`` against the
    dataset's ``tags`` (None: the answer has no texts), and the ``ui_language`` when it has
    CLDR ``names``. About a microsecond; not cached, as its keys would be the preferences."""
    return (
        None if tags is None else text_preferences(preferences, tags),
        ui_language(preferences) if names else None,
    )


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


#: Scripts written right to left (ISO 15924), for tags CLDR has no locale for.
_RTL_SCRIPTS = frozenset({"Adlm", "Arab", "Aran", "Hebr", "Mand", "Nkoo", "Rohg", "Samr", "Syrc", "Thaa", "Yezi"})
#: Languages whose default script runs right to left, for tags CLDR has no locale for.
_RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "ku", "lrc", "mzn", "ps", "sd", "syr", "ug", "ur", "yi"})


@functools.lru_cache(maxsize=2048)
def text_direction(tag: str) -> str:
    """``rtl`` or ``ltr``: the direction text in language ``tag`` runs in.

    A script in the tag decides (``az-Arab``, ``ku-Arab`` and ``pa-Arab`` are ``rtl``): Babel
    parses any script into a locale but answers with the language's default (``ku`` is
    Latin). Without one, CLDR's answer for the locale (``fa``, ``ar`` and ``he`` are
    ``rtl``), then the language. The dataset's tags are known to CLDR (the import checks).
    """
    canonical = canonical_tag(tag) or tag
    parts = canonical.split("-")
    script = next((part for part in parts[1:] if len(part) == 4), None)
    if script is not None:
        return "rtl" if script in _RTL_SCRIPTS else "ltr"
    locale = _locale(canonical)
    if locale is not None:
        return "rtl" if locale.text_direction == "rtl" else "ltr"
    return "rtl" if parts[0] in _RTL_LANGUAGES else "ltr"
