"""The link checker against real HTTP(S) servers on 127.0.0.1, and its store and CLI.

Every server here listens on 127.0.0.1; nothing is sent anywhere else. Addresses such as
10.0.0.1 and 169.254.169.254 appear only in ``Location`` headers and in the answers of a fake
resolver: the tests assert that the checker never even tries to connect to them (its pinned
network backend logs every TCP connection it attempts).

Made-up names (``site-a.test``, ``metadata.site-a.test``) are resolved by a resolver passed to
the checker, never by DNS; they are used over TLS with a test CA (below) so that the connection
is pinned to 127.0.0.1 while SNI and certificate checks still use the name.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import ipaddress
import socket
import sqlite3
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from api import __version__
from api.cli import LINK_CHECKER_TEST_OPTIONS, cli
from api.clock import FixedClock
from api.store import MIGRATIONS, Store
from api.vetting.links import USER_AGENT, LinkChecker, LinkResult, _site
from api.vetting.net import DENIED_NETWORKS, PinnedBackend, PinnedTransport, is_tls_error, refused_address
from api.vetting.domains import registrable_domain

# A throw-away CA and a certificate it signed for 127.0.0.1, localhost, site-a.test,
# *.site-a.test and site-b.test; valid 2000-2126. Test material only: it protects nothing.
TEST_CA = """-----BEGIN CERTIFICATE-----
MIIBkjCCATmgAwIBAgIBATAKBggqhkjOPQQDAjAwMS4wLAYDVQQDDCVBY3Rpb24g
RGlyZWN0b3J5IGxpbmsgY2hlY2tlciB0ZXN0IENBMCAXDTAwMDEwMTAwMDAwMFoY
DzIxMjYwMTAxMDAwMDAwWjAwMS4wLAYDVQQDDCVBY3Rpb24gRGlyZWN0b3J5IGxp
bmsgY2hlY2tlciB0ZXN0IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEjUoQ
NhdGbaPs8GZj0q6/Edhk6dXNx53vVAavJRMX7A7NlnZeMON0pymoEhj9B7REnsqA
EwD794VHovqZSredz6NCMEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMC
AQYwHQYDVR0OBBYEFOEkq/dO+2L7T3Jj3EtwuYXU16X4MAoGCCqGSM49BAMCA0cA
MEQCIGIesn6RYlnlDJQYb2vbHAVPbtLte0EYVjmP3SHJy3reAiBQPvKu6ECyfieX
jO42+zt5fnCK8jtYFX1zI8VDkWEsnw==
-----END CERTIFICATE-----
"""
TEST_CERT = """-----BEGIN CERTIFICATE-----
MIIB8TCCAZegAwIBAgIBAjAKBggqhkjOPQQDAjAwMS4wLAYDVQQDDCVBY3Rpb24g
RGlyZWN0b3J5IGxpbmsgY2hlY2tlciB0ZXN0IENBMCAXDTAwMDEwMTAwMDAwMFoY
DzIxMjYwMTAxMDAwMDAwWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjO
PQIBBggqhkjOPQMBBwNCAAQ4vgEjVwKq0C3ykXWYYqqE7n0rqZg4dTx4XduTCyKG
tGmS9PFYsFMsPtcpnm20G9CgKTGC39pUSoERi11RazOZo4G7MIG4MAwGA1UdEwEB
/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUFBwMBMEMGA1Ud
EQQ8MDqHBH8AAAGCCWxvY2FsaG9zdIILc2l0ZS1hLnRlc3SCDSouc2l0ZS1hLnRl
c3SCC3NpdGUtYi50ZXN0MB0GA1UdDgQWBBRoFogxXt5BRlvniusLZiSD9pU1RjAf
BgNVHSMEGDAWgBThJKv3Tvti+09yY9xLcLmF1Nel+DAKBggqhkjOPQQDAgNIADBF
AiEA1nQVJUJw/KERb7/rlMRrEAGsRgtkpiBocewOpPMfjKACIAvmgSlqublNkMtJ
qRVREXwiUCzAAN7LLvosZrSqY0zv
-----END CERTIFICATE-----
"""
TEST_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgoQacdOVdavzf7XTi
0mTACpebaSkzXmDvDOpDEWJuma2hRANCAAQ4vgEjVwKq0C3ykXWYYqqE7n0rqZg4
dTx4XduTCyKGtGmS9PFYsFMsPtcpnm20G9CgKTGC39pUSoERi11RazOZ
-----END PRIVATE KEY-----
"""

#: Fast settings for tests; the loopback allowance is explicit in every checker made here.
FAST = {"per_host_delay": 0.01, "backoff": 0.01, "connect_timeout": 2.0, "read_timeout": 2.0, "total_timeout": 10.0}


# --- Local servers -----------------------------------------------------------------------------

@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    start: float
    end: float = 0.0


Route = Callable[["_Handler", str, int], None]


