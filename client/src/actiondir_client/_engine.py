"""What ``Client`` and ``AsyncClient`` share, with no I/O of its own.

Why a separate module: the two clients differ only in how they send a request and how they
wait, so everything else (which URL and headers an endpoint needs, the ETag cache, when to
retry, how an answer is decoded or turned into a ``ProblemError``) lives here once, and the
sync and async clients cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from actiondir_client._version import __version__
from actiondir_client.errors import problem_from_response
from actiondir_client.models import (
    ChangePage,
    Country,
    CountryPage,
    CountryRevisionPage,
    DatasetInfo,
    Health,
    ListingPage,
    ListingRevisionPage,
    ListingView,
    TopicPage,
)

__all__ = [
    "CacheKey",
    "Call",
    "ETagCache",
    "Engine",
    "Entry",
    "Prepared",
    "changes_call",
    "countries_call",
    "country_call",
    "dataset_call",
    "health_call",
    "listing_call",
    "listing_page_call",
    "listing_revisions_call",
    "retry_after_seconds",
    "segment",
    "topics_call",
]

T = TypeVar("T")

#: Statuses whose ``Retry-After`` says "the same request will work later" (RFC 9110 §10.2.3).
RETRY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One GET: the path (relative to the base URL), its query and headers, what it decodes to."""

    path: str
    type: type[T]
    params: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()


def segment(value: str, name: str) -> str:
    """``value`` as exactly one path segment of the endpoint it was given to.

    ``?`` ``#`` ``%`` and dots are escaped (so ``..`` cannot climb out). A ``/`` cannot be sent
    at all: servers decode ``%2F`` before routing, so ``listing("x%2Frevisions")`` would reach
    another endpoint; and an empty value would ask for the list instead of an item. Both are
    refused here (no id, code or cursor of the API contains either).
    """
    value = str(value)
    if not value or "/" in value:
        raise ValueError(f"{name} must be one path segment, not empty and without '/': {value!r}")
    return quote(value, safe="").replace(".", "%2E")


def _query(**params: Any) -> tuple[tuple[str, str], ...]:
    """Query parameters as the API spells them; None means "not sent" (the server's default)."""
    pairs = []
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif not isinstance(value, str | int) and isinstance(value, Iterable):
            value = ",".join(value)
        pairs.append((name, str(value)))
    return tuple(pairs)


def _language(lang: str | None) -> tuple[tuple[str, str], ...]:
    return (("Accept-Language", lang),) if lang else ()


# --- The endpoints -----------------------------------------------------------------------------------


def listing_page_call(
    path: str,
    *,
    country: str | None = None,
    kind: str | None = None,
    topic: str | None = None,
    q: str | None = None,
    lang: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    include_worldwide: bool | None = None,
    include: str | Iterable[str] | None = None,
) -> Call[ListingPage]:
    params = _query(
        country=country, kind=kind, topic=topic, q=q, limit=limit, cursor=cursor,
        include_worldwide=include_worldwide, include=include,
    )
    return Call(path, ListingPage, params, _language(lang))


def listing_call(listing_id: str, lang: str | None, country: str | None = None) -> Call[ListingView]:
    return Call(f"/v1/listings/{segment(listing_id, 'listing_id')}", ListingView, _query(country=country), _language(lang))


def listing_revisions_call(listing_id: str) -> Call[ListingRevisionPage]:
    return Call(f"/v1/listings/{segment(listing_id, 'listing_id')}/revisions", ListingRevisionPage)


def countries_call(lang: str | None) -> Call[CountryPage]:
    return Call("/v1/countries", CountryPage, (), _language(lang))


def country_call(code: str, lang: str | None) -> Call[Country]:
    return Call(f"/v1/countries/{segment(code, 'code')}", Country, (), _language(lang))


def country_revisions_call(code: str) -> Call[CountryRevisionPage]:
    return Call(f"/v1/countries/{segment(code, 'code')}/revisions", CountryRevisionPage)


