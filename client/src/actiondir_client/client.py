"""``Client`` (blocking) and ``AsyncClient`` (asyncio): one method per public read endpoint.

Both are thin: they build a ``Call`` (``_engine``), send it with httpx, wait and resend when
the server says ``Retry-After``, and hand the answer back to the engine to decode. Keeping the
two side by side in one module makes a difference between them easy to see in review.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Self, TypeVar

import httpx

from actiondir_client import _engine
from actiondir_client._engine import Call, Engine
from actiondir_client.models import (
    Change,
    ChangePage,
    Country,
    CountryPage,
    CountryRevisionPage,
    DatasetInfo,
    Health,
    Kind,
    ListingPage,
    ListingRevisionPage,
    ListingView,
    TopicPage,
)

__all__ = ["AsyncChangeFeed", "AsyncClient", "ChangeFeed", "Client"]

T = TypeVar("T")

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_WAIT = 10.0
DEFAULT_CACHE_SIZE = 256


class ChangeFeed:
    """The changes feed from ``since`` on, page after page, as one iterator of ``Change``.

    ``next_cursor`` is where to resume next time (pass it as ``since``): it moves only once
    every change of a page has been handed out, so resuming never skips a change.
    ``dataset_revision`` is the dataset revision the last page was read at.
    """

    def __init__(self, fetch: Callable[[str | None], ChangePage], since: str | None) -> None:
        self._fetch = fetch
        self.next_cursor = since
        self.dataset_revision: int | None = None

    def __iter__(self) -> Iterator[Change]:
        while True:
            page = self._fetch(self.next_cursor)
            self.dataset_revision = page.dataset_revision
            done = not page.data or page.next_cursor == self.next_cursor
            yield from page.data
            self.next_cursor = page.next_cursor
            if done:
                return


class AsyncChangeFeed:
    """``ChangeFeed`` for ``async for``."""

    def __init__(self, fetch: Callable[[str | None], Awaitable[ChangePage]], since: str | None) -> None:
        self._fetch = fetch
        self.next_cursor = since
        self.dataset_revision: int | None = None

    async def _changes(self) -> AsyncIterator[Change]:
        while True:
            page = await self._fetch(self.next_cursor)
            self.dataset_revision = page.dataset_revision
            done = not page.data or page.next_cursor == self.next_cursor
            for change in page.data:
                yield change
            self.next_cursor = page.next_cursor
            if done:
                return

    def __aiter__(self) -> AsyncIterator[Change]:
        return self._changes()


class Client:
    """A blocking client for the Action Directory API.

    ``base_url`` is where the API lives (``https://example.org``; a path prefix is kept).
    ``timeout`` and ``transport`` go to httpx; ``headers`` are sent with every request.
    Every GET is conditional: the last body of each request is kept (``cache_size`` of them)
    with its ETag, and a ``304 Not Modified`` answers with it. On 429 or 503 with a
    ``Retry-After`` of at most ``max_retry_wait`` seconds, the request is sent again after
    that wait, at most ``max_retries`` times. Anything but a success raises ``ProblemError``.

    ``lang=`` on a method is sent as ``Accept-Language``: the server answers in the best
    language it has for it and says which in each item's ``lang``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self._engine = Engine(
            headers=headers, cache_size=cache_size, max_retries=max_retries, max_retry_wait=max_retry_wait
        )
        self._http = httpx.Client(
            base_url=base_url, timeout=timeout, headers=self._engine.headers, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        self._http.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._http.__exit__(exc_type, exc, tb)

    def _get(self, call: Call[T]) -> T:
        retries = 0
        while True:
            prepared = self._engine.prepare(call)
            response = self._http.get(call.path, params=call.params, headers=prepared.headers)
            wait = self._engine.retry_wait(response, retries)
            if wait is None:
                return self._engine.result(call, prepared, response)
            retries += 1
            time.sleep(wait)

    # --- Listings -------------------------------------------------------------------------------------

    def listing_page(
        self,
        *,
        country: str | None = None,
        kind: Kind | None = None,
        topic: str | None = None,
        q: str | None = None,
        lang: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        include_worldwide: bool | None = None,
        include: str | Iterable[str] | None = None,
    ) -> ListingPage:
        """One page of ``/v1/listings``; pass its ``next_cursor`` as ``cursor`` for the next."""
        return self._get(
            _engine.listing_page_call(
                "/v1/listings", country=country, kind=kind, topic=topic, q=q, lang=lang, limit=limit,
                cursor=cursor, include_worldwide=include_worldwide, include=include,
            )
        )

    def listings(
        self,
        *,
        country: str | None = None,
        kind: Kind | None = None,
        topic: str | None = None,
        q: str | None = None,
        lang: str | None = None,
        include_worldwide: bool | None = None,
        include: str | Iterable[str] | None = None,
        limit: int | None = None,
    ) -> Iterator[ListingView]:
        """Every listing that matches, across all pages (``limit`` is the page size).

        Filters are the API's: ``country`` (``XX``: worldwide only), ``kind``, ``topic``,
        ``q`` (full text), ``include_worldwide``, ``include`` (``"closed"``, ``"unverified"``,
        ``"risky"``).
        """
        cursor: str | None = None
        while True:
            page = self.listing_page(
                country=country, kind=kind, topic=topic, q=q, lang=lang, limit=limit, cursor=cursor,
                include_worldwide=include_worldwide, include=include,
            )
            yield from page.data
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def country_listing_page(
        self,
        code: str,
        *,
        kind: Kind | None = None,
        topic: str | None = None,
        q: str | None = None,
        lang: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        include_worldwide: bool | None = None,
        include: str | Iterable[str] | None = None,
    ) -> ListingPage:
        """One page of ``/v1/countries/{code}/listings`` (404 for a code that is not a country)."""
        return self._get(
            _engine.listing_page_call(
                f"/v1/countries/{_engine.segment(code, 'code')}/listings", kind=kind, topic=topic, q=q, lang=lang,
                limit=limit, cursor=cursor, include_worldwide=include_worldwide, include=include,
            )
        )

    def country_listings(
        self,
        code: str,
        *,
        kind: Kind | None = None,
        topic: str | None = None,
        q: str | None = None,
        lang: str | None = None,
        include_worldwide: bool | None = None,
        include: str | Iterable[str] | None = None,
        limit: int | None = None,
    ) -> Iterator[ListingView]:
        """Every listing for country ``code``, across all pages."""
        cursor: str | None = None
        while True:
            page = self.country_listing_page(
                code, kind=kind, topic=topic, q=q, lang=lang, limit=limit, cursor=cursor,
                include_worldwide=include_worldwide, include=include,
            )
            yield from page.data
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def listing(self, listing_id: str, *, lang: str | None = None, country: str | None = None) -> ListingView:
        """One listing, whatever its status (a retired one raises ``ProblemError`` 410); with
        ``country``, its ``safety`` for a reader there."""
        return self._get(_engine.listing_call(listing_id, lang, country))

    def listing_revisions(self, listing_id: str) -> ListingRevisionPage:
        """Every accepted change of a listing, oldest first."""
        return self._get(_engine.listing_revisions_call(listing_id))

    # --- Countries, topics ------------------------------------------------------------------------------

    def countries(self, *, lang: str | None = None) -> CountryPage:
        return self._get(_engine.countries_call(lang))

    def country(self, code: str, *, lang: str | None = None) -> Country:
        return self._get(_engine.country_call(code, lang))

    def country_revisions(self, code: str) -> CountryRevisionPage:
        """Every accepted change of a country's document (its advisories), oldest first."""
        return self._get(_engine.country_revisions_call(code))

    def topics(self, *, lang: str | None = None) -> TopicPage:
        return self._get(_engine.topics_call(lang))

    # --- Dataset, changes, health -----------------------------------------------------------------------

    def dataset(self) -> DatasetInfo:
        return self._get(_engine.dataset_call())

    def changes_page(self, *, since: str | None = None, limit: int | None = None) -> ChangePage:
        return self._get(_engine.changes_call(since, limit))

    def changes(self, *, since: str | None = None, limit: int | None = None) -> ChangeFeed:
        """Every change after ``since`` (from the start without it); see ``ChangeFeed``."""
        return ChangeFeed(lambda cursor: self.changes_page(since=cursor, limit=limit), since)

    def health(self) -> Health:
        return self._get(_engine.health_call())


class AsyncClient:
    """``Client`` for asyncio: the same methods, awaited; ``listings`` and ``changes`` are
    iterated with ``async for``."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self._engine = Engine(
            headers=headers, cache_size=cache_size, max_retries=max_retries, max_retry_wait=max_retry_wait
        )
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=timeout, headers=self._engine.headers, transport=transport
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        await self._http.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.__aexit__(exc_type, exc, tb)

    async def _get(self, call: Call[T]) -> T:
        retries = 0
        while True:
            prepared = self._engine.prepare(call)
            response = await self._http.get(call.path, params=call.params, headers=prepared.headers)
            wait = self._engine.retry_wait(response, retries)
            if wait is None:
                return self._engine.result(call, prepared, response)
            retries += 1
            await asyncio.sleep(wait)

    # --- Listings -------------------------------------------------------------------------------------

    async def listing_page(
        self,
        *,
        country: str | None = None,
        kind: Kind | None = None,
        topic: str | None = None,
        q: str | None = None,
        lang: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        include_worldwide: bool | None = None,
        include: str | Iterable[str] | None = None,
    ) -> ListingPage:
        return await self._get(
            _engine.listing_page_call(
                "/v1/listings", country=country, kind=kind, topic=topic, q=q, lang=lang, limit=limit,
                cursor=cursor, include_worldwide=include_worldwide, include=include,
            )
        )

    async def listings(
        self,
        *,
        country: str | None = None,
        kind: Kind | None = None,
        topic: str | None = None,
        q: str | None = None,
        lang: str | None = None,
        include_worldwide: bool | None = None,
        include: str | Iterable[str] | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[ListingView]:
        cursor: str | None = None
        while True:
            page = await self.listing_page(
                country=country, kind=kind, topic=topic, q=q, lang=lang, limit=limit, cursor=cursor,
                include_worldwide=include_worldwide, include=include,
            )
            for item in page.data:
                yield item
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def country_listing_page(
        self,
        code: str,
        *,
        kind: Kind | None = None,
        topic: str | None = None,
        q: str | None = None,
        lang: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        include_worldwide: bool | None = None,
        include: str | Iterable[str] | None = None,
    ) -> ListingPage:
        return await self._get(
            _engine.listing_page_call(
                f"/v1/countries/{_engine.segment(code, 'code')}/listings", kind=kind, topic=topic, q=q, lang=lang,
                limit=limit, cursor=cursor, include_worldwide=include_worldwide, include=include,
            )
        )

    async def country_listings(
        self,
        code: str,
        *,
        kind: Kind | None = None,
        topic: str | None = None,
        q: str | None = None,
        lang: str | None = None,
        include_worldwide: bool | None = None,
        include: str | Iterable[str] | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[ListingView]:
        cursor: str | None = None
        while True:
            page = await self.country_listing_page(
                code, kind=kind, topic=topic, q=q, lang=lang, limit=limit, cursor=cursor,
                include_worldwide=include_worldwide, include=include,
            )
            for item in page.data:
                yield item
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def listing(self, listing_id: str, *, lang: str | None = None, country: str | None = None) -> ListingView:
        return await self._get(_engine.listing_call(listing_id, lang, country))

    async def listing_revisions(self, listing_id: str) -> ListingRevisionPage:
        return await self._get(_engine.listing_revisions_call(listing_id))

    # --- Countries, topics ------------------------------------------------------------------------------

    async def countries(self, *, lang: str | None = None) -> CountryPage:
        return await self._get(_engine.countries_call(lang))

    async def country(self, code: str, *, lang: str | None = None) -> Country:
        return await self._get(_engine.country_call(code, lang))

    async def country_revisions(self, code: str) -> CountryRevisionPage:
        return await self._get(_engine.country_revisions_call(code))

    async def topics(self, *, lang: str | None = None) -> TopicPage:
        return await self._get(_engine.topics_call(lang))

    # --- Dataset, changes, health -----------------------------------------------------------------------

    async def dataset(self) -> DatasetInfo:
        return await self._get(_engine.dataset_call())

    async def changes_page(self, *, since: str | None = None, limit: int | None = None) -> ChangePage:
        return await self._get(_engine.changes_call(since, limit))

    def changes(self, *, since: str | None = None, limit: int | None = None) -> AsyncChangeFeed:
        return AsyncChangeFeed(lambda cursor: self.changes_page(since=cursor, limit=limit), since)

    async def health(self) -> Health:
        return await self._get(_engine.health_call())
