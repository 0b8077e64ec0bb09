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

``write_wait_ms`` bounds a write's whole wait, counted from when it was queued: writes queued
together while another process holds the lock would otherwise each wait the full time one
after the other (the eighth answering after eight waits). So each write has a deadline; when
its turn comes, what is left of it becomes the connection's busy timeout, and a write whose
deadline passed in the queue fails at once. The queue is bounded too (``max_pending``): past
it a write fails at once, so anonymous reports cannot pile up behind a long import.

Recording when a token was last used is a write on every authenticated request: it is queued
here without waiting (``touch_token``), the stamps pending together are written in one
transaction that never waits for the lock (busy timeout 0), and dropped if the database is
busy — a missed "last used" stamp never fails or slows a request, nor the writes behind it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from api.clock import Clock, SystemClock
from api.store import ReadOnlyDatabase, Store, StoreBusy, is_busy_error

__all__ = ["MAX_PENDING_WRITES", "Writer"]

T = TypeVar("T")
log = logging.getLogger("api.writer")

#: Writes a process lets wait for their turn; one more fails at once with ``StoreBusy``.
MAX_PENDING_WRITES = 64


class Writer:
    """Runs functions of a ``Store`` on one thread with its own connection to ``path``."""

    def __init__(
        self, path: Path, *, busy_timeout_ms: int, max_pending: int = MAX_PENDING_WRITES, clock: Clock | None = None
    ) -> None:
        self.path = path
        self.clock = clock or SystemClock()
        self.busy_timeout_ms = busy_timeout_ms
        self.max_pending = max_pending
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="actiondir-writer")
        self._store: Store | None = None
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._touches: dict[int, dt.datetime] = {}
        self._touch_queued = False
        self._touches_lock = threading.Lock()

    def _connection(self, busy_timeout_ms: int) -> Store:
        """The writer thread's connection, waiting at most ``busy_timeout_ms`` for the lock."""
        if self._store is None:  # opened on the writer thread, used only there
            self._store = Store(self.path, busy_timeout_ms=self.busy_timeout_ms, clock=self.clock)
        self._store.set_busy_timeout(busy_timeout_ms)
        return self._store

    def _call(self, fn: Callable[[Store], T], deadline: float, queued_behind_others: bool) -> T:
        remaining_ms = math.ceil((deadline - time.monotonic()) * 1000)
        if remaining_ms <= 0 and queued_behind_others:
            raise StoreBusy(f"waited {self.busy_timeout_ms} ms behind other writes; nothing was written")
        try:
            return fn(self._connection(max(remaining_ms, 0)))
        except sqlite3.OperationalError as exc:
            if is_busy_error(exc):
                raise StoreBusy(str(exc)) from exc
            raise

    async def run(self, fn: Callable[[Store], T]) -> T:
        """Run ``fn(store)`` on the writer thread; the event loop is free meanwhile.

        Raises ``StoreBusy`` (nothing written) when the write could not have the lock within
        ``busy_timeout_ms`` of this call, or when ``max_pending`` writes are already waiting.
        """
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        with self._pending_lock:
            if self._pending >= self.max_pending:
                raise StoreBusy(f"{self._pending} writes are already waiting; nothing was written")
            queued_behind_others = self._pending > 0
            self._pending += 1
        try:
            future: Future[T] = self._executor.submit(self._call, fn, deadline, queued_behind_others)
        except BaseException:
            self._done()
            raise
        future.add_done_callback(self._done)  # also when a disconnected client's write is cancelled
        return await asyncio.wrap_future(future)

    def _done(self, _: object = None) -> None:
        with self._pending_lock:
            self._pending -= 1

    def touch_token(self, token_id: int, now: dt.datetime) -> None:
        """Record a token's use, later, with the others pending; never raises, never waits."""
        with self._touches_lock:
            self._touches[token_id] = now
            if self._touch_queued:
                return
            self._touch_queued = True
        try:
            self._executor.submit(self._flush_touches)
        except RuntimeError:  # shutting down: the stamp is not worth keeping the process for
            pass

    def _flush_touches(self) -> None:
        with self._touches_lock:
            touches, self._touches = self._touches, {}
            self._touch_queued = False
        if not touches:
            return
        try:
            store = self._connection(0)  # best effort: never wait for another process's lock
            with store.transaction():
                for token_id, now in touches.items():
                    store.tokens.touch(token_id, now)
        except (sqlite3.Error, ReadOnlyDatabase) as exc:  # busy or read-only: the stamps wait for the next use
            log.debug("last-use stamps of %d token(s) skipped: %s", len(touches), exc)

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
