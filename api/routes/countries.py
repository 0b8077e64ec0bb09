"""Countries: those with listings of their own or advisories, named by CLDR in the negotiated
language, with their advisories localized like listings."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.exceptions import NotFoundException

from api.services.read_model import build_countries, build_country, build_country_revisions
from api.http.params import AcceptLanguage, CountryPath, LangParam
from api.http.problems import problem_responses
from api.i18n import language_preferences
from api.models import Country, CountryRevisionPage, Page
from api.routes.common import READ_HEADERS, TEXT_HEADERS, ReaderDep

__all__ = ["CountriesController"]


class CountriesController(Controller):
    """Every country with listings, and one country."""

    path = "/v1/countries"
    tags = ["countries"]
    response_headers = [*READ_HEADERS, *TEXT_HEADERS]

    @get(
        "/",
        summary="List countries with listings",
        description="Every country with at least one active listing of its own or an advisory, by code, "
        "with its CLDR name in the negotiated language, counts per kind and its `advisories`; the "
        "worldwide pseudo-country `XX` comes last.",
        responses=problem_responses(400),
    )
    async def list_countries(
        self, reader: ReaderDep, lang: LangParam = None, accept_language: AcceptLanguage = None
    ) -> Response[Page]:
        preferences = language_preferences(lang, accept_language)
        return reader.respond(lambda: build_countries(reader.store, preferences, reader.visibility()))

    @get(
        "/{code:str}",
        summary="Get one country",
        description="A country with listings of its own or advisories; 404 for codes that are unknown or "
        "have neither. `advisories` says what a reader there risks by acting (donating, signing) and "
        "where to get help staying safe, each in the best language it has for the request (its `lang`); "
        "an empty list where there are none.",
        responses=problem_responses(400, 404),
    )
    async def get_country(
        self,
        reader: ReaderDep,
        code: CountryPath,
        lang: LangParam = None,
        accept_language: AcceptLanguage = None,
    ) -> Response[Country]:
        preferences = language_preferences(lang, accept_language)

        def build() -> Country:
            country = build_country(reader.store, code, preferences, reader.visibility())
            if country is None:
                raise NotFoundException(detail=f"no listings or advisories for country {code!r}")
            return country

        return reader.respond(build)

    @get(
        "/{code:str}/revisions",
        summary="A country document's history",
        description="Every accepted change of a country's document (its advisories), oldest first: what "
        "changed and when (never who). 404 for a country that never had one.",
        responses=problem_responses(400, 404),
    )
    async def list_country_revisions(self, reader: ReaderDep, code: CountryPath) -> Response[CountryRevisionPage]:
        def build() -> CountryRevisionPage:
            page = build_country_revisions(reader.store, code)
            if page is None:
                raise NotFoundException(detail=f"no country document for {code!r}")
            return page

        return reader.respond(build, vary="Accept-Encoding")
