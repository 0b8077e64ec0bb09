"""The URL policy: may this link be shown to readers who may be at risk?

Pure functions, no I/O: the public suffix list is the snapshot that ships with tldextract
(never fetched), the confusables are the Unicode data that ships with confusable-homoglyphs.
This module orders the rules and applies them; what a host name is (IDNA, IP literals,
special-use names, registrable domain) is read by ``api.vetting.domains``, and whether it poses
as another by ``api.vetting.lookalikes``.

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

import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from importlib import resources
from urllib.parse import unquote, unquote_plus, urlsplit

from api.vetting.domains import (
    LOOPBACK_NAMES,
    MAX_HOST_LENGTH,
    MAX_LABEL_LENGTH,
    PUBLIC_SUFFIX_LIST,
    RESERVED_NAMES,
    TEST_NAMES,
    Refused,
    describe_character,
    host_to_ascii,
    is_loopback_literal,
    label_to_unicode,
    listed_suffix,
    numeric_host,
    registrable_domain,
)
from api.vetting.lookalikes import check_embedded, check_known, check_script, refuse_upper_case
from api.vetting.text import FieldProblem, is_invisible

__all__ = [
    "MAX_URL_LENGTH",
    "REDIRECTOR_HOSTS",
    "REDIRECTOR_PATHS",
    "SHORTENERS",
    "TRACKING_PARAMETERS",
    "TRACKING_PREFIXES",
    "URL_RULES",
    "check_host",
    "check_url",
    "normalize_url",
    "registrable_domain_of",
]

MAX_URL_LENGTH = 2048

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

#: Characters RFC 3986 never allows raw in a URL that would end an HTML attribute or open a
#: template where a partner shows the link (``\\`` has its own rule).
_UNSAFE = frozenset("\"'<>^`{|}")
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ENCODED_CONTROL = re.compile(r"%(?:[01][0-9A-Fa-f]|7[Ff])")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


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
    except Refused as refused:
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
            raise Refused("malformed", "no domain name")
        _check_characters(host)
        _vet_host(host, frozenset(known_domains), allow_loopback=False)
    except Refused as refused:
        return [(field, str(refused))]
    return []


def _vet(url: str, known: frozenset[str], allow_ports: frozenset[int], allow_loopback: bool) -> None:
    if len(url) > MAX_URL_LENGTH:
        raise Refused("url-length", f"URL is {len(url)} characters long (at most {MAX_URL_LENGTH})")
    _check_characters(url)

    scheme, sep, after = url.partition("://")
    authority = re.match(r"[^/?#]*", after).group() if sep else ""  # type: ignore[union-attr]
    raw_host = authority.rpartition("@")[2]
    raw_host = raw_host[: raw_host.index(":")] if ":" in raw_host and not raw_host.startswith("[") else raw_host
    loopback_test = allow_loopback and (
        is_loopback_literal(raw_host) or listed_suffix(raw_host.lower(), LOOPBACK_NAMES) is not None
    )
    if not url.startswith("https://") and not (loopback_test and url.startswith("http://")):
        shown = f"{scheme}:" if sep and scheme.isascii() and scheme.isalnum() else url[:12] + "…"
        raise Refused("https-only", f"URL must use https and start with https:// (got {shown!r})")
    rest = after[len(authority) :]
    unsafe = next((ch for ch in url if ch in _UNSAFE), None)
    if unsafe is not None:
        raise Refused(
            "unsafe-char",
            f"URL must not contain {unsafe!r} (at position {url.index(unsafe)}): it can end an HTML attribute or "
            f"open a template where partners show the link; percent-encode it ({'%' + format(ord(unsafe), '02X')})",
        )

    # Parsers must agree on the host and port: urllib is the second opinion.
    try:
        split = urlsplit(url)
        split_host, split_port = split.hostname, split.port
    except ValueError as exc:
        raise Refused("malformed", f"not a valid URL: {exc}") from None

    if "@" in authority:
        raise Refused("userinfo", "URL must not carry a user name or password (found '@' before the host)")
    if authority.startswith("["):
        if allow_loopback and is_loopback_literal(authority[: authority.find("]") + 1]):
            return _check_after_host(rest, None, None)
        raise Refused("ip-literal", f"host {authority!r} is an IPv6 address, not a domain name")
    host, colon, port_text = authority.partition(":")
    if ":" in port_text:
        raise Refused("malformed", f"not a valid URL: host {authority!r} has more than one ':'")
    if not host:
        raise Refused("malformed", "not a valid URL: it names no host")
    port = _parse_port(colon, port_text)
    if (split_host or "") != host.lower() or split_port != port:
        raise Refused("malformed", f"not a valid URL: its host or port reads differently to different parsers ({authority!r})")
    if port == 443:
        raise Refused("port", "remove ':443': it is the default for https, and one address should have one spelling")
    if port is not None and port not in allow_ports:
        raise Refused("port", f"port {port} is not allowed: link to the site's standard https port (443)")
    if colon and port is None:
        raise Refused("port", "the URL has a ':' after the host but no port: remove the ':'")

    vetted = _vet_host(host, known, allow_loopback)
    if vetted is None:  # a loopback literal, let through for tests
        return _check_after_host(rest, None, None)
    _check_after_host(rest, *vetted)


def _vet_host(host: str, known: frozenset[str], allow_loopback: bool) -> tuple[str, str] | None:
    """The host rules, on a host as written: its ``(ascii_host, registrable_domain)``.

    None for a loopback literal that ``allow_loopback`` lets through (tests only).
    """
    if "%" in host:
        raise Refused("percent-encoded-host", f"host {host!r} is percent-encoded: write the host name itself")
    if allow_loopback and is_loopback_literal(host):
        return None
    if host.startswith("["):
        raise Refused("ip-literal", f"host {host!r} is an IP address, not a domain name")
    numeric = numeric_host(host)
    if numeric is not None:
        raise Refused("ip-literal", f"host {host.lower()!r} is an IP address ({numeric}), not a domain name")
    if host != host.lower():
        refuse_upper_case(host, known)
    if host.endswith("."):
        raise Refused("trailing-dot", f"host {host!r} ends with a dot: remove it ({host.rstrip('.')!r})")
    ascii_host = host_to_ascii(host)
    labels = ascii_host.split(".")

    reserved = listed_suffix(ascii_host, RESERVED_NAMES)
    testing = allow_loopback and reserved is not None and (reserved in LOOPBACK_NAMES or reserved in TEST_NAMES)
    if reserved is not None and not testing:
        raise Refused("reserved-host", f"host {ascii_host!r} is a private or special-use name (*.{reserved}), not a public site")

    extracted = PUBLIC_SUFFIX_LIST(ascii_host)
    domain = extracted.top_domain_under_public_suffix
    if testing and not domain:
        domain = ".".join(labels[-2:])
    suffix_labels = len(extracted.suffix.split(".")) if extracted.suffix else 0
    unicode_labels = [label_to_unicode(label) for label in labels]

    if domain and known:
        check_known(domain, known)
        check_embedded(ascii_host, domain, known)
    for position, label in enumerate(unicode_labels):
        check_script(label, in_suffix=position >= len(labels) - suffix_labels and suffix_labels > 0)
    if not domain:
        if not extracted.suffix:
            raise Refused("registrable-domain", f"host {ascii_host!r} is not under a known public suffix (top-level domain)")
        raise Refused("registrable-domain", f"host {ascii_host!r} is a public suffix itself, not a domain registered under one")
    return ascii_host, domain


def _check_characters(url: str) -> None:
    for position, ch in enumerate(url):
        category = unicodedata.category(ch)
        if category == "Cc" or category in ("Zl", "Zp"):
            raise Refused("control-char", f"URL must not contain spaces or control characters: {describe_character(ch)} at position {position}")
        if ch.isspace():
            raise Refused("whitespace", f"URL must not contain spaces or control characters: {describe_character(ch)} at position {position}")
        if ch in _BIDI:
            raise Refused("bidi-control", f"URL must not contain bidirectional controls: {describe_character(ch)} at position {position}")
        if category == "Cf":
            raise Refused("invisible-char", f"URL must not contain invisible characters: {describe_character(ch)} at position {position}")
        if not ch.isascii() and is_invisible(ch):
            raise Refused("invisible-char", f"URL must not contain invisible characters: {describe_character(ch)} at position {position}")
    encoded = _ENCODED_CONTROL.search(url)
    if encoded:
        raise Refused("control-char", f"URL must not contain percent-encoded control characters ({encoded.group()!r})")
    _check_encoded_characters(url)
    if "\\" in url:
        raise Refused("backslash", f"URL must not contain a backslash (at position {url.index(chr(92))}): use '/'")
    if _BAD_PERCENT.search(url):
        raise Refused("malformed", "not a valid URL: '%' must be followed by two hexadecimal digits")


def _check_encoded_characters(url: str) -> None:
    """What percent-encoding hides is judged like what is written: ``%E2%80%AE`` is an RLO."""
    if "%" not in url:
        return
    decoded = unquote(url, errors="replace")
    for ch in decoded:
        if ch.isascii():
            continue
        if ch in _BIDI:
            raise Refused("bidi-control", f"URL must not contain bidirectional controls, even percent-encoded: {describe_character(ch)}")
        if ch.isspace() or unicodedata.category(ch) in ("Zl", "Zp", "Cc"):
            raise Refused("whitespace", f"URL must not contain spaces or control characters, even percent-encoded: {describe_character(ch)}")
        if is_invisible(ch):
            raise Refused("invisible-char", f"URL must not contain invisible characters, even percent-encoded: {describe_character(ch)}")


def _parse_port(colon: str, port_text: str) -> int | None:
    if not colon or not port_text:
        return None
    if not (port_text.isascii() and port_text.isdigit()):
        raise Refused("malformed", f"not a valid URL: port {port_text!r} is not a number")
    if port_text.startswith("0") and port_text != "0":
        raise Refused("malformed", f"not a valid URL: port {port_text!r} has a leading zero (parsers disagree on it)")
    port = int(port_text)
    if not 0 < port <= 65535:
        raise Refused("malformed", f"not a valid URL: port {port_text} is out of range (1-65535)")
    return port


def _check_after_host(rest: str, ascii_host: str | None, domain: str | None) -> None:
    """Shorteners and redirectors (for a named host), then tracking parameters."""
    before_fragment, _, fragment = rest.partition("#")
    path, _, query = before_fragment.partition("?")
    if ascii_host is not None and domain is not None:
        shortener = listed_suffix(ascii_host, SHORTENERS)
        if shortener is not None:
            raise Refused("shortener", f"{shortener} is a URL shortener: link to the page it leads to instead")
        redirector = listed_suffix(ascii_host, REDIRECTOR_HOSTS)
        if redirector is not None:
            raise Refused("redirector", f"{redirector} is a redirect service: link to the page it leads to instead")
        site = PUBLIC_SUFFIX_LIST(ascii_host).domain
        for where, pattern in REDIRECTOR_PATHS:
            matches_site = site == "google" if where == "google.*" else domain == where
            if matches_site and re.fullmatch(pattern, path or "/"):
                raise Refused("redirector", f"{ascii_host}{path} is a redirect endpoint: link to the page it leads to instead")
    for where, text in (("query", query), ("fragment", fragment if "=" in fragment else "")):
        for pair in re.split(r"[&;]", text) if text else ():
            name = unquote_plus(pair.partition("=")[0]).strip().lower()
            if name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES):
                raise Refused("tracking-param", f"{where} parameter {name!r} tracks the reader: remove it")


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
            ascii_host = host_to_ascii(host.rstrip("."))
        except Refused as refused:
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
