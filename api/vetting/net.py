"""Where the link checker may connect: address vetting and connections pinned to vetted addresses.

Why a module of its own: this is the part of the link checker that decides *where a TCP
connection may go*, the one property that keeps a hostile listing (or a site it redirects to)
from making the checker reach an internal service: the cloud metadata endpoint, a database on
the private network, the API itself. ``api.vetting.links`` decides what to ask and what the
answers mean; this module can be read whole on its own.

What holds
----------

1. ``PinnedBackend.vet(host, port)`` resolves ``host`` once (``loop.getaddrinfo``, or the
   resolver the caller gives) and refuses it if ANY address is not public
   (``refused_address``: the IANA special-purpose ranges pinned in ``DENIED_NETWORKS``, IPv6
   outside global unicast, IPv4 embedded in IPv6). The vetted addresses are pinned for that
   exact (host, port).
2. ``PinnedBackend.connect_tcp``, the only way httpcore opens a socket, never resolves a name:
   it connects to the addresses pinned for (host, port) and refuses any other host
   (``NotVetted``). So resolving, vetting and then letting the HTTP library resolve *again*
   (DNS rebinding: first answer public, second answer ``127.0.0.1``) cannot happen: there is no
   second answer.
3. ``PinnedTransport`` is an ``httpx.AsyncBaseTransport`` (httpx's public transport API, "Custom
   transports") over an ``httpcore.AsyncConnectionPool`` that is given the pinned backend
   through its public ``network_backend`` argument (httpcore's "Custom network backends").
   TLS is unaffected: httpcore sends the URL's host as SNI and verifies the certificate against
   it, the ``Host`` header is the URL's, and connections are pooled per host name. Environment
   proxies are never read: a proxy would resolve names itself and void the pin.

Why not connect to ``https://<vetted address>/`` with the name in the ``sni_hostname`` request
extension: httpcore pools connections by origin (scheme, host, port of the URL), so two names
vetted to one address would share a connection whose certificate was checked for the first
name only.

Left as is: addresses are tried in resolver order, without Happy Eyeballs; deployments that must
go through an egress proxy are not supported; sites see the server's address.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator

import httpcore
import httpx

__all__ = [
    "DENIED_NETWORKS",
    "NotVetted",
    "PinnedBackend",
    "PinnedTransport",
    "Refused",
    "Resolver",
    "is_tls_error",
    "refused_address",
    "system_resolver",
]

#: Resolves (host, port) to addresses; tests map made-up names to 127.0.0.1 with their own.
Resolver = Callable[[str, int], Awaitable[list[str]]]


# --- Which addresses are refused ---------------------------------------------------------------

def _networks(*pairs: tuple[str, str]) -> tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...]:
    return tuple((ipaddress.ip_network(net), reason) for net, reason in pairs)


#: Addresses the checker never connects to, with why: the IANA IPv4 and IPv6 Special-Purpose
#: Address Registries and the IPv6 address-space registry, pinned here so that the verdict does
#: not depend on the tables of the running Python's ``ipaddress`` (3.11's still call fec0::/10
#: and 192.0.0.8 global). Looked up in order: the more specific range first.
DENIED_NETWORKS = _networks(
    ("0.0.0.0/32", "unspecified"),
    ("0.0.0.0/8", "'this network'"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignment"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "deprecated 6to4 relay anycast"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "broadcast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "deprecated IPv4-compatible"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("100:0:0:1::/64", "dummy prefix"),
    ("2001::/23", "IETF protocol assignment"),  # Teredo, benchmarking, ORCHID…
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing (SRv6)"),
    ("fc00::/7", "private"),  # unique local
    ("fe80::/10", "link-local"),
    ("fec0::/10", "deprecated site-local"),
    ("ff00::/8", "multicast"),
)
_LOOPBACK_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
#: IPv6 ranges that carry an IPv4 address and lead to it: judged by that address alone.
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIXTOFOUR = ipaddress.ip_network("2002::/16")
#: All of IPv6 that IANA has allocated for global unicast (the rest is reserved).
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")


def refused_address(address: str, *, allow_loopback: bool = False) -> str | None:
    """Why the checker must not connect to ``address`` (None when it is a public address).

    The pinned ranges (``DENIED_NETWORKS``) decide first, then ``ipaddress``'s own flags, in
    addition. An IPv4 address embedded in an IPv6 one (mapped, 6to4, NAT64 64:ff9b::/96,
    Teredo) is checked too, and the first three are judged by it: on a DNS64 network every
    IPv4-only site resolves to 64:ff9b::<its address>. ``allow_loopback`` (tests only) lets
    loopback addresses through and nothing else.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: list[ipaddress.IPv4Address] = []
        if ip in _MAPPED:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip in _SIXTOFOUR:
            embedded.append(ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF))
        if ip.teredo is not None:
            embedded.extend(ip.teredo)
        for inner in embedded:  # their reasons are the more telling ones
            reason = _refused(inner, allow_loopback)
            if reason is not None:
                return reason
        if ip in _MAPPED or ip in _NAT64 or ip in _SIXTOFOUR:
            return None
    return _refused(ip, allow_loopback)


