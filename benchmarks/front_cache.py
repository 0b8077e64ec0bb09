"""In-process cost of a cache hit: the front cache against the handlers' cache behind litestar.

Calls the ASGI app directly (no server, no sockets) N times per request and prints the
microseconds per hit of each path side by side. Figures only, no thresholds.

    .venv/bin/python benchmarks/front_cache.py [-n 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from api.app import create_app
from api.dataset import import_directory
from api.settings import load_settings
from api.store import Store

REPO = Path(__file__).resolve().parent.parent

REQUESTS = [
    ("/v1/listings", b"", []),
    ("/v1/listings", b"country=RU&limit=5", [(b"accept-language", b"ru,en;q=0.8")]),
    ("/v1/listings/br-antra", b"", [(b"accept-encoding", b"gzip")]),
    ("/v1/topics", b"lang=uk", []),
    ("/v1/dataset", b"", [(b"accept-encoding", b"gzip, br")]),
]


def _scope(path: str, query: bytes, headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query,
        "headers": [(b"host", b"127.0.0.1"), *headers], "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }


async def _per_hit(app, scope: dict, n: int) -> tuple[float, int]:
    status = 0

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    for _ in range(3):  # warm: the first call fills the caches
        await app(dict(scope), receive, send)
    start = time.perf_counter()
    for _ in range(n):
        await app(dict(scope), receive, send)
    return (time.perf_counter() - start) / n * 1e6, status


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        store = Store(db, create=True)
        import_directory(REPO / "directory_data", store)
        app = create_app(load_settings(db=db), store=store)
        print(f"{'request':<58} {'behind litestar':>16} {'front cache':>12}")
        for path, query, headers in REQUESTS:
            scope = _scope(path, query, headers)
            behind, status_behind = await _per_hit(app.handle, scope, n)  # the handlers' ResponseCache
            front, status_front = await _per_hit(app, scope, n)
            assert status_behind == status_front == 200, (path, status_behind, status_front)
            label = path + (f"?{query.decode()}" if query else "") + (f" {headers[0][0].decode()}" if headers else "")
            print(f"{label:<58} {behind:>13.1f} µs {front:>9.1f} µs")
        store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=20000, help="requests per measurement (default 20000)")
    asyncio.run(main(parser.parse_args().n))
