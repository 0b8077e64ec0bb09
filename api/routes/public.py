"""Public read endpoints: no auth, cacheable, CORS open.

Each handler validates its parameters (litestar does, from the signature), builds a cache
key from what the answer depends on, and returns pre-encoded bytes from the per-revision
``ResponseCache``; the work in ``api.catalog`` runs only on a miss. Handlers are sync and
run on the event loop (``sync_to_thread=False``): a hit costs one indexed SQLite read.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import HeaderParameter, Parameter

from api.caching import make_etag
from api.catalog import (
    LISTING_CURSOR_PATTERN,
    CursorInvalid,
    build_changes,
    build_countries,
    build_country,
    build_dataset,
    build_listing,
    build_listing_page,
    build_revisions,
    build_topics,
    dataset_items,
)
from api.clock import Clock
from api.i18n import ISO_COUNTRIES, language_preferences
from api.models import (
    COUNTRY_WORLDWIDE,
    ChangePage,
    Country,
    DatasetInfo,
    Health,
    Kind,
    ListingPage,
    ListingRevisionPage,
    ListingView,
    Page,
    TopicPage,
)
from api.problems import FieldError, InvalidRequest, problem_responses
from api.store import Store, Visibility

__all__ = ["LANG_PATTERN", "Reader", "dataset_media_type", "negotiate_media_type", "public_handlers"]

StoreDep = NamedDependency[Store]


JSON = "application/json"
NDJSON = "application/x-ndjson"
_encoder = msgspec.json.Encoder()

LANG_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?\Z"
LangParam = Annotated[
    str | None,
    Parameter(
        pattern=LANG_PATTERN,
        description="Language for titles, summaries and names (BCP 47, e.g. `ru`, `pt-BR`). "
        "Wins over `Accept-Language`. Unavailable languages fall back as the README documents.",
    ),
]
AcceptLanguage = Annotated[
    str | None,
    HeaderParameter(name="Accept-Language", description="Used when `lang` is absent."),
]
CountryPath = Annotated[
    str,
    Parameter(pattern=r"^[A-Z]{2}\Z", description="ISO 3166-1 alpha-2 code, upper case; `XX` is worldwide."),
]
KindParam = Annotated[Kind | None, Parameter(description="Only listings of this kind.")]
TopicParam = Annotated[
    str | None,
    Parameter(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*\Z", max_length=80, description="Only listings with this topic (see /v1/topics)."),
]
QueryParam = Annotated[
    str | None,
    Parameter(
        min_length=1,
        max_length=200,
        description="Full-text search over titles and summaries in every language; case- and "
        "diacritics-insensitive; every word must match, the last one as a prefix.",
    ),
]
LimitParam = Annotated[int, Parameter(ge=1, le=100, description="Page size.")]
CursorParam = Annotated[
    str | None,
    Parameter(pattern=LISTING_CURSOR_PATTERN, max_length=100, description="`next_cursor` of the previous page, unchanged."),
]
WorldwideParam = Annotated[
    bool,
    Parameter(
        description="With a country filter: also list worldwide listings (after the country's own). "
        "Ignored without a country."
    ),
]
#: Every ISO 3166-1 alpha-2 code and XX, as an enum in the spec.
CountryCode = Literal[tuple(sorted(ISO_COUNTRIES | {COUNTRY_WORLDWIDE}))]  # type: ignore[valid-type]

IncludeParam = Annotated[
    str | None,
    Parameter(
        pattern=r"^(closed|unverified)(,(closed|unverified))?\Z",
        description="Also list what the default leaves out: `closed` petitions (past `closes_at`) and "
        "`unverified` listings (link failed twice in a row, awaiting a reviewer). Comma-separated.",
    ),
]
ListingIdPath = Annotated[str, Parameter(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*\Z", max_length=80)]


@dataclass(frozen=True, slots=True)
class Reader:
    """What every read handler needs, injected as one dependency.

    One dependency, not two: litestar resolves several dependencies of a handler in a task
    group, which costs more than a small answer.
    """

    store: Store
    clock: Clock

    def today(self) -> dt.date:
        return self.clock.now().date()

    def visibility(self, include: str | None = None) -> Visibility:
        wanted = set(include.split(",")) if include else set()
        return Visibility(
            today=self.today(), include_closed="closed" in wanted, include_unverified="unverified" in wanted
        )

    def respond(
        self,
        build: Callable[[], Any],
        *,
        vary: str = "Accept-Language",
        media_type: str = JSON,
        encode: Callable[[Any], tuple[bytes, dict[str, str]]] | None = None,
    ) -> Response:
        """``build()`` encoded, with its ETag and the dataset revision it was read at.

        Not cached here: a repeat is answered by the front cache (api/front_cache.py), which
        keeps an answer only when its ``X-Dataset-Revision`` is still the current revision.
        """
        revision = self.store.get_revision()
        value = build()
        body, headers = encode(value) if encode is not None else (_encoder.encode(value), _language_headers(value))
        headers = {"ETag": make_etag(body), "Vary": vary, "X-Dataset-Revision": str(revision), **headers}
        return Response(content=body, media_type=media_type, headers=headers)


ReaderDep = NamedDependency[Reader]


def _language_headers(value: Any) -> dict[str, str]:
    """Content-Language: every language the body's texts are in."""
    langs: dict[str, None] = {}
    items = getattr(value, "data", None)
    for item in items if isinstance(items, list) else [value]:
        lang = getattr(item, "lang", None)
        if lang:
            langs[lang] = None
        labels = getattr(item, "labels", None)
        if labels is not None and hasattr(labels, "lang"):
            langs[labels.lang] = None
            langs.update(dict.fromkeys(labels.topic_langs.values()))
    return {"Content-Language": ", ".join(langs)} if langs else {}


