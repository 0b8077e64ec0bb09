"""``create_app()``: the ASGI application with its routes, middleware and error handling."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import PurePath
from typing import Literal, get_args, get_origin

from litestar import Litestar, Request, Response
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    Contact,
    License,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    Reference,
    SecurityScheme,
    Tag,
)
from litestar.params import CookieParameter, HeaderParameter
from litestar.routes import HTTPRoute
from litestar.types.internal_types import PathParameterDefinition

from api import __version__
from api.auth import Identity
from api.bodies import MAX_BODY_BYTES, JsonRequest
from api.caching import ConditionalGetMiddleware
from api.clients import client_address_resolver, parse_networks
from api.clock import Clock, SystemClock
from api.errors import Conflict, DomainError, Invalid
from api.front_cache import FrontCache
from api.messages import ecma_message
from api.openapi_spec import SpecRenderPlugin, customize_schema, serve_spec
from api.problems import (
    PROBLEM_MEDIA_TYPE,
    FieldError,
    InvalidRequest,
    Problem,
    exception_handlers,
    handle_http_exception,
    handle_internal_error,
    problem_response,
    problem_responses,
)
from api.routes.curation import curation_handlers
from api.routes.public import Reader, public_handlers
from api.routes.vetting import vetting_handlers
from api.settings import Settings, load_settings
from api.store import Store, StoreBusy, is_busy_error
from api.writer import Writer

__all__ = ["create_app"]

API_DESCRIPTION = """\
Vetted ways to help, by country and topic: donation links, petitions and support
organizations, each checked by a curator against its sources.

Every list is an envelope `{"data": [...], "next_cursor": ...}`; follow `next_cursor` until it
is null. Texts come in the language you ask for with `?lang=` or `Accept-Language` (each item
says which one it got in `lang`). Every GET has an `ETag` and honours `If-None-Match`. Errors
are RFC 9457 `application/problem+json`; unknown query parameters are errors.
"""


def _is_optional_enum(annotation: object) -> bool:
    args = get_args(annotation)
    return type(None) in args and any(get_origin(arg) is Literal for arg in args)


@dataclass(frozen=True, slots=True)
class _QueryRules:
    allowed: frozenset[str]
    """The query parameters the handler declares (path, header and injected ones excluded)."""
    enums: frozenset[str]
    """Optional enum parameters, whose value ``null`` msgspec's lax mode would read as absent."""
    integers: frozenset[str] = frozenset()
    """Integer parameters: msgspec's lax mode also reads ``3.0``, ``1e1`` or ``010`` as numbers."""


# By handler function: litestar hands guards a copy of the handler on every request, so
# neither the handler object nor its id is a stable key; the function and its signature are.
_query_rules: dict[object, _QueryRules] = {}


_PLAIN_INTEGER = re.compile(r"0|[1-9][0-9]*")


def _rules_for(handler: BaseRouteHandler) -> _QueryRules:
    rules = _query_rules.get(handler.fn)
    if rules is None:
        dependencies = set(handler.resolve_dependencies())
        allowed, enums, integers = set(), set(), set()
        for name, parameter in handler.parsed_fn_signature.parameters.items():
            if name in dependencies or name in {"request", "state", "headers", "query", "cookies", "scope", "body", "data"}:
                continue
            kwarg = parameter.kwarg_definition
            if isinstance(kwarg, HeaderParameter | CookieParameter) or getattr(kwarg, "header", None):
                continue
            allowed.add(getattr(kwarg, "query", None) or name)
            if _is_optional_enum(parameter.annotation):
                enums.add(name)
            if parameter.annotation is int or (set(get_args(parameter.annotation)) == {int, type(None)}):
                integers.add(getattr(kwarg, "query", None) or name)
        rules = _query_rules[handler.fn] = _QueryRules(frozenset(allowed), frozenset(enums), frozenset(integers))
    return rules


