"""Rules a listing must pass beyond its struct's types: one function per write path to call.

The msgspec structs in ``api.models`` check shapes, types, patterns and lengths; what needs
knowledge from outside the document lives here: known countries and languages (CLDR), the
topic taxonomy, and rules between fields. Every URL and text field goes through the URL and
text safety policy of ``api.vetting`` (``check_url`` and ``check_text``).
Each problem is a ``(field, message)`` pair whose field is a dotted path into the document, so
every caller (the importer, the submission endpoint) can name it.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections import Counter
from collections.abc import Callable, Iterable

import msgspec

from api.i18n import ISO_COUNTRIES, is_known_language
from api.models import COUNTRY_WORLDWIDE, DANGER_DESIGNATIONS, WITHHELD_KINDS, CountryDocument, LegalRisk, Listing, Note, ShortText, Summary, Title, Topic
from api.vetting import FieldProblem, check_contact, check_text, check_url, contact_domain, registrable_domain_of

__all__ = [
    "NEXT_REVIEW_MAX",
    "NOTE_MAX",
    "REQUIRED_TOPIC",
    "REVIEW_BY_MAX",
    "SHORT_TEXT_MAX",
    "SUMMARY_MAX",
    "TITLE_MAX",
    "check_country_document",
    "check_designated_siblings",
    "check_designated_site",
    "check_language",
    "check_listing",
    "country_domains",
    "check_topics",
    "known_domains_by_listing",
    "listing_domains",
    "other_listings_domains",
]

#: The topic every deployment has; partners may hard-code it.
REQUIRED_TOPIC = "lgbtq-rights"

#: How far after ``verified_at`` a petition's ``review_by`` may be: a petition without a closing
#: day is re-checked at least this often, or it leaves the default lists.
REVIEW_BY_MAX = dt.timedelta(days=180)

#: How far after ``verified_at`` any listing's ``next_review_at`` may be: without a ceiling, a
#: far-future date (9999-12-31) would keep a listing from ever being flagged overdue.
NEXT_REVIEW_MAX = dt.timedelta(days=366)

_KIND_BLOCKS = ("petition", "donation", "organization")


def _max_length(annotated: object) -> int:
    """The ``max_length`` of an ``Annotated[str, Meta(...)]`` from ``api.models``."""
    return next(m.max_length for m in typing.get_args(annotated)[1:] if getattr(m, "max_length", None))


#: Length limits, as the models declare them (the structs enforce them first).
TITLE_MAX = _max_length(Title)
SUMMARY_MAX = _max_length(Summary)
SHORT_TEXT_MAX = _max_length(ShortText)
NOTE_MAX = _max_length(Note)


def _duplicates(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({v for v in values if v in seen or seen.add(v)})


def listing_domains(listing: Listing) -> frozenset[str]:
    """Registrable domains of every address in a listing: url, verification sources, the
    sources of its legal risks, and contacts (web and messenger links, e-mail domains)."""
    risk_sources = [url for risk in listing.legal_risks for url in risk.sources]
    domains = [registrable_domain_of(url) for url in (listing.url, *listing.verification.sources, *risk_sources)]
    if listing.organization is not None:
        domains += [contact_domain(c.channel, c.value) for c in listing.organization.contacts]
    return frozenset(d for d in domains if d)


def check_designated_site(listing: Listing, others: Iterable[Listing]) -> list[FieldProblem]:
    """A donation or petition on the site (the registrable domain of ``url``) of another listing
    with a danger designation in a country must record that designation too.

    Withholding (``api.store.listings``) reads each listing's own ``legal_risks``: without this
    rule a donation page of an organization designated ``extremist`` in Russia, proposed
    without them, would be listed to readers in Russia as safe. It may record more. Not for
    organizations nor caution designations: neither is ever withheld.
    """
    if listing.kind not in WITHHELD_KINDS:
        return []
    domain = registrable_domain_of(listing.url)
    if domain is None:
        return []
    recorded = {(risk.country, risk.designation) for risk in listing.legal_risks}
    problems: list[FieldProblem] = []
    for other in others:
        if other.id == listing.id or registrable_domain_of(other.url) != domain:
            continue
        for risk in other.legal_risks:
            if risk.designation in DANGER_DESIGNATIONS and (risk.country, risk.designation) not in recorded:
                recorded.add((risk.country, risk.designation))
                problems.append((
                    "legal_risks",
                    f"{other.id!r}, on the same site ({domain}), is {risk.designation!r} in {risk.country} since "
                    f"{risk.since.isoformat()}: record it here too, or this {listing.kind} would be listed to readers there",
                ))
    return problems


def check_designated_siblings(listing: Listing, others: Iterable[Listing]) -> list[FieldProblem]:
    """``check_designated_site`` the other way round, for a change to one listing among stored
    ones: a danger designation on ``listing`` is refused while a donation or petition on the
    same site does not record it yet. Approved alone, it would leave that action listed to
    readers there, and a dataset import and export refuse; recorded on the actions first (what
    is withheld), then on the organization, every step is sound."""
    problems: list[FieldProblem] = []
    for other in others:
        if other.id == listing.id:
            continue
        for _, message in check_designated_site(other, [listing]):
            problems.append((
                "legal_risks",
                f"the {other.kind} {other.id!r} on the same site does not record it yet: submit the designation "
                f"for it first ({message})",
            ))
    return problems


def known_domains_by_listing(listings: list[Listing]) -> list[frozenset[str]]:
    """For each listing, the registrable domains of all the OTHER listings (same order).

    ``check_listing`` also compares each address with the listing's own others."""
    own = [listing_domains(listing) for listing in listings]
    counts = Counter(d for domains in own for d in domains)
    everything = frozenset(counts)
    return [everything - {d for d in domains if counts[d] == 1} for domains in own]


