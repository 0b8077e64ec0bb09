"""A write lock held by another process stalls nothing but writes, and those answer 503.

The real server (`actiondir serve`, granian) runs on 127.0.0.1 while this test holds SQLite's
write lock from another connection (``BEGIN IMMEDIATE``, as an import or a second worker's
approval would). Everything is judged by *order* and by bounds relative to the write wait,
never by tight timings: each answer must arrive while the lock is still held, and writes queued
together answer about one write wait after they were sent, not one wait per write ahead.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from conftest import REPO, free_port
from serving import ACTIONDIR, start_server, stop_server, wait_up

from api.cli import cli
from api.services.tokens import create_token
from api.store import Store, StoreBusy
from api.writer import MAX_PENDING_WRITES, Writer

pytestmark = pytest.mark.slow

HOLD_SECONDS = 20.0  # at most: HeldLock lets go when its block ends
WRITE_WAIT_MS = 300


@pytest.fixture
def server(deployment) -> Iterator[tuple[str, dict[str, str], Path]]:
    store = Store(deployment.db)
    try:
        curator, _ = create_token(store, name="Lock Curator", role="curator", expires_in_days=None, actor="test")
        reviewer, _ = create_token(store, name="Lock Reviewer", role="reviewer", expires_in_days=None, actor="test")
    finally:
        store.close()
    port = free_port()
    process = start_server(deployment.db, port, ACTIONDIR_WRITE_WAIT_MS=str(WRITE_WAIT_MS))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base, process)
        yield base, {"curator": curator, "reviewer": reviewer}, deployment.db
    finally:
        stop_server(process)


class HeldLock:
    """Another connection holding the write lock while the ``with`` block runs, and at most
    ``seconds`` (so a server that waits for the lock fails the test instead of hanging it);
    ``released_at`` says when it was let go. Held until the block ends, not for a fixed time:
    on a loaded machine, requests sent inside the block still all meet the lock."""

    def __init__(self, db: Path, seconds: float) -> None:
        self.db, self.seconds = db, seconds
        self.held = threading.Event()
        self.done = threading.Event()
        self.released_at = float("inf")
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        conn = sqlite3.connect(self.db, isolation_level=None)
        conn.execute("begin immediate")
        conn.execute("update meta set value = value where key = 'revision'")
        self.held.set()
        self.done.wait(self.seconds)
        self.released_at = time.monotonic()
        conn.execute("rollback")
        conn.close()

    def __enter__(self) -> HeldLock:
        self.thread.start()
        assert self.held.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(timeout=self.seconds + 10)


def test_reads_answer_and_writes_say_503_while_another_process_holds_the_lock(server):
    base, tokens, db = server
    auth = {"Authorization": f"Bearer {tokens['curator']}"}
    with httpx.Client(base_url=base, timeout=30, trust_env=False) as http:
        warm = http.get("/v1/listings", params={"lang": "en"})  # fills the response cache
        assert warm.status_code == 200
        http.get("/v1/submissions", headers=auth)  # the token's last use: stamped, then at most once a minute

        answers: dict[str, tuple[int, float, dict[str, str]]] = {}
        with HeldLock(db, HOLD_SECONDS) as lock:
            for name, method, path, kwargs in [
                ("healthz", "GET", "/healthz", {}),
                ("cached", "GET", "/v1/listings", {"params": {"lang": "en"}}),
                ("uncached", "GET", "/v1/countries", {"params": {"lang": "ru"}}),
                ("authenticated", "GET", "/v1/submissions", {"headers": auth}),
                ("submission", "POST", "/v1/submissions", {"headers": auth, "json": {
                    "action": "retire", "listing_id": "ug-shelter", "base_revision": 1,
                    "note": "Closed", "sources": ["https://sources.example.org/check"]}}),
                ("report", "POST", "/v1/listings/ru-evacuation/reports", {"json": {"reason": "broken_link"}}),
                ("healthz-after-writes", "GET", "/healthz", {}),
            ]:
                response = http.request(method, path, **kwargs)
                answers[name] = (response.status_code, time.monotonic(), dict(response.headers))
        released = lock.released_at

    for name in ("healthz", "cached", "uncached", "authenticated", "healthz-after-writes"):
        status, at, _ = answers[name]
        assert status == 200, name
        assert at < released, f"{name} waited for the lock"
    for name in ("submission", "report"):
        status, at, headers = answers[name]
        assert status == 503, name
        assert at < released, f"{name} waited for the whole lock instead of {WRITE_WAIT_MS} ms"
        assert int(headers["retry-after"]) >= 1
        assert headers["content-type"].startswith("application/problem+json")

    # Nothing was written; once the lock is gone the same writes go through.
    with httpx.Client(base_url=base, timeout=30, trust_env=False) as http:
        assert http.get("/v1/submissions", headers=auth).json()["data"] == []
        again = http.post("/v1/submissions", headers=auth, json={
            "action": "retire", "listing_id": "ug-shelter", "base_revision": 1,
            "note": "Closed", "sources": ["https://sources.example.org/check"]})
        assert again.status_code == 201, again.text


def test_authenticated_reads_never_fail_on_the_last_use_stamp(server):
    """Every authenticated request stamps its token's last use; under a held lock the stamp is
    dropped, never the request."""
    base, tokens, db = server
    with httpx.Client(base_url=base, timeout=30, trust_env=False) as http, HeldLock(db, HOLD_SECONDS) as lock:
        statuses = []
        for role in ("curator", "reviewer", "curator", "reviewer"):
            response = http.get("/v1/submissions", headers={"Authorization": f"Bearer {tokens[role]}"})
            statuses.append((response.status_code, time.monotonic() < lock.released_at))
    assert statuses == [(200, True)] * 4


def test_a_second_serve_on_a_taken_port_refuses_to_start(server, deployment):
    base, _, _ = server
    port = int(base.rsplit(":", 1)[1])
    second = subprocess.Popen(
        [str(ACTIONDIR), "serve", "--db", str(deployment.db), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, start_new_session=True,
    )
    try:
        _, stderr = second.communicate(timeout=60)
    finally:  # a second server that did start must not outlive the test
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait(10)
    assert second.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in stderr
    assert "--port" in stderr


def test_serve_refuses_a_port_any_other_program_listens_on(deployment):
    import socket

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--db", str(deployment.db), "--port", str(port)])
    assert result.exit_code == 1
    assert "Is another `actiondir serve` running?" in result.output


# --- the writer's queue: deadlines, last-use stamps, a cap ------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    sent: float
    answered: float

    @property
    def took(self) -> float:
        return self.answered - self.sent


def _send_together(base: str, requests: list[tuple[str, str, dict[str, Any]]]) -> list[Answer]:
    """Each request from its own thread and connection (connected first), released together."""
    start = threading.Barrier(len(requests))
    answers: list[Answer | BaseException] = [RuntimeError("not sent")] * len(requests)

    def send(index: int, method: str, path: str, kwargs: dict[str, Any]) -> None:
        try:
            with httpx.Client(base_url=base, timeout=120, trust_env=False) as http:
                http.get("/healthz")  # the connection is open before the clock starts
                start.wait(timeout=60)
                sent = time.monotonic()
                response = http.request(method, path, **kwargs)
                answers[index] = Answer(response.status_code, sent, time.monotonic())
        except BaseException as exc:  # reported by the test, not lost in a thread
            answers[index] = exc

    threads = [threading.Thread(target=send, args=(i, *r), daemon=True) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
    return answers  # type: ignore[return-value]


@pytest.fixture
def lock_server(deployment) -> Iterator[Callable[..., tuple[str, list[str], Path]]]:
    """``lock_server(write_wait_ms, tokens=n)``: the real server with that write wait (and
    reports unthrottled), and ``n`` curator tokens of different people."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(write_wait_ms: int, *, tokens: int = 1) -> tuple[str, list[str], Path]:
        store = Store(deployment.db)
        try:
            secrets = [
                create_token(store, name=f"Queue Curator {i}", role="curator", expires_in_days=None, actor="test")[0]
                for i in range(tokens)
            ]
        finally:
            store.close()
        port = free_port()
        process = start_server(
            deployment.db, port, ACTIONDIR_WRITE_WAIT_MS=str(write_wait_ms), ACTIONDIR_REPORTS_PER_MINUTE="1000000"
        )
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        wait_up(base, process)
        return base, secrets, deployment.db

    try:
        yield start
    finally:
        for process in processes:
            stop_server(process)


