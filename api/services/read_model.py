"""Builds the public read responses from the store, in the caller's languages.

Pure functions of (store, request parameters, language preferences) -> response Struct.
The front cache (api/http/cache.py) keeps their encoded answers per dataset revision, so none
of this runs on a cache hit. It lives with the services because it is the read side of the
same rules (visibility, lifecycle, localization); it never sees litestar.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import cast

from api.services.curation import diff_documents
from api.i18n import best_language, country_name, language_name, text_direction, ui_language
from api.models import (
    COUNTRY_WORLDWIDE,
    DANGER_DESIGNATIONS,
    AdvisoryView,
    Change,
    ChangePage,
    Country,
    CountryCounts,
    CountryDocument,
    CountryRevision,
    CountryRevisionPage,
    DatasetInfo,
    DatasetItem,
    LinkCheck,
    Listing,
    ListingLabels,
    ListingPage,
    ListingRevision,
    ListingRevisionPage,
    ListingView,
    Page,
    Safety,
    SafetyNote,
    Topic,
    TopicPage,
    TopicView,
)
from api.store import LinkStatus, ListingRow, Store, Visibility, review_deadline

__all__ = [
    "CursorInvalid",
    "advisory_views",
    "DATA_LICENSE",
    "build_countries",
    "build_country",
    "build_country_revisions",
    "build_dataset",
    "build_listing",
    "build_listing_page",
    "build_topics",
    "decode_cursor",
    "encode_cursor",
    "listing_view",
    "LISTING_CURSOR_PATTERN",
    "safety_for",
    "build_changes",
    "build_revisions",
    "dataset_items",
]

DATA_LICENSE = "CC-BY-4.0"

#: ``unchecked`` as a string object of its own. ``LinkCheck`` (``omit_defaults``) leaves out a
#: value that *is* its default — msgspec compares by identity — and the store's rows carry the
#: Literal's own string, so passing it would drop ``"status": "unchecked"``, which the v1
#: contract has always sent (SQLite used to hand back a fresh string; tests/test_link_checker.py).
_UNCHECKED = cast(LinkStatus, "".join(("un", "checked")))
_CURSOR_PREFIX = "c1."
_KINDS = ("donation", "petition", "organization")


class CursorInvalid(ValueError):
    """The cursor was not made by this API (or was altered)."""


#: A listing-page cursor: the keyset (worldwide flag, id) of the last item served and, since
#: 2026-11, the latest revision sequence number when the pagination began (older cursors
#: without it still work). Every string of this form is a valid position, so the spec can
#: state it as a pattern.
LISTING_CURSOR_PATTERN = r"^c1\.[01]\.([0-9]{1,18}\.)?[a-z0-9]+(-[a-z0-9]+)*\Z"
_LISTING_CURSOR = re.compile(LISTING_CURSOR_PATTERN)


def encode_cursor(row: ListingRow, since_seq: int) -> str:
    """Opaque to clients (pass it back unchanged): the keyset of the last item served, and
    the revision the pagination started from (so a listing that moved is not served twice)."""
    worldwide = int(row.document.countries == [COUNTRY_WORLDWIDE])
    return f"{_CURSOR_PREFIX}{worldwide}.{since_seq}.{row.id}"


def decode_cursor(cursor: str) -> tuple[tuple[int, str], int | None]:
    """(keyset, revision seq the pagination began at, or None for a cursor made before it)."""
    if not _LISTING_CURSOR.fullmatch(cursor):
        raise CursorInvalid("not a cursor from this API; pass next_cursor back unchanged")
    parts = cursor.split(".")
    since_seq = int(parts[2]) if len(parts) == 4 else None
    return (int(parts[1]), parts[-1]), since_seq


def _topic_labels(topics: list[Topic], preferences: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """Each topic's label in the best language it has, with that language."""
    labels = {}
    for topic in topics:
        lang = best_language(list(topic.labels), preferences)
        labels[topic.id] = (topic.labels[lang], lang)
    return labels


def safety_for(doc: Listing, country: str, preferences: tuple[str, ...]) -> Safety:
    """What acting on ``doc`` may mean for a reader in ``country``: its designations there, each
    note in the best language for ``preferences``; ``danger`` when one of them makes supporting
    the organization an offence there (``api.models.risks``), ``caution`` for any other."""
    notes = []
    for risk in doc.legal_risks:
        if risk.country != country:
            continue
        lang = best_language(list(risk.note), preferences) if risk.note else None
        notes.append(
            SafetyNote(
                designation=risk.designation,
                since=risk.since,
                text=None if lang is None else risk.note[lang],
                lang=lang,
                sources=risk.sources,
            )
        )
    if any(note.designation in DANGER_DESIGNATIONS for note in notes):
        return Safety(level="danger", notes=notes)
    return Safety(level="caution" if notes else "none", notes=notes)


