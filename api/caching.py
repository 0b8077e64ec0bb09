"""Conditional GETs: ETags, 304s and gzip for every GET answer.

Repeat public reads never get here: ``api.front_cache`` answers them in front of litestar.

``ConditionalGetMiddleware`` gives *every* GET a validator and cache headers: it keeps the
ETag a handler set (or derives one from the body), adds the default ``Cache-Control``,
answers ``304 Not Modified`` when ``If-None-Match`` matches, and gzips bodies of 1 KiB and
more for clients that accept it, keeping the compressed bytes per ETag.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict

from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ConditionalGetMiddleware", "accepts_gzip", "etag_matches", "make_etag"]


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