def topics_call(lang: str | None) -> Call[TopicPage]:
    return Call("/v1/topics", TopicPage, (), _language(lang))


def changes_call(since: str | None, limit: int | None) -> Call[ChangePage]:
    return Call("/v1/changes", ChangePage, _query(since=since, limit=limit))


def dataset_call() -> Call[DatasetInfo]:
    return Call("/v1/dataset", DatasetInfo)


def health_call() -> Call[Health]:
    return Call("/healthz", Health)


# --- Conditional requests -----------------------------------------------------------------------------


#: A request as the cache tells requests apart: path, query, every header sent.
CacheKey = tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]


class Entry(NamedTuple):
    etag: str
    content: bytes


class ETagCache:
    """The last body of each request (path, query, headers) with its ETag, least recently
    used first out. Thread-safe: one sync client may be shared by threads."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[CacheKey, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: CacheKey) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: CacheKey, entry: Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class Prepared(NamedTuple):
    """What to send for a call, and the cached body a 304 would stand for."""

    headers: dict[str, str]
    key: CacheKey
    entry: Entry | None


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` (RFC 9110 §10.2.3) in seconds: delay-seconds or an HTTP-date; None when
    absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


_decoders: dict[type, msgspec.json.Decoder[Any]] = {}


def _decode(content: bytes, into: type[T]) -> T:
    decoder: msgspec.json.Decoder[T] | None = _decoders.get(into)
    if decoder is None:
        decoder = _decoders.setdefault(into, msgspec.json.Decoder(into))
    return decoder.decode(content)


class Engine:
    """Settings and state one client holds: default headers, the ETag cache, the retry policy."""

    def __init__(
        self,
        *,
        headers: Mapping[str, str] | None,
        cache_size: int,
        max_retries: int,
        max_retry_wait: float,
    ) -> None:
        if max_retries < 0 or max_retry_wait < 0 or cache_size < 0:
            raise ValueError("max_retries, max_retry_wait and cache_size must not be negative")
        self.headers = httpx.Headers({"Accept": "application/json", "User-Agent": f"actiondir-client/{__version__}"})
        self.headers.update(headers or {})
        self.cache = ETagCache(cache_size) if cache_size else None
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait

    def prepare(self, call: Call[Any]) -> Prepared:
        """The request's headers, with ``If-None-Match`` when a body for it is cached.

        The cache key holds every header sent (``Accept-Language`` above all): an answer in
        Russian must never stand in for the same URL asked for in English.
        """
        headers = dict(call.headers)
        merged = httpx.Headers(self.headers)
        merged.update(headers)
        key = (call.path, call.params, tuple(sorted((name.lower(), value) for name, value in merged.multi_items())))
        entry = self.cache.get(key) if self.cache is not None else None
        if entry is not None:
            headers["If-None-Match"] = entry.etag
        return Prepared(headers, key, entry)

    def retry_wait(self, response: httpx.Response, retries_done: int) -> float | None:
        """Seconds to wait before sending the request again, or None to answer now: only on
        429/503 with a ``Retry-After`` no longer than ``max_retry_wait``, at most
        ``max_retries`` times."""
        if response.status_code not in RETRY_STATUSES or retries_done >= self.max_retries:
            return None
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        return wait if wait is not None and wait <= self.max_retry_wait else None

    def result(self, call: Call[T], prepared: Prepared, response: httpx.Response) -> T:
        """The decoded answer; a 304 answers with the cached body; anything else not 2xx raises
        ``ProblemError``."""
        status = response.status_code
        if status == 304 and prepared.entry is not None:
            return _decode(prepared.entry.content, call.type)
        if not 200 <= status < 300:
            raise problem_from_response(
                status,
                response.headers.get("Content-Type"),
                response.content,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        value = _decode(response.content, call.type)
        etag = response.headers.get("ETag")
        if self.cache is not None and etag and "no-store" not in response.headers.get("Cache-Control", ""):
            self.cache.put(prepared.key, Entry(etag, response.content))
        return value
