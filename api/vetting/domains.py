"""Host names: what a name is, before any rule about what it may be.

Why a module of its own: the URL policy (``api.vetting.urls``), its look-alike rules
(``api.vetting.lookalikes``), e-mail domains (``api.vetting.contacts``) and the link checker's
same-site rule all need the same answers about a host name, computed one way: its IDNA 2008
form (the ``idna`` package; Python's IDNA 2003 codec only if it is missing), whether it is
written as an IP address (WHATWG's reading: ``127.1``, ``0x7f.1``), whether it falls under a
special-use name, and its registrable domain under the public suffix list snapshot that ships
with tldextract (never fetched). Pure functions, no I/O.

``Refused`` carries one rule of ``api.vetting.urls.URL_RULES``; the policy turns it into a
``(field, "[rule] message")`` problem.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
import unicodedata
from collections.abc import Iterable

import tldextract

try:  # IDNA 2008 when available (it is a dependency of httpx, so it normally is)
    import idna as _idna
except ImportError:  # pragma: no cover - exercised only without the package
    _idna = None

__all__ = [
    "LOOPBACK_NAMES",
    "MAX_HOST_LENGTH",
    "MAX_LABEL_LENGTH",
    "PUBLIC_SUFFIX_LIST",
    "RESERVED_NAMES",
    "TEST_NAMES",
    "Refused",
    "describe_character",
    "host_to_ascii",
    "is_loopback_literal",
    "label_to_unicode",
    "listed_suffix",
    "numeric_host",
    "registrable_domain",
]

MAX_HOST_LENGTH = 253
MAX_LABEL_LENGTH = 63

#: Special-use and private names (RFC 6761, 6762, 7686, 8375, 9476; ICANN's .internal; common
#: private-network suffixes), plus public wildcard DNS services that answer with any address
#: written into the name (``10.0.0.1.nip.io``) and so reach private networks.
RESERVED_NAMES: frozenset[str] = frozenset(
    {
        "alt", "arpa", "corp", "example", "home", "home.arpa", "internal", "intranet", "invalid",
        "lan", "local", "localdomain", "localhost", "onion", "private", "test",
        "localtest.me", "lvh.me", "nip.io", "sslip.io", "traefik.me", "vcap.me", "xip.io",
    }
)
#: The names ``allow_loopback`` (tests only) lets through: loopback, and RFC 6761's ``.test``.
LOOPBACK_NAMES = frozenset({"localhost"})
TEST_NAMES = frozenset({"test"})

#: The public suffix list as shipped inside tldextract: ``suffix_list_urls=()`` means it is
#: never fetched, ``cache_dir=None`` that nothing is read from or written to disk. Private
#: suffixes count (``foo.github.io`` and ``bar.github.io`` are different sites). Loaded now, at
#: import, so no request ever pays for it.
PUBLIC_SUFFIX_LIST = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)
PUBLIC_SUFFIX_LIST("example.org")

_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")


class Refused(Exception):
    """A host or URL breaks ``rule`` (a name in ``api.vetting.urls.URL_RULES``)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"[{rule}] {message}")
        self.rule = rule


