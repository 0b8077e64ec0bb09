"""Who a person is, for the four-eyes rule: one key per person, whatever the spelling.

A token's *name* identifies a person. Two names that a reviewer would read as the same name
must be the same person, or the four-eyes rule is dodged by minting a second token spelt
differently: ``Ana``, ``ana``, ``ＡＮＡ`` (full-width), ``Ana`` with a Cyrillic ``А`` and
``Ana`` in another Unicode normalization form all have one key. The key is never shown.
"""

from __future__ import annotations

import unicodedata

from api.vetting.urls import skeleton

__all__ = ["person_key"]


def person_key(name: str) -> str:
    """NFKC, white space collapsed, upper-cased, the UTS 39 skeleton, case-folded.

    Upper case first, so that both spellings meet in the case where letters look alike: a
    capital ``I`` looks like ``l`` (``MIRA`` and ``Mira`` must be one person, and so must
    ``IoIa`` and ``Lola``); the skeleton then folds look-alikes (``0``/``O``, Cyrillic ``А``).
    """
    normalized = " ".join(unicodedata.normalize("NFKC", name).split()).upper()
    return skeleton(normalized).casefold()
