"""Who a person is, for the four-eyes rule: one key per person, whatever the case or spacing.

A token's *name* identifies a person. Names that differ only in case, Unicode form (full-width
letters, composed or decomposed accents), white space or the separators ``.``, ``_`` and ``-``
are one person: ``Ana Souza``, ``ANA SOUZA``, ``AnaSouza`` and ``ana_souza`` share a key, so a
second token spelt differently does not make a second reviewer. Look-alike letters are *not* folded into the key — that would make
different people one (``Neil`` and ``Nell`` look alike in capitals) — but a new token whose
name looks like an existing person's while being spelt differently is refused when it is
made (``look_alike_of``), so two people can never be told apart by one letter's shape.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from api.vetting.lookalikes import skeleton

__all__ = ["look_alike_of", "person_key"]


def _normalized(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).split())


def person_key(name: str) -> str:
    """NFKC, case-folded, without white space and the separators ``._-``: the same person
    however the name is cased, spaced or joined."""
    return "".join(ch for ch in _normalized(name).casefold() if not ch.isspace() and ch not in "._-")


def look_alike_of(name: str, existing: Iterable[str]) -> str | None:
    """An existing name that looks like ``name`` as written (UTS 39 skeleton) but belongs to a
    different person; None when there is none."""
    key, shape = person_key(name), skeleton(_normalized(name))
    for other in existing:
        if person_key(other) != key and skeleton(_normalized(other)) == shape:
            return other
    return None
