"""The link checker: is each listing's ``url`` still there, and does it still lead where we vetted?

(About 500 lines, on purpose: one check is one state machine — request, retry, follow, judge —
and reads best whole; where connections may go lives apart, in ``api.vetting.net``.)

Readers of this directory may be at risk, so the checker is built to be *safe to point at
anything*: a listing, or a site it redirects to, must never be able to make it reach an internal
service (the cloud metadata endpoint, a database on the private network, the API itself).

How a URL is checked
--------------------

1. The URL passes the URL policy (``api.vetting.urls.check_url``).
2. Its host is resolved and refused if ANY address is not public (private, loopback,
   link-local, documentation, IPv4 embedded in IPv6…: ``api.vetting.net.refused_address``).
3. The vetted addresses are *pinned* for that host and port (see "Where connections go"), and the
   request goes out: ``HEAD`` first; ``GET`` (streamed, reading at most ``max_body_bytes``) when
   HEAD answers 4xx or 501 or the server mishandles HEAD, because many servers do and a false
   "broken" is shown to the public.
4. Redirects are followed by hand, at most ``max_redirects`` hops. Every hop is re-checked
   against the URL policy (told the start URL's domain, so a look-alike of it is named as such)
   and re-resolved and re-vetted (2.) before anything is sent to it. A
   redirect to another registrable domain (public-suffix aware: ``a.example.org`` and
   ``www.example.org`` are one site, ``foo.github.io`` and ``bar.github.io`` are not) is not
   followed: the result is ``redirected`` with ``needs_review`` and the target, and the other
   site receives nothing. A hop refused by the policy or by the address check is likewise
   ``redirected`` + ``needs_review``, with the rule that refused it in ``detail``. A redirect
   to something that is not a web address at all (``javascript:``, ``data:``, ``file:``, an
   unparsable ``Location``) is ``broken`` + ``needs_review``, with the ``Location`` as sent:
   browsers follow redirects to http(s) only, so the link works for no reader, and a site that
   sends one may be hostile. Redirects are never handled by httpx (requests go straight to
   the pinned transport), and no cookies are kept between requests.
5. Transient failures (connection errors, timeouts, 429, 500, 502, 503, 504) are retried at
   most ``max_retries`` times with exponential backoff, honouring ``Retry-After`` up to
   ``retry_after_cap`` seconds. (500 is treated as transient too: a server error is often
   momentary, and one more polite request is cheaper than a false "broken".)

Results: ``ok`` (2xx, possibly after same-site redirects; ``final_url`` says where it ended),
``redirected`` (see 4.), ``broken`` (4xx, 5xx after retries, a TLS certificate problem, too many
redirects or a loop, a redirect without ``Location`` or to a non-web address), ``unreachable`` (no answer: DNS failure,
refused connection, timeout, 429 after retries, or a starting URL the policy refuses).

Politeness
----------

At most ``concurrency`` requests in flight overall (a semaphore), at most one per host (host and
port), and at least ``per_host_delay`` seconds between the end of one request to a host and the
start of the next; a ``Retry-After`` pushes the host's next turn back. A URL waiting for its
host's turn does not hold one of the global slots. The User-Agent names the checker and its
version honestly; it never pretends to be a browser.

Timeouts
--------

connect 5 s, read 10 s per request; ``total_timeout`` (45 s) bounds all the network time spent on one
URL (every attempt, retry wait and redirect hop), counted from its first request, so time spent
queueing politely behind other URLs of the same host does not count against it.

Where connections go
--------------------

Every connection goes through ``api.vetting.net``: a hop's host is resolved once, refused if any
address is internal, and the vetted addresses are pinned; the transport connects only to pinned
addresses and never resolves a name again (no DNS rebinding window). Redirects are never handled
by httpx: requests go straight to that transport.

Test-only loopback
------------------

``LinkChecker(allow_loopback_for_tests=True)`` lets loopback addresses through the address check
and plain ``http`` on loopback hosts through the policy, so tests can use local servers on
127.0.0.1. Production code never sets it; the CLI exposes it through no option and no
environment variable (only an in-process ``click`` context object, see ``api.cli``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import functools
import ipaddress
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import httpx

from api import __version__
from api.clock import Clock, SystemClock
from api.vetting.net import NotVetted, PinnedBackend, PinnedTransport, Refused, Resolver, is_tls_error
from api.vetting.domains import registrable_domain
from api.vetting.urls import check_url

__all__ = [
    "PROJECT_DESCRIPTION",
    "REDIRECT_CODES",
    "TRANSIENT_CODES",
    "USER_AGENT",
    "LinkChecker",
    "LinkResult",
    "Status",
]

#: What a check found (see the module docstring).
Status = Literal["ok", "redirected", "broken", "unreachable"]

#: The checker's honest self-description (no fake browser string). There is no public project
#: address to link to yet; add one as ``(+https://...)`` here when there is.
PROJECT_DESCRIPTION = "link checker of the Action Directory, a directory of vetted help links; one request per site at a time"
USER_AGENT = f"ActionDirectoryLinkChecker/{__version__} ({PROJECT_DESCRIPTION})"

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
TRANSIENT_CODES = frozenset({429, 500, 502, 503, 504})
#: HEAD answers that are confirmed with a GET (servers often mishandle HEAD).
_HEAD_DOUBTFUL = frozenset(range(400, 500)) - {429} | {501}


# --- Sites -------------------------------------------------------------------------------------

def _site(host: str) -> str:
    """The site ``host`` belongs to, for the same-site redirect rule: its registrable domain
    (``api.vetting.domains.registrable_domain``: ``www.example.org`` and ``a.example.org`` are one
    site, ``foo.github.io`` and ``bar.github.io`` are not).

    Hosts without one pass the URL policy only in tests (loopback and ``.test`` names, IP
    literals): an IP address is its own site, and a name under no listed suffix takes its last
    two labels, as the list's default rule "*" would."""
    domain = registrable_domain(host)
    if domain is not None:
        return domain
    host = host.lower().rstrip(".")
    try:
        return ipaddress.ip_address(host.strip("[]")).compressed
    except ValueError:
        return ".".join(host.split(".")[-2:])


