"""A real caching proxy in front of the real server: nginx's proxy_cache, configured by deploy/nginx.conf.

The chain, all on 127.0.0.1:  client → nginx (proxy_cache) → wiretap → ``actiondir serve``.

The wiretap is a TCP relay that writes down every request nginx sends to the API and the
status line the API answers with. nginx talks HTTP/1.0 to its upstream (one connection per
request), so what the wiretap saw is exactly what reached the API: a cache HIT is proven by
the API not being asked at all, a revalidation by the API receiving the stored ETag and
answering 304. nginx's own ``X-Cache-Status`` header is checked alongside.

The API runs with ``ACTIONDIR_MAX_AGE=2`` and ``ACTIONDIR_STALE_WHILE_REVALIDATE=0`` so pages
expire quickly and an expired page is never served stale. nginx counts time in whole seconds,
so a page stored at second S is fresh through S + max-age: the test waits for that to pass.

``nginx`` comes from the system (``.ci/run`` installs it). Without it this test is skipped,
unless ``REQUIRE_NGINX=1`` (set by ``.ci/run``) makes that a failure.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from conftest import REPO, free_port
from factory import default_listings, write_dataset

from api.dataset import import_directory
from api.services.tokens import create_token
from api.store import Store

pytestmark = pytest.mark.slow

ACTIONDIR = Path(sys.executable).parent / "actiondir"
NGINX_CONF = REPO / "deploy" / "nginx.conf"
HOST = "127.0.0.1"  # the only address this test ever talks to
MAX_AGE = 2
STARTUP_TIMEOUT = 10.0
REQUEST_TIMEOUT = 5.0
PAGE = "/v1/countries/RU/listings"
LISTING = "ru-evacuation"  # shown on PAGE; the curator retitles it
NEW_TITLE = "Эвакуация из России (обновлено)"


def _nginx() -> str:
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if nginx is None:
        message = "nginx is not installed (.ci/run installs it: apt-get install nginx-light)"
        if os.environ.get("REQUIRE_NGINX") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return nginx


def _wait_until_up(url: str, process: subprocess.Popen[bytes], describe: Any) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            if httpx.get(url, timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{url} did not come up:\n{describe()}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes], first: signal.Signals) -> None:
    """Signal the process group, wait a little, then SIGKILL whatever is left of it."""
    try:
        if process.poll() is None:
            os.killpg(process.pid, first)
            process.wait(timeout=5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # also nginx's workers, cache manager and loader
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


# --- the API --------------------------------------------------------------------------------


@contextmanager
def _api(db: Path, log: Path) -> Iterator[str]:
    """``actiondir serve`` on a free port with short cache lifetimes; always stopped."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTIONDIR_")}
    env |= {"ACTIONDIR_MAX_AGE": str(MAX_AGE), "ACTIONDIR_STALE_WHILE_REVALIDATE": "0"}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(ACTIONDIR), "serve", "--host", HOST, "--port", str(port), "--db", str(db)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        base = f"http://{HOST}:{port}"
        _wait_until_up(f"{base}/healthz", process, lambda: log.read_text(errors="replace"))
        yield base
    finally:
        _stop(process, signal.SIGTERM)


# --- the wiretap between nginx and the API --------------------------------------------------


@dataclass
class Exchange:
    """One request the API received through nginx, and the status it answered."""

    head: bytes = b""
    response: bytes = b""
    request_line: str = ""
    if_none_match: str | None = None
    status: int | None = None

    def __str__(self) -> str:
        return f"{self.request_line} [If-None-Match: {self.if_none_match}] -> {self.status}"