def describe_character(ch: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: a character named for a message."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'control character' if unicodedata.category(ch) == 'Cc' else 'unnamed character')}"


# --- host names ----------------------------------------------------------------------------------

def _label_to_ascii(label: str) -> str:
    """One lower-case label to its ASCII form, validated (IDNA 2008); raises Refused."""
    if label.isascii():
        if len(label) > MAX_LABEL_LENGTH:
            raise Refused("host-length", f"label {label[:20]!r}… is {len(label)} characters long (at most {MAX_LABEL_LENGTH})")
        if label.startswith("xn--"):
            try:
                unicode = label_to_unicode(label)
                if _ulabel_to_ascii(unicode) != label:
                    raise ValueError("not the canonical punycode of its label")
            except (ValueError, UnicodeError) as exc:
                raise Refused("idna", f"label {label!r} is not valid punycode: {exc}") from None
            return label
        if not _LDH_LABEL.fullmatch(label):
            bad = next((ch for ch in label if not (ch.isalnum() or ch == "-")), None)
            why = f"{bad!r} is not allowed in a host name" if bad else "a label cannot start or end with '-'"
            raise Refused("idna", f"label {label!r} is not a valid host name label: {why}")
        if label[2:4] == "--":
            raise Refused("idna", f"label {label!r} has '--' in 3rd and 4th position, reserved for punycode")
        return label
    try:
        ascii_label = _ulabel_to_ascii(label)
    except (ValueError, UnicodeError) as exc:
        if "too long" in str(exc).lower():
            raise Refused("host-length", f"label {label!r} is too long in punycode (at most {MAX_LABEL_LENGTH})") from None
        raise Refused("idna", f"label {label!r} is not a valid internationalized domain label: {exc}") from None
    if len(ascii_label) > MAX_LABEL_LENGTH:
        raise Refused("host-length", f"label {label!r} is {len(ascii_label)} characters in punycode (at most {MAX_LABEL_LENGTH})")
    return ascii_label


def _ulabel_to_ascii(label: str) -> str:
    if _idna is not None:
        return _idna.alabel(label).decode("ascii")
    return label.encode("idna").decode("ascii")  # pragma: no cover - IDNA 2003 fallback


def label_to_unicode(label: str) -> str:
    """A punycode (``xn--``) label in Unicode, as a reader sees it; any other label as is."""
    if not label.startswith("xn--"):
        return label
    if _idna is not None:
        return _idna.ulabel(label)
    return label.encode("ascii").decode("idna")  # pragma: no cover - IDNA 2003 fallback


def host_to_ascii(host: str) -> str:
    """A lower-case host name in its ASCII (punycode) form, every label validated; raises ``Refused``."""
    labels = host.split(".")
    if any(not label for label in labels):
        raise Refused("malformed", f"host {host!r} has an empty label")
    ascii_host = ".".join(_label_to_ascii(label) for label in labels)
    if len(ascii_host) > MAX_HOST_LENGTH:
        raise Refused("host-length", f"host is {len(ascii_host)} characters long in punycode (at most {MAX_HOST_LENGTH})")
    return ascii_host


def numeric_host(host: str) -> str | None:
    """The address a host that ends in a number denotes (WHATWG: it is parsed as IPv4).

    Full-width digits and ideographic full stops are mapped first, as a browser would.
    Returns a description, or None if the host is a name.
    """
    probe = unicodedata.normalize("NFKC", host).replace("\u3002", ".").lower()
    labels = probe.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    if not _NUMERIC_LABEL.fullmatch(labels[-1]):
        return None
    dotted = ".".join(labels)
    try:
        address = ipaddress.IPv4Address(socket.inet_aton(dotted))  # pure: parses, resolves nothing
    except (OSError, ValueError):
        return "not a valid address either"
    return f"= {address}, {_address_kind(address)}"


def _address_kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    for kind in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return "public" if address.is_global else "not global"


def is_loopback_literal(host: str) -> bool:
    """Whether ``host`` is a loopback address in its canonical spelling (``127.0.0.1``, ``[::1]``)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    canonical = str(address) if address.version == 4 else f"[{address.compressed}]"
    return address.is_loopback and host.lower() in {canonical, f"[{address.exploded}]"}


def listed_suffix(host: str, names: Iterable[str]) -> str | None:
    """The longest of ``names`` that ``host`` is, or is under (``a.b.nip.io`` -> ``nip.io``)."""
    labels = host.split(".")
    suffixes = {".".join(labels[i:]) for i in range(len(labels))}
    found = sorted(suffixes.intersection(names), key=len)
    return found[-1] if found else None


def registrable_domain(host: str) -> str | None:
    """The registrable domain (punycode, lower case) of a host name, or None.

    The one public-suffix lookup of the project (the link checker's same-site rule uses it
    too): ``WWW.Example.org.`` -> ``example.org``, ``foo.github.io`` stays whole. None for an
    IP address, a name under no listed suffix (``site-a.test``, ``localhost``), a public suffix
    itself, or a name that is not a valid IDNA host.
    """
    return _registrable(host.lower().rstrip("."))


@functools.lru_cache(maxsize=8192)
def _registrable(host: str) -> str | None:
    try:
        ascii_host = host_to_ascii(host)
    except Refused:
        return None
    return PUBLIC_SUFFIX_LIST(ascii_host).top_domain_under_public_suffix or None