async def reject_unknown_query_parameters(connection: Request) -> None:
    """A misspelt or repeated filter is an error, not a silently different answer.

    A ``before_request`` hook, not a guard: litestar copies the handler for every guard call,
    which cost more than the whole check. It runs before parameters are parsed, so an unknown
    name is reported even when another value is also wrong. OPTIONS is exempt: a browser's CORS
    preflight goes to the URL of the request it asks about, query string included.
    """
    if not connection.scope["query_string"] or connection.scope["method"] == "OPTIONS":
        return
    rules = _rules_for(connection.route_handler)
    allowed = rules.allowed - connection.path_params.keys()
    errors = [
        FieldError(in_="query", field=name, detail=f"unknown parameter (accepted: {', '.join(sorted(allowed)) or 'none'})")
        for name in connection.query_params
        if name not in allowed
    ]
    errors += [
        FieldError(in_="query", field=name, detail="given more than once; every parameter takes one value")
        for name, values in connection.query_params.dict().items()
        if name in allowed and len(values) > 1
    ]
    errors += [
        FieldError(in_="query", field=name, detail="'null' is not one of the accepted values; omit the parameter instead")
        for name in rules.enums
        if connection.query_params.get(name) == "null"
    ]
    # One value, one spelling (a CDN caches each spelling apart): integers in plain digits.
    errors += [
        FieldError(in_="query", field=name, detail="an integer in plain digits, without sign, decimals, exponent or leading zeros")
        for name in rules.integers
        if name in connection.query_params and not _PLAIN_INTEGER.fullmatch(connection.query_params[name])
    ]
    if errors:
        raise InvalidRequest(errors)


def provide_identity(request: Request) -> Identity:
    """The identity a role guard established for this request."""
    return request.scope["actiondir_identity"]  # type: ignore[typeddict-item]


def handle_domain_error(request: Request, exc: DomainError) -> Response:
    """A refused business rule (api.errors) as a problem: 400 naming the fields, 403, 404, or
    409 carrying the listing's current revision."""
    if isinstance(exc, Invalid):
        errors = [FieldError(in_="body", field=field, detail=detail) for field, detail in exc.problems]
        return handle_http_exception(request, InvalidRequest(errors))
    problem = Problem(
        type="about:blank",
        title=HTTPStatus(exc.status).phrase,
        status=exc.status,
        detail=ecma_message(exc.detail),
        current_revision=exc.current_revision if isinstance(exc, Conflict) else None,
    )
    return problem_response(request, problem)


#: How often expired rate-limit entries are dropped: litestar's memory store forgets a key only
#: when that key is read again, so one-off clients would otherwise stay in memory for good.
RATE_LIMIT_SWEEP_SECONDS = 60


async def _sweep_rate_limits(app: Litestar) -> None:
    store = app.stores.get("rate_limit")
    while True:
        await asyncio.sleep(RATE_LIMIT_SWEEP_SECONDS)
        delete_expired = getattr(store, "delete_expired", None)
        if delete_expired is not None:
            await delete_expired()


#: Seconds a client should wait before retrying a write the database was too busy to take.
RETRY_AFTER_BUSY = 2


def handle_store_busy(request: Request, exc: Exception) -> Response:
    """503, not 500: another process held the write lock; nothing was written, retrying is safe."""
    problem = Problem(
        type="about:blank",
        title="Service Unavailable",
        status=503,
        detail=f"the database is busy with another write; nothing was changed. Try again in {RETRY_AFTER_BUSY} seconds",
    )
    return problem_response(request, problem, headers={"Retry-After": str(RETRY_AFTER_BUSY)})


def handle_database_error(request: Request, exc: sqlite3.OperationalError) -> Response:
    """A busy database anywhere (a read during recovery, a write outside the writer) is a 503."""
    if is_busy_error(exc):
        return handle_store_busy(request, exc)
    return handle_internal_error(request, exc)


async def _is_report(request: Request) -> bool:  # async: litestar runs sync checks in a thread
    return request.method == "POST" and request.url.path.endswith("/reports")


