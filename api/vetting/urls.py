"""The URL policy: may this link be shown to readers who may be at risk?

Pure functions, no I/O: the public suffix list is the snapshot that ships with tldextract
(never fetched), the confusables are the Unicode data that ships with confusable-homoglyphs.

``check_url(field, url)`` returns at most one ``(field, message)`` problem: the first rule the
URL breaks, in the order below, so a curator fixes one clear thing at a time. Each message
starts with the rule's name in brackets (``[https-only] ...``); ``URL_RULES`` lists them.

Decisions worth knowing
-----------------------

- Hosts must be written in lower case (``host-case``): browsers lower-case them, but a reader
  sees them as written, and ``paypaI.com`` with a capital I reads as ``paypal.com``. When such a
  host also looks like a known domain, the skeleton is taken from the spelling as written and
  the look-alike is named (``confusable-domain``). ``normalize_url`` gives the canonical form
  used for comparisons (lower-case scheme and host, punycode, no default port, ``/`` for an
  empty path).
- IDN hosts are allowed (``https://bücher.de/`` and ``https://xn--bcher-kva.de/`` are the same
  host); they are validated with IDNA 2008 (the ``idna`` package; Python's IDNA 2003 codec only
  if it is missing). IDNA 2008 refuses what UTS 46 would silently map (upper case, full-width
  letters, symbols, emoji), so a host must already be written in its proper form.
- The shortener and redirector lists are reviewed data files shipped in the package
  (``api/vetting/data/*.txt``, each entry with why it is there), read once at import.
- Look-alikes: a label may not mix scripts (except the CJK combinations of UTS 39's "highly
  restrictive" profile, e.g. Han + Hiragana + Katakana); a label outside the public suffix that
  is not plain ASCII may not have an all-ASCII UTS 39 skeleton (``аррӏе`` in Cyrillic looks
  exactly like ``apple``); and a domain whose skeleton equals that of a known domain
  (``known_domains``: the other listings', and the listing's own other and earlier addresses)
  but is a different domain is refused, which also catches all-Latin look-alikes such as
  ``arnnesty.org`` for ``amnesty.org`` or ``g0od.org`` for ``good.org``.
- A trailing dot (``https://www.amnesty.org./``) is refused: it names the same host, but many
  servers answer it with a certificate or virtual-host error, and it is a second spelling that
  would slip past host comparisons. Remove the dot.
- ``example.com``/``.net``/``.org`` are real registrable domains and are accepted (the test
  data uses them); the special-use top-level names (``.test``, ``.example``, ``.invalid``,
  ``.localhost``, ``.local``, ``.internal``, ``.onion``, ``.arpa``…) are refused.
- Fragments are allowed; tracking parameters are refused in the query, and in a fragment that
  carries ``name=value`` pairs. Query strings are otherwise free.
- ``allow_loopback=True`` is a switch for tests (the link checker's local servers): it lets
  through loopback hosts (``localhost``, ``*.localhost``, ``127.x.y.z``, ``[::1]``, also over
  plain http) and names under the RFC 6761 testing domain ``.test``. Production never sets it.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
import unicodedata
from collections.abc import Iterable
from importlib import resources
from urllib.parse import unquote, unquote_plus, urlsplit

import tldextract
from confusable_homoglyphs import categories as _scripts
from confusable_homoglyphs import confusables as _confusables

from api.vetting.text import is_invisible

try:  # IDNA 2008 when available (it is a dependency of httpx, so it normally is)
    import idna as _idna
except ImportError:  # pragma: no cover - exercised only without the package
    _idna = None

__all__ = [
    "MAX_HOST_LENGTH",
    "MAX_LABEL_LENGTH",
    "MAX_URL_LENGTH",
    "REDIRECTOR_HOSTS",
    "REDIRECTOR_PATHS",
    "RESERVED_NAMES",
    "SHORTENERS",
    "TRACKING_PARAMETERS",
    "TRACKING_PREFIXES",
    "URL_RULES",
    "check_host",
    "check_url",
    "normalize_url",
    "registrable_domain",
    "registrable_domain_of",
    "skeleton",
]

FieldProblem = tuple[str, str]

MAX_URL_LENGTH = 2048
MAX_HOST_LENGTH = 253
MAX_LABEL_LENGTH = 63

#: Every rule, in the order they are applied, with what it protects against.
URL_RULES: dict[str, str] = {
    "url-length": f"at most {MAX_URL_LENGTH} characters",
    "control-char": "no control characters (literal, or percent-encoded %00-%1F, %7F)",
    "whitespace": "no white space anywhere",
    "bidi-control": "no bidirectional controls (they reorder how the URL is displayed)",
    "invisible-char": "no invisible format characters (zero-width, soft hyphen, tags…)",
    "unsafe-char": "none of \" ' < > ` { } | ^ (they end HTML attributes or open templates): percent-encode them",
    "backslash": "no backslashes (browsers read them as '/', other parsers do not)",
    "https-only": "starts with https:// (lower case)",
    "userinfo": "no user name or password before the host",
    "malformed": "a URL every parser reads the same way: valid port, percent-encoding, labels",
    "port": "no port: https's default (443) is left out, and no other is allowed",
    "percent-encoded-host": "no percent-encoding in the host",
    "ip-literal": "a domain name, not an IP address in any spelling (127.1, 0x7f.1, 2130706433, [::1])",
    "host-case": "the host written in lower case (a capital I reads as a small l: paypaI.com)",
    "trailing-dot": "no trailing dot after the host",
    "host-length": f"host at most {MAX_HOST_LENGTH} characters, each label at most {MAX_LABEL_LENGTH} (in punycode)",
    "idna": "a valid (internationalized) domain name under IDNA 2008",
    "reserved-host": "not a private, loopback or special-use name (localhost, *.local, *.internal, .test…)",
    "confusable-domain": "does not look like a different domain already in the directory",
    "embedded-domain": "does not wear a directory domain as its leading labels (ovdinfo.org.example.com)",
    "mixed-script": "no label mixing writing systems",
    "confusable": "no label made of look-alike characters of another script",
    "registrable-domain": "a domain registered under a public suffix (public suffix list snapshot)",
    "shortener": "no URL shorteners: link to the destination itself",
    "redirector": "no redirect or link-wrapping services: link to the destination itself",
    "tracking-param": "no tracking parameters (utm_*, fbclid, gclid, mc_eid…)",
}

def _data_file(name: str) -> list[str]:
    """The entries of a reviewed list in ``api/vetting/data/`` (shipped inside the package):
    one per line, ``#`` starts a comment, blank lines separate groups."""
    text = resources.files("api.vetting").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return [entry for line in text.splitlines() if (entry := line.partition("#")[0].strip())]


