"""Listings: the lists (all, or a country's), one listing, and its history.

Public reads: no auth, cacheable, CORS open. Each handler validates its parameters (litestar
does, from the signature), builds the answer with ``api.services.read_model`` and sends it through the
``Reader``. A repeat never gets here: the front cache answers it (api/http/cache.py).
"""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.exceptions import HTTPException, NotFoundException

from api.services.read_model import CursorInvalid, build_listing, build_listing_page, build_revisions
from api.http.params import (
    AcceptLanguage,
    CountryParam,
    CountryPath,
    CursorParam,
    IncludeParam,
    KindParam,
    LangParam,
    LimitParam,
    ListingIdPath,
    QueryParam,
    SafetyCountryParam,
    TopicParam,
    WorldwideParam,
)
from api.http.problems import FieldError, InvalidRequest, problem_responses
from api.i18n import ISO_COUNTRIES, language_preferences
from api.models import COUNTRY_WORLDWIDE, ListingPage, ListingRevisionPage, ListingView
from api.routes.common import READ_HEADERS, TEXT_HEADERS, Reader, ReaderDep
from api.store import Visibility

__all__ = ["ListingsController", "check_country", "read_listing_page"]


def check_country(code: str) -> None:
    """404 for a well-formed code that is not a country (nor ``XX``, worldwide)."""
    if code != COUNTRY_WORLDWIDE and code not in ISO_COUNTRIES:
        raise NotFoundException(detail=f"{code!r} is not an ISO 3166-1 alpha-2 country code")


def read_listing_page(
    reader: Reader,
    preferences: tuple[str, ...],
    *,
    country: str | None,
    kind: str | None,
    topic: str | None,
    q: str | None,
    limit: int,
    cursor: str | None,
    include_worldwide: bool,
    visibility: Visibility,
) -> ListingPage:
    """One page of listings, as every list of them answers (the JSON lists, the embed page):
    an unknown topic is a 404, a cursor this API did not make a 400 naming it."""
    store = reader.store
    if topic is not None and topic not in {t.id for t in store.topics.all()}:
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
    preferences = language_preferences(lang, accept_language)
    visibility = reader.visibility(include)
    return reader.respond(
        lambda: read_listing_page(
            reader, preferences, country=country, kind=kind, topic=topic, q=q, limit=limit, cursor=cursor,
            include_worldwide=include_worldwide, visibility=visibility,
        )
    )


_LIST_DESCRIPTION = (
    "Listings, 20 per page by default; by default neither closed petitions nor listings whose link "
    "failed twice in a row (see `include`). Order is stable: listings for specific countries "
    "first, then worldwide ones (`countries: [\"XX\"]`), by `id` within each group. Follow "
    "`next_cursor` until it is null; a cursor keeps working after the dataset changes (no "
    "repeats; nothing skipped that did not change). `lang` and `Accept-Language` choose the "
    "language of texts, they do not filter.\n\n"
    "Under a country (`/v1/countries/{code}/listings`, `country=`), every item carries `safety` for "
    "that country: `danger` when a state designates the organization `undesirable`, `extremist` or "
    "`banned` there, `caution` for any other designation (`foreign-agent`, `blocked`, `other`), "
    "`none` otherwise, with a note per designation in the answer's language when one exists. A "
    "donation or petition that is a `danger` there is withheld by default (worldwide ones too; "
    "`include=risky` lists them) and is not counted under that country in `/v1/countries`; "
    "organizations stay listed. Without a country, `safety` is null and nothing is withheld."
)


class ListingsController(Controller):
    """Ways to act, as lists and one by one."""

    path = "/v1"
    tags = ["listings"]

    @get(
        "/listings",
        summary="List listings",
        description=_LIST_DESCRIPTION,
        responses=problem_responses(400, 404),
        response_headers=[*READ_HEADERS, *TEXT_HEADERS],
    )
    async def list_listings(
        self,
        reader: ReaderDep,
        country: CountryParam = None,
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
        "/countries/{code:str}/listings",
        summary="List a country's listings",
        description="The same as `/v1/listings?country={code}`; a valid country without listings of its "
        "own still gets the worldwide ones. " + _LIST_DESCRIPTION,
        responses=problem_responses(400, 404),
        response_headers=[*READ_HEADERS, *TEXT_HEADERS],
    )
    async def list_country_listings(
        self,
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
        check_country(code)
        return _listing_page(
            reader, country=code, kind=kind, topic=topic, q=q, lang=lang, limit=limit,
            cursor=cursor, include_worldwide=include_worldwide, include=include, accept_language=accept_language,
        )

    @get(
        "/listings/{listing_id:str}",
        summary="Get one listing",
        description="Any listing by id, whatever its status; a retired one answers 410. With `country`, "
        "`safety` says what acting on it may mean for a reader there (as in the lists, but never "
        "withheld); without it, `safety` is null.",
        responses=problem_responses(400, 404, 410),
        response_headers=[*READ_HEADERS, *TEXT_HEADERS],
    )
    async def get_listing(
        self,
        reader: ReaderDep,
        listing_id: ListingIdPath,
        lang: LangParam = None,
        country: SafetyCountryParam = None,
        accept_language: AcceptLanguage = None,
    ) -> Response[ListingView]:
        store = reader.store
        preferences = language_preferences(lang, accept_language)

        def build() -> ListingView:
            row = store.listings.get(listing_id)
            if row is None:
                raise NotFoundException(detail=f"no listing with id {listing_id!r}")
            if row.status == "retired":
                raise HTTPException(status_code=410, detail=f"listing {listing_id!r} was retired (revision {row.revision})")
            return build_listing(store, row, preferences, reader.today(), country)

        return reader.respond(build)

    @get(
        "/listings/{listing_id:str}/revisions",
        summary="A listing's history",
        description="Every accepted change of a listing, oldest first: what changed and when (never who). "
        "Retired listings keep their history.",
        responses=problem_responses(400, 404),
        response_headers=READ_HEADERS,
    )
    async def list_listing_revisions(self, reader: ReaderDep, listing_id: ListingIdPath) -> Response[ListingRevisionPage]:
        def build() -> ListingRevisionPage:
            page = build_revisions(reader.store, listing_id)
            if page is None:
                raise NotFoundException(detail=f"no listing with id {listing_id!r}")
            return page

        return reader.respond(build, vary="Accept-Encoding")