#: The CORS answer, the same for every request whatever its Origin: the API uses no cookies
#: (tokens are bearer headers a script must set itself), so any site may read any answer.
#: Being the same, it survives shared caches: a copy stored for a request without Origin
#: serves a partner's browser too, and no ``Vary: Origin`` is needed.
CORS_ALLOW_HEADERS = "Accept, Accept-Language, Authorization, Content-Type, If-None-Match"
CORS_EXPOSE_HEADERS = "Content-Language, ETag, Location, Retry-After, X-Dataset-Revision"
CORS_MAX_AGE = 86400
_EVERY_RESPONSE = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", CORS_EXPOSE_HEADERS.encode()),
    (b"x-content-type-options", b"nosniff"),
)
_PREFLIGHT = (
    (b"access-control-allow-headers", CORS_ALLOW_HEADERS.encode()),
    (b"access-control-max-age", str(CORS_MAX_AGE).encode()),
)


#: How an integer path parameter is written: the spec's ``integer`` (minimum 1) in a URL. Python's
#: ``int()``, which litestar parses ``{name:int}`` with, also reads " 1", "1\\n", "+1", "01",
#: "1_0" (ten) and digits of every script ("١", "１").
PLAIN_NUMBER = re.compile(r"[1-9][0-9]*")
PLAIN_NUMBER_DETAIL = "must be a whole number in ASCII digits, without sign, spaces or leading zeros (e.g. 42)"


@dataclass(frozen=True, slots=True)
class _PathShape:
    """A route's path, segment by segment: a literal, or ``None`` for a parameter."""

    segments: tuple[str | None, ...]
    integers: tuple[tuple[int, str], ...]
    """(position, name) of each integer parameter."""

    def fits(self, parts: list[str]) -> bool:
        return all(segment is None or segment == part for segment, part in zip(self.segments, parts, strict=True))

    @property
    def precedence(self) -> tuple[bool, ...]:
        """litestar's router takes a literal segment over a parameter, from the left."""
        return tuple(segment is not None for segment in self.segments)


def _path_shapes(app: Litestar) -> dict[int, list[_PathShape]]:
    """The app's route shapes by number of segments, for the lengths where an integer parameter is."""
    shapes: dict[int, list[_PathShape]] = defaultdict(list)
    for route in app.routes:
        components = route.path_components
        params = [c for c in components if isinstance(c, PathParameterDefinition)]
        if any(issubclass(p.type, PurePath) for p in params):  # {name:path} takes any number of segments
            continue
        segments = tuple(None if isinstance(c, PathParameterDefinition) else str(c) for c in components)
        integers = tuple(
            (i, c.name) for i, c in enumerate(components) if isinstance(c, PathParameterDefinition) and c.type is int
        )
        shapes[len(segments)].append(_PathShape(segments, integers))
    return {n: found for n, found in shapes.items() if any(shape.integers for shape in found)}


def _is_preflight(headers: list[tuple[bytes, bytes]]) -> bool:
    names = {name for name, _ in headers}
    return b"origin" in names and b"access-control-request-method" in names