def _host_list(name: str) -> frozenset[str]:
    hosts = _data_file(name)
    bad = [host for host in hosts if host != host.lower() or not re.fullmatch(r"[a-z0-9.-]+", host)]
    if bad:  # a broken data file must stop the service at start-up, never weaken the policy
        raise ValueError(f"api/vetting/data/{name}: not lower-case host names: {bad}")
    return frozenset(hosts)


#: Link shorteners (``data/shorteners.txt``): a host equal to, or under, one of these is refused.
SHORTENERS: frozenset[str] = _host_list("shorteners.txt")

#: Hosts whose whole purpose is to bounce a reader to another address (``data/redirectors.txt``:
#: link wrappers, "leaving this site" pages, mail-scanner rewrites, proxies, link-in-bio pages).
REDIRECTOR_HOSTS: frozenset[str] = _host_list("redirectors.txt")

#: Redirect endpoints on otherwise ordinary sites (``data/redirector_paths.txt``): (registrable
#: domain, or ``google.*`` for every Google country domain; regex the whole path must match).
REDIRECTOR_PATHS: tuple[tuple[str, str], ...] = tuple(
    (site, pattern) for site, _, pattern in (line.partition(" ") for line in _data_file("redirector_paths.txt"))
)

#: Query (or fragment) parameters that only track the reader.
TRACKING_PARAMETERS: frozenset[str] = frozenset(
    {
        "_ga", "_gl", "_hsenc", "_hsmi", "__hsfp", "__hssc", "__hstc", "dclid", "epik", "fbclid",
        "gbraid", "gclid", "gclsrc", "hsctatracking", "igsh", "igshid", "irclickid", "li_fat_id",
        "mc_cid", "mc_eid", "mkt_tok", "msclkid", "oly_anon_id", "oly_enc_id", "rb_clickid",
        "ref_src", "ref_url", "s_cid", "srsltid", "trk", "trkcampaign", "ttclid", "twclid",
        "vero_conv", "vero_id", "wbraid", "wickedid", "yclid", "ysclid",
    }
)
#: Parameter name prefixes that only track the reader (Google Analytics, Matomo, HubSpot ads).
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "pk_", "mtm_", "hsa_")

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
_LOOPBACK_NAMES = frozenset({"localhost"})
_TEST_NAMES = frozenset({"test"})