@dataclass
class LocalServer:
    """A threaded HTTP(S) server on 127.0.0.1 that records every request it gets."""

    routes: dict[str, Route]
    tls: ssl.SSLContext | None = None
    requests: list[Seen] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> LocalServer:
        server = self

        class Handler(_Handler):
            owner = server

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.httpd.socket = self.tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def seen(self, path: str | None = None) -> list[Seen]:
        with self.lock:
            return [r for r in self.requests if path is None or r.path == path]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up early (a timeout, a GET read only in part) is expected


class _Handler(BaseHTTPRequestHandler):
    owner: LocalServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_GET(self) -> None:
        self._serve("GET")

    def _serve(self, method: str) -> None:
        seen = Seen(method, self.path, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
        with self.owner.lock:
            self.owner.requests.append(seen)
            n = self.owner.counts.get(self.path, 0)
            self.owner.counts[self.path] = n + 1
        try:
            self.owner.routes.get(self.path, status(404))(self, method, n)
        finally:
            seen.end = time.monotonic()

    def answer(self, code: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        self.send_response(code)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def status(code: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Route:
    return lambda h, method, n: h.answer(code, headers, body or f"{code}\n".encode())


def redirect(location: str, code: int = 302) -> Route:
    return status(code, {"Location": location})


def by_method(**routes: Route) -> Route:
    return lambda h, method, n: routes[method](h, method, n)


def in_turn(*routes: Route) -> Route:
    """The n-th request gets the n-th route (the last one from then on)."""
    return lambda h, method, n: routes[min(n, len(routes) - 1)](h, method, n)


def slow(seconds: float, then: Route) -> Route:
    def route(h: _Handler, method: str, n: int) -> None:
        time.sleep(seconds)
        then(h, method, n)
    return route


def hang_up(h: _Handler, method: str, n: int) -> None:
    h.close_connection = True  # no answer at all: the server drops the request


@pytest.fixture
def serve() -> Iterator[Callable[..., LocalServer]]:
    servers: list[LocalServer] = []

    def start(routes: dict[str, Route], tls: ssl.SSLContext | None = None) -> LocalServer:
        server = LocalServer(routes, tls).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context that trusts the test CA)."""
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_text(TEST_CERT)
    (folder / "key.pem").write_text(TEST_KEY)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cadata=TEST_CA)
    return server, client


def check(url: str, **options: Any) -> tuple[LinkResult, LinkChecker]:
    """Check one URL with a fresh checker; returns the result and the checker (for its log)."""
    settings = {**FAST, "allow_loopback_for_tests": True, **options}

    async def run() -> tuple[LinkResult, LinkChecker]:
        async with LinkChecker(**settings) as checker:
            return await checker.check(url), checker

    return asyncio.run(run())


def fake_resolver(table: dict[str, list[str]], asked: list[str] | None = None):
    """Answers from ``table`` only (no DNS); unknown names fail like NXDOMAIN."""

    async def resolve(host: str, port: int) -> list[str]:
        if asked is not None:
            asked.append(host)
        if host not in table:
            raise OSError(f"[fake resolver] {host} not found")
        return table[host]

    return resolve


def only_loopback_connections(checker: LinkChecker) -> bool:
    return all(address == "127.0.0.1" for _host, _port, address in checker.connections)


# --- Outcomes ------------------------------------------------------------------------------------

def test_ok_uses_head_and_an_honest_user_agent(serve):
    server = serve({"/": status(200)})
    result, checker = check(server.url("/"))
    assert (result.status, result.http_status, result.needs_review) == ("ok", 200, False)
    assert result.final_url == server.url("/")
    assert result.checked_at.tzinfo is not None and abs(dt.datetime.now(dt.UTC) - result.checked_at).total_seconds() < 60
    [request] = server.seen()
    assert request.method == "HEAD"
    agent = request.headers["user-agent"]
    assert agent == USER_AGENT
    assert agent.startswith(f"ActionDirectoryLinkChecker/{__version__} (")
    assert "Mozilla" not in agent and "Chrome" not in agent
    assert checker.connections == [("127.0.0.1", server.port, "127.0.0.1")]


def test_404_is_broken_and_confirmed_with_get(serve):
    server = serve({})
    result, _ = check(server.url("/gone"))
    assert (result.status, result.http_status) == ("broken", 404)
    assert [r.method for r in server.seen()] == ["HEAD", "GET"]


def test_500_is_broken_after_two_retries(serve):
    server = serve({"/error": status(500)})
    result, _ = check(server.url("/error"))
    assert (result.status, result.http_status) == ("broken", 500)
    assert len(server.seen("/error")) == 3  # one request and two retries, no more


def test_a_slow_server_is_unreachable_after_a_short_timeout(serve):
    server = serve({"/slow": slow(1.0, status(200))})
    started = time.monotonic()
    result, _ = check(server.url("/slow"), read_timeout=0.2, max_retries=1)
    assert result.status == "unreachable" and result.http_status is None
    assert "timed out" in result.detail
    assert len(server.seen("/slow")) == 2  # retried once: a timeout is transient
    assert time.monotonic() - started < 1.5


def test_head_405_falls_back_to_get_and_reads_only_the_start(serve):
    big = b"x" * 1_000_000
    server = serve({"/no-head": by_method(HEAD=status(405), GET=status(200, body=big))})
    result, _ = check(server.url("/no-head"))
    assert (result.status, result.http_status) == ("ok", 200)
    assert [r.method for r in server.seen()] == ["HEAD", "GET"]


def test_a_server_that_drops_head_is_asked_with_get(serve):
    server = serve({"/drop": by_method(HEAD=hang_up, GET=status(200))})
    result, _ = check(server.url("/drop"))
    assert result.status == "ok"
    assert [r.method for r in server.seen()] == ["HEAD", "GET"]


def test_429_with_retry_after_is_retried_after_the_wait(serve):
    server = serve({"/busy": in_turn(status(429, {"Retry-After": "1"}), status(200))})
    result, _ = check(server.url("/busy"))
    assert (result.status, result.http_status) == ("ok", 200)
    first, second = server.seen("/busy")
    assert second.start - first.end >= 0.95


def test_retry_after_as_a_date_is_read_on_the_checkers_clock(serve):
    """``Retry-After`` may be an HTTP-date: how long that is from now is the checker's clock's
    to say, as every other time it keeps (one clock; a date a second after that clock's now
    is a second's wait, whatever the system clock says)."""
    clock = FixedClock(dt.datetime(2001, 1, 1, tzinfo=dt.UTC))
    in_a_second = email.utils.format_datetime(clock.now() + dt.timedelta(seconds=1), usegmt=True)
    server = serve({"/busy": in_turn(status(503, {"Retry-After": in_a_second}), status(200))})
    result, _ = check(server.url("/busy"), clock=clock)
    assert result.status == "ok"
    first, second = server.seen("/busy")
    assert second.start - first.end >= 0.95


def test_retry_after_is_capped(serve):
    server = serve({"/busy": in_turn(status(503, {"Retry-After": "3600"}), status(200))})
    started = time.monotonic()
    result, _ = check(server.url("/busy"), retry_after_cap=0.2)
    assert result.status == "ok"
    assert time.monotonic() - started < 3


def test_a_certificate_problem_is_broken_and_not_retried(serve, tls_files):
    server = serve({"/": status(200)}, tls=tls_files[0])
    result, _ = check(server.url("/"))  # the checker does not trust the test CA
    assert result.status == "broken" and "TLS" in result.detail


# --- Redirects -----------------------------------------------------------------------------------

def test_a_redirect_chain_on_the_same_host_is_ok_with_the_final_url(serve):
    server = serve({"/a": redirect("/b", 301), "/b": redirect("/c", 308), "/c": status(200)})
    result, _ = check(server.url("/a"))
    assert (result.status, result.http_status) == ("ok", 200)
    assert result.final_url == server.url("/c")
    assert result.redirects == (server.url("/b"), server.url("/c"))
    assert result.detail == "after 2 redirect(s)"


def test_a_redirect_loop_is_broken(serve):
    server = serve({"/loop1": redirect("/loop2"), "/loop2": redirect("/loop1")})
    result, _ = check(server.url("/loop1"))
    assert result.status == "broken" and "too many redirects" in result.detail
    assert len(server.seen()) == 2


def test_more_than_five_redirects_is_broken(serve):
    server = serve({f"/hop{i}": redirect(f"/hop{i + 1}") for i in range(10)})
    result, _ = check(server.url("/hop0"))
    assert result.status == "broken" and "too many redirects (more than 5)" in result.detail
    assert [r.path for r in server.seen()] == [f"/hop{i}" for i in range(6)]  # the start and 5 hops


def test_checked_at_comes_from_the_clock_it_is_given(serve):
    """The checker stamps results with the clock it is handed (the app's), not its own."""
    server = serve({"/": status(200)})
    clock = FixedClock(dt.datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC))
    result, _ = check(server.url("/"), clock=clock)
    assert result.status == "ok"
    assert result.checked_at == dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.UTC)


def test_a_redirect_to_another_site_is_recorded_not_followed(serve):
    other = serve({"/": status(200)})
    server = serve({"/moved": redirect(other.url("/", host="localhost"))})
    result, checker = check(server.url("/moved"))
    assert (result.status, result.http_status, result.needs_review) == ("redirected", 302, True)
    assert result.final_url == other.url("/", host="localhost")
    assert "another site" in result.detail
    assert other.seen() == []
    assert all(port != other.port for _host, port, _address in checker.connections)


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data",
        "https://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/",
        "https://10.0.0.1/admin",
        "https://[::ffff:10.0.0.1]/",
    ],
)
def test_a_redirect_to_an_internal_address_is_refused_without_connecting(serve, location):
    server = serve({"/r": redirect(location)})
    result, checker = check(server.url("/r"))
    assert (result.status, result.needs_review) == ("redirected", True)
    assert result.final_url and result.http_status == 302
    assert result.detail  # names the rule that refused it
    assert only_loopback_connections(checker)
    assert len(server.seen()) == 1


