"""What another process's write lock costs each kind of request, side by side.

Starts the real server (`actiondir serve`, granian, 1 worker) on 127.0.0.1 on a copy of the
database, then times the same requests twice: with the database idle, and while another
connection holds SQLite's write lock (``BEGIN IMMEDIATE``, as an import or a second worker's
approval would). Prints the median and maximum latency of each and the ratio. Reads should
not notice the lock; writes should answer 503 after about ``ACTIONDIR_WRITE_WAIT_MS``.

    .venv/bin/python benchmarks/write_lock.py                  # about 30 seconds
    .venv/bin/python benchmarks/write_lock.py --requests 50 --write-wait-ms 500
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
ACTIONDIR = Path(sys.executable).parent / "actiondir"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(db: Path, port: int, write_wait_ms: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ACTIONDIR_WRITE_WAIT_MS": str(write_wait_ms), "ACTIONDIR_REPORTS_PER_MINUTE": "100000"}
    process = subprocess.Popen(
        [str(ACTIONDIR), "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1, trust_env=False).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    raise SystemExit("the server did not start within 60 s")


def time_requests(client: httpx.Client, method: str, path: str, count: int, **kwargs) -> tuple[list[float], set[int]]:
    times, statuses = [], set()
    for _ in range(count):
        started = time.perf_counter()
        response = client.request(method, path, **kwargs)
        times.append((time.perf_counter() - started) * 1000)
        statuses.add(response.status_code)
    return times, statuses


DURING = "GET during a write"


def during_blocked_writes(port: int, count: int) -> tuple[list[float], set[int]]:
    """Time a cached GET sent 50 ms after a POST (that waits for the lock, when one is held),
    ``count`` times; each request on a new connection."""
    times, statuses = [], set()
    base = f"http://127.0.0.1:{port}"
    for _ in range(count):
        writer = threading.Thread(
            target=lambda: httpx.post(f"{base}/v1/listings/ru-ovd-info/reports", json={"reason": "other"}, timeout=60, trust_env=False)
        )
        writer.start()
        time.sleep(0.05)
        started = time.perf_counter()
        response = httpx.get(f"{base}/v1/countries/RU/listings", params={"lang": "ru"}, timeout=60, trust_env=False)
        times.append((time.perf_counter() - started) * 1000)
        statuses.add(response.status_code)
        writer.join()
    return times, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20, help="requests per kind and state (default 20)")
    parser.add_argument("--write-wait-ms", type=int, default=500, help="ACTIONDIR_WRITE_WAIT_MS for the server (default 500)")
    args = parser.parse_args()

    from api.services.tokens import create_token  # noqa: PLC0415
    from api.store import Store  # noqa: PLC0415

    work = Path(tempfile.mkdtemp(prefix="actiondir-lock-bench-"))
    db = work / "bench.db"
    print("building the database from directory_data/ …", file=sys.stderr)
    subprocess.run([str(ACTIONDIR), "import", "--quiet", "--data", str(REPO / "directory_data"), "--db", str(db)],
                   check=True, stdout=subprocess.DEVNULL)
    store = Store(db)
    token, _ = create_token(store, name="Bench Curator", role="curator", expires_in_days=None, actor="bench")
    store.close()
    port = free_port()
    server = start(db, port, args.write_wait_ms)
    kinds = [
        ("GET /healthz", "GET", "/healthz", {}),
        ("GET cached list", "GET", "/v1/countries/RU/listings", {"params": {"lang": "ru"}}),
        ("GET authenticated", "GET", "/v1/submissions", {"headers": {"Authorization": f"Bearer {token}"}}),
        ("POST report (write)", "POST", "/v1/listings/ru-ovd-info/reports", {"json": {"reason": "other"}}),
    ]
    results: dict[tuple[str, str], tuple[list[float], set[int]]] = {}
    results[(DURING, "idle")] = during_blocked_writes(port, args.requests)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, trust_env=False) as client:
            for label, method, path, kwargs in kinds:
                time_requests(client, method, path, 3, **kwargs)  # warm the caches
                results[(label, "idle")] = time_requests(client, method, path, args.requests, **kwargs)
            held, release = threading.Event(), threading.Event()

            def hold() -> None:
                conn = sqlite3.connect(db, isolation_level=None)
                conn.execute("begin immediate")
                held.set()
                release.wait(600)
                conn.execute("rollback")
                conn.close()

            holder = threading.Thread(target=hold, daemon=True)
            holder.start()
            held.wait(10)
            print(f"lock held; timing {len(kinds)} kinds x {args.requests} requests …", file=sys.stderr)
            try:
                for label, method, path, kwargs in kinds:
                    results[(label, "locked")] = time_requests(client, method, path, args.requests, **kwargs)
                # A read that arrives while a write of the same process waits for the lock: on
                # the event loop, the write would stall it; on the writer thread, it does not.
                results[(DURING, "locked")] = during_blocked_writes(port, args.requests)
            finally:
                release.set()
                holder.join(10)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)

    kinds.append((DURING, "GET", "", {}))
    print(f"\nwrite lock held by another connection; ACTIONDIR_WRITE_WAIT_MS={args.write_wait_ms}; "
          f"{args.requests} sequential requests each; latency in ms\n")
    print(f"| {'request':<20} | {'idle p50':>8} | {'idle max':>8} | {'locked p50':>10} | {'locked max':>10} | {'p50 ratio':>9} | statuses (idle → locked) |")
    print(f"|{'-' * 22}|{'-' * 10}|{'-' * 10}|{'-' * 12}|{'-' * 12}|{'-' * 11}|{'-' * 26}|")
    for label, *_ in kinds:
        idle, idle_statuses = results[(label, "idle")]
        locked, locked_statuses = results[(label, "locked")]
        ratio = statistics.median(locked) / statistics.median(idle)
        print(f"| {label:<20} | {statistics.median(idle):8.2f} | {max(idle):8.2f} | {statistics.median(locked):10.2f} | "
              f"{max(locked):10.2f} | {ratio:8.2f}x | {sorted(idle_statuses)} → {sorted(locked_statuses)} |")


if __name__ == "__main__":
    main()
