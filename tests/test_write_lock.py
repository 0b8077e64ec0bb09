"""A write lock held by another process stalls nothing but writes, and those answer 503.

The real server (`actiondir serve`, granian) runs on 127.0.0.1 while this test holds SQLite's
write lock from another connection (``BEGIN IMMEDIATE``, as an import or a second worker's
approval would). Everything is judged by *order*, not by timings: each answer must arrive
while the lock is still held.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import REPO, free_port

from api.cli import cli
from api.routes.curation import create_token
from api.store import Store

ACTIONDIR = Path(sys.executable).parent / "actiondir"
HOLD_SECONDS = 6.0
WRITE_WAIT_MS = 300


def _start(db: Path, port: int, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(ACTIONDIR), "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env={**os.environ, "ACTIONDIR_WRITE_WAIT_MS": str(WRITE_WAIT_MS), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"server did not start:\n{process.stdout.read().decode() if process.stdout else ''}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def server(deployment) -> Iterator[tuple[str, dict[str, str], Path]]:
    store = Store(deployment.db)
    try:
        curator, _ = create_token(store, name="Lock Curator", role="curator", expires_in_days=None, actor="test")
        reviewer, _ = create_token(store, name="Lock Reviewer", role="reviewer", expires_in_days=None, actor="test")
    finally:
        store.close()
    port = free_port()
    process = _start(deployment.db, port)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base, process)
        yield base, {"curator": curator, "reviewer": reviewer}, deployment.db
    finally:
        _stop(process)


class HeldLock:
    """Another connection holding the write lock for ``seconds``; ``released_at`` says when."""

    def __init__(self, db: Path, seconds: float) -> None:
        self.db, self.seconds = db, seconds
        self.held = threading.Event()
        self.released_at = float("inf")
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        conn = sqlite3.connect(self.db, isolation_level=None)
        conn.execute("begin immediate")
        conn.execute("update meta set value = value where key = 'revision'")
        self.held.set()
        time.sleep(self.seconds)
        self.released_at = time.monotonic()
        conn.execute("rollback")
        conn.close()

    def __enter__(self) -> HeldLock:
        self.thread.start()
        assert self.held.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
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
    with httpx.Client(base_url=base, timeout=30, trust_env=False) as http, HeldLock(db, 3.0) as lock:
        statuses = []
        for role in ("curator", "reviewer", "curator", "reviewer"):
            response = http.get("/v1/submissions", headers={"Authorization": f"Bearer {tokens[role]}"})
            statuses.append((response.status_code, time.monotonic() < lock.released_at))
    assert statuses == [(200, True)] * 4


def test_a_second_serve_on_a_taken_port_refuses_to_start(server, deployment):
    base, _, _ = server
    port = int(base.rsplit(":", 1)[1])
    result = subprocess.run(
        [str(ACTIONDIR), "serve", "--db", str(deployment.db), "--host", "127.0.0.1", "--port", str(port)],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr


def test_serve_refuses_a_port_any_other_program_listens_on(deployment):
    import socket

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--db", str(deployment.db), "--port", str(port)])
    assert result.exit_code == 1
    assert "Is another `actiondir serve` running?" in result.output