@pytest.mark.parametrize(
    "location",
    [
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("JavaScript:alert(document.cookie)", id="javascript-mixed-case"),
        pytest.param("data:text/html,<script>alert(1)</script>", id="data"),
        pytest.param("file:///etc/passwd", id="file"),
        pytest.param("mailto:someone@example.org", id="mailto"),
        pytest.param("ftp://ftp.example.org/file", id="ftp"),
    ],
)
def test_a_redirect_to_a_non_web_scheme_is_broken_and_needs_review(serve, location):
    """Browsers refuse to follow a redirect to anything but http(s) (the link is broken for every
    reader), and a site that sends one may be hostile: a person must look. It was recorded as
    'unreachable' (the HTTP library choked on the Location header), which said neither."""
    server = serve({"/r": redirect(location)})
    result, checker = check(server.url("/r"))
    assert (result.status, result.http_status, result.needs_review) == ("broken", 302, True), result
    assert result.final_url == location  # as the server sent it, for the reviewer
    assert "[https-only]" in result.detail and "redirect" in result.detail
    assert len(server.seen()) == 1 and only_loopback_connections(checker)


def test_a_redirect_to_an_unparsable_location_is_broken_and_needs_review(serve):
    server = serve({"/r": redirect("http://[::1")})
    result, _ = check(server.url("/r"))
    assert (result.status, result.http_status, result.needs_review) == ("broken", 302, True), result
    assert result.final_url == "http://[::1" and "invalid URL" in result.detail