# --- Results -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LinkResult:
    """The outcome of checking one URL."""

    url: str
    status: Status
    http_status: int | None
    final_url: str | None
    """Where it ended: the page that answered, the redirect target not followed, or the URL
    that failed."""
    checked_at: dt.datetime
    needs_review: bool = False
    detail: str = ""
    redirects: tuple[str, ...] = ()
    """The hops followed, in order."""


@dataclass(slots=True)
class _Answer:
    """One request's outcome (after retries)."""

    status: int | None = None
    location: str | None = None
    retry_after: float | None = None
    error: str | None = None
    transient: bool = False
    head_refused: bool = False
    tls: bool = False
    refused: bool = False


@dataclass(slots=True)
class _Budget:
    """The network time left for one URL, counted from its first request."""

    total: float
    deadline: float | None = None

    def start(self) -> None:
        if self.deadline is None:
            self.deadline = time.monotonic() + self.total

    def remaining(self) -> float:
        return self.total if self.deadline is None else self.deadline - time.monotonic()


@dataclass(slots=True)
class _HostGate:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    not_before: float = 0.0


def _retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait: ``Retry-After`` as seconds, or as an HTTP-date counted from ``now``
    (the checker's clock, as every other time it keeps)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


# --- The checker -------------------------------------------------------------------------------

class LinkChecker:
    """Check URLs politely and safely; use as ``async with LinkChecker() as checker``.

    Every argument has a production default; tests shorten the delays and timeouts.
    ``allow_loopback_for_tests`` must never be set outside tests (see the module docstring).
    ``resolver`` replaces ``loop.getaddrinfo`` (tests map made-up names to addresses with it);
    whatever it returns is vetted exactly like the system resolver's answer. ``clock`` stamps
    ``checked_at`` (the app's clock, so a run and the ``--stale-days`` cut-off agree).
    """

    def __init__(
        self,
        *,
        concurrency: int = 8,
        per_host_delay: float = 1.0,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        total_timeout: float = 45.0,
        max_redirects: int = 5,
        max_retries: int = 2,
        backoff: float = 1.0,
        retry_after_cap: float = 30.0,
        max_body_bytes: int = 4096,
        user_agent: str = USER_AGENT,
        verify: ssl.SSLContext | bool = True,
        resolver: Resolver | None = None,
        allow_loopback_for_tests: bool = False,
        clock: Clock | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.per_host_delay = per_host_delay
        self.total_timeout = total_timeout
        self.connect_timeout = connect_timeout
        self.max_redirects = max_redirects
        self.max_retries = max_retries
        self.backoff = backoff
        self.retry_after_cap = retry_after_cap
        self.max_body_bytes = max_body_bytes
        self.user_agent = user_agent
        self._allow_loopback = allow_loopback_for_tests
        self._clock = clock or SystemClock()
        self._backend = PinnedBackend(resolver=resolver, resolve_timeout=connect_timeout, allow_loopback=allow_loopback_for_tests)
        self._timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=None)
        self._verify = verify
        self._client: httpx.AsyncClient | None = None
        self._transport: PinnedTransport | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._gates: dict[str, _HostGate] = {}

    @property
    def connections(self) -> list[tuple[str, int, str]]:
        """Every TCP connection attempted so far: (host, port, address)."""
        return self._backend.connections

    async def __aenter__(self) -> LinkChecker:
        limits = httpx.Limits(max_connections=self.concurrency * 2, max_keepalive_connections=self.concurrency)
        self._transport = PinnedTransport(self._backend, verify=self._verify, limits=limits)
        self._client = httpx.AsyncClient(
            transport=self._transport,
            headers={"User-Agent": self.user_agent},
            timeout=self._timeout,
            follow_redirects=False,
            trust_env=False,
        )
        self._semaphore = asyncio.Semaphore(self.concurrency)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._client is not None:
            await self._client.aclose()  # closes the transport too
            self._client = None
            self._transport = None

    # --- public -------------------------------------------------------------------------------

    async def check_many(
        self,
        items: Iterable[tuple[str, str]],
        on_result: Callable[[str, LinkResult], None] | None = None,
    ) -> dict[str, LinkResult]:
        """Check ``(key, url)`` pairs concurrently; ``on_result`` is called as each finishes."""
        results: dict[str, LinkResult] = {}

        async def one(key: str, url: str) -> None:
            try:
                result = await self.check(url)
            except Exception as exc:  # noqa: BLE001 - a bug on one URL must not stop the run
                result = self._result(url, "unreachable", None, url, detail=f"checker error: {type(exc).__name__}: {exc}")
            results[key] = result
            if on_result is not None:
                on_result(key, result)

        async with asyncio.TaskGroup() as group:
            for key, url in items:
                group.create_task(one(key, url))
        return results

    async def check(self, url: str) -> LinkResult:
        """Check one URL; never raises for anything the network or the site does."""
        if self._client is None:
            raise RuntimeError("use `async with LinkChecker(...) as checker`")
        budget = _Budget(self.total_timeout)
        try:
            start = httpx.URL(url)
        except httpx.InvalidURL as exc:
            return self._result(url, "broken", None, url, detail=f"[syntax] not a valid URL: {exc}")
        origin = _site(start.host)
        try:
            await self._vet(url)
        except Refused as refusal:
            return self._result(url, "unreachable", None, url, needs_review=refusal.review, detail=refusal.detail)
        current, hops, seen = url, [], {url, str(start)}
        done = functools.partial(self._result, url, hops=hops)
        while True:
            answer = await self._fetch(current, budget)
            code = answer.status
            if answer.refused:
                return done("unreachable", None, current, needs_review=True, detail=answer.error or "")
            if code is None:
                return done("broken" if answer.tls else "unreachable", None, current, detail=answer.error or "")
            if code in REDIRECT_CODES:
                if not answer.location:
                    return done("broken", code, current, detail=f"{code} redirect without a Location header")
                try:
                    target = str(httpx.URL(current).join(answer.location))
                except (httpx.InvalidURL, ValueError) as exc:
                    detail = f"{code} redirect to an invalid URL, which no browser follows: {exc}"
                    return done("broken", code, answer.location, needs_review=True, detail=detail)
                scheme = httpx.URL(target).scheme
                if scheme not in {"http", "https"}:
                    # Browsers follow redirects to http(s) only (a javascript:, data: or file:
                    # target is a network error), so the link is broken for every reader; and a
                    # site that sends one may be hostile, so a person must look.
                    detail = (
                        f"{code} redirect to a {scheme or 'scheme-less'} URL, which no browser follows; "
                        "refused by the URL policy: " + "; ".join(self._policy_problems(target))
                    )
                    return done("broken", code, answer.location, needs_review=True, detail=detail)
                if target in seen:
                    return done("broken", code, target, detail=f"too many redirects: a redirect loop back to {target}")
                if len(hops) >= self.max_redirects:
                    return done("broken", code, target, detail=f"too many redirects (more than {self.max_redirects})")
                problems = self._policy_problems(target, known_domains=(origin,))
                if problems:
                    detail = "redirect refused by the URL policy: " + "; ".join(problems)
                    return done("redirected", code, target, needs_review=True, detail=detail)
                target_domain = _site(httpx.URL(target).host)
                if target_domain != origin:
                    detail = f"redirects to another site ({target_domain}, not {origin}); not followed"
                    return done("redirected", code, target, needs_review=True, detail=detail)
                try:
                    await self._vet(target, check_policy=False)
                except Refused as refusal:
                    if not refusal.review:  # the same site's redirect target does not resolve
                        return done("unreachable", code, target, detail=refusal.detail)
                    return done("redirected", code, target, needs_review=True, detail=f"redirect refused: {refusal.detail}")
                hops.append(target)
                seen.add(target)
                current = target
                continue
            if 200 <= code < 300:
                return done("ok", code, current, detail=f"after {len(hops)} redirect(s)" if hops else "")
            extra = f" ({answer.error})" if answer.error else ""
            if code == 429:
                return done("unreachable", code, current, detail=f"429 Too Many Requests after retries{extra}")
            return done("broken", code, current, detail=f"HTTP {code}{extra}")

    # --- vetting ------------------------------------------------------------------------------

    def _policy_problems(self, url: str, *, known_domains: Iterable[str] = ()) -> list[str]:
        """The URL policy's verdict; ``known_domains`` (the start URL's domain, for redirect
        hops) lets it name a look-alike of the site being checked as such."""
        allow_ports: frozenset[int] = frozenset({443})
        if self._allow_loopback:
            try:
                parsed = httpx.URL(url)
            except httpx.InvalidURL:
                parsed = None
            if parsed is not None and parsed.port is not None:  # local test servers use any port
                allow_ports = frozenset({443, parsed.port})
        problems = check_url(
            "url", url, known_domains=frozenset(known_domains), allow_ports=allow_ports, allow_loopback=self._allow_loopback
        )
        return [message for _field, message in problems]

    async def _vet(self, url: str, *, check_policy: bool = True) -> None:
        """Check ``url`` against the policy, resolve its host, vet and pin every address."""
        if check_policy:
            problems = self._policy_problems(url)
            if problems:
                raise Refused("refused by the URL policy: " + "; ".join(problems))
        parsed = httpx.URL(url)
        if parsed.scheme not in {"http", "https"}:
            raise Refused(f"[scheme] {parsed.scheme or 'no'} scheme is not checked")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        await self._backend.vet(parsed.raw_host.decode("ascii"), port)

    # --- requests -----------------------------------------------------------------------------

    async def _fetch(self, url: str, budget: _Budget) -> _Answer:
        answer = await self._with_retries("HEAD", url, budget)
        if answer.head_refused or answer.status in _HEAD_DOUBTFUL:
            answer = await self._with_retries("GET", url, budget)
        return answer

    async def _with_retries(self, method: str, url: str, budget: _Budget) -> _Answer:
        attempt = 0
        while True:
            answer = await self._send(method, url, budget)
            if not answer.transient or attempt >= self.max_retries:
                return answer
            wait = self.backoff * 2**attempt
            if answer.retry_after is not None:
                wait = max(wait, min(answer.retry_after, self.retry_after_cap))
            if budget.remaining() <= wait:
                answer.error = (answer.error + "; " if answer.error else "") + "no time left to retry"
                return answer
            await asyncio.sleep(wait)
            attempt += 1

    def _gate(self, url: str) -> _HostGate:
        parsed = httpx.URL(url)
        key = f"{parsed.host.lower()}:{parsed.port or (443 if parsed.scheme == 'https' else 80)}"
        return self._gates.setdefault(key, _HostGate())

    async def _send(self, method: str, url: str, budget: _Budget) -> _Answer:
        assert self._client is not None and self._semaphore is not None
        gate = self._gate(url)
        async with gate.lock:
            wait = gate.not_before - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            async with self._semaphore:
                budget.start()
                remaining = budget.remaining()
                if remaining <= 0:
                    return _Answer(error=f"gave up: more than {self.total_timeout:g} s spent on this URL")
                try:
                    async with asyncio.timeout(remaining):
                        answer = await self._request(method, url)
                except TimeoutError:
                    answer = _Answer(error=f"timed out (more than {self.total_timeout:g} s spent on this URL)")
                finally:
                    gate.not_before = time.monotonic() + self.per_host_delay
            if answer.retry_after is not None:
                gate.not_before = max(gate.not_before, time.monotonic() + min(answer.retry_after, self.retry_after_cap))
        return answer

    async def _request(self, method: str, url: str) -> _Answer:
        """One request, straight to the pinned transport.

        Not through ``AsyncClient.send``: the checker follows redirects by hand, and httpx's own
        redirect handling parses every ``Location`` (even with ``follow_redirects=False``) and
        raises on one like ``javascript:alert(1)``, losing the answer. No cookie jar either: one
        hop's cookies are never sent to the next.
        """
        assert self._client is not None and self._transport is not None
        request = self._client.build_request(method, url)
        try:
            response = await self._transport.handle_async_request(request)
            try:
                if method == "GET":
                    received = 0
                    async for chunk in response.aiter_raw():
                        received += len(chunk)
                        if received >= self.max_body_bytes:
                            break
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            return _Answer(error=f"timed out ({type(exc).__name__})", transient=True)
        except httpx.ConnectError as exc:
            if isinstance(exc.__cause__, NotVetted):
                return _Answer(error=f"[address] {exc}", refused=True)
            if is_tls_error(exc):
                return _Answer(error=f"TLS error: {exc}", tls=True)
            return _Answer(error=f"connection failed: {exc or type(exc).__name__}", transient=True)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            # A server that drops a HEAD is refusing HEAD: ask with GET instead of retrying.
            return _Answer(error=f"{type(exc).__name__}: {exc}", transient=method != "HEAD", head_refused=method == "HEAD")
        except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.DecodingError, httpx.TooManyRedirects) as exc:
            return _Answer(error=f"{type(exc).__name__}: {exc}")
        code = response.status_code
        return _Answer(
            status=code,
            location=response.headers.get("location"),
            retry_after=_retry_after(response.headers.get("retry-after"), self._clock.now()) if code in TRANSIENT_CODES else None,
            transient=code in TRANSIENT_CODES,
        )

    def _result(
        self, url: str, status: Status, http_status: int | None, final_url: str | None, *,
        needs_review: bool = False, detail: str = "", hops: list[str] | None = None,
    ) -> LinkResult:
        checked_at = self._clock.now().replace(microsecond=0)
        return LinkResult(
            url=url, status=status, http_status=http_status, final_url=final_url, checked_at=checked_at,
            needs_review=needs_review, detail=detail, redirects=tuple(hops or ()),
        )

