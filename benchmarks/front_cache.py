"""In-process cost of a repeat public read: a front-cache hit against a miss (the framework path).

Calls the ASGI app directly (no server, no sockets) N times per request and prints the
microseconds per request of each path side by side:

- hit: the front cache (api/http/cache.py) answers from its stored whole response;
- miss: the same request given to what sits below the front cache (``front_cache.app``): the
  framework runs (routing, parameters, the handler, the conditional-GET layer), as it does for
  every request the front cache cannot answer.

Figures only, no thresholds.

    .venv/bin/python benchmarks/front_cache.py [-n 2000]
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
    ("GET", "/v1/listings", b"", []),
    ("GET", "/v1/listings", b"country=RU&limit=5", [(b"accept-language", b"ru,en;q=0.8")]),
    ("GET", "/v1/listings/br-antra", b"", [(b"accept-encoding", b"gzip")]),
    ("GET", "/v1/topics", b"lang=uk", []),
    ("GET", "/v1/changes", b"limit=100", []),
    ("GET", "/v1/dataset", b"", [(b"accept-encoding", b"gzip, br")]),
    ("HEAD", "/v1/listings", b"", []),
    ("GET", "/v1/listings", b"", [(b"if-none-match", b"ETAG")]),  # a revalidation (a CDN's)
]


def _scope(method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query,
        "headers": [(b"host", b"127.0.0.1"), *headers], "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }


async def _call(app, scope: dict) -> tuple[int, dict[bytes, bytes]]:
    answer: dict = {}

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            answer.update(status=message["status"], headers=dict(message["headers"]))

    await app(dict(scope), receive, send)
    return answer["status"], answer["headers"]


async def _per_request(app, scope: dict, n: int) -> tuple[float, int]:
    for _ in range(3):  # warm: the first calls fill the caches
        status, _ = await _call(app, scope)
    start = time.perf_counter()
    for _ in range(n):
        await _call(app, scope)
    return (time.perf_counter() - start) / n * 1e6, status


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        store = Store(db, create=True)
        import_directory(REPO / "directory_data", store)
        served = create_app(load_settings(db=db), store=store)
        front = served.front_cache
        framework = front.app  # everything below the front cache
        print(f"{'request':<62} {'hit':>10} {'miss':>10} {'miss/hit':>8}")
        for method, path, query, headers in REQUESTS:
            if headers and headers[0][1] == b"ETAG":  # revalidate what a plain GET got
                _, plain = await _call(served, _scope("GET", path, query, []))
                headers = [(headers[0][0], plain[b"etag"])]
            scope = _scope(method, path, query, headers)
            hit, status_hit = await _per_request(served, scope, n)
            miss, status_miss = await _per_request(framework, scope, n)
            assert status_hit == status_miss in (200, 304), (path, status_hit, status_miss)
            label = f"{method} {path}" + (f"?{query.decode()}" if query else "")
            label += f" {headers[0][0].decode()}" if headers else ""
            print(f"{label:<62} {hit:>7.1f} µs {miss:>7.1f} µs {miss / hit:>7.0f}x")
        store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=2000, help="requests per measurement (default 2000)")
    asyncio.run(main(parser.parse_args().n))
