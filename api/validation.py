"""Rules a listing must pass beyond its struct's types: one function per write path to call.

The msgspec structs in ``api.models`` check shapes, types, patterns and lengths; what needs
knowledge from outside the document lives here: known countries and languages (CLDR), the
topic taxonomy, and rules between fields. Each problem is a ``(field, message)`` pair whose
field is a dotted path into the document, so every caller (the importer, and later the
submission endpoint) can name it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from api.i18n import ISO_COUNTRIES, is_known_language
from api.models import COUNTRY_WORLDWIDE, Listing, Topic

__all__ = ["FieldProblem", "check_listing", "check_topics", "REQUIRED_TOPIC"]

FieldProblem = tuple[str, str]

#: The topic every deployment has; partners may hard-code it.
REQUIRED_TOPIC = "lgbtq-rights"

_KIND_BLOCKS = ("petition", "donation", "organization")
_HTML = re.compile(r"<\s*/?\s*[A-Za-z!?]|&(?:[A-Za-z]+|#[0-9]+|#x[0-9A-Fa-f]+);")


def _duplicates(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({v for v in values if v in seen or seen.add(v)})


def check_url(field: str, url: str) -> list[FieldProblem]:
    """Structural checks on an https URL (the full vetting policy builds on these)."""
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        return [(field, "URL must not contain spaces or control characters")]
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        return [(field, f"not a valid URL: {exc}")]
    if parts.scheme != "https":
        return [(field, "URL must use https")]
    if not hostname or "." not in hostname:
        return [(field, "URL must name a host with a domain (https://example.org/...)")]
    if parts.username is not None or parts.password is not None:
        return [(field, "URL must not carry a user name or password")]
    return []


def check_text(field: str, text: str) -> list[FieldProblem]:
    """Text is plain: no control characters, no HTML markup or entities."""
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n" for ch in text):
        return [(field, "text must not contain control characters")]
    if _HTML.search(text):
        return [(field, "text must be plain text, not HTML (found markup or an entity)")]
    if text != text.strip():
        return [(field, "text must not start or end with white space")]
    return []


def check_language(field: str, tag: str) -> list[FieldProblem]:
    if not is_known_language(tag):
        return [(field, f"unknown language tag {tag!r} (BCP 47, e.g. en, pt-BR, zh-Hant)")]
    return []


def check_listing(listing: Listing, topic_ids: set[str] | None) -> list[FieldProblem]:
    """Every rule a structurally valid listing must also pass.

    ``topic_ids`` is the taxonomy; None skips the topic check (the taxonomy itself is broken
    and reported on its own).
    """
    problems: list[FieldProblem] = []
    problems += check_url("url", listing.url)

    for i, code in enumerate(listing.countries):
        if code != COUNTRY_WORLDWIDE and code not in ISO_COUNTRIES:
            problems.append(
                (f"countries[{i}]", f"unknown country code {code!r} (ISO 3166-1 alpha-2, upper case)")
            )
    if COUNTRY_WORLDWIDE in listing.countries and len(listing.countries) > 1:
        problems.append(("countries", "XX (worldwide) cannot be combined with other countries"))
    for name in ("countries", "topics", "languages"):
        for value in _duplicates(getattr(listing, name)):
            problems.append((name, f"{value!r} is listed twice"))

    for i, topic in enumerate(listing.topics):
        if topic_ids is not None and topic not in topic_ids:
            problems.append((f"topics[{i}]", f"unknown topic {topic!r}; topics are defined in topics.toml"))
    for i, tag in enumerate(listing.languages):
        problems += check_language(f"languages[{i}]", tag)
    for tag, translation in listing.translations.items():
        problems += check_language(f"translations.{tag}", tag)
        problems += check_text(f"translations.{tag}.title", translation.title)
        problems += check_text(f"translations.{tag}.summary", translation.summary)
        if "\n" in translation.title:
            problems.append((f"translations.{tag}.title", "a title is a single line"))

    for block in _KIND_BLOCKS:
        if block != listing.kind and getattr(listing, block) is not None:
            article = "an" if listing.kind[0] in "aeiou" else "a"
            problems.append((block, f"{article} {listing.kind} listing cannot have a {block} block"))
    if listing.petition is not None and listing.petition.target is not None:
        problems += check_text("petition.target", listing.petition.target)
    if listing.donation is not None and listing.donation.purpose is not None:
        problems += check_text("donation.purpose", listing.donation.purpose)
    if listing.organization is not None:
        for i, contact in enumerate(listing.organization.contacts):
            problems += check_text(f"organization.contacts[{i}].value", contact.value)
            if contact.note is not None:
                problems += check_text(f"organization.contacts[{i}].note", contact.note)
            if contact.channel == "web":
                problems += check_url(f"organization.contacts[{i}].value", contact.value)

    verification = listing.verification
    if verification.next_review_at < verification.verified_at:
        problems.append(("verification.next_review_at", "must not be before verified_at"))
    for i, source in enumerate(verification.sources):
        problems += check_url(f"verification.sources[{i}]", source)
    return problems


def check_topics(topics: list[Topic]) -> list[FieldProblem]:
    """Rules for the taxonomy file."""
    problems: list[FieldProblem] = []
    for topic_id in _duplicates(t.id for t in topics):
        problems.append(("topic", f"topic {topic_id!r} is defined twice"))
    if REQUIRED_TOPIC not in {t.id for t in topics}:
        problems.append(("topic", f"the taxonomy must define {REQUIRED_TOPIC!r}"))
    for i, topic in enumerate(topics):
        for tag, label in topic.labels.items():
            problems += check_language(f"topic[{i}].labels.{tag}", tag)
            problems += check_text(f"topic[{i}].labels.{tag}", label)
    return problems