class ActionDirectory(Litestar):
    """The litestar app, with what every answer shares added at the ASGI entry.

    Routing happens before any litestar middleware, so these sit here:

    - HEAD is routed and handled as the GET (with its ETag, 304 and headers), body dropped
      (RFC 9110 §9.3.2);
    - every response, problems and 304s included, carries the CORS headers and
      ``X-Content-Type-Options: nosniff``;
    - OPTIONS (plain, or a CORS preflight) answers ``Allow`` with the path's real methods:
      litestar computes it once per path when the first handler registers, so a path with
      GET and POST handlers would say only one of them;
    - an integer path parameter is taken only as ``PLAIN_NUMBER``, before litestar's router
      reads it with ``int()``; any other spelling is a 400 naming the parameter (litestar
      would route " 1" and "١" to item 1, and answer 404 for "one").
    """

    allowed_methods: dict[str, bytes]
    """Route template (``/v1/listings/{listing_id}``) -> its Allow value, HEAD included."""
    path_shapes: dict[int, list[_PathShape]]
    """Routes with integer parameters, and their neighbours, by number of segments."""

    def inexact_integers(self, path: str) -> list[FieldError]:
        """An error for each integer parameter of the route ``path`` goes to that is not plain."""
        parts = [part for part in path.split("/") if part]
        fitting = [shape for shape in self.path_shapes.get(len(parts), ()) if shape.fits(parts)]
        if not fitting:
            return []
        routed = max(fitting, key=lambda shape: shape.precedence)
        return [
            FieldError(in_="path", field=name, detail=PLAIN_NUMBER_DETAIL)
            for position, name in routed.integers
            if not PLAIN_NUMBER.fullmatch(parts[position])
        ]

    async def _refuse(self, scope, receive, send, errors: list[FieldError]) -> None:  # type: ignore[no-untyped-def]
        """Answer a request the router must not see with the app's 400 problem."""
        scope["app"] = scope["litestar_app"] = self
        scope.setdefault("state", {})
        request = self.request_class(scope, receive)
        response = handle_http_exception(request, InvalidRequest(errors))
        await response.to_asgi_response(app=None, request=request)(scope, receive, send)

    front_cache: FrontCache | None = None
    """Answers repeat public reads before anything below runs (api/front_cache.py)."""

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[override]
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
        elif self.front_cache is not None:
            await self.front_cache(scope, receive, send)
        else:
            await self.handle(scope, receive, send)

    async def handle(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        """Everything an HTTP request gets from the app, below the front cache."""
        method = scope["method"]
        preflight = method == "OPTIONS" and _is_preflight(scope["headers"])

        async def send_with_headers(message) -> None:  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), *_EVERY_RESPONSE]
                if method == "OPTIONS" and message["status"] < 300:
                    allow = self.allowed_methods.get(scope.get("path_template", ""), b"OPTIONS")
                    headers = [(k, v) for k, v in headers if k.lower() != b"allow"]
                    headers.append((b"allow", allow))
                    if preflight:
                        headers += [(b"access-control-allow-methods", allow), *_PREFLIGHT]
                message = {**message, "headers": headers}
            elif method == "HEAD" and message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        if method == "HEAD":
            scope = {**scope, "method": "GET"}
        path = scope["path"]
        if root_path := scope.get("root_path", ""):  # as litestar's router reads it
            path = path.split(root_path, maxsplit=1)[-1]
        if errors := self.inexact_integers(path):
            await self._refuse(scope, receive, send_with_headers, errors)
            return
        await super().__call__(scope, receive, send_with_headers)


def _allowed_methods(app: Litestar) -> dict[str, bytes]:
    allowed = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            methods = set(route.methods) | ({"HEAD"} if "GET" in route.methods else set())
            allowed[route.path_format] = ", ".join(sorted(methods)).encode()
    return allowed


def _document_body_problems(schema: OpenAPI) -> None:
    """Every operation that takes a body can answer 413 and 415 (api/bodies.py)."""
    specs = problem_responses(413, 415)
    for path_item in (schema.paths or {}).values():
        for operation in (path_item.post, path_item.put, path_item.patch):
            if operation is None or operation.request_body is None:
                continue
            for status, spec in specs.items():
                (operation.responses or {}).setdefault(
                    str(status),
                    OpenAPIResponse(
                        description=spec.description or "",
                        content={PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))},
                    ),
                )


