"""An acknowledged curation write survives the server being killed mid-load.

Why this proves durability:

- Every curation write is one ``BEGIN IMMEDIATE … COMMIT`` (``Store.transaction()``), and the
  handlers await it on the process's writer thread: the HTTP answer (201 for a submission,
  200 for a decision) is built and sent only after ``COMMIT`` has returned.
- The database is in WAL mode with ``synchronous=FULL``: ``COMMIT`` returns only after the
  commit's frames are appended to the WAL *and* the WAL is fsynced. So once a client holds
  the answer, the change is on stable storage, whatever happens to the process next.
- Here the real server (``actiondir serve``, granian, 2 worker processes writing the same
  file) takes concurrent submissions and decisions and its whole process group is killed with
  SIGKILL while requests are in flight: no shutdown hook, no checkpoint, no close. After a
  restart on the same file, every answer the clients received must still be true, the dataset
  revision must count exactly the approvals that committed, and SQLite must find the file
  intact (``integrity_check``, ``foreign_key_check``).

A SIGKILL loses the process, not the OS page cache, so it checks the first half (the answer
is sent only after COMMIT, and WAL recovery after a crash keeps every committed transaction);
the power-cut half rests on ``synchronous=FULL``, which the test checks the store really sets
(``PRAGMA synchronous`` = 2) on the connection the server's code opens.

What the test does *not* assert: requests that got no answer (in flight at the kill) may or
may not have committed; either is correct, so it only checks they are consistent.
"""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from conftest import REPO, free_port
from factory import default_listings, listing, write_dataset

from api.dataset import import_directory
from api.services.tokens import create_token
from api.store import Store

pytestmark = pytest.mark.slow

ACTIONDIR = Path(sys.executable).parent / "actiondir"
HOST = "127.0.0.1"  # the only address this test ever talks to
CURATOR_NAME = "Durability Curator"
REVIEWER_NAME = "Durability Reviewer"
CURATOR_THREADS = 4
REVIEWER_THREADS = 2
LOAD_BEFORE_KILL = 2.5  # seconds of load before the kill (at least; see MIN_ACKED_*)
MIN_ACKED_SUBMISSIONS = 20
MIN_ACKED_DECISIONS = 10
LOAD_DEADLINE = 12.0  # the kill happens by then whatever was acknowledged
STARTUP_TIMEOUT = 60.0  # a loaded CI machine may take a while to start two workers
REQUEST_TIMEOUT = 8.0


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole process group (granian's main process and its workers)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if Path("/proc").is_dir():
            deadline = time.monotonic() + 5
            while _group_members(self.process.pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert not _group_members(self.process.pid), "a server process survived SIGKILL"

    def stop(self) -> None:
        """A graceful stop, falling back to SIGKILL."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=5)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                pass
        self.kill()  # also reaps workers that outlived their parent


@contextmanager
def _serve(db: Path, log: Path) -> Iterator[Server]:
    """``actiondir serve`` with 2 workers on a free 127.0.0.1 port; always killed on exit."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTIONDIR_")}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(ACTIONDIR), "serve", "--db", str(db), "--host", HOST, "--port", str(port), "--workers", "2"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so killpg reaches every worker
        )
    server = Server(process, f"http://{HOST}:{port}", log)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                if httpx.get(f"{server.base}/healthz", timeout=1, trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"server did not start:\n{server.output()}")
            time.sleep(0.05)
        yield server
    finally:
        server.stop()


def _client(base: str, token: str) -> httpx.Client:
    # trust_env=False: no proxy from the environment; traffic goes to 127.0.0.1 only.
    return httpx.Client(
        base_url=base,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=REQUEST_TIMEOUT,
        trust_env=False,
    )