def other_listings_domains(listings: Iterable[Listing], listing_id: str) -> frozenset[str]:
    """Registrable domains of every listing in ``listings`` except the one with ``listing_id``."""
    return frozenset(d for listing in listings if listing.id != listing_id for d in listing_domains(listing))


def _known_for(listing: Listing, vouched: frozenset[str]) -> Callable[[str | None], frozenset[str]]:
    """The domains to compare one of the listing's addresses with, given its domain.

    An address on a domain the directory already vouches for is compared with those only: it
    is the original, and a look-alike of it elsewhere in the document is reported there, once.
    Any other address is compared with those AND with the document's own other domains, so a
    url on ``g0od.org`` next to sources on ``good.org`` is refused even in a first submission
    (with nothing to tell which is the original, both sides are reported, as import does for
    two listings).
    """
    everything = vouched | listing_domains(listing)
    return lambda domain: vouched if domain in vouched else everything


def check_language(field: str, tag: str) -> list[FieldProblem]:
    if not is_known_language(tag):
        return [(field, f"unknown language tag {tag!r} (BCP 47, e.g. en, pt-BR, zh-Hant)")]
    return []


def check_listing(
    listing: Listing,
    topic_ids: set[str] | None,
    *,
    known_domains: Iterable[str] = frozenset(),
    today: dt.date | None = None,
) -> list[FieldProblem]:
    """Every rule a structurally valid listing must also pass.

    ``topic_ids`` is the taxonomy; None skips the topic check (the taxonomy itself is broken
    and reported on its own). ``known_domains``: registrable domains the directory already
    vouches for: the OTHER listings' and, on a change, this listing's stored revisions'. Every
    URL, source and contact is also compared with the document's own other addresses (see
    ``_known_for``): a domain that looks like a known one but is a different domain is refused.
    Every URL, contact and text field goes through the vetting policy (``api.vetting``).
    ``today`` (the caller's clock, UTC): a legal risk's ``since`` may not be later (None skips it).
    """
    known_for = _known_for(listing, frozenset(known_domains))
    problems: list[FieldProblem] = []
    problems += check_url("url", listing.url, known_domains=known_for(registrable_domain_of(listing.url)))

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
        problems += check_text(f"translations.{tag}.title", translation.title, multiline=False, max_length=TITLE_MAX)
        problems += check_text(f"translations.{tag}.summary", translation.summary, max_length=SUMMARY_MAX)

    for block in _KIND_BLOCKS:
        if block != listing.kind and getattr(listing, block) is not None:
            article = "an" if listing.kind[0] in "aeiou" else "a"
            problems.append((block, f"{article} {listing.kind} listing cannot have a {block} block"))
    if listing.petition is not None and listing.petition.target is not None:
        problems += check_text("petition.target", listing.petition.target, multiline=False, max_length=SHORT_TEXT_MAX)
    if listing.donation is not None and listing.donation.purpose is not None:
        problems += check_text("donation.purpose", listing.donation.purpose, multiline=False, max_length=SHORT_TEXT_MAX)
    if listing.organization is not None:
        for i, contact in enumerate(listing.organization.contacts):
            field = f"organization.contacts[{i}].value"
            # The channel's format is the whole rule (stricter than plain text): a URL's query may
            # hold "&region=" that the text rules would read as an entity.
            known = known_for(contact_domain(contact.channel, contact.value))
            problems += check_contact(field, contact.channel, contact.value, known_domains=known)
            if contact.note is not None:
                problems += check_text(f"organization.contacts[{i}].note", contact.note, multiline=False, max_length=SHORT_TEXT_MAX)

    verification = listing.verification
    if verification.next_review_at < verification.verified_at:
        problems.append(("verification.next_review_at", "must not be before verified_at"))
    elif verification.next_review_at > verification.verified_at + NEXT_REVIEW_MAX:
        latest = (verification.verified_at + NEXT_REVIEW_MAX).isoformat()
        problems.append(
            ("verification.next_review_at", f"must be at most {NEXT_REVIEW_MAX.days} days after verified_at ({latest}): every listing is looked at again within a year")
        )
    problems += _check_review_by(listing)
    for i, source in enumerate(verification.sources):
        problems += check_url(f"verification.sources[{i}]", source, known_domains=known_for(registrable_domain_of(source)))
    for i, risk in enumerate(listing.legal_risks):
        problems += _check_legal_risk(f"legal_risks[{i}]", risk, known_for, today)
    seen: set[tuple[str, str]] = set()
    for i, risk in enumerate(listing.legal_risks):
        key = (risk.country, risk.designation)
        if key in seen:
            message = f"{risk.designation!r} in {risk.country} is listed twice: one entry per country and designation"
            problems.append((f"legal_risks[{i}]", message))
        seen.add(key)
    return problems


