"""The read path's caches: pre-encoded bodies per dataset revision, and conditional GETs.

``ResponseCache`` keeps encoded response bodies, each with its ETag, keyed by what the
request asked (route, canonical parameters, negotiated languages). All entries belong to
one dataset revision: when the revision moves (an import, an approved change), the next
request finds the cache empty. Each process asks the database for the revision on every
request (one indexed read), so a change made by any process is seen by all at once.

``ConditionalGetMiddleware`` gives *every* GET a validator and cache headers: it keeps the
ETag a handler set (or derives one from the body), adds the default ``Cache-Control``, and
answers ``304 Not Modified`` when ``If-None-Match`` matches.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CachedBody", "ConditionalGetMiddleware", "ResponseCache", "make_etag"]


def make_etag(body: bytes) -> str:
    """A weak validator from the body's digest.

    Weak, because compression may change the bytes on the wire while the representation
    stays the same; an unchanged page keeps its ETag across dataset revisions.
    """
    return f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'


@dataclass(frozen=True, slots=True)
class CachedBody:
    body: bytes
    etag: str
    headers: dict[str, str]


class ResponseCache:
    """LRU of encoded bodies for one dataset revision at a time."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.revision: int | None = None
        self._entries: OrderedDict[tuple, CachedBody] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(
        self,
        revision: int,
        key: tuple,
        build: Callable[[], tuple[bytes, dict[str, str]]],
    ) -> CachedBody:
        """The entry for ``key`` at ``revision``, built (and kept) on a miss."""
        if revision != self.revision:
            self._entries.clear()
            self.revision = revision
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            self.hits += 1
            return entry
        self.misses += 1
        body, headers = build()
        entry = CachedBody(body=body, etag=make_etag(body), headers=headers)
        self._entries[key] = entry
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return entry


def _etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison against a list of entity tags (or ``*``)."""
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


class ConditionalGetMiddleware:
    """ETag, Cache-Control and 304 for every successful GET."""

    def __init__(self, app: ASGIApp, *, cache_control: str) -> None:
        self.app = app
        self.cache_control = cache_control.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
                break

        start: Message | None = None  # a 200 start held back until its ETag is known
        not_modified = False
        buffered: list[bytes] = []

        async def send_wrapper(message: Message) -> None:
            nonlocal start, not_modified
            if message["type"] == "http.response.start":
                if message["status"] != 200:
                    await send(message)
                    return
                etag = dict(message.get("headers", [])).get(b"etag")
                if etag is None:
                    start = message  # no ETag yet: buffer the body to derive one
                    return
                not_modified = await self._send_start(message, etag.decode(), if_none_match, send)
                return
            if start is not None:
                buffered.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(buffered)
                etag = make_etag(body)
                start["headers"] = [*start.get("headers", []), (b"etag", etag.encode())]
                not_modified = await self._send_start(start, etag, if_none_match, send)
                await send({"type": "http.response.body", "body": b"" if not_modified else body})
                return
            if not_modified:
                if not message.get("more_body"):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app(scope, receive, send_wrapper)

    async def _send_start(self, start: Message, etag: str, if_none_match: str | None, send: Send) -> bool:
        """Send the start line: 200, or 304 when the client's copy is current (returns True)."""
        headers = list(start.get("headers", []))
        if not any(k == b"cache-control" for k, _ in headers):
            headers.append((b"cache-control", self.cache_control))
        if if_none_match is not None and _etag_matches(if_none_match, etag):
            keep = {b"etag", b"cache-control", b"vary", b"content-language", b"content-location"}
            kept = [(k, v) for k, v in headers if k in keep or k.startswith(b"access-control-")]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            return True
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        return False