@dataclass
class Load:
    """What the clients sent and what the server acknowledged, shared by the load threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    killed: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    to_review: queue.Queue[int] = field(default_factory=queue.Queue)
    attempted_creates: set[str] = field(default_factory=set)
    submissions: dict[int, str] = field(default_factory=dict)  # acknowledged: id -> listing id
    attempted_decisions: dict[int, str] = field(default_factory=dict)  # id -> "approve" | "reject"
    decisions: dict[int, dict[str, Any]] = field(default_factory=dict)  # acknowledged: id -> answer
    busy_creates: set[str] = field(default_factory=set)  # answered 503: must never have been written
    busy_answers: int = 0
    in_flight: int = 0
    in_flight_at_kill: int = -1
    errors_after_kill: int = 0
    anomalies: list[str] = field(default_factory=list)  # anything but a 2xx or a post-kill error

    def request(self, client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        with self.lock:
            self.in_flight += 1
        try:
            return client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            with self.lock:
                if self.killed.is_set():
                    self.errors_after_kill += 1
                else:
                    self.anomalies.append(f"{method} {url}: {type(exc).__name__}: {exc} (before the kill)")
            return None
        finally:
            with self.lock:
                self.in_flight -= 1

    def anomaly(self, what: str, response: httpx.Response) -> None:
        with self.lock:
            self.anomalies.append(f"{what}: {response.status_code} {response.text[:500]}")


def _curator(load: Load, base: str, token: str, number: int) -> None:
    with _client(base, token) as client:
        for n in range(1_000_000):
            if load.stop.is_set():
                return
            listing_id = f"durable-c{number}-n{n}"
            body = {
                "action": "create",
                "listing": listing(listing_id),
                "note": f"New listing {listing_id}",
                "sources": [f"https://{listing_id}.example.org/about"],
            }
            with load.lock:
                load.attempted_creates.add(listing_id)
            response = load.request(client, "POST", "/v1/submissions", content=msgspec.json.encode(body))
            if response is None:
                if load.killed.is_set():
                    return
                continue
            if response.status_code == 503 and response.headers.get("retry-after"):
                with load.lock:  # the database was busy: nothing was written, a client may retry
                    load.busy_creates.add(listing_id)
                    load.busy_answers += 1
                continue
            if response.status_code != 201:
                load.anomaly(f"POST /v1/submissions ({listing_id})", response)
                continue
            answer = response.json()
            with load.lock:
                load.submissions[answer["id"]] = answer["listing_id"]
                if answer["listing_id"] != listing_id or answer["status"] != "pending":
                    load.anomalies.append(f"submission {answer['id']} answered {answer}")
            load.to_review.put(answer["id"])


def _reviewer(load: Load, base: str, token: str) -> None:
    with _client(base, token) as client:
        while not load.stop.is_set():
            try:
                submission_id = load.to_review.get(timeout=0.05)
            except queue.Empty:
                continue
            # Read it first, as a reviewer reads the diff: reads interleave with the writes.
            response = load.request(client, "GET", f"/v1/submissions/{submission_id}")
            if response is None:
                if load.killed.is_set():
                    return
                continue
            if response.status_code != 200:
                load.anomaly(f"GET /v1/submissions/{submission_id}", response)
                continue
            decision = "reject" if submission_id % 3 == 0 else "approve"
            with load.lock:
                load.attempted_decisions[submission_id] = decision
            body = {"decision": decision, "reason": f"durability test: {decision}"}
            response = load.request(
                client, "POST", f"/v1/submissions/{submission_id}/decision", content=msgspec.json.encode(body)
            )
            if response is None:
                if load.killed.is_set():
                    return
                continue
            if response.status_code == 503 and response.headers.get("retry-after"):
                with load.lock:  # nothing was decided: ask again later
                    load.busy_answers += 1
                    del load.attempted_decisions[submission_id]
                load.to_review.put(submission_id)
                continue
            if response.status_code != 200:
                load.anomaly(f"POST /v1/submissions/{submission_id}/decision ({decision})", response)
                continue
            with load.lock:
                load.decisions[submission_id] = response.json()


def _all_submissions(client: httpx.Client) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        response = client.get("/v1/submissions", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        rows += page["data"]
        if page["next_cursor"] is None:
            return rows
        params["cursor"] = page["next_cursor"]


def test_acknowledged_writes_survive_sigkill_under_concurrent_load(tmp_path: Path) -> None:
    started = time.monotonic()

    # A database from the factory's default dataset, and two people's tokens in it.
    db = tmp_path / "durable.db"
    data = write_dataset(tmp_path / "data", default_listings())
    store = Store(db, create=True)
    try:
        import_directory(data, store)
        initial_revision = store.get_revision()
        _, initial_listings = store.listings.count_active()
        curator_token, _ = create_token(store, name=CURATOR_NAME, role="curator", expires_in_days=None, actor="test")
        reviewer_token, _ = create_token(store, name=REVIEWER_NAME, role="reviewer", expires_in_days=None, actor="test")
        # The power-cut half of the argument: the server's code opens its connections this way.
        pragmas = store.connection_settings()
        assert pragmas["journal_mode"] == "wal"
        assert pragmas["synchronous"] == 2  # FULL
    finally:
        store.close()
    assert initial_revision == 1
    assert initial_listings == len(default_listings())

    log = tmp_path / "server.log"
    load = Load()
    threads: list[threading.Thread] = []
    with _serve(db, log) as server:
        threads += [
            threading.Thread(target=_curator, args=(load, server.base, curator_token, i), daemon=True)
            for i in range(CURATOR_THREADS)
        ]
        threads += [
            threading.Thread(target=_reviewer, args=(load, server.base, reviewer_token), daemon=True)
            for _ in range(REVIEWER_THREADS)
        ]
        try:
            load_started = time.monotonic()
            for thread in threads:
                thread.start()
            # Let the load run, then kill the server in the middle of it.
            while time.monotonic() - load_started < LOAD_DEADLINE:
                with load.lock:
                    enough = len(load.submissions) >= MIN_ACKED_SUBMISSIONS and len(load.decisions) >= MIN_ACKED_DECISIONS
                if enough and time.monotonic() - load_started >= LOAD_BEFORE_KILL:
                    break
                time.sleep(0.05)
            with load.lock:
                load.killed.set()
                load.in_flight_at_kill = load.in_flight
            server.kill()
            load_seconds = time.monotonic() - load_started
        finally:
            load.stop.set()
            for thread in threads:
                thread.join(timeout=REQUEST_TIMEOUT + 2)
        assert not any(t.is_alive() for t in threads), "a load thread is stuck"
        first_output = server.output()

    with load.lock:
        submissions = dict(load.submissions)
        decisions = dict(load.decisions)
        attempted_creates = set(load.attempted_creates)
        attempted_decisions = dict(load.attempted_decisions)
    acked_approvals = {i for i, d in decisions.items() if d["status"] == "approved"}
    acked_rejections = {i for i, d in decisions.items() if d["status"] == "rejected"}
    print(
        f"\nload: {load_seconds:.1f}s; acknowledged before the kill: {len(submissions)} submissions, "
        f"{len(decisions)} decisions ({len(acked_approvals)} approved, {len(acked_rejections)} rejected); "
        f"in flight at the kill: {load.in_flight_at_kill}; connection errors after it: {load.errors_after_kill}; "
        f"busy (503): {load.busy_answers}; anomalies: {len(load.anomalies)}"
    )

    # Under concurrent writes from 2 workers, every request before the kill got a 2xx answer, or
    # a 503 with Retry-After when the other worker held the write lock too long (nothing written).
    assert load.anomalies == [], "\n".join(load.anomalies[:20]) + f"\n--- server output ---\n{first_output[-5000:]}"
    assert len(submissions) >= MIN_ACKED_SUBMISSIONS and len(decisions) >= MIN_ACKED_DECISIONS, (
        f"too little load was acknowledged before the kill\n{first_output[-5000:]}"
    )
    assert load.in_flight_at_kill >= 1, "the kill did not happen while requests were in flight"
    for submission_id, answer in decisions.items():
        assert answer["status"] == ("approved" if attempted_decisions[submission_id] == "approve" else "rejected")

    # Restart on the same file: SQLite recovers from the WAL; every answer given still holds.
    with _serve(db, log) as server, _client(server.base, reviewer_token) as reviewer, httpx.Client(
        base_url=server.base, timeout=REQUEST_TIMEOUT, trust_env=False
    ) as public:
        for submission_id, listing_id in submissions.items():
            response = reviewer.get(f"/v1/submissions/{submission_id}")
            assert response.status_code == 200, f"acknowledged submission {submission_id} lost: {response.text}"
            stored = response.json()
            assert (stored["action"], stored["listing_id"], stored["submitted_by"]) == (
                "create", listing_id, CURATOR_NAME
            )
            assert stored["listing"]["id"] == listing_id
            answer = decisions.get(submission_id)
            if answer is not None:  # an acknowledged decision: recorded exactly as answered
                assert stored["status"] == answer["status"]
                assert stored["decision"]["decision"] == answer["decision"]["decision"]
                assert stored["decision"]["decided_by"] == REVIEWER_NAME
                assert stored["decision"]["applied_revision"] == (1 if answer["status"] == "approved" else None)
            elif stored["status"] != "pending":  # decided without an answer: only if we asked for it
                expected = {"approve": "approved", "reject": "rejected"}[attempted_decisions[submission_id]]
                assert stored["status"] == expected

        for submission_id in acked_approvals:
            response = public.get(f"/v1/listings/{submissions[submission_id]}")
            assert response.status_code == 200, f"approved listing {submissions[submission_id]} is not live"
            assert response.json()["revision"] == 1
        for submission_id in acked_rejections:
            assert public.get(f"/v1/listings/{submissions[submission_id]}").status_code == 404

        # Everything stored, answered or not, is something a client sent, and consistent.
        stored_all = _all_submissions(reviewer)
        assert len(stored_all) >= len(submissions)
        approved = [s for s in stored_all if s["status"] == "approved"]
        rejected = [s for s in stored_all if s["status"] == "rejected"]
        assert {s["listing_id"] for s in stored_all} <= attempted_creates
        # A 503 means nothing was written.
        assert not {s["listing_id"] for s in stored_all} & load.busy_creates
        assert len({s["listing_id"] for s in stored_all}) == len(stored_all)
        for s in approved + rejected:
            assert s["id"] in attempted_decisions
        for s in approved:
            assert public.get(f"/v1/listings/{s['listing_id']}").status_code == 200
        assert len(approved) >= len(acked_approvals)

        # The dataset revision moved once per committed approval, and only then.
        health = public.get("/healthz").json()
        assert health["revision"] == initial_revision + len(approved)
        assert health["revision"] >= initial_revision + len(acked_approvals)
        assert health["listings"] == initial_listings + len(approved)
        assert public.get("/v1/dataset").json()["revision"] == health["revision"]

    # The file itself, read directly with the server gone.
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("pragma integrity_check").fetchall() == [("ok",)]
        assert conn.execute("pragma foreign_key_check").fetchall() == []
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
        count = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        assert count("select value from meta where key = 'revision'") == str(initial_revision + len(approved))
        assert count("select count(*) from submissions") == len(stored_all)
        assert count("select count(*) from listings") == initial_listings + len(approved)
        assert count("select count(*) from listing_revisions") == initial_listings + len(approved)
        assert count("select count(*) from listing_text") == count(
            "select count(*) from listing_text where listing_id in (select id from listings)"
        )
        # Each write committed with its audit record, or neither did.
        audit = dict(conn.execute("select action, count(*) from audit group by action").fetchall())
        assert audit.get("submission.create", 0) == len(stored_all)
        assert audit.get("submission.approve", 0) == len(approved)
        assert audit.get("submission.reject", 0) == len(rejected)
    finally:
        conn.close()

    assert time.monotonic() - started < 40, f"the test took {time.monotonic() - started:.1f}s"
