"""Look-alikes: does a host name pretend to be another?

Why a module of its own: this is the one rule family that needs Unicode's confusables data
(UTS 39, as shipped with confusable-homoglyphs) and the directory's own domains. A label may not
mix scripts (except the CJK combinations of UTS 39's "highly restrictive" profile); a label
outside the public suffix that is not plain ASCII may not have an all-ASCII skeleton (``аррӏе``
in Cyrillic looks exactly like ``apple``); a domain whose skeleton equals that of a known domain
but is a different domain is refused, which also catches all-Latin look-alikes such as
``arnnesty.org`` for ``amnesty.org``; a known domain worn as leading labels of another
(``ovdinfo.org.example.com``) is refused; and a host written with capitals is judged as written
(``paypaI.com`` with a capital I reads as ``paypal.com``). Pure functions, no I/O.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from confusable_homoglyphs import categories as _scripts
from confusable_homoglyphs import confusables as _confusables

from api.vetting.domains import (
    PUBLIC_SUFFIX_LIST,
    Refused,
    describe_character,
    host_to_ascii,
    label_to_unicode,
    registrable_domain,
)

__all__ = ["check_embedded", "check_known", "check_script", "refuse_upper_case", "skeleton"]

_ASCII_SKELETON = re.compile(r"[a-z0-9-]+")
#: Script combinations that are normal within one label (UTS 39 "highly restrictive").
_CJK_COMBINATIONS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_NEUTRAL_SCRIPTS = frozenset({"COMMON", "INHERITED"})


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
            return f"{ch!r} ({describe_character(ch)}) looks like {proto!r}"
    return ""


# --- the rules ---------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _skeleton_index(known: frozenset[str]) -> dict[str, frozenset[str]]:
    """Known registrable domains (ASCII) grouped by the skeleton of their Unicode form."""
    index: dict[str, set[str]] = {}
    for domain in known:
        ascii_domain = registrable_domain(domain.strip()) or domain.lower()
        try:
            unicode = ".".join(label_to_unicode(label) for label in ascii_domain.split("."))
        except (ValueError, UnicodeError):
            unicode = ascii_domain
        index.setdefault(skeleton(unicode), set()).add(ascii_domain)
    return {key: frozenset(value) for key, value in index.items()}


def refuse_upper_case(host: str, known: frozenset[str]) -> None:
    """Refuse a host written with upper-case letters; say which rule matters most.

    Browsers lower-case the host, but a reader sees it as written: ``paypaI.com`` (capital i)
    reads as ``paypal.com``. So the skeleton is taken from the spelling as written, before any
    lower-casing: a look-alike of a known domain is named as such (``confusable-domain``);
    anything else is asked for in lower case (``host-case``).
    """
    lowered = host.lower()
    if known:
        try:
            domain = PUBLIC_SUFFIX_LIST(host_to_ascii(lowered.rstrip("."))).top_domain_under_public_suffix
        except Refused:
            domain = ""
        if domain:
            written = host.rstrip(".").split(".")[-(domain.count(".") + 1) :]
            as_seen = ".".join(label_to_unicode(label.lower()) if label.lower().startswith("xn--") else label for label in written)
            _refuse_look_alike(as_seen, repr(as_seen), domain, known)
    raise Refused("host-case", f"host {host!r} has upper-case letters: write it in lower case ({lowered!r})")


def check_embedded(ascii_host: str, domain: str, known: frozenset[str]) -> None:
    """``ovdinfo.org.support-center.com``: a known domain worn as leading labels of another."""
    subdomain = ascii_host[: -len(domain)].rstrip(".") if ascii_host.endswith(domain) else ""
    padded = f".{subdomain}."  # only the labels before the registrable domain: amnesty.org.uk is fine
    for other in sorted(known):
        if other != domain and f".{other}." in padded:
            raise Refused(
                "embedded-domain",
                f"host {ascii_host!r} contains {other}, a domain known to the directory, but belongs to {domain}: "
                "readers would take it for the other site",
            )


def check_known(domain: str, known: frozenset[str]) -> None:
    """``confusable-domain``: ``domain`` (a registrable domain, punycode) looks like another of ``known``."""
    unicode = ".".join(label_to_unicode(label) for label in domain.split("."))
    _refuse_look_alike(unicode, _shown(domain), domain, known)


def _refuse_look_alike(seen: str, shown: str, domain: str, known: frozenset[str]) -> None:
    """Refuse ``domain`` when ``seen`` (how a reader sees it) looks like another known domain."""
    similar = sorted(_skeleton_index(known).get(skeleton(seen), frozenset()) - {domain})
    if similar:
        raise Refused(
            "confusable-domain",
            f"{shown} looks like {_shown(similar[0])}, a different domain known to the directory "
            "(another listing, or another address of this one): one of the two is a look-alike",
        )


def _shown(domain: str) -> str:
    """``xn--mnesty-2nf.org (аmnesty.org)``: punycode, and what a reader would see."""
    try:
        unicode = ".".join(label_to_unicode(label) for label in domain.split("."))
    except (ValueError, UnicodeError):
        return domain
    return domain if unicode == domain else f"{domain} ({unicode})"


def check_script(label: str, *, in_suffix: bool) -> None:
    """``mixed-script`` and ``confusable`` for one label (Unicode form); a label of the public
    suffix (``in_suffix``) may be written in another script alone (``.рф``)."""
    if label.isascii():
        return
    if _confusables.is_mixed_script(label, allowed_aliases=sorted(_NEUTRAL_SCRIPTS)):
        scripts = _scripts.unique_aliases(label) - _NEUTRAL_SCRIPTS
        if not any(scripts <= allowed for allowed in _CJK_COMBINATIONS):
            names = ", ".join(sorted(s.title() for s in scripts))
            if _confusables.is_dangerous(label, preferred_aliases=["latin"]):  # a letter posing as Latin
                raise Refused("confusable", f"label {label!r} mixes scripts ({names}) with look-alike characters: {_looks_like(label) or 'see UTS 39'}")
            raise Refused("mixed-script", f"label {label!r} mixes scripts ({names})")
    if not in_suffix and _ASCII_SKELETON.fullmatch(skeleton(label)):
        raise Refused(
            "confusable",
            f"label {label!r} is made of characters that look like the ASCII {skeleton(label)!r}: {_looks_like(label)}",
        )

