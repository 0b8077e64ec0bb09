"""Where ``actiondir serve`` listens: a host name resolved to an address this machine can
bind, refused when something already listens there.

Why a module of its own: it is socket work the CLI only calls, and its messages say what to do
next; it raises ``CannotListen`` and the CLI prints it.
"""

from __future__ import annotations

import errno
import socket

__all__ = ["CannotListen", "host_port", "listen_address"]


class CannotListen(Exception):
    """The server cannot listen there; the message says why and what to do."""


def host_port(host: str, port: int) -> str:
    """``host:port`` as a URL writes it: an IPv6 address in brackets (``[::1]:8000``)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def listen_address(host: str, port: int) -> str:
    """The numeric address to serve on: ``host`` resolved, and refused if something listens there.

    granian takes an IP address only (a name such as ``localhost`` fails in every worker with a
    traceback), so a name is resolved here, to the first of its addresses this machine can bind.

    granian binds with SO_REUSEPORT, so a second `actiondir serve` on the same port would
    start and silently take half the connections (possibly on another database). A bind
    without SO_REUSEPORT fails when anything listens there (SO_REUSEADDR only lets it past
    connections of a server that just stopped, in TIME_WAIT).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CannotListen(
            f"cannot listen on {host_port(host, port)}: {reason} (pass --host an IP address or a name this machine resolves)"
        ) from None
    failure: OSError | None = None
    for family, kind, proto, _, address in infos:
        numeric = str(address[0])
        where = host_port(host, port) + ("" if numeric == host else f" ({numeric})")
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise CannotListen(
                        f"cannot listen on {where}: {exc.strerror}. Is another `actiondir serve` running? "
                        "Stop it, or pass --port with a free port."
                    ) from None
                failure = failure or exc
                continue
            return numeric
    reason = failure.strerror if failure is not None else "no address to bind"
    raise CannotListen(f"cannot listen on {host_port(host, port)}: {reason}")