REPORT = ("POST", "/v1/listings/ru-evacuation/reports", {"json": {"reason": "broken_link"}})


def _retire(token: str) -> tuple[str, str, dict[str, Any]]:
    return ("POST", "/v1/submissions", {"headers": {"Authorization": f"Bearer {token}"}, "json": {
        "action": "retire", "listing_id": "ug-shelter", "base_revision": 1,
        "note": "Closed", "sources": ["https://sources.example.org/check"]}})


def test_queued_writes_each_give_up_write_wait_after_they_were_sent(lock_server):
    """Eight writes sent together while another process holds the lock: each answers 503 about
    one write wait after it was sent, not after the writes queued ahead of it each waited theirs
    (that took 8 x 500 ms for the last one)."""
    wait_ms, count = 500, 8
    base, tokens, db = lock_server(wait_ms)
    requests = [REPORT, _retire(tokens[0])] * (count // 2)
    with HeldLock(db, HOLD_SECONDS) as lock:
        answers = _send_together(base, requests)
    assert [a.status for a in answers] == [503] * count
    assert all(a.answered < lock.released_at for a in answers), "a write waited for the lock's release"
    serial = count * wait_ms / 1000  # what waiting one after the other would take
    assert max(a.took for a in answers) < serial / 2, [round(a.took, 2) for a in answers]
    spread = max(a.answered for a in answers) - min(a.answered for a in answers)
    assert spread < serial / 2, [round(a.took, 2) for a in answers]


def test_last_use_stamps_never_hold_up_a_write(lock_server):
    """Each authenticated request stamps its token's last use: under another process's lock the
    stamps are dropped at once, so a write sent after them still answers after one write wait."""
    wait_ms, people = 500, 6
    base, tokens, db = lock_server(wait_ms, tokens=people)
    with httpx.Client(base_url=base, timeout=60, trust_env=False) as http:
        with HeldLock(db, HOLD_SECONDS) as lock:
            for token in tokens:  # a stamp each, queued at the writer
                assert http.get("/v1/submissions", headers={"Authorization": f"Bearer {token}"}).status_code == 200
            sent = time.monotonic()
            refused = http.request(*REPORT[:2], **REPORT[2])
            answered = time.monotonic()
        assert refused.status_code == 503
        assert answered < lock.released_at
        assert answered - sent < (people + 1) * wait_ms / 1000 / 2, round(answered - sent, 2)

        # Without the lock, the stamps of requests made together are all written.
        for token in tokens:
            assert http.get("/v1/submissions", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    def stamped() -> int:
        conn = sqlite3.connect(db)
        try:
            return conn.execute(
                "select count(*) from tokens where name like 'Queue Curator %' and last_used_at is not null"
            ).fetchone()[0]
        finally:
            conn.close()

    deadline = time.monotonic() + 30
    while stamped() < people and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stamped() == people


def test_writes_beyond_the_queue_bound_are_refused_at_once(lock_server):
    """Anonymous reports cannot grow the writer's queue without bound during a long import:
    past MAX_PENDING_WRITES waiting writes, a write answers 503 at once, before any queued
    write has waited its time."""
    wait_ms, count = 2500, MAX_PENDING_WRITES + 36
    base, _, db = lock_server(wait_ms)
    with HeldLock(db, 30.0) as lock:
        answers = _send_together(base, [REPORT] * count)
    assert [a.status for a in answers] == [503] * count
    assert all(a.answered < lock.released_at for a in answers)
    first_sent = min(a.sent for a in answers)
    at_once = [a for a in answers if a.answered < first_sent + wait_ms / 1000]
    assert len(at_once) >= count - MAX_PENDING_WRITES, sorted(round(a.took, 2) for a in answers)


# --- the writer itself ---------------------------------------------------------------------------


def _count_reports(store: Store) -> int:
    return len(store.reports.page(status=None, after_id=None, limit=None))


def _add_report(store: Store) -> int:
    with store.transaction():
        return store.reports.add(listing_id="ru-evacuation", reason="other", details=None)


def test_a_write_whose_wait_ran_out_in_the_queue_fails_without_writing(deployment):
    async def scenario() -> None:
        writer = Writer(deployment.db, busy_timeout_ms=200)
        try:
            slow = asyncio.ensure_future(writer.run(lambda store: time.sleep(0.5)))
            await asyncio.sleep(0.05)  # the slow job has started
            with pytest.raises(StoreBusy):
                await writer.run(_add_report)
            await slow
            assert await writer.run(_count_reports) == 0
            assert await writer.run(_add_report) >= 1  # the next one, on time, is written
        finally:
            writer.close()

    asyncio.run(scenario())


def test_a_writer_that_never_waits_still_writes(deployment):
    """write_wait_ms = 0 means "never wait" (for the lock or behind other writes), not "never
    write": a write that finds the writer idle runs, however long the thread takes to start it."""
    async def scenario() -> None:
        writer = Writer(deployment.db, busy_timeout_ms=0)
        try:
            for _ in range(5):
                await writer.run(_add_report)
            assert await writer.run(_count_reports) == 5
        finally:
            writer.close()

    asyncio.run(scenario())


def test_the_queue_bound_refuses_at_once_and_frees_as_writes_finish(deployment):
    async def scenario() -> None:
        writer = Writer(deployment.db, busy_timeout_ms=60_000, max_pending=3)
        gate = threading.Event()
        try:
            held = [asyncio.ensure_future(writer.run(lambda store: gate.wait(30))) for _ in range(3)]
            await asyncio.sleep(0.05)
            started = time.monotonic()
            with pytest.raises(StoreBusy):
                await writer.run(_count_reports)
            assert time.monotonic() - started < 1
            gate.set()
            await asyncio.gather(*held)
            assert await writer.run(_count_reports) == 0  # room again
        finally:
            gate.set()
            writer.close()

    asyncio.run(scenario())