def test_the_checker_sends_no_cookies_between_hops(serve):
    """Requests go straight to the pinned transport: no cookie jar, no redirect machinery."""
    server = serve({"/a": status(302, {"Location": "/b", "Set-Cookie": "session=abc; Path=/"}), "/b": status(200)})
    result, _ = check(server.url("/a"))
    assert result.status == "ok"
    assert all("cookie" not in r.headers for r in server.seen())


def test_a_same_site_name_that_resolves_to_an_internal_address_is_refused(serve, tls_files):
    """The address rule itself: the hop is on the same site, passes the URL policy, and only
    its DNS answer (here from a fake resolver) gives it away. Pinned TLS to 127.0.0.1 with the
    name as SNI serves the first hop."""
    server = serve({"/": redirect("/meta", 301), "/meta": redirect("https://metadata.site-a.test/latest/meta-data")}, tls=tls_files[0])
    asked: list[str] = []
    resolver = fake_resolver({"site-a.test": ["127.0.0.1"], "metadata.site-a.test": ["169.254.169.254"]}, asked)
    result, checker = check(server.url("/", host="site-a.test"), verify=tls_files[1], resolver=resolver)
    assert (result.status, result.http_status, result.needs_review) == ("redirected", 302, True)
    assert result.final_url == "https://metadata.site-a.test/latest/meta-data"
    assert "[address]" in result.detail and "169.254.169.254" in result.detail and "link-local" in result.detail
    assert asked == ["site-a.test", "site-a.test", "metadata.site-a.test"]
    assert checker.connections and only_loopback_connections(checker)
    assert [c[0] for c in checker.connections] == ["site-a.test"] * len(checker.connections)


def test_one_internal_address_among_public_ones_is_enough_to_refuse(serve, tls_files):
    server = serve({"/": redirect("https://mixed.site-a.test/")}, tls=tls_files[0])
    resolver = fake_resolver({"site-a.test": ["127.0.0.1"], "mixed.site-a.test": ["127.0.0.1", "10.1.2.3"]})
    result, checker = check(server.url("/", host="site-a.test"), verify=tls_files[1], resolver=resolver)
    assert result.status == "redirected" and "10.1.2.3" in result.detail
    assert only_loopback_connections(checker)


def test_without_the_test_allowance_loopback_is_refused(serve):
    server = serve({"/": status(200)})
    result, checker = check(server.url("/"), allow_loopback_for_tests=False)
    assert (result.status, result.needs_review) == ("unreachable", True)
    assert server.seen() == [] and checker.connections == []
    # Over https too, and through a name: the address check refuses it, not only the policy.
    # (Names under example.org pass the production URL policy; the fake resolver answers for
    # them, so no DNS query is made.)
    resolver = fake_resolver({"www.example.org": ["127.0.0.1"], "intranet.example.org": ["10.0.0.7"]})
    for url in ("https://www.example.org/", "https://intranet.example.org/"):
        result, checker = check(url, allow_loopback_for_tests=False, resolver=resolver)
        assert result.status == "unreachable" and "[address]" in result.detail and result.needs_review
        assert checker.connections == []


def test_a_name_that_does_not_resolve_is_unreachable():
    result, checker = check("https://nowhere.site-a.test/", resolver=fake_resolver({}))
    assert (result.status, result.needs_review) == ("unreachable", False)
    assert "[dns]" in result.detail and checker.connections == []


def test_connections_go_only_to_vetted_addresses(serve):
    """The pin is enforced below httpx: a request the checker did not vet cannot connect."""
    server = serve({"/": status(200)})

    async def run() -> str:
        async with LinkChecker(**FAST, allow_loopback_for_tests=True) as checker:
            try:
                await checker._client.head(server.url("/"))  # bypasses vetting on purpose
            except Exception as exc:  # noqa: BLE001
                return str(exc)
            return "connected"

    assert "not vetted" in asyncio.run(run())
    assert server.seen() == []