def _review_overdue(doc: Listing, today: dt.date) -> bool:
    """A curator should look again: ``next_review_at`` has passed, or a petition's ``review_by``."""
    deadline = review_deadline(doc)
    return doc.verification.next_review_at < today or (deadline is not None and deadline < today)


def listing_view(
    row: ListingRow,
    preferences: tuple[str, ...],
    topic_labels: dict[str, tuple[str, str]],
    ui_lang: str,
    today: dt.date,
    country: str | None = None,
) -> ListingView:
    """One listing in the caller's languages; with ``country``, its ``safety`` there."""
    doc = row.document
    available = list(doc.translations)
    lang = best_language(available, preferences)
    text = doc.translations[lang]
    return ListingView(
        id=doc.id,
        kind=doc.kind,
        title=text.title,
        summary=text.summary,
        lang=lang,
        dir=text_direction(lang),
        url=doc.url,
        countries=doc.countries,
        topics=doc.topics,
        languages=doc.languages,
        translations=available,
        status=row.public_status(today),
        review_overdue=_review_overdue(doc, today),
        verification=doc.verification,
        link_check=LinkCheck(
            status=_UNCHECKED if row.link_status == "unchecked" else row.link_status, checked_at=row.link_checked_at
        ),
        revision=row.revision,
        updated_at=row.updated_at,
        labels=ListingLabels(
            lang=ui_lang,
            countries={c: country_name(c, ui_lang) for c in doc.countries},
            languages={t: language_name(t, ui_lang) for t in doc.languages},
            topics={t: topic_labels.get(t, (t, ui_lang))[0] for t in doc.topics},
            topic_langs={t: topic_labels.get(t, (t, ui_lang))[1] for t in doc.topics},
        ),
        petition=doc.petition,
        donation=doc.donation,
        organization=doc.organization,
        safety=None if country is None else safety_for(doc, country, preferences),
    )