# The public suffix list as shipped inside tldextract: ``suffix_list_urls=()`` means it is
# never fetched, ``cache_dir=None`` that nothing is read from or written to disk. Private
# suffixes count (``foo.github.io`` and ``bar.github.io`` are different sites). Loaded now, at
# import, so no request ever pays for it.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)
_EXTRACT("example.org")

#: Characters RFC 3986 never allows raw in a URL that would end an HTML attribute or open a
#: template where a partner shows the link (``\\`` has its own rule).
_UNSAFE = frozenset("\"'<>^`{|}")
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ENCODED_CONTROL = re.compile(r"%(?:[01][0-9A-Fa-f]|7[Ff])")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_ASCII_SKELETON = re.compile(r"[a-z0-9-]+")
#: Script combinations that are normal within one label (UTS 39 "highly restrictive").
_CJK_COMBINATIONS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_NEUTRAL_SCRIPTS = frozenset({"COMMON", "INHERITED"})


class _Refused(Exception):
    def __init__(self, rule: str, message: str) -> None:
        assert rule in URL_RULES, rule
        super().__init__(f"[{rule}] {message}")
        self.rule = rule


def _describe(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'control character' if unicodedata.category(ch) == 'Cc' else 'unnamed character')}"


# --- UTS 39 skeletons ------------------------------------------------------------------------------


def _prototypes() -> dict[str, str]:
    """Each confusable character's prototype, from confusable-homoglyphs' data.

    That data is Unicode's confusables.txt (source -> prototype) stored both ways: a prototype
    lists all its sources, a source lists its prototype. So a single character with one entry
    is a source (its entry is the prototype), one with several is a prototype. A pair where both
    sides have one entry is ambiguous; both then map to the lower code point, which keeps
    ``skeleton(a) == skeleton(b)`` exactly when they are confusable.
    """
    graph = {
        key.replace("\u200e", "").replace("\u200f", ""): [e["c"].replace("\u200e", "").replace("\u200f", "") for e in entries]
        for key, entries in _confusables.confusables_data.items()
    }
    prototype: dict[str, str] = {}
    for char, others in graph.items():
        if len(char) != 1 or len(others) != 1:
            continue
        other = others[0]
        if len(other) == 1 and len(graph.get(other, ())) == 1:
            representative = min(char, other)
            if representative != char:
                prototype[char] = representative
        else:
            prototype[char] = other
    return prototype


_PROTOTYPE = _prototypes()


@functools.lru_cache(maxsize=8192)
def skeleton(text: str) -> str:
    """The UTS 39 skeleton of ``text``, case-folded: equal skeletons mean "looks the same".

    ``skeleton("аmnesty") == skeleton("amnesty") == skeleton("arnnesty")``.
    """
    for _ in range(4):  # the mapping is idempotent; lower-casing can expose one more step
        mapped = unicodedata.normalize("NFD", text)
        mapped = "".join(_PROTOTYPE.get(ch, ch) for ch in mapped)
        mapped = unicodedata.normalize("NFD", mapped).lower()
        if mapped == text:
            break
        text = mapped
    return text


def _looks_like(label: str) -> str:
    """The first character of ``label`` that has an ASCII look-alike, for messages."""
    for ch in label:
        proto = _PROTOTYPE.get(ch)
        if not ch.isascii() and proto is not None and proto.isascii():
            return f"{ch!r} ({_describe(ch)}) looks like {proto!r}"
    return ""