#: A date in the future somewhere: no time zone is more than a day ahead of UTC.
_TIME_ZONE_SLACK = dt.timedelta(days=1)


def _check_legal_risk(
    field: str, risk: LegalRisk, known_for: Callable[[str | None], frozenset[str]], today: dt.date | None
) -> list[FieldProblem]:
    """One legal risk: a real country (not ``XX``: a designation is a state's act), a ``since``
    that has happened, its sources under the URL policy like every other address of the
    listing, and its note under the text policy, in known languages; ``other`` needs a note."""
    problems: list[FieldProblem] = []
    if risk.country not in ISO_COUNTRIES:
        message = f"unknown country code {risk.country!r}: a designation is a state's (ISO 3166-1 alpha-2, upper case; not XX)"
        problems.append((f"{field}.country", message))
    if today is not None and risk.since > today + _TIME_ZONE_SLACK:
        message = f"{risk.since.isoformat()} is in the future (today is {today.isoformat()}): record a designation once it is in force"
        problems.append((f"{field}.since", message))
    for value in _duplicates(risk.sources):
        problems.append((f"{field}.sources", f"{value!r} is listed twice"))
    for j, source in enumerate(risk.sources):
        problems += check_url(f"{field}.sources[{j}]", source, known_domains=known_for(registrable_domain_of(source)))
    if risk.designation == "other" and not risk.note:
        message = "required when the designation is 'other': say what it is and what it means for a reader there"
        problems.append((f"{field}.note", message))
    for tag, text in risk.note.items():
        problems += check_language(f"{field}.note.{tag}", tag)
        problems += check_text(f"{field}.note.{tag}", text, max_length=NOTE_MAX)
    return problems