def build_listing_page(
    store: Store,
    preferences: tuple[str, ...],
    *,
    country: str | None,
    include_worldwide: bool,
    kind: str | None,
    topic: str | None,
    q: str | None,
    cursor: str | None,
    limit: int,
    visibility: Visibility,
) -> ListingPage:
    after, since_seq = decode_cursor(cursor) if cursor else (None, None)
    # The first page fixes where the pagination starts in the history; later pages carry it on.
    started_at = since_seq if since_seq is not None else store.listings.last_seq()
    rows = store.listings.page(
        country=country,
        include_worldwide=include_worldwide,
        kind=kind,
        topic=topic,
        q=q,
        after=after,
        since_seq=since_seq,
        limit=limit + 1,
        visibility=visibility,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    labels = _topic_labels(store.topics.all(), preferences)
    ui_lang = ui_language(preferences)
    return ListingPage(
        data=[listing_view(r, preferences, labels, ui_lang, visibility.today, country) for r in rows],
        next_cursor=encode_cursor(rows[-1], started_at) if more and rows else None,
    )


def build_listing(
    store: Store, row: ListingRow, preferences: tuple[str, ...], today: dt.date, country: str | None = None
) -> ListingView:
    """One listing, whatever its status; with ``country``, its ``safety`` there (never withheld:
    a reader who has the id may read what it means for them)."""
    labels = _topic_labels(store.topics.all(), preferences)
    return listing_view(row, preferences, labels, ui_language(preferences), today, country)


def advisory_views(document: CountryDocument | None, preferences: tuple[str, ...]) -> list[AdvisoryView]:
    """A country's advisories, each in the best language it has for the reader."""
    if document is None:
        return []
    views = []
    for advisory in document.advisories:
        lang = best_language(list(advisory.translations), preferences)
        text = advisory.translations[lang]
        views.append(
            AdvisoryView(title=text.title, summary=text.summary, lang=lang, since=advisory.since, sources=advisory.sources)
        )
    return views


def _country(
    code: str, counts: dict[str, int], lang: str, document: CountryDocument | None, preferences: tuple[str, ...]
) -> Country:
    per_kind = {kind: counts.get(kind, 0) for kind in _KINDS}
    return Country(
        code=code,
        name=country_name(code, lang),
        lang=lang,
        worldwide=code == COUNTRY_WORLDWIDE,
        counts=CountryCounts(**per_kind, total=sum(per_kind.values())),
        advisories=advisory_views(document, preferences),
    )


def build_countries(store: Store, preferences: tuple[str, ...], visibility: Visibility) -> Page:
    """Countries with listings or advisories, by code; the worldwide pseudo-country ``XX`` comes last."""
    lang = ui_language(preferences)
    counts = store.listings.count_by_country(visibility)
    documents = {row.code: row.document for row in store.countries.all() if row.document.advisories}
    codes = sorted(set(counts) | set(documents), key=lambda c: (c == COUNTRY_WORLDWIDE, c))
    return Page(data=[_country(code, counts.get(code, {}), lang, documents.get(code), preferences) for code in codes])


def build_country(store: Store, code: str, preferences: tuple[str, ...], visibility: Visibility) -> Country | None:
    """One country with listings or advisories; None when it has neither."""
    counts = store.listings.count_by_country(visibility).get(code)
    document = store.countries.active(code)
    if counts is None and (document is None or not document.advisories):
        return None
    return _country(code, counts or {}, ui_language(preferences), document, preferences)


def build_topics(store: Store, preferences: tuple[str, ...], visibility: Visibility) -> TopicPage:
    counts = store.listings.count_by_topic(visibility)
    data = []
    for topic in store.topics.all():
        lang = best_language(list(topic.labels), preferences)
        data.append(
            TopicView(
                id=topic.id,
                label=topic.labels[lang],
                lang=lang,
                labels=topic.labels,
                listing_count=counts.get(topic.id, 0),
            )
        )
    return TopicPage(data=data)


def dataset_items(store: Store, today: dt.date) -> list[DatasetItem]:
    """Every listing that is not retired, closed and held ones included, with its status."""
    return [
        DatasetItem(
            listing=row.document,
            status=row.public_status(today),
            revision=row.revision,
            updated_at=row.updated_at,
        )
        for row in store.listings.each()
    ]


def build_dataset(store: Store, revision: int, today: dt.date) -> DatasetInfo:
    return DatasetInfo(
        revision=revision,
        license=DATA_LICENSE,
        topics=store.topics.all(),
        listings=dataset_items(store, today),
        countries=[row.document for row in store.countries.all()],
    )


def build_revisions(store: Store, listing_id: str) -> ListingRevisionPage | None:
    rows = store.listings.revisions(listing_id)
    if not rows:
        return None
    data = []
    previous = None
    for row in rows:
        changed = [] if row.action == "retire" else [c.field for c in diff_documents(previous, row.document)]
        data.append(
            ListingRevision(revision=row.revision, action=row.action, at=row.created_at, changed=changed, listing=row.document)
        )
        previous = row.document
    return ListingRevisionPage(data=data)


def build_country_revisions(store: Store, code: str) -> CountryRevisionPage | None:
    """Every accepted change of a country document, oldest first; None when it never had one."""
    rows = store.countries.revisions(code)
    if not rows:
        return None
    data = []
    previous = None
    for row in rows:
        changed = [] if row.action == "retire" else [c.field for c in diff_documents(previous, row.document)]
        data.append(CountryRevision(revision=row.revision, action=row.action, at=row.created_at, changed=changed, country=row.document))
        previous = row.document
    return CountryRevisionPage(data=data)


_FEED_PREFIX = "s1."


def _decode_since(since: str | None) -> int:
    if since is None:
        return 0
    try:
        if not since.startswith(_FEED_PREFIX):
            raise ValueError
        seq = int(since[len(_FEED_PREFIX) :])
        if seq < 0:
            raise ValueError
        return seq
    except ValueError:
        raise CursorInvalid("not a cursor from this API; pass next_cursor back unchanged") from None


def build_changes(store: Store, *, since: str | None, limit: int) -> ChangePage:
    after = _decode_since(since)
    rows = store.listings.changes(after_seq=after, limit=limit)
    last = rows[-1].seq if rows else after
    return ChangePage(
        data=[
            Change(
                seq=r.seq,
                listing_id=r.listing_id,
                revision=r.revision,
                action=r.action,
                at=r.created_at,
                listing=None if r.action == "retire" else r.document,
            )
            for r in rows
        ],
        next_cursor=f"{_FEED_PREFIX}{last}",
        dataset_revision=store.get_revision(),
    )