# --- host names ----------------------------------------------------------------------------------


def _label_to_ascii(label: str) -> str:
    """One lower-case label to its ASCII form, validated (IDNA 2008); raises _Refused."""
    if label.isascii():
        if len(label) > MAX_LABEL_LENGTH:
            raise _Refused("host-length", f"label {label[:20]!r}… is {len(label)} characters long (at most {MAX_LABEL_LENGTH})")
        if label.startswith("xn--"):
            try:
                unicode = _label_to_unicode(label)
                if _ulabel_to_ascii(unicode) != label:
                    raise ValueError("not the canonical punycode of its label")
            except (ValueError, UnicodeError) as exc:
                raise _Refused("idna", f"label {label!r} is not valid punycode: {exc}") from None
            return label
        if not _LDH_LABEL.fullmatch(label):
            bad = next((ch for ch in label if not (ch.isalnum() or ch == "-")), None)
            why = f"{bad!r} is not allowed in a host name" if bad else "a label cannot start or end with '-'"
            raise _Refused("idna", f"label {label!r} is not a valid host name label: {why}")
        if label[2:4] == "--":
            raise _Refused("idna", f"label {label!r} has '--' in 3rd and 4th position, reserved for punycode")
        return label
    try:
        ascii_label = _ulabel_to_ascii(label)
    except (ValueError, UnicodeError) as exc:
        if "too long" in str(exc).lower():
            raise _Refused("host-length", f"label {label!r} is too long in punycode (at most {MAX_LABEL_LENGTH})") from None
        raise _Refused("idna", f"label {label!r} is not a valid internationalized domain label: {exc}") from None
    if len(ascii_label) > MAX_LABEL_LENGTH:
        raise _Refused("host-length", f"label {label!r} is {len(ascii_label)} characters in punycode (at most {MAX_LABEL_LENGTH})")
    return ascii_label


def _ulabel_to_ascii(label: str) -> str:
    if _idna is not None:
        return _idna.alabel(label).decode("ascii")
    return label.encode("idna").decode("ascii")  # pragma: no cover - IDNA 2003 fallback


def _label_to_unicode(label: str) -> str:
    if not label.startswith("xn--"):
        return label
    if _idna is not None:
        return _idna.ulabel(label)
    return label.encode("ascii").decode("idna")  # pragma: no cover - IDNA 2003 fallback


def _host_to_ascii(host: str) -> str:
    labels = host.split(".")
    if any(not label for label in labels):
        raise _Refused("malformed", f"host {host!r} has an empty label")
    ascii_host = ".".join(_label_to_ascii(label) for label in labels)
    if len(ascii_host) > MAX_HOST_LENGTH:
        raise _Refused("host-length", f"host is {len(ascii_host)} characters long in punycode (at most {MAX_HOST_LENGTH})")
    return ascii_host


def _numeric_host(host: str) -> str | None:
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


