"""What a request may ask: the shared parameters, the rule on unknown ones, and negotiation.

- The parameters several routes take (``lang``, ``limit``, a listing id…) are declared here
  once, so one name has one pattern, one set of bounds and one description in the spec.
- Unknown query parameters are errors, not a silently different answer. What each handler
  accepts is read from its signature once, when the app is built (``QueryParameterRules``),
  and every request is checked against it before its parameters are parsed.
- ``negotiate_media_type`` reads ``Accept`` with q-values (RFC 9110), for /v1/dataset.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Literal, get_args, get_origin

from litestar import Request
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Example
from litestar.params import CookieParameter, HeaderParameter, Parameter
from litestar.routes import BaseRoute, HTTPRoute

from api.services.embed import Theme
from api.services.read_model import LISTING_CURSOR_PATTERN
from api.http.problems import FieldError, InvalidRequest
from api.i18n import ISO_COUNTRIES
from api.models import COUNTRY_WORLDWIDE, Kind

__all__ = [
    "JSON",
    "LANG_PATTERN",
    "NDJSON",
    "AcceptLanguage",
    "CountryCode",
    "CountryParam",
    "CountryPath",
    "CursorParam",
    "IdPath",
    "IncludeParam",
    "ItemCursorParam",
    "KindParam",
    "LangParam",
    "LimitParam",
    "ListingIdPath",
    "QueryParam",
    "QueryParameterRules",
    "MAX_ACCEPT_ITEMS",
    "QueryRules",
    "SafetyCountryParam",
    "ThemeParam",
    "TopicParam",
    "WorldwideParam",
    "dataset_media_type",
    "negotiate_media_type",
    "query_rules_of",
]

JSON = "application/json"
NDJSON = "application/x-ndjson"

# --- the shared parameters ---------------------------------------------------------------------

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
    Parameter(
        pattern=r"^[A-Z]{2}\Z",
        description="ISO 3166-1 alpha-2 code, upper case; `XX` is worldwide.",
        examples=[Example(summary="Russia", value="RU")],
    ),
]
#: Every ISO 3166-1 alpha-2 code and XX, as an enum in the spec.
CountryCode = Literal[tuple(sorted(ISO_COUNTRIES | {COUNTRY_WORLDWIDE}))]  # type: ignore[valid-type]
CountryParam = Annotated[
    CountryCode | None,  # type: ignore[valid-type]
    Parameter(description="ISO 3166-1 alpha-2, upper case; `XX` for worldwide only."),
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
IncludeParam = Annotated[
    str | None,
    Parameter(
        pattern=r"^(closed|unverified|risky)(,(closed|unverified|risky)){0,2}\Z",
        description="Also list what the default leaves out: `closed` petitions (past `closes_at`), "
        "`unverified` listings (link failed twice in a row, or a petition past its `review_by`; both "
        "await a reviewer) and, under a country, "
        "`risky` ones: donations and petitions toward an organization designated `undesirable`, "
        "`extremist` or `banned` in that country, where they can be prosecuted (each item's `safety` "
        "says so). Comma-separated.",
    ),
]
SafetyCountryParam = Annotated[
    CountryCode | None,  # type: ignore[valid-type]
    Parameter(
        description="The reader's country (ISO 3166-1 alpha-2, upper case): the answer's `safety` says "
        "what acting on this listing may mean there. Without it, `safety` is null."
    ),
]
ListingIdPath = Annotated[
    str,
    Parameter(
        pattern=r"^[a-z0-9]+(-[a-z0-9]+)*\Z",
        max_length=80,
        description="A listing's id (its `id`).",
        examples=[Example(summary="A listing of the seed dataset", value="ru-russian-lgbt-network")],
    ),
]
ThemeParam = Annotated[
    Theme,
    Parameter(
        description="The embed page's colours: `auto` follows the reader's system setting "
        "(`prefers-color-scheme`), `light` and `dark` force one."
    ),
]
ItemCursorParam = Annotated[
    str | None, Parameter(pattern=r"^i1\.[0-9]{1,18}\Z", description="`next_cursor` of the previous page.")
]
"""The cursor of the curation lists (submissions, reports): ``i1.<id of the last item>``."""
IdPath = Annotated[int, Parameter(ge=1, le=2**31, examples=[Example(summary="The first one", value=1)])]
"""A numbered item of the curation side (a submission, a report, a token)."""


# --- unknown query parameters ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueryRules:
    """What one handler accepts in the query string."""

    allowed: frozenset[str]
    """The query parameters the handler declares (path, header and injected ones excluded)."""
    enums: frozenset[str]
    """Optional enum parameters, whose value ``null`` msgspec's lax mode would read as absent."""
    integers: frozenset[str]
    """Integer parameters: msgspec's lax mode also reads ``3.0``, ``1e1`` or ``010`` as numbers."""