def _preferences(lang: str | None, accept_language: str | None) -> tuple[str, ...]:
    return language_preferences(lang, accept_language)


def _listing_page(
    reader: ReaderDep,
    *,
    country: str | None,
    kind: str | None,
    topic: str | None,
    q: str | None,
    lang: str | None,
    limit: int,
    cursor: str | None,
    include_worldwide: bool,
    include: str | None,
    accept_language: str | None,
) -> Response:
    store = reader.store
    preferences = _preferences(lang, accept_language)
    visibility = reader.visibility(include)

    def build() -> ListingPage:
        if topic is not None and topic not in {t.id for t in store.list_topics()}:
            # 404, not 400: the value is well-formed, but no such topic exists (today).
            raise NotFoundException(detail=f"no topic {topic!r}; the taxonomy is at /v1/topics")
        try:
            return build_listing_page(
                store,
                preferences,
                country=country,
                include_worldwide=include_worldwide,
                kind=kind,
                topic=topic,
                q=q,
                cursor=cursor,
                limit=limit,
                visibility=visibility,
            )
        except CursorInvalid as exc:
            raise InvalidRequest([FieldError(in_="query", field="cursor", detail=str(exc))]) from None

    return reader.respond(build)


def _check_country(code: str) -> None:
    if code != COUNTRY_WORLDWIDE and code not in ISO_COUNTRIES:
        raise NotFoundException(detail=f"{code!r} is not an ISO 3166-1 alpha-2 country code")


_LIST_DESCRIPTION = (
    "Listings, 20 per page by default; by default neither closed petitions nor listings whose link "
    "failed twice in a row (see `include`). Order is stable: listings for specific countries "
    "first, then worldwide ones (`countries: [\"XX\"]`), by `id` within each group. Follow "
    "`next_cursor` until it is null; a cursor keeps working after the dataset changes (no "
    "repeats; nothing skipped that did not change). `lang` and `Accept-Language` choose the "
    "language of texts, they do not filter."
)


@get(
    "/v1/listings",
    sync_to_thread=False,
    summary="List listings",
    description=_LIST_DESCRIPTION,
    responses=problem_responses(400, 404),
    tags=["listings"],
)
def list_listings(
    reader: ReaderDep,
    country: Annotated[
        CountryCode | None,  # type: ignore[valid-type]
        Parameter(description="ISO 3166-1 alpha-2, upper case; `XX` for worldwide only."),
    ] = None,
    kind: KindParam = None,
    topic: TopicParam = None,
    q: QueryParam = None,
    lang: LangParam = None,
    limit: LimitParam = 20,
    cursor: CursorParam = None,
    include_worldwide: WorldwideParam = True,
    include: IncludeParam = None,
    accept_language: AcceptLanguage = None,
) -> Response[ListingPage]:
    return _listing_page(
        reader, country=country, kind=kind, topic=topic, q=q, lang=lang, limit=limit,
        cursor=cursor, include_worldwide=include_worldwide, include=include, accept_language=accept_language,
    )


@get(
    "/v1/countries/{code:str}/listings",
    sync_to_thread=False,
    summary="List a country's listings",
    description="The same as `/v1/listings?country={code}`; a valid country without listings of its "
    "own still gets the worldwide ones. " + _LIST_DESCRIPTION,
    responses=problem_responses(400, 404),
    tags=["listings"],
)
def list_country_listings(
    reader: ReaderDep,
    code: CountryPath,
    kind: KindParam = None,
    topic: TopicParam = None,
    q: QueryParam = None,
    lang: LangParam = None,
    limit: LimitParam = 20,
    cursor: CursorParam = None,
    include_worldwide: WorldwideParam = True,
    include: IncludeParam = None,
    accept_language: AcceptLanguage = None,
) -> Response[ListingPage]:
    _check_country(code)
    return _listing_page(
        reader, country=code, kind=kind, topic=topic, q=q, lang=lang, limit=limit,
        cursor=cursor, include_worldwide=include_worldwide, include=include, accept_language=accept_language,
    )