def _is_loopback_literal(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    canonical = str(address) if address.version == 4 else f"[{address.compressed}]"
    return address.is_loopback and host.lower() in {canonical, f"[{address.exploded}]"}


def _under(host: str, names: Iterable[str]) -> str | None:
    labels = host.split(".")
    suffixes = {".".join(labels[i:]) for i in range(len(labels))}
    found = sorted(suffixes.intersection(names), key=len)
    return found[-1] if found else None


def registrable_domain_of(url: str) -> str | None:
    """The registrable domain (punycode, lower case) of an https URL's host, or None.

    Public-suffix aware and offline: ``www.amnesty.org.uk`` -> ``amnesty.org.uk``,
    ``foo.github.io`` -> ``foo.github.io``. None when there is no such domain (an IP address, a
    single-label or special-use name, or a URL that cannot be parsed).
    """
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return registrable_domain(host)


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
        ascii_host = _host_to_ascii(host)
    except _Refused:
        return None
    return _EXTRACT(ascii_host).top_domain_under_public_suffix or None


@functools.lru_cache(maxsize=64)
def _skeleton_index(known: frozenset[str]) -> dict[str, frozenset[str]]:
    """Known registrable domains (ASCII) grouped by the skeleton of their Unicode form."""
    index: dict[str, set[str]] = {}
    for domain in known:
        ascii_domain = registrable_domain(domain.strip()) or domain.lower()
        try:
            unicode = ".".join(_label_to_unicode(label) for label in ascii_domain.split("."))
        except (ValueError, UnicodeError):
            unicode = ascii_domain
        index.setdefault(skeleton(unicode), set()).add(ascii_domain)
    return {key: frozenset(value) for key, value in index.items()}


# --- the policy ----------------------------------------------------------------------------------


def check_url(
    field: str,
    url: str,
    *,
    known_domains: Iterable[str] = frozenset(),
    allow_ports: Iterable[int] = frozenset(),
    allow_loopback: bool = False,
) -> list[FieldProblem]:
    """The first rule ``url`` breaks, as ``[(field, "[rule] message")]``; ``[]`` if none.

    ``known_domains``: registrable domains the directory knows (the other listings', and the
    listing's own other and earlier ones); a different domain that looks the same as one of
    them is refused. ``allow_ports``: ports
    allowed besides 443. ``allow_loopback``: tests only (see the module docstring).
    """
    try:
        _vet(url, frozenset(known_domains), frozenset(allow_ports), allow_loopback)
    except _Refused as refused:
        return [(field, str(refused))]
    return []


def check_host(field: str, host: str, *, known_domains: Iterable[str] = frozenset()) -> list[FieldProblem]:
    """The host rules alone, for a domain that is not in a URL (an e-mail address's).

    Everything ``check_url`` asks of a host: no IP address, lower case, IDNA 2008, not reserved,
    no look-alike of a known domain, no mixed or confusable scripts, a registrable domain.
    Shortener and redirector lists are about web addresses and do not apply.
    """
    try:
        if not host:
            raise _Refused("malformed", "no domain name")
        _check_characters(host)
        _vet_host(host, frozenset(known_domains), allow_loopback=False)
    except _Refused as refused:
        return [(field, str(refused))]
    return []


def _vet(url: str, known: frozenset[str], allow_ports: frozenset[int], allow_loopback: bool) -> None:
    if len(url) > MAX_URL_LENGTH:
        raise _Refused("url-length", f"URL is {len(url)} characters long (at most {MAX_URL_LENGTH})")
    _check_characters(url)

    scheme, sep, after = url.partition("://")
    authority = re.match(r"[^/?#]*", after).group() if sep else ""  # type: ignore[union-attr]
    raw_host = authority.rpartition("@")[2]
    raw_host = raw_host[: raw_host.index(":")] if ":" in raw_host and not raw_host.startswith("[") else raw_host
    loopback_test = allow_loopback and (
        _is_loopback_literal(raw_host) or _under(raw_host.lower(), _LOOPBACK_NAMES) is not None
    )
    if not url.startswith("https://") and not (loopback_test and url.startswith("http://")):
        shown = f"{scheme}:" if sep and scheme.isascii() and scheme.isalnum() else url[:12] + "…"
        raise _Refused("https-only", f"URL must use https and start with https:// (got {shown!r})")
    rest = after[len(authority) :]
    unsafe = next((ch for ch in url if ch in _UNSAFE), None)
    if unsafe is not None:
        raise _Refused(
            "unsafe-char",
            f"URL must not contain {unsafe!r} (at position {url.index(unsafe)}): it can end an HTML attribute or "
            f"open a template where partners show the link; percent-encode it ({'%' + format(ord(unsafe), '02X')})",
        )

    # Parsers must agree on the host and port: urllib is the second opinion.
    try:
        split = urlsplit(url)
        split_host, split_port = split.hostname, split.port
    except ValueError as exc:
        raise _Refused("malformed", f"not a valid URL: {exc}") from None

    if "@" in authority:
        raise _Refused("userinfo", "URL must not carry a user name or password (found '@' before the host)")
    if authority.startswith("["):
        if allow_loopback and _is_loopback_literal(authority[: authority.find("]") + 1]):
            return _check_after_host(rest, None, None)
        raise _Refused("ip-literal", f"host {authority!r} is an IPv6 address, not a domain name")
    host, colon, port_text = authority.partition(":")
    if ":" in port_text:
        raise _Refused("malformed", f"not a valid URL: host {authority!r} has more than one ':'")
    if not host:
        raise _Refused("malformed", "not a valid URL: it names no host")
    port = _parse_port(colon, port_text)
    if (split_host or "") != host.lower() or split_port != port:
        raise _Refused("malformed", f"not a valid URL: its host or port reads differently to different parsers ({authority!r})")
    if port == 443:
        raise _Refused("port", "remove ':443': it is the default for https, and one address should have one spelling")
    if port is not None and port not in allow_ports:
        raise _Refused("port", f"port {port} is not allowed: link to the site's standard https port (443)")
    if colon and port is None:
        raise _Refused("port", "the URL has a ':' after the host but no port: remove the ':'")

    vetted = _vet_host(host, known, allow_loopback)
    if vetted is None:  # a loopback literal, let through for tests
        return _check_after_host(rest, None, None)
    _check_after_host(rest, *vetted)


def _vet_host(host: str, known: frozenset[str], allow_loopback: bool) -> tuple[str, str] | None:
    """The host rules, on a host as written: its ``(ascii_host, registrable_domain)``.

    None for a loopback literal that ``allow_loopback`` lets through (tests only).
    """
    if "%" in host:
        raise _Refused("percent-encoded-host", f"host {host!r} is percent-encoded: write the host name itself")
    if allow_loopback and _is_loopback_literal(host):
        return None
    if host.startswith("["):
        raise _Refused("ip-literal", f"host {host!r} is an IP address, not a domain name")
    numeric = _numeric_host(host)
    if numeric is not None:
        raise _Refused("ip-literal", f"host {host.lower()!r} is an IP address ({numeric}), not a domain name")
    if host != host.lower():
        _refuse_upper_case(host, known)
    if host.endswith("."):
        raise _Refused("trailing-dot", f"host {host!r} ends with a dot: remove it ({host.rstrip('.')!r})")
    ascii_host = _host_to_ascii(host)
    labels = ascii_host.split(".")

    reserved = _under(ascii_host, RESERVED_NAMES)
    testing = allow_loopback and reserved is not None and (reserved in _LOOPBACK_NAMES or reserved in _TEST_NAMES)
    if reserved is not None and not testing:
        raise _Refused("reserved-host", f"host {ascii_host!r} is a private or special-use name (*.{reserved}), not a public site")

    extracted = _EXTRACT(ascii_host)
    domain = extracted.top_domain_under_public_suffix
    if testing and not domain:
        domain = ".".join(labels[-2:])
    suffix_labels = len(extracted.suffix.split(".")) if extracted.suffix else 0
    unicode_labels = [_label_to_unicode(label) for label in labels]

    if domain and known:
        _check_known(domain, known)
        _check_embedded(ascii_host, domain, known)
    for position, label in enumerate(unicode_labels):
        _check_script(label, in_suffix=position >= len(labels) - suffix_labels and suffix_labels > 0)
    if not domain:
        if not extracted.suffix:
            raise _Refused("registrable-domain", f"host {ascii_host!r} is not under a known public suffix (top-level domain)")
        raise _Refused("registrable-domain", f"host {ascii_host!r} is a public suffix itself, not a domain registered under one")
    return ascii_host, domain


def _refuse_upper_case(host: str, known: frozenset[str]) -> None:
    """Refuse a host written with upper-case letters; say which rule matters most.

    Browsers lower-case the host, but a reader sees it as written: ``paypaI.com`` (capital i)
    reads as ``paypal.com``. So the skeleton is taken from the spelling as written, before any
    lower-casing: a look-alike of a known domain is named as such (``confusable-domain``);
    anything else is asked for in lower case (``host-case``).
    """
    lowered = host.lower()
    if known:
        try:
            domain = _EXTRACT(_host_to_ascii(lowered.rstrip("."))).top_domain_under_public_suffix
        except _Refused:
            domain = ""
        if domain:
            written = host.rstrip(".").split(".")[-(domain.count(".") + 1) :]
            as_seen = ".".join(_label_to_unicode(label.lower()) if label.lower().startswith("xn--") else label for label in written)
            _refuse_look_alike(as_seen, repr(as_seen), domain, known)
    raise _Refused("host-case", f"host {host!r} has upper-case letters: write it in lower case ({lowered!r})")


def _check_characters(url: str) -> None:
    for position, ch in enumerate(url):
        category = unicodedata.category(ch)
        if category == "Cc" or category in ("Zl", "Zp"):
            raise _Refused("control-char", f"URL must not contain spaces or control characters: {_describe(ch)} at position {position}")
        if ch.isspace():
            raise _Refused("whitespace", f"URL must not contain spaces or control characters: {_describe(ch)} at position {position}")
        if ch in _BIDI:
            raise _Refused("bidi-control", f"URL must not contain bidirectional controls: {_describe(ch)} at position {position}")
        if category == "Cf":
            raise _Refused("invisible-char", f"URL must not contain invisible characters: {_describe(ch)} at position {position}")
        if not ch.isascii() and is_invisible(ch):
            raise _Refused("invisible-char", f"URL must not contain invisible characters: {_describe(ch)} at position {position}")
    encoded = _ENCODED_CONTROL.search(url)
    if encoded:
        raise _Refused("control-char", f"URL must not contain percent-encoded control characters ({encoded.group()!r})")
    _check_encoded_characters(url)
    if "\\" in url:
        raise _Refused("backslash", f"URL must not contain a backslash (at position {url.index(chr(92))}): use '/'")
    if _BAD_PERCENT.search(url):
        raise _Refused("malformed", "not a valid URL: '%' must be followed by two hexadecimal digits")


def _check_encoded_characters(url: str) -> None:
    """What percent-encoding hides is judged like what is written: ``%E2%80%AE`` is an RLO."""
    if "%" not in url:
        return
    decoded = unquote(url, errors="replace")
    for ch in decoded:
        if ch.isascii():
            continue
        if ch in _BIDI:
            raise _Refused("bidi-control", f"URL must not contain bidirectional controls, even percent-encoded: {_describe(ch)}")
        if ch.isspace() or unicodedata.category(ch) in ("Zl", "Zp", "Cc"):
            raise _Refused("whitespace", f"URL must not contain spaces or control characters, even percent-encoded: {_describe(ch)}")
        if is_invisible(ch):
            raise _Refused("invisible-char", f"URL must not contain invisible characters, even percent-encoded: {_describe(ch)}")


def _check_embedded(ascii_host: str, domain: str, known: frozenset[str]) -> None:
    """``ovdinfo.org.support-center.com``: a known domain worn as leading labels of another."""
    subdomain = ascii_host[: -len(domain)].rstrip(".") if ascii_host.endswith(domain) else ""
    padded = f".{subdomain}."  # only the labels before the registrable domain: amnesty.org.uk is fine
    for other in sorted(known):
        if other != domain and f".{other}." in padded:
            raise _Refused(
                "embedded-domain",
                f"host {ascii_host!r} contains {other}, a domain known to the directory, but belongs to {domain}: "
                "readers would take it for the other site",
            )


def _parse_port(colon: str, port_text: str) -> int | None:
    if not colon or not port_text:
        return None
    if not (port_text.isascii() and port_text.isdigit()):
        raise _Refused("malformed", f"not a valid URL: port {port_text!r} is not a number")
    if port_text.startswith("0") and port_text != "0":
        raise _Refused("malformed", f"not a valid URL: port {port_text!r} has a leading zero (parsers disagree on it)")
    port = int(port_text)
    if not 0 < port <= 65535:
        raise _Refused("malformed", f"not a valid URL: port {port_text} is out of range (1-65535)")
    return port


def _check_known(domain: str, known: frozenset[str]) -> None:
    unicode = ".".join(_label_to_unicode(label) for label in domain.split("."))
    _refuse_look_alike(unicode, _shown(domain), domain, known)


def _refuse_look_alike(seen: str, shown: str, domain: str, known: frozenset[str]) -> None:
    """Refuse ``domain`` when ``seen`` (how a reader sees it) looks like another known domain."""
    similar = sorted(_skeleton_index(known).get(skeleton(seen), frozenset()) - {domain})
    if similar:
        raise _Refused(
            "confusable-domain",
            f"{shown} looks like {_shown(similar[0])}, a different domain known to the directory "
            "(another listing, or another address of this one): one of the two is a look-alike",
        )


def _shown(domain: str) -> str:
    """``xn--mnesty-2nf.org (аmnesty.org)``: punycode, and what a reader would see."""
    try:
        unicode = ".".join(_label_to_unicode(label) for label in domain.split("."))
    except (ValueError, UnicodeError):
        return domain
    return domain if unicode == domain else f"{domain} ({unicode})"


def _check_script(label: str, *, in_suffix: bool) -> None:
    if label.isascii():
        return
    if _confusables.is_mixed_script(label, allowed_aliases=sorted(_NEUTRAL_SCRIPTS)):
        scripts = _scripts.unique_aliases(label) - _NEUTRAL_SCRIPTS
        if not any(scripts <= allowed for allowed in _CJK_COMBINATIONS):
            names = ", ".join(sorted(s.title() for s in scripts))
            if _confusables.is_dangerous(label, preferred_aliases=["latin"]):  # a letter posing as Latin
                raise _Refused("confusable", f"label {label!r} mixes scripts ({names}) with look-alike characters: {_looks_like(label) or 'see UTS 39'}")
            raise _Refused("mixed-script", f"label {label!r} mixes scripts ({names})")
    if not in_suffix and _ASCII_SKELETON.fullmatch(skeleton(label)):
        raise _Refused(
            "confusable",
            f"label {label!r} is made of characters that look like the ASCII {skeleton(label)!r}: {_looks_like(label)}",
        )


def _check_after_host(rest: str, ascii_host: str | None, domain: str | None) -> None:
    """Shorteners and redirectors (for a named host), then tracking parameters."""
    before_fragment, _, fragment = rest.partition("#")
    path, _, query = before_fragment.partition("?")
    if ascii_host is not None and domain is not None:
        shortener = _under(ascii_host, SHORTENERS)
        if shortener is not None:
            raise _Refused("shortener", f"{shortener} is a URL shortener: link to the page it leads to instead")
        redirector = _under(ascii_host, REDIRECTOR_HOSTS)
        if redirector is not None:
            raise _Refused("redirector", f"{redirector} is a redirect service: link to the page it leads to instead")
        site = _EXTRACT(ascii_host).domain
        for where, pattern in REDIRECTOR_PATHS:
            matches_site = site == "google" if where == "google.*" else domain == where
            if matches_site and re.fullmatch(pattern, path or "/"):
                raise _Refused("redirector", f"{ascii_host}{path} is a redirect endpoint: link to the page it leads to instead")
    for where, text in (("query", query), ("fragment", fragment if "=" in fragment else "")):
        for pair in re.split(r"[&;]", text) if text else ():
            name = unquote_plus(pair.partition("=")[0]).strip().lower()
            if name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES):
                raise _Refused("tracking-param", f"{where} parameter {name!r} tracks the reader: remove it")


