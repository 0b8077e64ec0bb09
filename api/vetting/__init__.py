"""The URL and text safety policy: pure functions, no I/O, one policy for every write path.

``api.validation`` applies it to every URL and text field of a listing (the importer and
curator submissions both go through ``check_listing``), so a rule added here covers them all.

Every problem is a ``(field, message)`` pair whose message starts with the rule's name in
brackets, e.g. ``[https-only] URL must use https``; ``URL_RULES``, ``CONTACT_RULES`` and
``TEXT_RULES`` say what each rule is for.

Modules: ``api.vetting.urls`` (the URL policy; host names read by ``api.vetting.domains``,
look-alikes judged by ``api.vetting.lookalikes``), ``api.vetting.contacts`` (contact values: a
format per channel, and the URL policy for every address in them), ``api.vetting.text`` (the
text policy); the link checker, ``api.vetting.links``, applies the same URL policy to every hop
it follows, and connects only to addresses ``api.vetting.net`` vetted. Reviewed lists
(shorteners, redirectors) are data files in ``api/vetting/data/``.
"""

from __future__ import annotations

from api.vetting.contacts import CONTACT_FORMATS, CONTACT_RULES, check_contact, contact_domain
from api.vetting.domains import registrable_domain
from api.vetting.lookalikes import skeleton
from api.vetting.text import TEXT_RULES, FieldProblem, check_text
from api.vetting.urls import (
    REDIRECTOR_HOSTS,
    SHORTENERS,
    TRACKING_PARAMETERS,
    URL_RULES,
    check_host,
    check_url,
    normalize_url,
    registrable_domain_of,
)

__all__ = [
    "CONTACT_FORMATS",
    "CONTACT_RULES",
    "REDIRECTOR_HOSTS",
    "SHORTENERS",
    "TEXT_RULES",
    "TRACKING_PARAMETERS",
    "URL_RULES",
    "FieldProblem",
    "check_contact",
    "check_host",
    "check_text",
    "check_url",
    "contact_domain",
    "normalize_url",
    "registrable_domain",
    "registrable_domain_of",
    "skeleton",
]