@get(
    "/v1/listings/{listing_id:str}",
    sync_to_thread=False,
    summary="Get one listing",
    description="Any listing by id, whatever its status; a retired one answers 410.",
    responses=problem_responses(400, 404, 410),
    tags=["listings"],
)
def get_listing(
    reader: ReaderDep,
    listing_id: ListingIdPath,
    lang: LangParam = None,
    accept_language: AcceptLanguage = None,
) -> Response[ListingView]:
    store = reader.store
    preferences = _preferences(lang, accept_language)

    def build() -> ListingView:
        row = store.get_listing(listing_id)
        if row is None:
            raise NotFoundException(detail=f"no listing with id {listing_id!r}")
        if row.status == "retired":
            raise HTTPException(status_code=410, detail=f"listing {listing_id!r} was retired (revision {row.revision})")
        return build_listing(store, row, preferences, reader.today())

    return reader.respond(build)


@get(
    "/v1/countries",
    sync_to_thread=False,
    summary="List countries with listings",
    description="Every country with at least one active listing of its own, by code, with its "
    "CLDR name in the negotiated language and counts per kind; the worldwide pseudo-country "
    "`XX` comes last.",
    responses=problem_responses(400),
    tags=["countries"],
)
def list_countries(
    reader: ReaderDep, lang: LangParam = None, accept_language: AcceptLanguage = None
) -> Response[Page]:
    store = reader.store
    preferences = _preferences(lang, accept_language)
    return reader.respond(lambda: build_countries(store, preferences, reader.visibility()))


@get(
    "/v1/countries/{code:str}",
    sync_to_thread=False,
    summary="Get one country",
    description="A country with listings of its own; 404 for codes that are unknown or have none.",
    responses=problem_responses(400, 404),
    tags=["countries"],
)
def get_country(
    reader: ReaderDep,
    code: CountryPath,
    lang: LangParam = None,
    accept_language: AcceptLanguage = None,
) -> Response[Country]:
    store = reader.store
    preferences = _preferences(lang, accept_language)

    def build() -> Country:
        country = build_country(store, code, preferences, reader.visibility())
        if country is None:
            raise NotFoundException(detail=f"no listings for country {code!r}")
        return country

    return reader.respond(build)


@get(
    "/v1/topics",
    sync_to_thread=False,
    summary="List topics",
    description="The curated taxonomy in its curated order, each with its label in the negotiated language.",
    responses=problem_responses(400),
    tags=["topics"],
)
def list_topics(
    reader: ReaderDep, lang: LangParam = None, accept_language: AcceptLanguage = None
) -> Response[TopicPage]:
    store = reader.store
    preferences = _preferences(lang, accept_language)
    return reader.respond(lambda: build_topics(store, preferences, reader.visibility()))


def _ndjson(reader: Reader) -> tuple[bytes, dict[str, str]]:
    lines = b"".join(_encoder.encode(item) + b"\n" for item in dataset_items(reader.store, reader.today()))
    return lines, {}


MAX_ACCEPT_ITEMS = 32
"""Media ranges of ``Accept`` read; real clients send a handful."""


def negotiate_media_type(accept: str | None, offers: tuple[str, ...]) -> str:
    """The offer the client prefers (RFC 9110 §12.5.1), else the first offer.

    Each offer gets the ``q`` of the most specific range that matches it (``type/subtype``
    over ``type/*`` over ``*/*``); the highest ``q`` wins, then the more specific match, then
    the order of ``offers``. When nothing is acceptable (every ``q`` is 0) the first offer is
    sent anyway, as RFC 9110 allows: a client that names no type we have still gets the
    documented default, not a 406.

    Not litestar's ``Accept.best_match``: it serves a type the client refused with ``q=0``
    (``application/x-ndjson;q=0`` gets NDJSON) and lets ``application/*`` outrank a more
    specific ``application/json;q=0``.
    """
    if not accept:
        return offers[0]
    ranges: list[tuple[str, str, float]] = []
    for item in accept.split(",", MAX_ACCEPT_ITEMS)[:MAX_ACCEPT_ITEMS]:
        media_range, *params = item.split(";")
        kind, _, subtype = media_range.strip().lower().partition("/")
        if not kind or not subtype or (kind == "*" and subtype != "*"):
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
                if not 0 <= quality <= 1:
                    quality = 0.0
        ranges.append((kind, subtype, quality))
    best, best_score = offers[0], (0.0, -1)
    for offer in offers:
        kind, _, subtype = offer.partition("/")
        matches = [
            (2 if s == subtype else 1 if k == kind else 0, q)
            for k, s, q in ranges
            if (k == kind and s in (subtype, "*")) or k == "*"
        ]
        if not matches:
            continue
        specificity = max(m[0] for m in matches)
        quality = max(q for spec, q in matches if spec == specificity)
        if quality > 0 and (quality, specificity) > best_score:
            best, best_score = offer, (quality, specificity)
    return best


