"""The contact policy: one format per channel, and the URL policy for every address in it.

Partners turn contact values into links (``mailto:``, ``tel:``, a messenger's page), so every
value is held to its channel's format, and every web address or mail domain in it to the URL
policy (``api.vetting.urls``). Pure functions, no I/O.

``check_contact(field, channel, value)`` returns at most one ``(field, message)`` problem. The
message starts with the rule's name in brackets: ``[contact-format] …`` (the value is not in its
channel's format; the message says what the format is), or a URL rule (``[https-only]``,
``[confusable-domain]``, ``[host-case]``…) for an address that has the format but breaks the
URL policy.

The formats (decisions)
-----------------------

``web``
    An https URL that passes the whole URL policy.
``email``
    ``local@domain``, written alone (no ``mailto:``, no display name). The local part is a
    dot-atom of ASCII letters, digits and ``! $ ' * + - _ ~``: RFC 5322 ``atext`` without the
    characters RFC 6068 says must be percent-encoded in a ``mailto:`` link (``# % & / = ? ^ `
    { | }``), so the address can be written into a link as it is. At most 64 characters
    (RFC 5321). The domain passes the URL policy's host rules (``check_host``): a registrable
    name in lower case, not reserved, valid IDNA 2008, no look-alike of a known domain.
``phone``
    Digits in groups separated by single spaces or hyphens: an international number (``+``,
    a country code that does not start with 0, 7 to 15 digits in all: E.164's maximum), or a
    national number of 3 to 15 digits for numbers that only work inside the country (toll-free
    lines, short helpline numbers such as 116 111). No letters, brackets, extensions or ``tel:``.
``telegram``
    An https link on Telegram's own hosts (``t.me``, ``telegram.me``, ``telegram.dog``, or
    ``<username>.t.me``; core.telegram.org/api/links) to a username, a public post, a channel
    preview (``/s/<username>``) or an invite (``/+<hash>``, ``/joinchat/<hash>``); a
    ``@username`` (5 to 32 letters, digits and underscores, starting with a letter, not ending
    with an underscore); or an international phone number.
``signal``
    An https link on ``signal.me`` (a contact or username link: its payload is the fragment) or
    ``signal.group`` (a group invite, also in the fragment); a Signal username, ``nickname.42``
    (3 to 32 letters, digits and underscores, not starting with a digit, then a dot and at least
    two digits; a leading ``@`` is accepted); or an international phone number.
``whatsapp``
    An https link on WhatsApp's own hosts: ``wa.me/<number>`` (click to chat), ``wa.me/message/
    <code>``, ``api.whatsapp.com/send?phone=<number>``, ``chat.whatsapp.com/<invite>`` (groups),
    ``whatsapp.com/channel/<id>`` (channels); or an international phone number. WhatsApp has no
    public usernames.

Messenger links pass the whole URL policy first (https only, no tracking parameters…); then
the host and path must be the service's own. Anything else is refused with the channel's format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

from api.vetting.text import FieldProblem
from api.vetting.urls import check_host, check_url, registrable_domain_of

__all__ = ["CONTACT_FORMATS", "CONTACT_RULES", "MAX_EMAIL_LOCAL", "check_contact", "contact_domain"]

#: The rule this module adds to the URL policy's (``URL_RULES``).
CONTACT_RULES: dict[str, str] = {
    "contact-format": "a contact value in its channel's format (see CONTACT_FORMATS)",
}

_INTERNATIONAL = "an international phone number (+, the country code and the number, e.g. +44 20 7946 0000)"

#: What each channel's value must be, as the refusal says it.
CONTACT_FORMATS: dict[str, str] = {
    "web": "an https:// URL",
    "email": "the e-mail address alone, e.g. help@example.org (no mailto:, no name)",
    "phone": (
        "a phone number of digits in groups separated by single spaces or hyphens: international "
        "(+ and the country code, e.g. +44 20 7946 0000) or, for a number that works only inside "
        "its country, national (e.g. 0800 130 683)"
    ),
    "telegram": (
        "an https://t.me/… link (or telegram.me, telegram.dog), a @username (5-32 letters, digits "
        f"or underscores, starting with a letter), or {_INTERNATIONAL}"
    ),
    "signal": (
        "an https://signal.me/#… or https://signal.group/#… link, a Signal username such as "
        f"nickname.42, or {_INTERNATIONAL}"
    ),
    "whatsapp": (
        "an https://wa.me/… link (or api.whatsapp.com/send, chat.whatsapp.com, "
        f"whatsapp.com/channel/…), or {_INTERNATIONAL}"
    ),
}

# --- formats -----------------------------------------------------------------------------------

_EMAIL_ATOM = r"[A-Za-z0-9!$'*+\-_~]+"
_EMAIL = re.compile(rf"(?P<local>{_EMAIL_ATOM}(?:\.{_EMAIL_ATOM})*)@(?P<domain>[^@]+)")
MAX_EMAIL_LOCAL = 64
_DIGIT_GROUPS = r"[0-9]+(?:[ -][0-9]+)*"
_INTERNATIONAL_PHONE = re.compile(r"\+[1-9][0-9]*(?:[ -][0-9]+)*")
_NATIONAL_PHONE = re.compile(_DIGIT_GROUPS)
_TELEGRAM_USERNAME = r"[A-Za-z][A-Za-z0-9_]{3,30}[A-Za-z0-9]"
_TELEGRAM_HANDLE = re.compile(rf"@{_TELEGRAM_USERNAME}")
_SIGNAL_USERNAME = re.compile(r"@?[A-Za-z_][A-Za-z0-9_]{2,31}\.[0-9]{2,9}")
_INVITE = r"[A-Za-z0-9_-]+"

#: Each messenger's own hosts, and the paths on them that name a contact (whole-path regexes).
#: A ``None`` path means the payload is in the fragment (Signal keeps it out of server logs).
_MESSENGER_LINKS: dict[str, dict[str, re.Pattern[str] | None]] = {
    "telegram": {
        host: re.compile(rf"/(?:(?:s/)?{_TELEGRAM_USERNAME}(?:/[0-9]+)?|\+{_INVITE}|joinchat/{_INVITE})/?")
        for host in ("t.me", "telegram.me", "telegram.dog")
    },
    "signal": {"signal.me": None, "signal.group": None},
    "whatsapp": {
        "wa.me": re.compile(r"/(?:[1-9][0-9]{6,14}|message/[A-Za-z0-9]+|c/[1-9][0-9]{6,14})/?"),
        "api.whatsapp.com": re.compile(r"/send/?"),
        "chat.whatsapp.com": re.compile(rf"/(?:invite/)?{_INVITE}/?"),
        "whatsapp.com": re.compile(rf"/channel/{_INVITE}/?"),
        "www.whatsapp.com": re.compile(rf"/channel/{_INVITE}/?"),
    },
}
_TELEGRAM_SUBDOMAIN = re.compile(rf"{_TELEGRAM_USERNAME}\.t\.me")
#: First path segments Telegram reserves for actions, not people: a "contact" such as
#: ``t.me/proxy?server=…`` offers to route all the reader's Telegram traffic through a stranger's
#: server, ``t.me/login/…`` and ``t.me/confirmphone`` touch the account. (From Telegram's own
#: list of t.me links, core.telegram.org/api/links; usernames of 5+ characters could collide.)
_TELEGRAM_RESERVED = frozenset(
    {
        "addemoji", "addlist", "addstickers", "addtheme", "boost", "confirmphone", "contact", "giftcode",
        "invoice", "joinchat", "login", "proxy", "setlanguage", "settings", "share", "socks",
    }
)
_WHATSAPP_PHONE = re.compile(r"[1-9][0-9]{6,14}")


def _digits(value: str) -> int:
    return sum(ch.isdigit() for ch in value)


def _is_international_phone(value: str) -> bool:
    return bool(_INTERNATIONAL_PHONE.fullmatch(value)) and 7 <= _digits(value) <= 15


def _is_phone(value: str) -> bool:
    if value.startswith("+"):
        return _is_international_phone(value)
    return bool(_NATIONAL_PHONE.fullmatch(value)) and 3 <= _digits(value) <= 15


def _is_link(value: str) -> bool:
    """Written as a web address (then the URL policy decides, with its own message)."""
    return value.lower().startswith(("https://", "http://"))


# --- the policy ----------------------------------------------------------------------------------


def check_contact(
    field: str, channel: str, value: str, *, known_domains: Iterable[str] = frozenset()
) -> list[FieldProblem]:
    """The first rule a contact value breaks, as ``[(field, "[rule] message")]``; ``[]`` if none.

    ``known_domains`` as for ``check_url``: an address that looks like one of them but is a
    different domain is refused.
    """
    known = frozenset(known_domains)
    if channel == "web":
        return check_url(field, value, known_domains=known)
    if channel == "email":
        return _check_email(field, value, known)
    if channel == "phone":
        return [] if _is_phone(value) else _format_problem(field, channel, value)
    if channel in _MESSENGER_LINKS:
        if _is_link(value):
            return _check_messenger_link(field, channel, value, known)
        if channel == "telegram" and _TELEGRAM_HANDLE.fullmatch(value):
            return []
        if channel == "signal" and _SIGNAL_USERNAME.fullmatch(value):
            return []
        if _is_international_phone(value):
            return []
        return _format_problem(field, channel, value)
    return [(field, f"[contact-format] unknown contact channel {channel!r}")]


def contact_domain(channel: str, value: str) -> str | None:
    """The registrable domain a contact value points to (a link's, a mail address's), or None."""
    if _is_link(value):
        return registrable_domain_of(value)
    if channel == "email" and "@" in value:
        return registrable_domain_of(f"https://{value.rpartition('@')[2]}/")
    return None


def _format_problem(field: str, channel: str, value: str, why: str = "") -> list[FieldProblem]:
    shown = value if len(value) <= 60 else value[:57] + "…"
    reason = f" ({why})" if why else ""
    return [(field, f"[contact-format] {shown!r} is not a valid {channel} contact{reason}: write {CONTACT_FORMATS[channel]}")]


def _check_email(field: str, value: str, known: frozenset[str]) -> list[FieldProblem]:
    if value.lower().startswith("mailto:"):
        return _format_problem(field, "email", value, "remove 'mailto:'")
    match = _EMAIL.fullmatch(value)
    if match is None:
        return _format_problem(field, "email", value)
    if len(match["local"]) > MAX_EMAIL_LOCAL:
        return _format_problem(field, "email", value, f"the part before '@' is longer than {MAX_EMAIL_LOCAL} characters")
    return check_host(field, match["domain"], known_domains=known)


def _check_messenger_link(field: str, channel: str, value: str, known: frozenset[str]) -> list[FieldProblem]:
    problems = check_url(field, value, known_domains=known)
    if problems:
        return problems
    split = urlsplit(value)
    host = split.hostname or ""
    paths = _MESSENGER_LINKS[channel]
    if channel == "telegram" and _TELEGRAM_SUBDOMAIN.fullmatch(host):  # <username>.t.me
        return [] if split.path in ("", "/") else _format_problem(field, channel, value, "the link names no contact")
    if host not in paths:
        return _format_problem(field, channel, value, f"{host} is not {channel}'s own address")
    pattern = paths[host]
    if pattern is None:  # Signal: the contact is in the fragment
        if split.query:
            return _format_problem(field, channel, value, "a contact link carries no query")
        return [] if split.path in ("", "/") and split.fragment else _format_problem(field, channel, value, "the link names no contact")
    if not pattern.fullmatch(split.path):
        return _format_problem(field, channel, value, "the link names no contact")
    first = split.path.strip("/").split("/")[0].lower()
    if channel == "telegram" and first in _TELEGRAM_RESERVED and not split.path.startswith("/joinchat/"):
        return _format_problem(field, channel, value, f"t.me/{first} is a Telegram action (proxy, login, settings…), not a contact")
    if host == "api.whatsapp.com":
        # Exactly one phone number, nothing else: no second number, no prefilled message.
        pairs = parse_qsl(split.query, keep_blank_values=True)
        if len(pairs) != 1 or pairs[0][0] != "phone" or not _WHATSAPP_PHONE.fullmatch(pairs[0][1]) or split.fragment:
            return _format_problem(field, channel, value, "the link must name exactly one phone number and nothing else")
    elif split.query or split.fragment:
        # A prefilled message (?text=…), a bot start parameter or a proxy's settings: a contact
        # link names the contact alone.
        return _format_problem(field, channel, value, "a contact link carries no query or fragment")
    return []