#: Names litestar fills from the request itself, never from the query string.
_RESERVED = frozenset({"request", "state", "headers", "query", "cookies", "scope", "body", "data"})
_PLAIN_INTEGER = re.compile(r"0|[1-9][0-9]*")


def _is_optional_enum(annotation: object) -> bool:
    args = get_args(annotation)
    return type(None) in args and any(get_origin(arg) is Literal for arg in args)


def query_rules_of(handler: HTTPRouteHandler) -> QueryRules:
    """Read a handler's query parameters from its signature."""
    dependencies = set(handler.resolve_dependencies())
    allowed, enums, integers = set(), set(), set()
    for name, parameter in handler.parsed_fn_signature.parameters.items():
        if name in dependencies or name in _RESERVED:
            continue
        kwarg = parameter.kwarg_definition
        if isinstance(kwarg, HeaderParameter | CookieParameter) or getattr(kwarg, "header", None):
            continue
        query_name = getattr(kwarg, "query", None) or name
        allowed.add(query_name)
        if _is_optional_enum(parameter.annotation):
            enums.add(name)
        if parameter.annotation is int or set(get_args(parameter.annotation)) == {int, type(None)}:
            integers.add(query_name)
    return QueryRules(frozenset(allowed), frozenset(enums), frozenset(integers))


class QueryParameterRules:
    """The query rules of every handler of an app, read once, when the app is built.

    ``reject_unknown`` is the app's ``before_request`` hook: a hook, not a guard, because
    litestar copies the handler for every guard call, which cost more than the whole check.
    The rules are kept by handler function: the function is what every copy shares.
    """

    def __init__(self) -> None:
        self._by_function: dict[object, QueryRules] = {}
        self.builds = 0
        """How many handlers' rules were read: once each, never per request."""

    def build(self, routes: Iterable[BaseRoute]) -> None:
        """Read the rules of every HTTP handler of ``routes`` (the app's, once it is built)."""
        for route in routes:
            if isinstance(route, HTTPRoute):
                for handler in route.route_handlers:
                    self._by_function[handler.fn] = query_rules_of(handler)
                    self.builds += 1

    def of(self, handler: HTTPRouteHandler) -> QueryRules:
        """The rules read for ``handler`` when the app was built (KeyError: it was not)."""
        return self._by_function[handler.fn]

    async def reject_unknown(self, connection: Request) -> None:
        """A misspelt or repeated filter is an error, not a silently different answer.

        It runs before parameters are parsed, so an unknown name is reported even when
        another value is also wrong. OPTIONS is exempt: a browser's CORS preflight goes to
        the URL of the request it asks about, query string included.
        """
        if not connection.scope["query_string"] or connection.scope["method"] == "OPTIONS":
            return
        rules = self.of(connection.route_handler)
        query = connection.query_params
        allowed = rules.allowed - connection.path_params.keys()
        errors = [
            FieldError(in_="query", field=name, detail=f"unknown parameter (accepted: {', '.join(sorted(allowed)) or 'none'})")
            for name in query
            if name not in allowed
        ]
        errors += [
            FieldError(in_="query", field=name, detail="given more than once; every parameter takes one value")
            for name, values in query.dict().items()
            if name in allowed and len(values) > 1
        ]
        errors += [
            FieldError(in_="query", field=name, detail="'null' is not one of the accepted values; omit the parameter instead")
            for name in rules.enums
            if query.get(name) == "null"
        ]
        # One value, one spelling (a CDN caches each spelling apart): integers in plain digits.
        errors += [
            FieldError(in_="query", field=name, detail="an integer in plain digits, without sign, decimals, exponent or leading zeros")
            for name in rules.integers
            if name in query and not _PLAIN_INTEGER.fullmatch(query[name])
        ]
        if errors:
            raise InvalidRequest(errors)


# --- content negotiation -----------------------------------------------------------------------

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