def test_the_connection_goes_to_the_vetted_address_even_if_the_name_resolves_differently_later(serve, tls_files, monkeypatch):
    """DNS rebinding: a name is vetted once, then answers otherwise. The checker's resolver
    answers 127.0.0.1 (where the site listens) the first time and the metadata address after
    that; the system resolver, patched, answers nothing for the name and records who asked.
    Both requests (a HEAD the server answers 405 and then hangs up, and a GET on a new
    connection opened after the answer changed) reach the vetted 127.0.0.1, with SNI and the
    certificate checked for the name, and nothing resolves the name a second time."""
    server = serve({"/": by_method(HEAD=status(405, {"Connection": "close"}), GET=status(200))}, tls=tls_files[0])
    answers, asked, system_asked = [["127.0.0.1"]], [], []

    async def rebinding(host: str, port: int) -> list[str]:
        asked.append(host)
        return answers.pop(0) if answers else ["169.254.169.254"]

    real_getaddrinfo = socket.getaddrinfo

    def system_resolver(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in ("site-a.test", b"site-a.test"):
            system_asked.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "this test lets no one resolve site-a.test")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", system_resolver)
    result, checker = check(server.url("/", host="site-a.test"), verify=tls_files[1], resolver=rebinding)
    assert (result.status, result.http_status) == ("ok", 200), result
    assert [r.method for r in server.seen()] == ["HEAD", "GET"]
    assert asked == ["site-a.test"]
    assert checker.connections == [("site-a.test", server.port, "127.0.0.1")] * 2
    assert system_asked == []

    # The probe can see a second resolution: httpx's own transport resolves the name itself.
    async def unpinned() -> None:
        async with httpx.AsyncClient(verify=tls_files[1], trust_env=False) as client:
            with pytest.raises(httpx.ConnectError):
                await client.head(server.url("/", host="site-a.test"))

    asyncio.run(unpinned())
    assert system_asked and len(server.seen()) == 2


def test_a_connection_is_never_shared_between_two_names_on_one_address(serve, tls_files):
    """Connections are pooled per name, with the certificate checked for that name. A kept-alive
    connection serves the next request for the same name, never one for another name that was
    vetted to the same address: a site whose certificate does not name it fails TLS even while
    a connection to its address, verified for another name, is open."""
    server = serve({"/": status(200)}, tls=tls_files[0])

    async def run() -> tuple[list[tuple[str, int, str]], httpx.ConnectError]:
        resolver = fake_resolver({"site-a.test": ["127.0.0.1"], "site-c.test": ["127.0.0.1"]})
        backend = PinnedBackend(resolver=resolver, allow_loopback=True)
        async with httpx.AsyncClient(transport=PinnedTransport(backend, verify=tls_files[1]), trust_env=False) as client:
            assert await backend.vet("site-a.test", server.port) == await backend.vet("site-c.test", server.port)
            for _ in range(2):
                assert (await client.get(server.url("/", host="site-a.test"))).status_code == 200
            with pytest.raises(httpx.ConnectError) as refused:
                await client.get(server.url("/", host="site-c.test"))  # the test certificate does not name it
        return backend.connections, refused.value

    connections, error = asyncio.run(run())
    assert connections == [("site-a.test", server.port, "127.0.0.1"), ("site-c.test", server.port, "127.0.0.1")]
    assert is_tls_error(error) and "site-c.test" in str(error)
    assert len(server.seen()) == 2

# --- Politeness ----------------------------------------------------------------------------------

def test_one_request_at_a_time_per_host_with_a_delay_but_hosts_in_parallel(serve):
    a = serve({f"/{i}": slow(0.2, status(200)) for i in range(3)})
    b = serve({"/": slow(0.2, status(200))})

    async def run() -> dict[str, LinkResult]:
        async with LinkChecker(**{**FAST, "per_host_delay": 0.3}, allow_loopback_for_tests=True) as checker:
            items = [(f"a{i}", a.url(f"/{i}")) for i in range(3)] + [("b", b.url("/"))]
            return await checker.check_many(items)

    results = asyncio.run(run())
    assert {r.status for r in results.values()} == {"ok"} and len(results) == 4
    on_a = sorted(a.seen(), key=lambda r: r.start)
    for before, after in zip(on_a, on_a[1:]):
        assert after.start >= before.end + 0.25  # never concurrent, and a pause between
    [on_b] = b.seen()
    assert on_b.start < on_a[0].end  # another host is not held up by the first


def test_global_concurrency_is_bounded(serve):
    servers = [serve({"/": slow(0.2, status(200))}) for _ in range(3)]

    async def run() -> None:
        async with LinkChecker(**FAST, concurrency=1, allow_loopback_for_tests=True) as checker:
            await checker.check_many([(str(i), s.url("/")) for i, s in enumerate(servers)])

    asyncio.run(run())
    seen = sorted((r for s in servers for r in s.seen()), key=lambda r: r.start)
    assert len(seen) == 3
    for before, after in zip(seen, seen[1:]):
        assert after.start >= before.end - 0.01