@functools.lru_cache(maxsize=256)
def _short_dataset_media_type(accept: str | None) -> str:
    return negotiate_media_type(accept, (JSON, NDJSON))


def dataset_media_type(accept: str | None) -> str:
    """Common ``Accept`` values (short: at most 256 of 128 characters) are negotiated once."""
    if accept is None or len(accept) <= 128:
        return _short_dataset_media_type(accept)
    return negotiate_media_type(accept, (JSON, NDJSON))


@get(
    "/v1/dataset",
    sync_to_thread=False,
    summary="The whole public dataset",
    description="Every listing that is not retired (closed and unverified ones included, with their "
    "`status`) as its listing document plus server-owned fields, "
    "with the taxonomy, the dataset revision and the data licence. Send "
    "`Accept: application/x-ndjson` for one listing per line instead (no envelope; the revision "
    "is in the `X-Dataset-Revision` header). `Accept` is negotiated with q-values (RFC 9110); "
    "when it names neither type, the answer is JSON.",
    responses=problem_responses(400),
    tags=["dataset"],
)
def get_dataset(
    reader: ReaderDep,
    accept: Annotated[str | None, HeaderParameter(name="Accept", description="`application/x-ndjson` for one listing per line.")] = None,
) -> Response[DatasetInfo]:
    store = reader.store
    if dataset_media_type(accept) == NDJSON:
        return reader.respond(lambda: reader, vary="Accept", media_type=NDJSON, encode=_ndjson)
    revision = store.get_revision()
    return reader.respond(lambda: build_dataset(store, revision, reader.today()), vary="Accept")


@get(
    "/healthz",
    sync_to_thread=False,
    summary="Liveness",
    description="Answers 200 while the process can read its database, with the dataset revision it serves.",
    responses=problem_responses(400),
    tags=["operations"],
)
def healthz(store: StoreDep) -> Response[Health]:
    health = Health(status="ok", revision=store.get_revision(), listings=store.count_active_listings())
    return Response(content=_encoder.encode(health), media_type=JSON, headers={"Cache-Control": "no-cache"})


@get(
    "/v1/listings/{listing_id:str}/revisions",
    sync_to_thread=False,
    summary="A listing's history",
    description="Every accepted change of a listing, oldest first: what changed and when (never who). "
    "Retired listings keep their history.",
    responses=problem_responses(400, 404),
    tags=["listings"],
)
def list_listing_revisions(
    reader: ReaderDep, listing_id: ListingIdPath
) -> Response[ListingRevisionPage]:
    store = reader.store
    def build() -> ListingRevisionPage:
        page = build_revisions(store, listing_id)
        if page is None:
            raise NotFoundException(detail=f"no listing with id {listing_id!r}")
        return page

    return reader.respond(build, vary="Accept-Encoding")


@get(
    "/v1/changes",
    sync_to_thread=False,
    summary="The changes feed",
    description="Every listing revision in the order it was accepted, for keeping a mirror in sync: "
    "start without `since`, apply each change (create and update put `listing`, retire removes it), "
    "then poll with `next_cursor` as `since`. Following it from the start reproduces `/v1/dataset`.",
    responses=problem_responses(400),
    tags=["dataset"],
)
def list_changes(
    reader: ReaderDep,
    since: Annotated[
        str | None, Parameter(pattern=r"^s1\.[0-9]{1,18}\Z", description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, Parameter(ge=1, le=500, description="Page size.")] = 100,
) -> Response[ChangePage]:
    store = reader.store
    def build() -> ChangePage:
        try:
            return build_changes(store, since=since, limit=limit)
        except CursorInvalid as exc:
            raise InvalidRequest([FieldError(in_="query", field="since", detail=str(exc))]) from None

    return reader.respond(build, vary="Accept-Encoding")


public_handlers = [
    list_listing_revisions,
    list_changes,
    list_listings,
    list_country_listings,
    get_listing,
    list_countries,
    get_country,
    list_topics,
    get_dataset,
    healthz,
]
