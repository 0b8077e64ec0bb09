"""Full-text search: the text the FTS5 index holds, and the queries a user's words become.

Why a module of its own: the indexed text and the query must be folded the same way, or
they never meet; and every word a user types must reach FTS5 as a word, never as syntax.
Both rules live here, next to each other.
"""

from __future__ import annotations

import unicodedata

__all__ = ["fold", "fts_query"]


def fold(text: str) -> str:
    """Text as the search index sees it: without diacritics in any script, without controls.

    SQLite's ``remove_diacritics`` folds Latin letters only; decomposing in Python and dropping
    combining marks also folds Cyrillic (ё -> е) and Greek (ή -> η), on both the indexed text and
    the query, so they meet.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(
        " " if unicodedata.category(ch) == "Cc" else ch
        for ch in decomposed
        if not unicodedata.combining(ch)
    )
    return unicodedata.normalize("NFC", kept)


def fts_query(text: str) -> str | None:
    """Turn free text into a safe FTS5 query: every word must match, the last as a prefix.

    Each token is quoted, so FTS5 operators typed by a user (``OR``, ``NEAR``, ``*``, ``"``)
    are searched as words, never parsed as syntax.
    """
    words = [w.replace('"', "") for w in fold(text).split()]
    words = [w for w in words if w]
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)