# --- Pure rules ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "not globally routable"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("2002:a00:1::", "private"),  # 6to4 around 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 around 169.254.169.254
        ("240.0.0.1", "reserved"),
        ("93.184.215.14", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_refused_addresses(address, refused):
    reason = refused_address(address)
    if refused in {None, "loopback", "link-local", "multicast", "unspecified"}:
        assert reason == refused
    else:  # private / reserved / not global: Python versions classify some ranges differently
        assert reason is not None


# IANA special-purpose ranges that the ipaddress module of some Python versions (3.11 here)
# still calls global: the checker connected to fec0::1 and 192.0.0.8.
SPECIAL_PURPOSE = [
    "0.1.2.3", "10.1.1.1", "100.64.0.1", "127.0.0.2", "169.254.1.1", "172.31.255.255",
    "192.0.0.8", "192.0.0.9", "192.0.0.170", "192.0.2.10", "192.88.99.1", "192.168.0.1",
    "198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9", "224.0.0.251", "239.255.255.250",
    "240.0.0.1", "255.255.255.255",
    "::", "::1", "::7f00:1", "64:ff9b:1::a00:1", "100::1", "100:0:0:1::1", "2001::1", "2001:2::1",
    "2001:10::1", "2001:20::1", "2001:db8::1", "3fff::1", "5f00::1", "fc00::1", "fd12:3456::1",
    "fe80::1", "febf::1", "fec0::1", "feff::1", "ff02::1", "4000::1", "::2:3:4",
]


@pytest.mark.parametrize("address", SPECIAL_PURPOSE)
def test_special_purpose_addresses_are_refused(address):
    assert refused_address(address) is not None


@pytest.mark.parametrize("address", SPECIAL_PURPOSE)
def test_the_pinned_table_refuses_them_whatever_ipaddress_says(monkeypatch, address):
    """Every flag of Python's ipaddress forced to "public": the pinned ranges alone decide."""
    for cls in (ipaddress.IPv4Address, ipaddress.IPv6Address):
        for flag in ("is_private", "is_reserved", "is_loopback", "is_link_local", "is_multicast", "is_unspecified", "is_site_local"):
            if hasattr(cls, flag):
                monkeypatch.setattr(cls, flag, property(lambda self: False))
        monkeypatch.setattr(cls, "is_global", property(lambda self: True))
    assert refused_address(address) is not None


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("fec0::1", "deprecated site-local"),
        ("192.0.0.8", "IETF protocol assignment"),
        ("2001:db8::1", "documentation"),
        ("64:ff9b:1::a00:1", "local-use NAT64"),
        ("2002:c000:201::1", "documentation"),  # 6to4 around 192.0.2.1
        ("64:ff9b::c633:6407", "documentation"),  # NAT64 around 198.51.100.7
        ("::ffff:192.0.0.8", "IETF protocol assignment"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "documentation"),  # Teredo around client 192.0.2.45
        ("2001:0:5db8:d70e:8000:f7f7:a247:b7f1", "IETF protocol assignment"),  # Teredo, public ends
    ],
)
def test_the_reason_names_the_range(address, refused):
    assert refused_address(address) == refused


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("64:ff9b::5db8:d70e", id="nat64-of-a-public-address"),  # DNS64 networks
        pytest.param("2002:5db8:d70e::1", id="6to4-of-a-public-address"),
        pytest.param("::ffff:93.184.215.14", id="mapped-public-address"),
        pytest.param("2a00:1450:4001:80b::200e", id="public-ipv6"),
        pytest.param("8.8.8.8", id="public-ipv4"),
    ],
)
def test_public_addresses_pass(address):
    """An address that carries a public IPv4 address (NAT64, 6to4, mapped) is judged by it."""
    assert refused_address(address) is None


def test_the_deny_table_pins_the_iana_ranges():
    networks = {str(net) for net, _reason in DENIED_NETWORKS}
    for expected in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
        "::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32",
        "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    ):
        assert expected in networks, expected


def test_loopback_allowance_lets_only_loopback_through():
    assert refused_address("127.0.0.1", allow_loopback=True) is None
    assert refused_address("10.0.0.1", allow_loopback=True) == "private"
    assert refused_address("169.254.169.254", allow_loopback=True) == "link-local"


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("www.example.org", "example.org"),
        ("EXAMPLE.org.", "example.org"),
        ("a.b.example.co.uk", "example.co.uk"),
        ("foo.github.io", "foo.github.io"),
        ("www.bücher.de", "xn--bcher-kva.de"),
    ],
)
def test_the_same_site_rule_uses_the_policys_registrable_domain(host, domain):
    """One public-suffix lookup for the project: the checker's notion of a site is the URL
    policy's registrable domain wherever the host has one."""
    assert registrable_domain(host) == domain
    assert _site(host) == domain


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("metadata.site-a.test", "site-a.test"),
        ("site-a.test", "site-a.test"),
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("0:0::1", "::1"),
        ("localhost", "localhost"),
        ("LocalHost.", "localhost"),
    ],
)
def test_hosts_without_a_registrable_domain_are_their_own_site(host, site):
    """Only test servers get such hosts past the policy; the checker still needs a site for
    them: an IP address is itself, a name under no listed suffix its last two labels."""
    assert registrable_domain(host) is None
    assert _site(host) == site


