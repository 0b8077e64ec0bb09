"""``create_app()``: the wiring, and the served ASGI stack it returns.

Outside in, a request meets:

1. ``FrontCache`` (api/http/cache.py): answers a repeat public read from a stored whole
   response; the rest of the stack runs only on a miss;
2. ``Edge`` (api/http/edge.py): HEAD as GET, the headers every answer carries, ``Allow``,
   plain integers in paths, and a read-only replica's refusals, before anything is routed;
3. litestar: routing, the query-parameter rules (api/http/params.py), guards
   (api/http/guards.py), the conditional-GET and rate-limit middleware, and the controllers
   (api/routes), which call the read model and the services.

Nothing here decides anything about a request: each layer's module says why it is where it is.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.types import Receive, Scope, Send

from api.clock import Clock, SystemClock
from api.http.bodies import MAX_BODY_BYTES, JsonRequest
from api.http.cache import ConditionalGetMiddleware, FrontCache
from api.http.edge import EVERY_RESPONSE, Edge, ReadOnly
from api.http.embed import template_config
from api.http.guards import provide_identity, report_rate_limit, sweep_rate_limits
from api.http.openapi import SPEC_SOURCE, openapi_config, serve_spec
from api.http.params import QueryParameterRules
from api.http.problems import exception_handlers
from api.routes import PRIMARY_ONLY, PUBLIC_READS
from api.routes.common import Reader
from api.settings import Settings, load_settings
from api.store import Store
from api.writer import Writer

__all__ = ["ActionDirectory", "create_app"]


class ActionDirectory:
    """The served ASGI app: the front cache, then the edge, then litestar (see above).

    A plain ASGI callable (api/asgi.py serves it). ``litestar`` is the framework app: its
    routes, state and OpenAPI schema.
    """

    def __init__(self, litestar: Litestar, *, front_cache: FrontCache, edge: Edge, query_rules: QueryParameterRules) -> None:
        self.litestar = litestar
        self.front_cache = front_cache
        self.edge = edge
        self.query_rules = query_rules
        """Every handler's query-parameter rules, read once, when the app was built."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.front_cache(scope, receive, send)
        else:  # lifespan
            await self.litestar(scope, receive, send)


def create_app(settings: Settings | None = None, *, store: Store | None = None, clock: Clock | None = None) -> ActionDirectory:
    """Build the app. Pass ``store`` to share an open database (tests); else it opens ``settings.db``.
    ``clock`` decides what "today" is for lifecycle rules, when tokens expire and what time
    rows are stamped with (tests pass a ``FixedClock``); a passed ``store`` is given it too.

    With ``settings.read_only`` (a replica) only the public reads are registered, the edge
    refuses everything else with a problem naming the primary, and no writer is ever made.
    """
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
            opened.append(
                Store(settings.db, read_only=settings.read_only, busy_timeout_ms=settings.write_wait_ms, clock=clock)
            )
        sweeper = asyncio.create_task(sweep_rate_limits(app))
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
        if settings.read_only:
            raise RuntimeError("a read-only replica has no writer: no route that writes is registered")
        if not writers:
            writers.append(Writer(provide_store().path, busy_timeout_ms=settings.write_wait_ms, clock=clock))
        return writers[0]

    readers: list[Reader] = []

    def provide_reader() -> Reader:
        if not readers:
            readers.append(Reader(store=provide_store(), clock=clock))
        return readers[0]

    query_rules = QueryParameterRules()
    cache_control = f"public, max-age={settings.max_age}, stale-while-revalidate={settings.stale_while_revalidate}"
    controllers = PUBLIC_READS if settings.read_only else (*PUBLIC_READS, *PRIMARY_ONLY)
    app = Litestar(
        route_handlers=[*controllers, serve_spec],
        dependencies={
            "store": Provide(provide_store, sync_to_thread=False),
            "writer": Provide(provide_writer, sync_to_thread=False),
            "reader": Provide(provide_reader, sync_to_thread=False),
            "identity": Provide(provide_identity, sync_to_thread=False),
        },
        before_request=query_rules.reject_unknown,
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        request_class=JsonRequest,
        request_max_body_size=MAX_BODY_BYTES,
        lifespan=[lifespan],
        # GET responses are compressed by the conditional-GET layer, which keeps gzip bytes per
        # ETag (see api/http/cache.py); nothing else is large enough to be worth compressing.
        middleware=[
            DefineMiddleware(ConditionalGetMiddleware, cache_control=cache_control, gzip_cache_size=settings.response_cache_size),
            report_rate_limit(settings.reports_per_minute, settings.trusted_proxies).middleware,
        ],
        openapi_config=openapi_config(),
        template_config=template_config(),
        debug=False,
    )
    app.state.store_provider = provide_store
    app.state.writer_provider = provide_writer
    app.state.clock = clock
    app.state.settings = settings
    query_rules.build(app.routes)  # the spec is built when first asked for (api.http.openapi.openapi_schema)

    read_only = None
    if settings.read_only:  # the routes it leaves out, as the full app would have them
        read_only = ReadOnly.of(Router(path="/", route_handlers=list(PRIMARY_ONLY)).routes, settings.primary_url)
        # The spec is the deployment's contract: a replica serves the full app's, byte for byte
        # openapi/v1.json, built when first asked for (the full app is never served here).
        full = dataclasses.replace(settings, read_only=False)
        app.state[SPEC_SOURCE] = lambda: create_app(full).litestar
    edge = Edge(app, read_only=read_only)
    front_cache = FrontCache(
        edge,
        store_provider=provide_store,
        clock=clock,
        max_entries=settings.response_cache_size,
        revision_poll_ms=settings.revision_poll_ms,
        shared_headers=EVERY_RESPONSE,
    )
    return ActionDirectory(app, front_cache=front_cache, edge=edge, query_rules=query_rules)