# --- canonical form ------------------------------------------------------------------------------


def normalize_url(url: str) -> str:
    """The canonical form of an http(s) URL, for comparisons (not a policy check).

    Lower-case scheme and host, the host in punycode without a trailing dot, no default port,
    ``/`` for an empty path; user info, path, query and fragment are kept as written. Raises
    ValueError if the URL cannot be parsed or is not http(s).
    """
    split = urlsplit(url.strip())
    scheme = split.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = split.hostname
    if not host:
        raise ValueError(f"URL names no host: {url!r}")
    port = split.port
    if ":" in host:  # IPv6
        ascii_host = f"[{ipaddress.ip_address(host.partition('%')[0]).compressed}]"
    else:
        try:
            ascii_host = _host_to_ascii(host.rstrip("."))
        except _Refused as refused:
            raise ValueError(str(refused)) from None
    userinfo = split.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@" if "@" in split.netloc else ""
    netloc += ascii_host
    if port is not None and port != {"https": 443, "http": 80}[scheme]:
        netloc += f":{port}"
    path = split.path or "/"
    query = f"?{split.query}" if split.query or url.partition("#")[0].endswith("?") else ""
    fragment = f"#{split.fragment}" if "#" in url else ""
    return f"{scheme}://{netloc}{path}{query}{fragment}"