class Wiretap:
    """A TCP relay that records each request (line and If-None-Match) and the API's status.

    Both are recorded *before* they are passed on, so by the time a client has its answer
    from nginx, anything nginx asked the API for this request is already in ``exchanges``.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream = (HOST, upstream_port)
        self.listener = socket.create_server((HOST, 0))
        self.port = self.listener.getsockname()[1]
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def mark(self) -> int:
        with self._lock:
            return len(self.exchanges)

    def since(self, mark: int) -> list[Exchange]:
        with self._lock:
            return self.exchanges[mark:]

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        exchange = Exchange()
        with self._lock:
            self.exchanges.append(exchange)
        try:
            upstream = socket.create_connection(self.upstream, timeout=REQUEST_TIMEOUT)
        except OSError:
            client.close()
            return
        client.settimeout(REQUEST_TIMEOUT)
        with client, upstream:
            back = threading.Thread(target=self._pump, args=(upstream, client, exchange, False), daemon=True)
            back.start()
            self._pump(client, upstream, exchange, True)
            back.join(timeout=REQUEST_TIMEOUT)

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, exchange: Exchange, request: bool) -> None:
        try:
            while data := src.recv(65536):
                if request and not exchange.request_line:
                    exchange.head += data
                    if b"\r\n\r\n" in exchange.head:
                        lines = exchange.head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
                        for line in lines[1:]:
                            name, _, value = line.partition(":")
                            if name.strip().lower() == "if-none-match":
                                exchange.if_none_match = value.strip()
                        exchange.request_line = lines[0]
                elif not request and exchange.status is None:
                    exchange.response += data
                    if b"\r\n" in exchange.response:
                        exchange.status = int(exchange.response.split(b" ", 2)[1])
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


# --- nginx ----------------------------------------------------------------------------------


@contextmanager
def _nginx_proxy(nginx: str, prefix: Path, upstream_port: int) -> Iterator[str]:
    """nginx running deploy/nginx.conf with everything under ``prefix``; always stopped."""
    port = free_port()
    template = NGINX_CONF.read_text()
    conf = template.replace("@LISTEN@", f"{HOST}:{port}").replace("@UPSTREAM@", f"{HOST}:{upstream_port}")
    assert "@" not in re.sub(r"#.*", "", conf), "a placeholder in deploy/nginx.conf was not filled in"
    if os.geteuid() == 0:
        # As root nginx would run its workers as `nobody`, who cannot enter pytest's tmp dirs.
        conf = "user root;\n" + conf
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "nginx.conf").write_text(conf)
    error_log = prefix / "error.log"
    output = prefix / "nginx.out"

    def describe() -> str:
        return "\n".join(p.read_text(errors="replace") for p in (output, error_log) if p.exists())

    with output.open("ab") as out:
        process = subprocess.Popen(
            [nginx, "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-e", str(error_log)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        base = f"http://{HOST}:{port}"
        _wait_until_up(f"{base}/healthz", process, describe)  # /healthz is no-cache: never stored
        yield base
    finally:
        _stop(process, signal.SIGQUIT)  # graceful shutdown; SIGKILL if it lingers


# --- the test -------------------------------------------------------------------------------


def _titles(response: httpx.Response) -> dict[str, str]:
    return {item["id"]: item["title"] for item in response.json()["data"]}


def _wait_for_expiry(stored_at: float) -> None:
    """Sleep until nginx (whole seconds) sees a page stored at ``stored_at`` as expired."""
    expires = math.floor(stored_at) + MAX_AGE + 1
    time.sleep(max(0.0, expires - time.time()) + 0.15)


@dataclass
class Chain:
    """client -> nginx -> wiretap -> API, with a curator's and a reviewer's token."""

    proxy: str
    api: str
    wiretap: Wiretap
    curator: str
    reviewer: str


@contextmanager
def _chain(tmp_path: Path) -> Iterator[Chain]:
    """The default listings served by ``actiondir serve`` behind nginx; everything stopped after."""
    nginx = _nginx()
    db = tmp_path / "cdn.db"
    store = Store(db, create=True)
    try:
        import_directory(write_dataset(tmp_path / "data", default_listings()), store)
        curator, _ = create_token(store, name="CDN Curator", role="curator", expires_in_days=None, actor="test")
        reviewer, _ = create_token(store, name="CDN Reviewer", role="reviewer", expires_in_days=None, actor="test")
    finally:
        store.close()

    with _api(db, tmp_path / "api.log") as api:
        api_port = int(api.rsplit(":", 1)[1])
        wiretap = Wiretap(api_port)
        try:
            with _nginx_proxy(nginx, tmp_path / "nginx", wiretap.port) as proxy:
                try:
                    yield Chain(proxy, api, wiretap, curator, reviewer)
                except AssertionError as exc:
                    log = (tmp_path / "nginx" / "access.log").read_text(errors="replace")
                    seen = "\n".join(map(str, wiretap.exchanges))
                    raise AssertionError(f"{exc}\n--- nginx access.log ---\n{log}\n--- the API saw ---\n{seen}") from None
        finally:
            wiretap.close()


def test_nginx_caches_revalidates_and_picks_up_an_approved_change(tmp_path: Path) -> None:
    started = time.monotonic()
    with _chain(tmp_path) as chain:
        _check(chain.proxy, chain.api, chain.wiretap, chain.curator, chain.reviewer)
    assert time.monotonic() - started < 30, f"the test took {time.monotonic() - started:.1f}s"


ORIGIN = {"Origin": "https://partner.example"}


def _assert_cors(response: httpx.Response, what: str) -> None:
    assert response.headers.get("access-control-allow-origin") == "*", (what, dict(response.headers))
    exposed = {h.strip().lower() for h in response.headers.get("access-control-expose-headers", "").split(",")}
    assert {"etag", "content-language", "x-dataset-revision"} <= exposed, (what, dict(response.headers))
    assert response.headers.get("x-content-type-options") == "nosniff", what


def test_cors_headers_survive_the_shared_cache(tmp_path: Path) -> None:
    """One reader without Origin fills the cache; a partner's browser (with Origin) is then
    served that copy, a HIT, and must still find the CORS headers in it."""
    with _chain(tmp_path) as chain, httpx.Client(base_url=chain.proxy, timeout=REQUEST_TIMEOUT, trust_env=False) as client:
        for path in (f"{PAGE}?lang=ru", "/v1/topics", f"/v1/listings/{LISTING}", "/v1/dataset"):
            mark = chain.wiretap.mark()
            first = client.get(path)
            assert first.status_code == 200 and first.headers["x-cache-status"] == "MISS", path
            assert len(chain.wiretap.since(mark)) == 1
            _assert_cors(first, f"MISS {path}")

            mark = chain.wiretap.mark()
            hit = client.get(path, headers=ORIGIN)
            assert hit.status_code == 200 and hit.headers["x-cache-status"] == "HIT", path
            assert chain.wiretap.since(mark) == []  # served from nginx's copy alone
            _assert_cors(hit, f"HIT {path}")

            not_modified = client.get(path, headers={**ORIGIN, "If-None-Match": first.headers["etag"]})
            assert not_modified.status_code == 304, path
            _assert_cors(not_modified, f"304 {path}")

            head = client.head(path, headers=ORIGIN)
            assert head.status_code == 200 and head.headers["x-cache-status"] == "HIT", path
            _assert_cors(head, f"HEAD {path}")

        problem = client.get("/v1/listings", params={"limit": 0}, headers=ORIGIN)
        assert problem.status_code == 400
        _assert_cors(problem, "problem")


def _check(proxy: str, api: str, wiretap: Wiretap, curator: str, reviewer: str) -> None:
    observed: list[str] = []  # the X-Cache-Status sequence, printed at the end

    with httpx.Client(base_url=proxy, timeout=REQUEST_TIMEOUT, trust_env=False,
                      headers={"Accept-Encoding": "gzip"}) as client:

        def get(url: str, **kwargs: Any) -> tuple[httpx.Response, list[Exchange]]:
            mark = wiretap.mark()
            response = client.get(url, **kwargs)
            asked = " ".join(f"{k}: {v}" for k, v in kwargs.get("headers", {}).items())
            observed.append(f"{response.headers.get('x-cache-status', '-'):<11} {response.status_code} "
                            f"GET {url} {asked}".rstrip())
            return response, wiretap.since(mark)

        # 1. The first reader misses: nginx asks the API (unconditionally) and stores the page.
        first, seen = get(f"{PAGE}?lang=ru")
        stored_at = time.time()
        assert first.status_code == 200 and first.headers["x-cache-status"] == "MISS"
        assert [(e.request_line, e.if_none_match, e.status) for e in seen] == [
            (f"GET {PAGE}?lang=ru HTTP/1.0", None, 200)
        ]
        assert first.headers["cache-control"] == f"public, max-age={MAX_AGE}, stale-while-revalidate=0"
        assert first.headers["content-encoding"] == "gzip"
        etag = first.headers["etag"]
        old_titles = _titles(first)
        assert old_titles[LISTING] == f"{LISTING} по-русски"

        # 2. Within max-age: HITs, and the API is not asked at all.
        again, seen = get(f"{PAGE}?lang=ru")
        assert again.headers["x-cache-status"] == "HIT" and seen == []
        assert again.status_code == 200 and again.content == first.content and again.headers["etag"] == etag
        # A client's own If-None-Match is answered by nginx from its copy.
        conditional, seen = get(f"{PAGE}?lang=ru", headers={"If-None-Match": etag})
        assert conditional.status_code == 304 and conditional.content == b"" and seen == []
        assert conditional.headers["etag"] == etag

        # 3. Each language is its own entry: by ?lang= and by Accept-Language.
        portuguese, seen = get(f"{PAGE}?lang=pt-BR")
        assert portuguese.headers["x-cache-status"] == "MISS" and len(seen) == 1
        assert {item["lang"] for item in portuguese.json()["data"]} <= {"pt-BR", "en"}
        assert _titles(portuguese)[LISTING] == f"{LISTING} in English"  # no pt-BR text: English
        portuguese_again, seen = get(f"{PAGE}?lang=pt-BR")
        assert portuguese_again.headers["x-cache-status"] == "HIT" and seen == []
        assert portuguese_again.content == portuguese.content
        by_header = {}
        for language in ("ru", "en"):
            response, seen = get(PAGE, headers={"Accept-Language": language})
            assert response.headers["x-cache-status"] == "MISS" and len(seen) == 1, language
            by_header[language] = _titles(response)[LISTING]
        assert by_header == {"ru": f"{LISTING} по-русски", "en": f"{LISTING} in English"}
        response, seen = get(PAGE, headers={"Accept-Language": "ru"})
        assert response.headers["x-cache-status"] == "HIT" and seen == []
        assert _titles(response)[LISTING] == f"{LISTING} по-русски"
        # …and each coding: an identity copy next to the gzip one, with the same (weak) ETag.
        plain, seen = get(f"{PAGE}?lang=ru", headers={"Accept-Encoding": "identity"})
        assert plain.headers["x-cache-status"] == "MISS" and len(seen) == 1
        assert "content-encoding" not in plain.headers and plain.headers["etag"] == etag
        assert _titles(plain) == old_titles
        assert time.time() - stored_at < MAX_AGE - 0.5, "too slow to check HITs within max-age"

        # 4. Expired: nginx revalidates with the stored ETag, the API answers 304, and the
        #    reader still gets the whole page (from nginx's copy).
        _wait_for_expiry(stored_at)
        revalidated, seen = get(f"{PAGE}?lang=ru")
        refreshed_at = time.time()
        assert revalidated.headers["x-cache-status"] == "REVALIDATED"
        assert [(e.request_line, e.if_none_match, e.status) for e in seen] == [
            (f"GET {PAGE}?lang=ru HTTP/1.0", etag, 304)
        ]
        assert revalidated.status_code == 200 and revalidated.content == first.content
        assert revalidated.headers["etag"] == etag
        fresh_again, seen = get(f"{PAGE}?lang=ru")
        assert fresh_again.headers["x-cache-status"] == "HIT" and seen == []

        # 5. A curator retitles a listing on the page; a reviewer approves it (API directly).
        with httpx.Client(base_url=api, timeout=REQUEST_TIMEOUT, trust_env=False) as direct:
            dataset = direct.get("/v1/dataset").json()
            doc = next(entry["listing"] for entry in dataset["listings"] if entry["listing"]["id"] == LISTING)
            base_revision = direct.get(f"/v1/listings/{LISTING}").json()["revision"]
            doc["translations"]["ru"]["title"] = NEW_TITLE
            body = {
                "action": "update", "listing_id": LISTING, "base_revision": base_revision, "listing": doc,
                "note": "Russian title", "sources": [f"https://{LISTING}.example.org/about"],
            }
            submitted = direct.post("/v1/submissions", content=msgspec.json.encode(body),
                                    headers={"Authorization": f"Bearer {curator}", "Content-Type": "application/json"})
            assert submitted.status_code == 201, submitted.text
            decided = direct.post(
                f"/v1/submissions/{submitted.json()['id']}/decision",
                content=msgspec.json.encode({"decision": "approve", "reason": "Checked"}),
                headers={"Authorization": f"Bearer {reviewer}", "Content-Type": "application/json"},
            )
            assert decided.status_code == 200 and decided.json()["status"] == "approved", decided.text
            assert _titles(direct.get(f"{PAGE}?lang=ru"))[LISTING] == NEW_TITLE  # live at the API at once

        # Until max-age runs out, readers of the proxy may still get the old page: that is the
        # bargain Cache-Control strikes. (Checked only while surely within the window.)
        if time.time() - refreshed_at < MAX_AGE - 0.5:
            cached, seen = get(f"{PAGE}?lang=ru")
            assert cached.headers["x-cache-status"] == "HIT" and seen == []
            assert _titles(cached)[LISTING] == old_titles[LISTING]

        # 6. After max-age: nginx asks with the old ETag, the API answers 200 with the new page.
        _wait_for_expiry(refreshed_at)
        changed, seen = get(f"{PAGE}?lang=ru")
        assert changed.status_code == 200
        assert changed.headers["x-cache-status"] in {"EXPIRED", "MISS"}  # never a stale HIT
        assert [(e.request_line, e.if_none_match, e.status) for e in seen] == [
            (f"GET {PAGE}?lang=ru HTTP/1.0", etag, 200)
        ]
        assert _titles(changed)[LISTING] == NEW_TITLE
        assert changed.headers["etag"] != etag
        assert {k: v for k, v in _titles(changed).items() if k != LISTING} == {
            k: v for k, v in old_titles.items() if k != LISTING
        }
        cached_new, seen = get(f"{PAGE}?lang=ru")
        assert cached_new.headers["x-cache-status"] == "HIT" and seen == []
        assert cached_new.headers["etag"] == changed.headers["etag"] and cached_new.content == changed.content

        # The Portuguese page is its own entry: refreshed on its own, with its own ETag.
        portuguese_later, seen = get(f"{PAGE}?lang=pt-BR")
        assert portuguese_later.headers["x-cache-status"] in {"EXPIRED", "REVALIDATED"} and len(seen) == 1
        assert seen[0].if_none_match == portuguese.headers["etag"]
        assert _titles(portuguese_later)[LISTING] == f"{LISTING} in English"

        # A reader holding the old page is told it changed; one holding the new one gets a 304.
        stale_reader, seen = get(f"{PAGE}?lang=ru", headers={"If-None-Match": etag})
        assert stale_reader.status_code == 200 and _titles(stale_reader)[LISTING] == NEW_TITLE and seen == []
        current_reader, seen = get(f"{PAGE}?lang=ru", headers={"If-None-Match": changed.headers["etag"]})
        assert current_reader.status_code == 304 and seen == []

    print("\nX-Cache-Status sequence:\n  " + "\n  ".join(observed))