# --- Store ---------------------------------------------------------------------------------------

def test_migration_creates_link_checks_with_its_index(deployment):
    conn = sqlite3.connect(deployment.db)
    try:
        assert conn.execute("pragma user_version").fetchone()[0] == len(MIGRATIONS)
        columns = {r[1] for r in conn.execute("pragma table_info(link_checks)")}
        indexes = [r[1] for r in conn.execute("pragma index_list(link_checks)")]
        index_columns = [[c[2] for c in conn.execute(f"pragma index_info({name})")] for name in indexes]
    finally:
        conn.close()
    assert columns == {"id", "listing_id", "checked_at", "status", "http_status", "final_url", "needs_review", "detail"}
    assert ["listing_id", "checked_at"] in index_columns


def test_store_records_checks_and_counts_failures_in_a_row(deployment):
    store = Store(deployment.db)
    try:
        revision = store.get_revision()
        t0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
        for day, state in enumerate(["broken", "ok", "broken", "unreachable", "broken"]):
            store.link_checks.add(
                listing_id="ru-evacuation", checked_at=t0 + dt.timedelta(days=day), status=state,
                http_status=404 if state == "broken" else None, final_url="https://x.example.org/",
                needs_review=False, detail="",
            )
        assert store.link_checks.consecutive_failures("ru-evacuation") == 3
        assert store.link_checks.consecutive_failures("ru-legal-aid") == 0
        checks = store.link_checks.of_listing("ru-evacuation", limit=2)
        assert [c.status for c in checks] == ["broken", "unreachable"]
        assert checks[0].checked_at == t0 + dt.timedelta(days=4) and checks[0].http_status == 404
        row = store.listings.get("ru-evacuation")
        assert (row.link_status, row.link_checked_at) == ("broken", t0 + dt.timedelta(days=4))
        assert row.revision == 1  # the curated listing did not change
        assert store.get_revision() == revision  # not per check...
        assert store.link_checks.finish_run(5) == revision + 1  # ...but once per run
        assert store.link_checks.finish_run(0) == revision + 1
        assert store.listings.revisions("ru-evacuation")[-1].revision == 1
    finally:
        store.close()


def test_stale_selection(deployment):
    store = Store(deployment.db)
    try:
        everything = store.link_checks.to_check()
        assert [lid for lid, _ in everything] == ["br-kiss-in", "ru-evacuation", "ru-legal-aid", "ug-shelter", "ww-rainbow"]
        assert dict(everything)["ru-evacuation"] == "https://ru-evacuation.example.org/"
        assert [lid for lid, _ in store.link_checks.to_check(country="RU")] == ["ru-evacuation", "ru-legal-aid"]
        now = dt.datetime.now(dt.UTC)
        store.link_checks.add(listing_id="ru-evacuation", checked_at=now, status="ok", http_status=200,
                             final_url=None, needs_review=False)
        stale = store.link_checks.to_check(country="RU", checked_before=now - dt.timedelta(days=1))
        assert [lid for lid, _ in stale] == ["ru-legal-aid"]
    finally:
        store.close()


# --- CLI -----------------------------------------------------------------------------------------

