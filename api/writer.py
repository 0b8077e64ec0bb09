"""One writer per process: every write runs on its own thread, off the event loop.

Why: SQLite allows one writer at a time across all processes. A write that waits for
another process's lock (an import, a link check, a second worker's approval) must not stall
the event loop, or every request of the worker (public GETs, ``/healthz``) waits with it.
So writes go to a single thread with its own connection (reads stay on the event loop's
connection: in WAL mode a reader never waits for a writer). The write waits at most
``write_wait_ms`` for the lock, then fails as ``StoreBusy``, which the API answers with 503
and ``Retry-After``: the transaction rolled back, nothing was written, trying again is safe.

Datasette's ``execute_write`` (one write thread, a queue) is the model; a single thread also
means a process never competes with itself for the write lock.

Recording when a token was last used is a write on every authenticated request: it is queued
here without waiting (``touch_token``), coalesced per token, and dropped if the database is
busy — a missed "last used" stamp never fails or slows a request.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from api.store import Store, StoreBusy, is_busy_error

__all__ = ["Writer"]

T = TypeVar("T")
log = logging.getLogger("api.writer")


class Writer:
    """Runs functions of a ``Store`` on one thread with its own connection to ``path``."""

    def __init__(self, path: Path, *, busy_timeout_ms: int) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="actiondir-writer")
        self._store: Store | None = None
        self._touches: dict[int, dt.datetime] = {}
        self._touches_lock = threading.Lock()

    def _connection(self) -> Store:
        if self._store is None:  # opened on the writer thread, used only there
            self._store = Store(self.path, busy_timeout_ms=self.busy_timeout_ms)
        return self._store

    def _call(self, fn: Callable[[Store], T]) -> T:
        try:
            return fn(self._connection())
        except sqlite3.OperationalError as exc:
            if is_busy_error(exc):
                raise StoreBusy(str(exc)) from exc
            raise

    async def run(self, fn: Callable[[Store], T]) -> T:
        """Run ``fn(store)`` on the writer thread; the event loop is free meanwhile."""
        return await asyncio.wrap_future(self._executor.submit(self._call, fn))

    def touch_token(self, token_id: int, now: dt.datetime) -> None:
        """Record a token's use, later and at most once per queued batch; never raises."""
        with self._touches_lock:
            queued = token_id in self._touches
            self._touches[token_id] = now
        if not queued:
            try:
                self._executor.submit(self._flush_touch, token_id)
            except RuntimeError:  # shutting down: the stamp is not worth keeping the process for
                pass

    def _flush_touch(self, token_id: int) -> None:
        with self._touches_lock:
            now = self._touches.pop(token_id, None)
        if now is None:
            return
        try:
            self._connection().touch_token(token_id, now)
        except sqlite3.Error as exc:  # best effort: busy or read-only, the stamp waits for the next use
            log.debug("last-use stamp of token %s skipped: %s", token_id, exc)

    def close(self) -> None:
        """Finish queued writes, then close the connection."""
        def close_store() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        try:
            self._executor.submit(close_store).result()
        finally:
            self._executor.shutdown(wait=True)