def create_app(settings: Settings | None = None, *, store: Store | None = None, clock: Clock | None = None) -> Litestar:
    """Build the app. Pass ``store`` to share an open database (tests); else it opens ``settings.db``.
    ``clock`` decides what "today" is for lifecycle rules, when tokens expire and what time
    rows are stamped with (tests pass a ``FixedClock``); a passed ``store`` is given it too."""
    if clock is None:
        clock = store.clock if store is not None else SystemClock()
    elif store is not None:
        store.clock = clock  # one clock for reads, writes and guards
    settings = settings or load_settings()
    owned_store = store is None

    opened: list[Store] = [] if store is None else [store]
    writers: list[Writer] = []

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if not opened:
            opened.append(Store(settings.db, busy_timeout_ms=settings.write_wait_ms, clock=clock))
        sweeper = asyncio.create_task(_sweep_rate_limits(app))
        try:
            yield
        finally:
            sweeper.cancel()
            if writers:
                writers.pop().close()
            if owned_store and opened:
                opened.pop().close()

    def provide_store() -> Store:
        return opened[0]

    def provide_writer() -> Writer:
        """The process's writer, made on first use (an app served without lifespan events
        still writes); the lifespan's end closes it."""
        if not writers:
            writers.append(Writer(provide_store().path, busy_timeout_ms=settings.write_wait_ms, clock=clock))
        return writers[0]

    reader_holder: list[Reader] = []

    def provide_reader() -> Reader:
        if not reader_holder:
            reader_holder.append(Reader(store=provide_store(), clock=clock))
        return reader_holder[0]

    cache_control = f"public, max-age={settings.max_age}, stale-while-revalidate={settings.stale_while_revalidate}"
    app = ActionDirectory(
        route_handlers=[*public_handlers, *curation_handlers, *vetting_handlers, serve_spec],
        dependencies={
            "store": Provide(provide_store, sync_to_thread=False),
            "writer": Provide(provide_writer, sync_to_thread=False),
            "reader": Provide(provide_reader, sync_to_thread=False),
            "identity": Provide(provide_identity, sync_to_thread=False),
        },
        before_request=reject_unknown_query_parameters,
        exception_handlers={
            **exception_handlers,
            DomainError: handle_domain_error,
            StoreBusy: handle_store_busy,
            sqlite3.OperationalError: handle_database_error,
        },  # type: ignore[dict-item]
        request_class=JsonRequest,
        request_max_body_size=MAX_BODY_BYTES,
        lifespan=[lifespan],
        # GET responses are compressed by the conditional-GET layer, which keeps gzip bytes per
        # ETag (see api/caching.py); nothing else is large enough to be worth compressing.
        middleware=[
            DefineMiddleware(
                ConditionalGetMiddleware,
                cache_control=cache_control,
                gzip_cache_size=settings.response_cache_size,
            ),
            RateLimitConfig(
                rate_limit=("minute", settings.reports_per_minute),
                check_throttle_handler=_is_report,
                identifier_for_request=client_address_resolver(parse_networks(settings.trusted_proxies)),
            ).middleware,
        ],
        openapi_config=OpenAPIConfig(
            title="Action Directory API",
            version=__version__,
            description=API_DESCRIPTION,
            # The docs UI lives under /v1/docs (its router adds a catch-all below its path);
            # /v1/openapi.json is served by serve_spec, byte-identical to openapi/v1.json.
            path="/v1/docs",
            render_plugins=[SwaggerRenderPlugin(path="/"), SpecRenderPlugin(path="/openapi.json")],
            license=License(name="MIT (code); CC-BY-4.0 (data)", identifier="MIT"),
            contact=Contact(name="Action Directory"),
            tags=[
                Tag(name="listings", description="Ways to act: donations, petitions, organizations."),
                Tag(name="countries", description="Countries with listings, named by CLDR."),
                Tag(name="topics", description="The curated taxonomy."),
                Tag(name="dataset", description="Everything at once, for mirrors."),
                Tag(name="operations", description="For load balancers and monitors."),
                Tag(name="curation", description="Propose changes; a second person reviews them."),
                Tag(name="reports", description="Anyone reports a problem; reviewers resolve it."),
                Tag(name="tokens", description="Admins manage curators' and reviewers' tokens."),
                Tag(name="vetting", description="What needs a reviewer: reviews due, broken links, closing petitions."),
            ],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="A token from `actiondir token create` (or POST /v1/tokens).",
                    )
                }
            ),
            use_handler_docstrings=False,
        ),
        debug=False,
    )
    app.state.store_provider = provide_store
    app.state.writer_provider = provide_writer
    app.state.clock = clock
    app.state.settings = settings
    app.allowed_methods = _allowed_methods(app)
    app.path_shapes = _path_shapes(app)
    app.front_cache = FrontCache(
        app.handle,
        store_provider=provide_store,
        clock=clock,
        max_entries=settings.response_cache_size,
        revision_poll_ms=settings.revision_poll_ms,
        shared_headers=_EVERY_RESPONSE,
    )
    customize_schema(app.openapi_schema)
    _document_body_problems(app.openapi_schema)
    return app