def _check_review_by(listing: Listing) -> list[FieldProblem]:
    """A petition either closes by itself (``closes_at``) or has a ``review_by`` deadline, so no
    petition can stay listed for ever after it quietly ends; never both (one rule per petition)."""
    if listing.kind != "petition":
        return []  # only a petition has a petition block (checked above)
    petition = listing.petition
    closes_at = petition.closes_at if petition else None
    review_by = petition.review_by if petition else None
    if closes_at is None and review_by is None:
        return [(
            "petition.review_by",
            "required for a petition without closes_at: the last day it stays listed unless someone re-checks it",
        )]
    if closes_at is not None and review_by is not None:
        return [("petition.review_by", "only for a petition without closes_at (it closes on that day by itself)")]
    if review_by is None:
        return []
    verification = listing.verification
    if review_by < verification.next_review_at:
        return [("petition.review_by", "must not be before verification.next_review_at (look again before the deadline)")]
    if review_by > verification.verified_at + REVIEW_BY_MAX:
        return [(
            "petition.review_by",
            f"at most {REVIEW_BY_MAX.days} days after verification.verified_at: a petition is re-checked at least that often",
        )]
    return []


def country_domains(document: CountryDocument) -> frozenset[str]:
    """Registrable domains of every source of a country document's advisories."""
    domains = (registrable_domain_of(url) for advisory in document.advisories for url in advisory.sources)
    return frozenset(d for d in domains if d)


def check_country_document(
    document: CountryDocument, *, known_domains: Iterable[str] = frozenset(), today: dt.date | None = None
) -> list[FieldProblem]:
    """Every rule a structurally valid country document must also pass, as strict as a listing's.

    A real country (``XX``, worldwide, has no laws of its own); every title, summary and source
    through the same text and URL policy as listings (``known_domains``: what the directory
    already vouches for, so a source on a look-alike of a known domain is refused, with the
    document's own other sources compared too); as for a legal risk, an advisory's ``since``
    not after ``today`` (None skips it); and no advisory given twice (a reader would be shown
    it twice).
    """
    problems: list[FieldProblem] = []
    if document.code not in ISO_COUNTRIES:
        problems.append(("code", f"unknown country code {document.code!r} (ISO 3166-1 alpha-2, upper case; not XX)"))
    vouched = frozenset(known_domains)
    everything = vouched | country_domains(document)
    seen: dict[bytes, int] = {}
    for i, advisory in enumerate(document.advisories):
        where = f"advisories[{i}]"
        first = seen.setdefault(msgspec.json.encode(advisory), i)
        if first != i:
            problems.append((where, f"the same advisory as advisories[{first}], given twice"))
        if today is not None and advisory.since > today + _TIME_ZONE_SLACK:
            message = f"{advisory.since.isoformat()} is in the future (today is {today.isoformat()}): record an advisory once it is in force"
            problems.append((f"{where}.since", message))
        for tag, translation in advisory.translations.items():
            problems += check_language(f"{where}.translations.{tag}", tag)
            problems += check_text(f"{where}.translations.{tag}.title", translation.title, multiline=False, max_length=TITLE_MAX)
            problems += check_text(f"{where}.translations.{tag}.summary", translation.summary, max_length=SUMMARY_MAX)
        for value in _duplicates(advisory.sources):
            problems.append((f"{where}.sources", f"{value!r} is listed twice"))
        for j, source in enumerate(advisory.sources):
            domain = registrable_domain_of(source)
            problems += check_url(f"{where}.sources[{j}]", source, known_domains=vouched if domain in vouched else everything)
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
            problems += check_text(f"topic[{i}].labels.{tag}", label, multiline=False, max_length=TITLE_MAX)
    return problems
