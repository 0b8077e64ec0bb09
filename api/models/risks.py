"""Legal risks: a state's designation of the organization behind a listing, and what it means
for a reader in that country.

Why a module of its own: "vetted" has to mean safe to act on *from where the reader is*. A
listing's ``legal_risks`` record, per country, that the organization is a "foreign agent",
"undesirable", "extremist", banned or blocked there (with when, and the sources that say so);
the public lists then serve, for the country they are asked about, a ``safety`` block and
withhold the actions that leave a traceable record (a donation, a signature) toward an
organization whose support is a crime there. The rule's two halves (which designations are a
danger, which kinds are withheld) are declared here once, because the read model (the
``safety`` level) and the store (the SQL that withholds, counts included) must agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, get_args

import msgspec
from msgspec import Meta

from api.models.common import Base, HttpsUrl, Kind, LanguageTag, Note

__all__ = [
    "DANGER_DESIGNATIONS",
    "DESIGNATIONS",
    "WITHHELD_KINDS",
    "DesignatingCountry",
    "Designation",
    "LegalRisk",
    "Safety",
    "SafetyLevel",
    "SafetyNote",
]

Designation = Literal["foreign-agent", "undesirable", "extremist", "banned", "blocked", "other"]
#: Every designation, in the order the spec lists them.
DESIGNATIONS: tuple[str, ...] = get_args(Designation)
#: Designations under which supporting or taking part in the organization's work is an offence
#: in that country: a listing so designated is a `danger` there. The others (`foreign-agent`,
#: `blocked`, `other`) are a `caution`.
DANGER_DESIGNATIONS: frozenset[str] = frozenset({"undesirable", "extremist", "banned"})
#: Actions that leave a traceable record (a payment, a signature): toward an organization with a
#: danger designation in a country, they are withheld from that country's lists by default
#: (`include=risky` lists them). Organizations stay listed: cutting a reader off from a hotline
#: or an evacuation is a harm too.
WITHHELD_KINDS: frozenset[Kind] = frozenset({"donation", "petition"})

SafetyLevel = Literal["none", "caution", "danger"]


#: The designating state: a real country, never ``XX`` (checked in ``api.validation``).
DesignatingCountry = Annotated[
    str,
    Meta(
        pattern=r"^[A-Z]{2}\Z",
        description="The designating country: ISO 3166-1 alpha-2, upper case (not `XX`). Any country, "
        "not only the listing's own: a worldwide listing may be designated in one country.",
        examples=["RU"],
    ),
]
_DESIGNATION = (
    "`foreign-agent`, `undesirable`, `extremist`, `banned`, `blocked` (its site is blocked there) or "
    "`other` (the note says what it is)."
)


class LegalRisk(Base, kw_only=True):
    """A state's designation of the organization behind a listing, in one country."""

    country: DesignatingCountry
    designation: Annotated[Designation, Meta(description=_DESIGNATION)]
    since: Annotated[dt.date, Meta(description="The day it took effect; never in the future.")]
    sources: Annotated[
        list[HttpsUrl],
        Meta(min_length=1, max_length=10, description="Where it is reported; vetted like every other URL."),
    ]
    note: Annotated[
        dict[LanguageTag, Note],
        Meta(
            min_length=1,
            max_length=40,
            description="What it means for a reader there, in plain text, keyed by language like "
            "`translations`. Required for `other`.",
        ),
    ] = {}


class SafetyNote(msgspec.Struct, kw_only=True):
    """One designation in the country asked about, as a reader there sees it."""

    designation: Annotated[Designation, Meta(description=_DESIGNATION)]
    since: dt.date
    text: Annotated[
        str | None,
        Meta(
            description="The curators' note in the answer's language when it exists (else English, else "
            "the first written); null when they wrote none."
        ),
    ]
    lang: Annotated[str | None, Meta(description="The language of `text`; null with it.")]
    sources: list[str]


class Safety(msgspec.Struct, kw_only=True):
    """What acting on a listing may mean for a reader in the country the request names."""

    level: Annotated[
        SafetyLevel,
        Meta(
            description="`danger`: designated `undesirable`, `extremist` or `banned` there (supporting it "
            "is an offence there; donations and petitions are withheld unless `include=risky`); "
            "`caution`: any other designation there; `none`: none there."
        ),
    ]
    notes: Annotated[list[SafetyNote], Meta(description="Each designation in that country.")]