def _refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool) -> str | None:
    if any(ip.version == net.version and ip in net for net in _LOOPBACK_NETWORKS):
        return None if allow_loopback else "loopback"
    for network, reason in DENIED_NETWORKS:
        if ip.version == network.version and ip in network:
            return reason
    if ip.version == 6 and ip not in _GLOBAL_UNICAST:
        return "reserved (outside IPv6 global unicast, 2000::/3)"
    for kind in ("unspecified", "link_local", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    if not ip.is_global:
        return "not globally routable"
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    """The system's answer for ``host`` (every address, in resolver order, without repeats)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class Refused(Exception):
    """The checker sends nothing to this host (or URL); ``review`` when a person should look
    (an internal address, a URL the policy refuses), not when a name merely does not resolve."""

    def __init__(self, detail: str, *, review: bool = True) -> None:
        super().__init__(detail)
        self.detail = detail
        self.review = review


# --- Pinned connections ------------------------------------------------------------------------

class NotVetted(httpcore.ConnectError):
    """A connection to a (host, port) whose addresses were not vetted."""


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to the addresses vetted for (host, port); never resolves a name itself.

    ``allow_loopback`` (tests only) lets loopback addresses through the address check.
    """

    def __init__(self, *, resolver: Resolver | None = None, resolve_timeout: float = 5.0, allow_loopback: bool = False) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._resolver = resolver or system_resolver
        self._resolve_timeout = resolve_timeout
        self._allow_loopback = allow_loopback
        self._pins: dict[tuple[str, int], tuple[str, ...]] = {}
        #: Every TCP connection attempted: (host, port, address). Read by tests.
        self.connections: list[tuple[str, int, str]] = []

    async def vet(self, host: str, port: int) -> tuple[str, ...]:
        """Resolve ``host``, refuse it unless every address is public, pin what was vetted.

        Raises ``Refused``: ``review=False`` when the name does not resolve.
        """
        try:
            addresses = [ipaddress.ip_address(host).compressed]
        except ValueError:
            try:
                async with asyncio.timeout(self._resolve_timeout):
                    addresses = await self._resolver(host, port)
            except (OSError, UnicodeError, TimeoutError) as exc:
                raise Refused(f"[dns] cannot resolve {host}: {exc or 'timed out'}", review=False) from None
            if not addresses:
                raise Refused(f"[dns] {host} has no address", review=False)
        for address in addresses:
            reason = refused_address(address, allow_loopback=self._allow_loopback)
            if reason is not None:
                raise Refused(
                    f"[address] {host} resolves to {address}, a {reason} address: the checker never connects to internal networks"
                )
        pinned = self._pins[(host.lower(), port)] = tuple(addresses)
        return pinned

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = self._pins.get((host.lower(), port))
        if not addresses:
            raise NotVetted(f"refusing to connect to {host}:{port}: its addresses were not vetted")
        error: Exception | None = None
        for address in addresses:
            self.connections.append((host, port, address))
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("the link checker does not use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose connections all go through a ``PinnedBackend``.

    The request is handed to an ``httpcore.AsyncConnectionPool`` as httpx's own transport
    does, with the URL's parts taken from ``httpx.URL`` (so the host that was vetted is the
    host httpcore asks the backend for). Only the ``timeout`` extension is passed on: the TLS
    name is always the URL's host.
    """

    def __init__(self, backend: PinnedBackend, *, verify: ssl.SSLContext | bool = True, limits: httpx.Limits | None = None) -> None:
        limits = limits or httpx.Limits()
        context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify, trust_env=False)
        self._connection_pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        assert isinstance(request.stream, httpx.AsyncByteStream)
        pending = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions={"timeout": request.extensions.get("timeout", {})},
        )
        with _as_httpx_error(request):
            response = await self._connection_pool.handle_async_request(pending)
        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream, request),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._connection_pool.aclose()


class _ResponseStream(httpx.AsyncByteStream):
    """httpcore's response body, with its errors told as httpx's."""

    def __init__(self, stream: AsyncIterable[bytes], request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_error(self._request):
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


def is_tls_error(exc: BaseException) -> bool:
    """Whether a failed request failed in TLS (a certificate problem: broken, not transient)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


#: httpcore's errors and httpx's public ones, the more specific first.
_HTTPX_ERRORS: tuple[tuple[type[Exception], type[httpx.RequestError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def _as_httpx_error(request: httpx.Request) -> Iterator[None]:
    """Re-raise an httpcore error as the matching httpx one, the original as its cause."""
    try:
        yield
    except Exception as exc:
        for core_error, httpx_error in _HTTPX_ERRORS:
            if isinstance(exc, core_error):
                raise httpx_error(str(exc), request=request) from exc
        raise
