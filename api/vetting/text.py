"""The text policy: titles, summaries and every other human-readable field are plain text.

Pure functions, no I/O. ``check_text`` returns at most one ``(field, message)`` problem, the
first rule broken in the order of ``TEXT_RULES``; each message starts with the rule's name in
brackets (``[html] ...``).

Decisions worth knowing
-----------------------

- Line breaks (``\\n``) are allowed only where ``multiline=True`` (summaries, notes, report
  details); every other control character, and U+2028/U+2029, is refused everywhere.
- Bidirectional *overrides and isolates* (U+202A–U+202E, U+2066–U+2069) are refused: they can
  reorder what a reader sees. The plain direction *marks* (U+200E, U+200F, U+061C) are allowed:
  they cannot reorder letters, and mixed right-to-left/left-to-right text needs them.
- U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER and U+FEFF (a stray byte-order mark) are refused
  everywhere. U+200C ZERO WIDTH NON-JOINER and U+200D ZERO WIDTH JOINER are refused inside a
  word, *except* between letters of scripts whose spelling needs them — Persian writes
  ``می‌شود`` with a ZWNJ, as the seed data does, and Indic scripts use ZWJ/ZWNJ for conjuncts —
  and (ZWJ only) inside emoji sequences such as the rainbow flag 🏳️‍🌈. Next to a Latin,
  Cyrillic or Greek letter they are always refused.
- Other invisible format characters (U+00AD soft hyphen aside, which is harmless) such as
  U+2061–U+2064, U+180E, U+FFF9–U+FFFB and the tag characters U+E0000–U+E007F ("ASCII
  smuggling") are refused, as are private-use characters and lone surrogates.
- Text must already be in Unicode normalization form C (NFC): what is stored is what was
  reviewed, and searching and comparing work on one spelling of each letter.
"""

from __future__ import annotations

import re
import unicodedata

from confusable_homoglyphs import categories as _scripts

__all__ = ["TEXT_RULES", "check_text"]

FieldProblem = tuple[str, str]

TEXT_RULES: dict[str, str] = {
    "control-char": "no control characters (a line break only in multi-line fields)",
    "bidi-control": "no bidirectional overrides or isolates (U+202A–U+202E, U+2066–U+2069)",
    "zero-width": "no zero-width characters inside words (U+200B–U+200D, U+2060, U+FEFF)",
    "invisible-char": "no other invisible format characters (tags, invisible operators…)",
    "invalid-char": "no private-use characters or lone surrogates",
    "nfc": "already normalized to Unicode NFC",
    "html": "plain text: no HTML tags or character entities",
    "whitespace": "no white space at the start or end",
    "single-line": "one line, where the field is a single line",
    "length": "within the field's length limit",
}

_HTML = re.compile(r"<\s*/?\s*[A-Za-z!?]|&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ALWAYS_ZERO_WIDTH = frozenset("\u200b\u2060\ufeff")
_JOINERS = frozenset("\u200c\u200d")
_INVISIBLE = frozenset("\u180e\u2061\u2062\u2063\u2064\ufff9\ufffa\ufffb")
#: Scripts whose ordinary spelling uses ZWNJ/ZWJ between letters.
_JOINING_SCRIPTS = frozenset(
    {
        "ARABIC", "SYRIAC", "NKO", "MANDAIC", "MONGOLIAN", "PHAGS_PA", "THAANA",
        "DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI", "ORIYA", "TAMIL", "TELUGU", "KANNADA",
        "MALAYALAM", "SINHALA", "MYANMAR", "KHMER", "TIBETAN", "LAO", "THAI", "JAVANESE", "BALINESE",
    }
)


def _describe(ch: str) -> str:
    fallback = "control character" if unicodedata.category(ch) == "Cc" else "unnamed character"
    return f"U+{ord(ch):04X} {unicodedata.name(ch, fallback)}"


def _base_before(text: str, index: int) -> str | None:
    """The character before ``index``, skipping combining marks and variation selectors (they
    belong to the character before them)."""
    index -= 1
    while index >= 0 and unicodedata.category(text[index]) in ("Mn", "Me", "Mc"):
        index -= 1
    return text[index] if index >= 0 else None


def _is_emoji(ch: str | None) -> bool:
    return ch is not None and (unicodedata.category(ch) == "So" or 0x1F3FB <= ord(ch) <= 0x1F3FF)


def _joiner_is_spelling(text: str, index: int) -> bool:
    """Whether the ZWNJ/ZWJ at ``index`` is part of the spelling, not an invisible insertion."""
    before = _base_before(text, index)
    after = text[index + 1] if index + 1 < len(text) else None
    if before is None or after is None:
        return False
    if text[index] == "\u200d" and _is_emoji(before) and _is_emoji(after):
        return True
    if not (unicodedata.category(before)[0] in "LM" and unicodedata.category(after)[0] in "LM"):
        return False
    return _scripts.alias(before) in _JOINING_SCRIPTS and _scripts.alias(after) in _JOINING_SCRIPTS


def check_text(
    field: str,
    text: str,
    *,
    multiline: bool = True,
    max_length: int | None = None,
) -> list[FieldProblem]:
    """The first text rule ``text`` breaks, as ``[(field, "[rule] message")]``; ``[]`` if none.

    ``multiline``: whether a line break is allowed (summaries); ``max_length`` in characters.
    """
    problem = _first_problem(text, multiline=multiline, max_length=max_length)
    return [] if problem is None else [(field, problem)]


def _first_problem(text: str, *, multiline: bool, max_length: int | None) -> str | None:
    for index, ch in enumerate(text):
        category = unicodedata.category(ch)
        if (category == "Cc" and ch != "\n") or category in ("Zl", "Zp"):
            return f"[control-char] text must not contain control characters: {_describe(ch)} at position {index}"
        if ch in _BIDI_CONTROLS:
            return f"[bidi-control] text must not contain bidirectional overrides or isolates: {_describe(ch)} at position {index}"
        if ch in _ALWAYS_ZERO_WIDTH or (ch in _JOINERS and not _joiner_is_spelling(text, index)):
            return f"[zero-width] text must not contain zero-width characters inside words: {_describe(ch)} at position {index}"
        if ch in _INVISIBLE or 0xE0000 <= ord(ch) <= 0xE007F:
            return f"[invisible-char] text must not contain invisible characters: {_describe(ch)} at position {index}"
        if category in ("Co", "Cs"):
            return f"[invalid-char] text must not contain private-use characters or surrogates: {_describe(ch)} at position {index}"
    if not unicodedata.is_normalized("NFC", text):
        return "[nfc] text is not in Unicode normalization form C: normalize it to NFC (unicodedata.normalize('NFC', text))"
    if _HTML.search(text):
        return "[html] text must be plain text, not HTML (found markup or an entity)"
    if text != text.strip():
        return "[whitespace] text must not start or end with white space"
    if not multiline and "\n" in text:
        return "[single-line] this field is a single line of text (no line breaks)"
    if max_length is not None and len(text) > max_length:
        return f"[length] text is {len(text)} characters long (at most {max_length})"
    return None
