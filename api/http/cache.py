"""HTTP caching: whole answers to repeat public reads in front of the framework, and
conditional GETs (ETag, 304, gzip) inside it.

The two layers, outside in:

- ``FrontCache``, the outermost ASGI layer, answers a repeat public read from a stored whole
  response;
- ``ConditionalGetMiddleware``, a litestar middleware, gives every GET answer its ETag and
  ``Cache-Control``, answers ``304 Not Modified``, and gzips (see its docstring).

The front cache:

A read that reaches litestar goes through routing, dependency injection, the
query-parameter hook, the middleware stack, the handler building its answer from the store,
and response objects. ``FrontCache`` sits outside all of that: it keeps the complete answer
(status, every header, the body as sent) to a GET of a public read route, and answers a
repeat of that request, HEAD and ``If-None-Match`` included, without calling the app. It is
the only response cache: the handlers build every answer they are asked for, so the framework
runs once per key and dataset revision (a HEAD or a conditional GET that misses asks the app
for the whole answer, keeps it, and is answered from it).

What it keys on is everything the app's answer depends on:

- the path as litestar's router reads it (decoded, no trailing slash, one slash at a time:
  ``/v1/dataset/``, ``//v1/dataset`` and ``/v1/%64ataset`` are the answer of ``/v1/dataset``),
  and the query string, each parameter as written, sorted, empty pieces dropped as litestar
  drops them (``?a=1&b=2``, ``?b=2&a=1`` and ``?&a=1&&b=2`` are one answer); a parameter the
  app rejects (unknown, repeated, malformed) gets a 400 from the app, and only 200s are
  stored, so the cache never answers for it. A path with an encoded slash (``%2F``) names
  nothing (api/http/edge.py answers 404) and is never looked up;
- the languages, reduced to what the answer can depend on (``language_preferences``, then
  ``answer_languages`` against the dataset's language tags and CLDR's locales), so random
  ``lang`` and ``Accept-Language`` values share a bounded set of entries;
- the date by the app's clock (lifecycle rules change at midnight UTC);
- whether the body is gzip or identity, and for ``/v1/dataset`` the negotiated media type.

Only a request that is spelt plainly (the path as routed, no empty query pieces) fills an
entry; any other spelling is answered from the entry when there is one, or else by the app:
every new spelling is one more URL to a CDN, and each one would rebuild the whole answer.
``Authorization`` is not in the key: the public reads depend on no credential (they are
unguarded and no handler of theirs takes an identity: tests/test_front_cache.py checks
both), and a request with a token, which CDNs pass through, would otherwise rebuild the
whole answer every time (2,000 listings: 160 ms of the event loop per /v1/dataset). Any other
route, and any request whose key-relevant headers are repeated, go straight to the app.

Staleness: all entries belong to one dataset revision. The revision is re-read at most every
``revision_poll_ms`` milliseconds, and at once after this process commits a write (the
store counts its commits) or handles any request that is not GET/HEAD. A write made by
another process (another worker, ``actiondir import``) is therefore seen within
``revision_poll_ms``; a write made here is seen by the next request. An answer is stored
only when its ``X-Dataset-Revision`` is the revision the cache belongs to.

``ConditionalGetMiddleware`` gives *every* GET a validator and cache headers: it keeps the
ETag a handler set (or derives one from the body), adds the default ``Cache-Control``,
answers ``304 Not Modified`` when ``If-None-Match`` matches, and gzips bodies of 1 KiB and
more for clients that accept it, keeping the compressed bytes per ETag.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import parse_qsl

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils import normalize_path

from api.store import db as store_module
from api.clock import Clock
from api.i18n import answer_languages, language_preferences
from api.http.params import LANG_PATTERN, dataset_media_type
from api.services.embed import embed_language
from api.store import Store

__all__ = [
    "PUBLIC_READ_PATH",
    "ConditionalGetMiddleware",
    "DatasetLanguages",
    "FrontCache",
    "accepts_gzip",
    "etag_matches",
    "make_etag",
]


def _raw_path(scope: Scope) -> bytes:
    return (scope.get("raw_path") or b"").partition(b"?")[0]  # some servers include the query


def _plainly_spelt(scope: Scope, routed: str) -> bool:
    """The path as routed, not percent-encoded nor slashed differently; a query without empty
    pieces: the only spelling that fills an entry, so spellings cannot fill the cache."""
    raw_path = _raw_path(scope)
    if scope["path"] != routed or (raw_path and raw_path != routed.encode()):
        return False
    query = scope["query_string"]
    return not query or b"" not in query.split(b"&")

#: The public read routes: every one answers through the ``Reader`` (api/routes/common.py, with an
#: ``X-Dataset-Revision``) and depends on no credential.
PUBLIC_READ_PATH = re.compile(
    r"/v1/(?:listings(?:/[^/]+(?:/revisions)?)?|countries(?:/[^/]+(?:/listings|/revisions)?)?|topics|dataset|changes)"
    r"|/embed/v1(?:/|/listings)?"
)
#: A ``lang`` the app accepts (its parameter's pattern).
_LANG_VALUE = re.compile(LANG_PATTERN)
#: Routes whose answers contain no text in a negotiated language.
_LANGUAGE_FREE = re.compile(r"/v1/(?:dataset|changes|(?:listings|countries)/[^/]+/revisions)|/embed/v1/?")
#: The embed page: its own words are in the language ``embed_language`` picks, which the
#: texts' and CLDR's languages alone do not determine, so it is part of the key.
_EMBED_PAGE = "/embed/v1/listings"

#: Headers the conditional-GET layer keeps on a 304 (ConditionalGetMiddleware, below), CORS ones included.
_KEPT_ON_304 = frozenset({b"etag", b"cache-control", b"vary", b"content-language", b"content-location"})
#: Request headers the key reads; each must appear at most once for the request to be cached.
_KEY_HEADERS = frozenset({b"accept", b"accept-encoding", b"accept-language", b"if-none-match"})


class DatasetLanguages:
    """The language tags of every text a public read can carry, for one revision at a time:
    what ``answer_languages`` reduces a request's preferences against.

    Every text: listings' translations, topic labels, legal-risk notes and country advisories.
    A text left out here whose language no other text has would make requests that differ only
    in that language share one entry (``de, uk`` and ``de`` would be told a Ukrainian note's
    warning in whichever language came first).
    """

    __slots__ = ("revision", "tags")

    def __init__(self) -> None:
        self.revision: int | None = None
        self.tags: frozenset[str] = frozenset()

    def at(self, store: Store, revision: int) -> frozenset[str]:
        if revision != self.revision:
            tags = {tag for topic in store.topics.all() for tag in topic.labels}
            for row in store.listings.each(statuses=("active", "retired")):
                tags.update(row.document.translations)
                for risk in row.document.legal_risks:
                    tags.update(risk.note)
            for country in store.countries.all():
                for advisory in country.document.advisories:
                    tags.update(advisory.translations)
            if store.get_revision() != revision:  # changed while reading: a superset is still sound
                return frozenset(tags) | self.tags
            self.revision, self.tags = revision, frozenset(tags)
        return self.tags


class _Entry:
    __slots__ = ("body", "etag", "headers", "not_modified_headers")

    def __init__(self, headers: list[tuple[bytes, bytes]], body: bytes, shared_tail: int) -> None:
        self.headers = headers
        self.body = body
        etag = next((v for k, v in headers if k == b"etag"), None)
        self.etag = None if etag is None else etag.decode("latin-1")
        own, shared = headers[: len(headers) - shared_tail], headers[len(headers) - shared_tail :]
        self.not_modified_headers = [
            (k, v) for k, v in own if k in _KEPT_ON_304 or k.startswith(b"access-control-")
        ] + shared


class FrontCache:
    """An ASGI layer answering repeat public reads from stored whole responses."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        store_provider: Callable[[], Store],
        clock: Clock,
        max_entries: int,
        revision_poll_ms: int,
        shared_headers: tuple[tuple[bytes, bytes], ...],
    ) -> None:
        self.app = app
        self.store_provider = store_provider
        self.clock = clock
        self.max_entries = max_entries
        self.poll_seconds = revision_poll_ms / 1000
        self.shared_headers = shared_headers
        """What the app's outer layer appends to every answer: the same on a 304."""
        self.revision: int | None = None
        self.languages = DatasetLanguages()
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self._next_poll = 0.0
        self._seen_commits = -1
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _current_revision(self, store: Store) -> int:
        now = time.monotonic()
        commits = store_module.local_commits
        if now >= self._next_poll or commits != self._seen_commits:
            self._seen_commits = commits
            revision = store.get_revision()
            self._next_poll = now + self.poll_seconds
            if revision != self.revision:
                self._entries.clear()
                self.revision = revision
            return revision
        assert self.revision is not None  # read at the first call: _next_poll starts at 0
        return self.revision

    def _key(self, path: str, query: bytes, store: Store, revision: int, headers: dict[bytes, bytes]) -> tuple:
        """What the app's answer to ``path`` (as routed) and ``query`` depends on."""
        accept_encoding = headers.get(b"accept-encoding", b"").decode("latin-1")
        parameters = [piece for piece in query.split(b"&") if piece]  # litestar drops empty pieces
        if _LANGUAGE_FREE.fullmatch(path):
            languages = None
        else:
            lang = None
            if b"lang" in query:
                langs = [v for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True) if k == "lang"]
                lang = langs[0] if langs else None
                if len(langs) == 1 and _LANG_VALUE.fullmatch(lang):
                    # A valid tag is keyed by what it negotiates, not as written: random tags
                    # share the entries of the languages they fall back to.
                    parameters = [p for p in parameters if not p.startswith(b"lang=")]
            accept_language = headers.get(b"accept-language")
            preferences = language_preferences(lang, None if accept_language is None else accept_language.decode("latin-1"))
            languages = answer_languages(preferences, self.languages.at(store, revision), True)
            if path == _EMBED_PAGE:
                languages = (*languages, embed_language(preferences))
        media_type = None
        if path == "/v1/dataset":
            accept = headers.get(b"accept")
            media_type = dataset_media_type(None if accept is None else accept.decode("latin-1"))
        return (
            path,
            tuple(sorted(parameters)),
            languages,
            self.clock.now().date(),
            accepts_gzip(accept_encoding),
            media_type,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: C901
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method != "GET" and method != "HEAD":
            try:
                await self.app(scope, receive, send)
            finally:
                self._next_poll = 0.0  # a write handled here is seen by the next read
            return
        routed = normalize_path(scope["path"])
        if scope.get("root_path") or b"%2f" in _raw_path(scope).lower() or not PUBLIC_READ_PATH.fullmatch(routed):
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in _KEY_HEADERS:
                if name in headers:
                    await self.app(scope, receive, send)
                    return
                headers[name] = value
        try:
            store = self.store_provider()
        except IndexError:  # no database open yet (served without lifespan events)
            await self.app(scope, receive, send)
            return
        try:
            revision = self._current_revision(store)
            key = self._key(routed, scope["query_string"], store, revision, headers)
        except sqlite3.OperationalError:  # busy or recovering: the app answers (503 and Retry-After)
            self._next_poll = 0.0
            await self.app(scope, receive, send)
            return
        entry = self._entries.get(key)
        if_none_match = headers.get(b"if-none-match")
        if entry is not None:
            self._entries.move_to_end(key)
            self.hits += 1
            await self._answer(entry, method, if_none_match, send)
            return
        self.misses += 1
        if not _plainly_spelt(scope, routed):
            # An unusual spelling of a path or query (%64ataset, ?&&) is answered but not
            # kept, so spellings cannot fill the cache.
            await self.app(scope, receive, send)
            return
        await self._fill(scope, receive, send, key, revision, if_none_match)

    @staticmethod
    async def _answer(entry: _Entry, method: str, if_none_match: bytes | None, send: Send) -> None:
        """A stored answer to a GET or HEAD, conditional or not."""
        if if_none_match is not None and entry.etag is not None and etag_matches(if_none_match.decode("latin-1"), entry.etag):
            await send({"type": "http.response.start", "status": 304, "headers": entry.not_modified_headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": entry.headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else entry.body})

    async def _fill(
        self, scope: Scope, receive: Receive, send: Send, key: tuple, revision: int, if_none_match: bytes | None
    ) -> None:
        """Ask the app for the whole answer (a plain GET), keep a complete 200 at ``revision``,
        and answer the request as it was made.

        HEAD and ``If-None-Match`` misses fill the cache too: a CDN revalidates with
        ``If-None-Match`` and may never send a plain GET again, so without this every
        revalidation after a revision change would run the framework and the handler.
        """
        method = scope["method"]
        plain = {
            **scope,
            "method": "GET",
            "headers": [(name, value) for name, value in scope["headers"] if name != b"if-none-match"],
        }
        start: Message | None = None  # a 200 start, held until its body is complete
        chunks: list[bytes] = []
        commits = store_module.local_commits

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and message["status"] == 200:
                start = message
            elif start is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    entry = self._store(key, revision, commits, start, b"".join(chunks))
                    await self._answer(entry, method, if_none_match, send)
            elif method == "HEAD" and message["type"] == "http.response.body":
                if not message.get("more_body"):
                    await send({"type": "http.response.body", "body": b""})
            else:
                await send(message)

        await self.app(plain, receive, keep)

    def _store(self, key: tuple, revision: int, commits: int, start: Message, body: bytes) -> _Entry:
        """The answer as an entry, kept when it is the app's answer at ``revision``."""
        headers = list(start.get("headers", ()))
        entry = _Entry(headers, body, len(self.shared_headers))
        answered_at = next((v for k, v in headers if k == b"x-dataset-revision"), None)
        if (
            answered_at != str(revision).encode()
            or entry.etag is None
            or revision != self.revision
            or commits != store_module.local_commits
            or tuple(headers[len(headers) - len(self.shared_headers) :]) != self.shared_headers
        ):
            return entry
        self._entries[key] = entry
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return entry


# --- conditional GETs, inside the framework ---------------------------------------------------


def make_etag(body: bytes) -> str:
    """A weak validator from the body's digest.

    Weak, because compression may change the bytes on the wire while the representation
    stays the same; an unchanged page keeps its ETag across dataset revisions.
    """
    return f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison against a list of entity tags (or ``*``)."""
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


def accepts_gzip(accept_encoding: str) -> bool:
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


class ConditionalGetMiddleware:
    """ETag, Cache-Control, 304 and gzip for every successful GET.

    Compression lives here rather than in litestar's CompressionMiddleware because the body's
    ETag is known here: the gzip bytes are kept per ETag, so a cached page is compressed once,
    not on every request (benchmarks/: the built-in halved the gzip hot path). ``mtime=0``
    makes the bytes reproducible, so every replica sends the same gzip body.
    """

    def __init__(
        self, app: ASGIApp, *, cache_control: str, minimum_size: int = 1024, gzip_cache_size: int = 4096
    ) -> None:
        self.app = app
        self.cache_control = cache_control.encode()
        self.minimum_size = minimum_size
        self.gzip_cache_size = gzip_cache_size
        self._gzipped: OrderedDict[str, bytes] = OrderedDict()

    def _gzip(self, etag: str, body: bytes) -> bytes:
        compressed = self._gzipped.get(etag)
        if compressed is None:
            compressed = gzip.compress(body, compresslevel=6, mtime=0)
            self._gzipped[etag] = compressed
            if len(self._gzipped) > self.gzip_cache_size:
                self._gzipped.popitem(last=False)
        else:
            self._gzipped.move_to_end(etag)
        return compressed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        if_none_match = None
        accept_encoding = ""
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"accept-encoding":
                accept_encoding = value.decode("latin-1")

        start: Message | None = None  # a 200 start, held back until the whole body is here
        buffered: list[bytes] = []

        async def send_wrapper(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] != 200:
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            buffered.append(message.get("body", b""))
            if message.get("more_body"):
                return
            await self._finish(start, b"".join(buffered), if_none_match, accept_encoding, send)

        await self.app(scope, receive, send_wrapper)

    async def _finish(
        self, start: Message, body: bytes, if_none_match: str | None, accept_encoding: str, send: Send
    ) -> None:
        """Send a 304 when the client's copy is current; else the body, compressed if it may be."""
        headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
        etag_header = next((v for k, v in headers if k == b"etag"), None)
        etag = etag_header.decode() if etag_header else make_etag(body)
        if etag_header is None:
            headers.append((b"etag", etag.encode()))
        if not any(k == b"cache-control" for k, _ in headers):
            headers.append((b"cache-control", self.cache_control))
        compressible = len(body) >= self.minimum_size and not any(k == b"content-encoding" for k, _ in headers)
        if compressible:
            headers = _vary_on(headers, b"Accept-Encoding")
        if if_none_match is not None and etag_matches(if_none_match, etag):
            keep = {b"etag", b"cache-control", b"vary", b"content-language", b"content-location"}
            kept = [(k, v) for k, v in headers if k in keep or k.startswith(b"access-control-")]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        if compressible and accepts_gzip(accept_encoding):
            body = self._gzip(etag, body)
            headers.append((b"content-encoding", b"gzip"))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _vary_on(headers: list[tuple[bytes, bytes]], name: bytes) -> list[tuple[bytes, bytes]]:
    """Add ``name`` to the Vary header (creating it when absent)."""
    for i, (key, value) in enumerate(headers):
        if key == b"vary":
            if name.lower() not in [v.strip().lower() for v in value.split(b",")]:
                headers[i] = (key, value + b", " + name)
            return headers
    return [*headers, (b"vary", name)]
