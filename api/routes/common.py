"""What the controllers share: the dependencies they take by name, and how answers are sent.

Public reads take a ``Reader`` and answer through it, so every one carries its ETag, ``Vary``
and the dataset revision it was read at (``X-Dataset-Revision``, which the front cache keys
on). The curation side takes the ``store`` (reads), the ``writer`` (writes, off the event
loop) and the ``identity`` a guard established, and answers ``Cache-Control: no-store``: what
it says depends on who asks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency

from api.clock import Clock
from api.credentials import Identity
from api.http.cache import make_etag
from api.http.params import JSON
from api.store import Store, Visibility
from api.writer import Writer

__all__ = [
    "NO_STORE",
    "READ_HEADERS",
    "TEXT_HEADERS",
    "IdentityDep",
    "Reader",
    "ReaderDep",
    "StoreDep",
    "WriterDep",
    "decode_item_cursor",
    "item_cursor_after",
    "next_item_cursor",
]

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Reader:
    """What every read handler needs, injected as one dependency.

    One dependency, not two: litestar resolves several dependencies of a handler in a task
    group, which costs more than a small answer.
    """

    store: Store
    clock: Clock

    def today(self) -> dt.date:
        return self.clock.now().date()

    def visibility(self, include: str | None = None) -> Visibility:
        wanted = set(include.split(",")) if include else set()
        return Visibility(
            today=self.today(),
            include_closed="closed" in wanted,
            include_unverified="unverified" in wanted,
            include_risky="risky" in wanted,
        )

    def revision(self) -> int:
        return self.store.get_revision()

    def respond(self, build: Callable[[], Any], *, vary: str = "Accept-Language") -> Response:
        """``build()`` as JSON, read at the current revision.

        Not cached here: the front cache (api/http/cache.py) answers repeats, and keeps an
        answer only while its ``X-Dataset-Revision`` is the current revision.
        """
        revision = self.revision()
        return self.json(build(), revision, vary=vary)

    def json(self, value: Any, revision: int, *, vary: str = "Accept-Language") -> Response:
        return self.send(_encoder.encode(value), revision, vary=vary, headers=_language_headers(value))

    def send(
        self, body: bytes, revision: int, *, vary: str, media_type: str = JSON, headers: dict[str, str] | None = None
    ) -> Response:
        """An encoded answer with its ETag (the body's digest: the same on every replica)."""
        headers = {"ETag": make_etag(body), "Vary": vary, "X-Dataset-Revision": str(revision), **(headers or {})}
        return Response(content=body, media_type=media_type, headers=headers)


READ_HEADERS = (
    ResponseHeader(
        name="X-Dataset-Revision",
        documentation_only=True,
        required=True,
        description="The dataset revision the answer was read at (it grows with every accepted change; "
        "`/v1/changes` lists them).",
    ),
    ResponseHeader(
        name="Vary",
        documentation_only=True,
        required=True,
        description="What else the answer depends on: `Accept-Language` (texts), `Accept` (`/v1/dataset`), "
        "`Accept-Encoding` (when it can be gzip).",
    ),
)
"""The headers every answer sent through a ``Reader`` carries, as the spec documents them."""

TEXT_HEADERS = (
    ResponseHeader(
        name="Content-Language",
        documentation_only=True,
        description="Every language the answer's texts are in, first the one asked for "
        "(absent when the answer has no text).",
    ),
)
"""What answers with texts in the negotiated language add (``_language_headers``)."""


def _language_headers(value: Any) -> dict[str, str]:
    """Content-Language: every language the body's texts are in."""
    langs: dict[str, None] = {}
    items = getattr(value, "data", None)
    for item in items if isinstance(items, list) else [value]:
        lang = getattr(item, "lang", None)
        if lang:
            langs[lang] = None
        labels = getattr(item, "labels", None)
        if labels is not None and hasattr(labels, "lang"):
            langs[labels.lang] = None
            langs.update(dict.fromkeys(labels.topic_langs.values()))
        safety = getattr(item, "safety", None)
        if safety is not None:
            langs.update(dict.fromkeys(note.lang for note in safety.notes if note.lang))
        langs.update(dict.fromkeys(advisory.lang for advisory in getattr(item, "advisories", None) or ()))
    return {"Content-Language": ", ".join(langs)} if langs else {}


ReaderDep = NamedDependency[Reader]
StoreDep = NamedDependency[Store]
WriterDep = NamedDependency[Writer]
"""Handlers that write take the writer (api.writer), never the event loop's store."""
IdentityDep = NamedDependency[Identity]

NO_STORE = {"Cache-Control": "no-store"}
"""The curation side's answers depend on who asks: no cache may keep them."""

_ITEM_CURSOR_PREFIX = "i1."


def next_item_cursor(rows: list, limit: int) -> str | None:
    """Given up to ``limit + 1`` rows by id, the cursor after the page (None on the last).

    Opaque to clients: the id of the last item served (every ``i1.<n>`` is a valid position).
    """
    return item_cursor_after(rows[limit - 1].id if len(rows) > limit else None)


def item_cursor_after(last_id: int | None) -> str | None:
    """The cursor of the page after the item ``last_id`` (None: there is no next page)."""
    return None if last_id is None else f"{_ITEM_CURSOR_PREFIX}{last_id}"


def decode_item_cursor(cursor: str | None) -> int | None:
    """The id after which a page starts (the pattern of ``ItemCursorParam`` was checked)."""
    return None if cursor is None else int(cursor[len(_ITEM_CURSOR_PREFIX) :])