def _point_listing_at(db: Path, listing_id: str, url: str) -> None:
    """Give a listing a local https URL. Directly in SQLite on purpose: the import rules are
    not under test here, and a future URL policy may rightly refuse 127.0.0.1 in listings."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("update listings set document = json_set(document, '$.url', ?) where id = ?", (url, listing_id))
        conn.commit()
    finally:
        conn.close()


def test_cli_check_links_records_reports_and_publishes(deployment, serve, tls_files):
    server = serve(
        {"/ok": status(200), "/gone": status(404), "/moved": redirect("https://localhost:1/elsewhere")},
        tls=tls_files[0],
    )
    _point_listing_at(deployment.db, "ru-evacuation", server.url("/ok"))
    _point_listing_at(deployment.db, "ru-legal-aid", server.url("/gone"))
    _point_listing_at(deployment.db, "br-kiss-in", server.url("/moved"))
    _point_listing_at(deployment.db, "ug-shelter", server.url("/ok"))
    _point_listing_at(deployment.db, "ww-rainbow", server.url("/ok"))
    options = {LINK_CHECKER_TEST_OPTIONS: {**FAST, "allow_loopback_for_tests": True, "verify": tls_files[1]}}
    with deployment.client() as client:
        before = client.get("/v1/listings/ru-legal-aid").json()  # fills the response cache
        assert before["link_check"] == {"status": "unchecked"}
        revision = int(client.get("/v1/listings/ru-legal-aid").headers["x-dataset-revision"])

        result = CliRunner().invoke(
            cli, ["check-links", "--country", "ru", "--db", str(deployment.db)], obj=options, catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        out = result.stdout
        assert "Checked 2 link(s): 1 ok, 0 redirected, 1 broken, 0 unreachable" in out
        assert f"(dataset revision {revision + 1})" in out
        [line] = [line for line in out.splitlines() if line.startswith("ru-legal-aid")]
        assert line.split()[1:4] == ["broken", "404", "no"] and server.url("/gone") in line
        assert "ru-evacuation" not in out.split("final URL")[-1]  # ok links are only counted

        after = client.get("/v1/listings/ru-legal-aid")
        assert int(after.headers["x-dataset-revision"]) == revision + 1
        check = after.json()["link_check"]
        assert check["status"] == "broken"
        checked_at = dt.datetime.fromisoformat(check["checked_at"])
        assert abs(dt.datetime.now(dt.UTC) - checked_at).total_seconds() < 60
        assert client.get("/v1/listings/ru-evacuation").json()["link_check"]["status"] == "ok"
        assert client.get("/v1/listings/br-kiss-in").json()["link_check"] == {"status": "unchecked"}

        # Everything else; the Russian listings were just checked, so --stale-days skips them.
        result = CliRunner().invoke(cli, ["check-links", "--stale-days", "1", "--db", str(deployment.db)], obj=options)
        assert result.exit_code == 0, result.output
        assert "Checked 3 link(s)" in result.stdout
        [line] = [line for line in result.stdout.splitlines() if line.startswith("br-kiss-in")]
        assert line.split()[1:4] == ["redirected", "302", "yes"] and "https://localhost:1/elsewhere" in line
        assert client.get("/v1/listings/br-kiss-in").json()["link_check"]["status"] == "redirected"
    store = Store(deployment.db)
    try:
        assert store.link_checks.of_listing("br-kiss-in")[0].needs_review is True
    finally:
        store.close()


def test_the_link_checker_never_moves_verified_at_nor_any_listing_field(deployment, serve, tls_files):
    """A working (or failing) link is not a person re-checking what a listing says: checks are
    recorded beside the listing, never in its document, its revision or its history."""
    server = serve({"/ok": status(200), "/gone": status(404)}, tls=tls_files[0])
    _point_listing_at(deployment.db, "ru-evacuation", server.url("/ok"))
    _point_listing_at(deployment.db, "ru-legal-aid", server.url("/gone"))

    def documents() -> dict[str, tuple[str, int, int]]:
        conn = sqlite3.connect(deployment.db)
        try:
            rows = conn.execute("select id, document, revision from listings").fetchall()
            history = dict(conn.execute("select listing_id, count(*) from listing_revisions group by listing_id").fetchall())
        finally:
            conn.close()
        return {row[0]: (row[1], row[2], history[row[0]]) for row in rows}

    before = documents()
    options = {LINK_CHECKER_TEST_OPTIONS: {**FAST, "allow_loopback_for_tests": True, "verify": tls_files[1]}}
    for _ in range(2):  # two failures in a row: ru-legal-aid is held
        result = CliRunner().invoke(
            cli, ["check-links", "--country", "RU", "--db", str(deployment.db)], obj=options, catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
    assert documents() == before
    with deployment.client() as client:
        assert client.get("/v1/listings/ru-legal-aid").json()["status"] == "unverified"
        for listing_id in ("ru-evacuation", "ru-legal-aid"):
            assert client.get(f"/v1/listings/{listing_id}").json()["verification"]["verified_at"] == "2026-11-20"


def test_cli_check_links_usage_and_database_errors(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(cli, ["check-links", "--country", "Russia", "--db", str(tmp_path / "x.db")])
    assert bad.exit_code == 2 and "--country" in bad.output
    missing = runner.invoke(cli, ["check-links", "--db", str(tmp_path / "missing.db")])
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_cli_has_no_switch_for_loopback():
    """The test-only allowance is reachable only in-process, never from a shell."""
    help_text = CliRunner().invoke(cli, ["check-links", "--help"]).output
    assert "loopback" not in help_text.lower()
    import api.cli  # noqa: PLC0415

    source = Path(api.cli.__file__).read_text()
    assert "ACTIONDIR_LINKCHECK" not in source


def test_cli_shows_a_redirect_to_javascript_as_broken_for_review(deployment, serve, tls_files):
    server = serve({"/js": redirect("javascript:alert(1)")}, tls=tls_files[0])
    _point_listing_at(deployment.db, "ru-evacuation", server.url("/js"))
    options = {LINK_CHECKER_TEST_OPTIONS: {**FAST, "allow_loopback_for_tests": True, "verify": tls_files[1]}}
    result = CliRunner().invoke(
        cli, ["check-links", "--country", "RU", "--db", str(deployment.db)], obj=options, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "1 broken" in result.stdout
    [line] = [line for line in result.stdout.splitlines() if line.startswith("ru-evacuation")]
    assert line.split()[1:5] == ["broken", "302", "yes", "javascript:alert(1)"]
    assert "[https-only]" in line
    store = Store(deployment.db)
    try:
        [latest, *_] = store.link_checks.of_listing("ru-evacuation")
        assert (latest.status, latest.needs_review, latest.final_url) == ("broken", True, "javascript:alert(1)")
    finally:
        store.close()
