"""The text policy: titles, summaries and every other human-readable field are plain text.

Pure functions, no I/O. ``check_text`` returns at most one ``(field, message)`` problem, the
first rule broken in the order of ``TEXT_RULES``; each message starts with the rule's name in
brackets (``[html] ...``).

What a reviewer reads must be what a reader sees: no character may be invisible, render as
blank, or change how the characters around it look, unless the spelling of some language or
an emoji needs it.

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
- Variation selectors (U+FE00–U+FE0F, U+E0100–U+E01EF, Mongolian U+180B–U+180D and U+180F)
  are allowed only right after a character that has variation sequences, and at most one per
  character: VS15/VS16 (U+FE0E/U+FE0F, text or emoji style) after a symbol or one of the few
  letters, digits and punctuation marks that have an emoji form (``#*0-9‼⁉ℹ〰〽``); VS17–VS256
  (ideographic variation sequences, used for Japanese names) after a Han ideograph; VS1–VS14
  after a Han ideograph, a math symbol, the digit zero or a letter of the scripts with
  standardized variants (Myanmar, Phags-pa, Manichaean); the Mongolian free variation
  selectors after a Mongolian letter. Anywhere else, and in runs, they carry nothing a reader
  sees — runs of them can smuggle arbitrary data through an innocent-looking emoji.
- Characters that render as blank space but are not white space are refused: the Hangul
  fillers (U+115F, U+1160, U+3164, U+FFA0), U+2800 BRAILLE PATTERN BLANK, U+1D159 MUSICAL
  SYMBOL NULL NOTEHEAD and U+FFFC OBJECT REPLACEMENT CHARACTER. They make a title look empty,
  or two spellings of one name look the same. (The other Braille patterns are visible dots.)
- Every other format character (category Cf) and every other *default-ignorable* code point
  (Unicode's Default_Ignorable_Code_Point property, written out in ``_DEFAULT_IGNORABLE``
  because Python's ``unicodedata`` does not have it) is refused: U+034F COMBINING GRAPHEME
  JOINER, U+17B4/U+17B5, U+180E, U+2061–U+206F, U+FFF0–U+FFF8, U+1BCA0–U+1BCA3,
  U+1D173–U+1D17A, U+E0000–U+E0FFF (the tag characters used for "ASCII smuggling" among them)
  and the interlinear annotation marks U+FFF9–U+FFFB. Two exceptions: the direction marks above,
  and the tag characters inside the three subdivision flags that are standard emoji (England,
  Scotland, Wales: 🏴 + tags + CANCEL TAG).
- U+00AD SOFT HYPHEN is refused too: it is invisible unless a line breaks at it, so it can split
  a word (``Amne\\u00adsty``) past search and reviewers' eyes; titles and summaries here are too
  short to need hyphenation hints.
- Private-use characters, lone surrogates, noncharacters (U+FDD0–U+FDEF, U+xFFFE/U+xFFFF) and
  code points not assigned in the server's Unicode version (``unicodedata.unidata_version``)
  are refused: nobody can review what has no defined glyph. A brand-new emoji may be refused
  until the server's Python knows it.
- A combining mark must sit on something: it is refused at the start of the text, after a
  line break, white space or a format character (it would float alone or stack on nothing),
  and when more than ``MAX_MARKS_ON_ONE_CHARACTER`` sit on one character ("Zalgo" text spills
  over neighbouring lines; no ordinary spelling comes near). ZWJ/ZWNJ may sit between a
  character and its marks, as Unicode's combining sequences allow.
- Text must already be in Unicode normalization form C (NFC): what is stored is what was
  reviewed, and searching and comparing work on one spelling of each letter.
- HTML: a tag, end tag, comment, declaration or processing instruction (``<b``, ``< b``,
  ``</``, ``<!--``, ``<?``) is refused, and so is every character reference a browser would
  decode: ``&name;``, ``&#60``/``&#x3c`` with or without ``;``, and — because browsers decode
  them without ``;`` and even as a prefix (``&notin`` shows ``¬in``) — the 106 legacy names of
  the WHATWG table (``&amp``, ``&lt``, ``&LT``, ``&copy``…, taken from ``html.entities``).
  A plain ampersand stays valid: ``Smith & Jones``, ``AT&T``, ``Q&A`` decode to themselves.
  So does ``<`` before a digit or space (``3 < 4``). Full-width and small forms (``＜``,
  ``﹤``, ``＆``) are not markup to any browser; they are refused only when their compatibility
  form (NFKC) would be markup (``＜script＞``), in case something downstream folds them —
  ``＜緊急＞`` in Japanese stays valid.
- Template syntax ``{{`` (AngularJS, Vue, Handlebars, Jinja) and ``<%`` (ERB, EJS, ASP, JSP)
  is refused: a page that embeds escaped text inside a client-side template still evaluates
  ``{{…}}``, so escaping alone would not protect its readers.
- A text must have at least one visible character (letter, digit, punctuation or symbol):
  direction marks or white space alone are a blank title.
- No white space at either end, looking past direction marks (``\\u200f Title`` starts with a
  space a reader sees).
"""

from __future__ import annotations

import html.entities
import re
import unicodedata

from confusable_homoglyphs import categories as _scripts

__all__ = ["MAX_MARKS_ON_ONE_CHARACTER", "TEXT_RULES", "FieldProblem", "check_text", "is_invisible"]

#: A problem as every vetting policy reports it: (field, "[rule] message"). Defined here, in
#: the policy module that depends on no other, so the URL and contact policies share it.
FieldProblem = tuple[str, str]

TEXT_RULES: dict[str, str] = {
    "control-char": "no control characters (a line break only in multi-line fields)",
    "bidi-control": "no bidirectional overrides or isolates (U+202A–U+202E, U+2066–U+2069)",
    "zero-width": "no zero-width characters inside words (U+200B–U+200D, U+2060, U+FEFF)",
    "variation-selector": "variation selectors only where an emoji, ideograph or script needs one, one per character",
    "blank-char": "no characters that render as blank space (Hangul fillers, U+2800 BRAILLE PATTERN BLANK…)",
    "invisible-char": "no other invisible or format characters (default-ignorables, soft hyphen, tags…)",
    "invalid-char": "no private-use, unassigned or noncharacter code points, no lone surrogates",
    "combining-mark": "every combining mark sits on a letter or symbol, and only a few on one",
    "nfc": "already normalized to Unicode NFC",
    "html": "plain text: no HTML tags or character references (with or without `;`)",
    "template": "no template syntax (`{{`, `{%`, `{#`, `<%`, `${`, `#{`)",
    "blank-text": "at least one visible character",
    "whitespace": "no white space at the start or end",
    "single-line": "one line, where the field is a single line",
    "length": "within the field's length limit",
}

#: More combining marks than this on one character is refused ("Zalgo" text).
MAX_MARKS_ON_ONE_CHARACTER = 8

#: The legacy named references, which browsers decode without a ``;`` (``&amp``, ``&lt``…).
_LEGACY_REFERENCES = sorted((name for name in html.entities.html5 if not name.endswith(";")), key=len, reverse=True)
_HTML = re.compile(
    r"<\s*/?\s*[A-Za-z!?]"  # a tag, end tag, comment, declaration or processing instruction
    r"|</"  # any end tag opener: `</3` opens a bogus comment
    r"|&(?:#[0-9]|#[xX]"  # numeric references, `;` or not
    r"|[A-Za-z][A-Za-z0-9]*;"  # named references
    r"|(?:" + "|".join(_LEGACY_REFERENCES) + r"))"  # legacy names, `;` or not
)
#: Template openers of the common engines: Mustache/Angular/Vue/Jinja (``{{``), Jinja/Twig/
#: Liquid tags and comments (``{%``, ``{#``), ERB/ASP/JSP (``<%``), JavaScript template literals
#: and EL (``${``), Ruby/Pug/Spring (``#{``). Plain text has no use for them.
_TEMPLATE = re.compile(r"\{\{|\{%|\{#|<%|\$\{|#\{")

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ALWAYS_ZERO_WIDTH = frozenset("\u200b\u2060\ufeff")
_JOINERS = frozenset("\u200c\u200d")
_DIRECTION_MARKS = frozenset("\u200e\u200f\u061c")
#: Format characters allowed where the rules above say (joiners in context, direction marks).
_ALLOWED_FORMAT = _DIRECTION_MARKS | _JOINERS
#: Not white space, yet drawn as nothing (see the module docstring).
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800\U0001d159\ufffc")
#: Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt), as inclusive ranges.
_DEFAULT_IGNORABLE: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul choseong/jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian free variation selectors and vowel separator
    (0x200B, 0x200F),  # zero-width space, joiners, direction marks
    (0x202A, 0x202E),  # bidirectional embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, isolates, deprecated format controls
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors 1-16
    (0xFEFF, 0xFEFF),  # zero-width no-break space (byte-order mark)
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFF8),  # reserved
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol formatting
    (0xE0000, 0xE0FFF),  # tags, variation selectors 17-256, reserved
)
_VARIATION_SELECTORS: tuple[tuple[int, int], ...] = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF), (0x180B, 0x180D), (0x180F, 0x180F))
#: Not a symbol by category, yet with an emoji (and text) presentation sequence.
_EMOJI_NON_SYMBOLS = frozenset("#*0123456789\u203c\u2049\u2139\u3030\u303d")
#: Scripts with standardized variation sequences for VS1–VS14 (StandardizedVariants.txt).
_VARIANT_SCRIPTS = frozenset({"HAN", "MYANMAR", "PHAGS_PA", "MANICHAEAN"})
#: The emoji tag sequences (subdivision flags) that Unicode recommends: black flag, tags, cancel tag.
_EMOJI_TAG_SEQUENCES = tuple(
    "\U0001f3f4" + "".join(chr(0xE0000 + ord(c)) for c in region) + "\U000e007f" for region in ("gbeng", "gbsct", "gbwls")
)
#: Scripts whose ordinary spelling uses ZWNJ/ZWJ between letters.
_JOINING_SCRIPTS = frozenset(
    {
        "ARABIC", "SYRIAC", "NKO", "MANDAIC", "MONGOLIAN", "PHAGS_PA", "THAANA",
        "DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI", "ORIYA", "TAMIL", "TELUGU", "KANNADA",
        "MALAYALAM", "SINHALA", "MYANMAR", "KHMER", "TIBETAN", "LAO", "THAI", "JAVANESE", "BALINESE",
    }
)
_MARKS = ("Mn", "Mc", "Me")


def _in(ranges: tuple[tuple[int, int], ...], ch: str) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in ranges)


def is_invisible(ch: str) -> bool:
    """Renders as nothing or as blank: a format or default-ignorable character (variation
    selectors, fillers, tags…) or one of the blank-looking letters and symbols (U+3164, U+2800…).
    The URL policy uses it too: an address may not hide a character either."""
    return ch in _BLANK or unicodedata.category(ch) == "Cf" or _in(_DEFAULT_IGNORABLE, ch)


def _describe(ch: str) -> str:
    category = unicodedata.category(ch)
    fallback = {"Cc": "control character", "Cn": "unassigned code point"}.get(category, "unnamed character")
    return f"U+{ord(ch):04X} {unicodedata.name(ch, fallback)}"


def _base_before(text: str, index: int) -> str | None:
    """The character before ``index``, skipping combining marks and variation selectors (they
    belong to the character before them)."""
    index -= 1
    while index >= 0 and unicodedata.category(text[index]) in _MARKS:
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


def _variation_is_spelling(text: str, index: int) -> bool:
    """Whether the variation selector at ``index`` selects a form of the character just before it."""
    before = text[index - 1] if index > 0 else None
    if before is None or _in(_VARIATION_SELECTORS, before):
        return False
    code, category, script = ord(text[index]), unicodedata.category(before), _scripts.alias(before)
    if code in (0xFE0E, 0xFE0F):
        return category in ("So", "Sm") or before in _EMOJI_NON_SYMBOLS
    if 0xE0100 <= code <= 0xE01EF:
        return script == "HAN"
    if 0x180B <= code <= 0x180F:
        return script == "MONGOLIAN" and category.startswith("L")
    return script in _VARIANT_SCRIPTS or category == "Sm" or before == "0"


def _emoji_tag_positions(text: str) -> set[int]:
    """Positions of tag characters that belong to a standard subdivision-flag emoji."""
    positions: set[int] = set()
    if "\U0001f3f4" not in text:
        return positions
    for sequence in _EMOJI_TAG_SEQUENCES:
        start = text.find(sequence)
        while start != -1:
            positions.update(range(start + 1, start + len(sequence)))
            start = text.find(sequence, start + len(sequence))
    return positions


def _mark_has_base(text: str, index: int) -> bool:
    """Whether the combining mark at ``index`` belongs to a visible character before it."""
    index -= 1
    while index >= 0 and (unicodedata.category(text[index]) in _MARKS or text[index] in _JOINERS):
        index -= 1
    return index >= 0 and unicodedata.category(text[index])[0] in "LNPS"


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


def _character_problem(text: str, index: int, emoji_tags: set[int]) -> str | None:
    """The first rule the character at ``index`` breaks, in its context."""
    ch = text[index]
    category = unicodedata.category(ch)
    at = f"{_describe(ch)} at position {index}"
    if (category == "Cc" and ch != "\n") or category in ("Zl", "Zp"):
        return f"[control-char] text must not contain control characters: {at}"
    if ch in _BIDI_CONTROLS:
        return f"[bidi-control] text must not contain bidirectional overrides or isolates: {at}"
    if ch in _ALWAYS_ZERO_WIDTH or (ch in _JOINERS and not _joiner_is_spelling(text, index)):
        return f"[zero-width] text must not contain zero-width characters inside words: {at}"
    if _in(_VARIATION_SELECTORS, ch):
        if _variation_is_spelling(text, index):
            return None
        return (
            f"[variation-selector] a variation selector must directly follow an emoji, ideograph or "
            f"letter that has that variant, one per character: {at}"
        )
    if ch in _BLANK:
        return f"[blank-char] text must not contain characters that render as blank space: {at}"
    if (category == "Cf" or _in(_DEFAULT_IGNORABLE, ch)) and ch not in _ALLOWED_FORMAT and index not in emoji_tags:
        return f"[invisible-char] text must not contain invisible characters: {at}"
    if category in ("Co", "Cs", "Cn"):
        what = {"Co": "a private-use character", "Cs": "a lone surrogate"}.get(
            category, f"not a character in Unicode {unicodedata.unidata_version}"
        )
        return f"[invalid-char] text must not contain private-use, unassigned or invalid code points: {at} is {what}"
    if category in _MARKS and not _mark_has_base(text, index):
        return f"[combining-mark] a combining mark must follow the letter or symbol it belongs to: {at} has none"
    return None


def _first_problem(text: str, *, multiline: bool, max_length: int | None) -> str | None:
    emoji_tags = _emoji_tag_positions(text)
    marks_in_a_row = 0
    for index, ch in enumerate(text):
        if " " <= ch <= "~":  # printable ASCII breaks no character rule
            marks_in_a_row = 0
            continue
        problem = _character_problem(text, index, emoji_tags)
        if problem is not None:
            return problem
        marks_in_a_row = marks_in_a_row + 1 if unicodedata.category(ch) in _MARKS and not _in(_VARIATION_SELECTORS, ch) else 0
        if marks_in_a_row > MAX_MARKS_ON_ONE_CHARACTER:
            return (
                f"[combining-mark] more than {MAX_MARKS_ON_ONE_CHARACTER} combining marks on one character "
                f"at position {index - marks_in_a_row}"
            )
    if not unicodedata.is_normalized("NFC", text):
        return "[nfc] text is not in Unicode normalization form C: normalize it to NFC (unicodedata.normalize('NFC', text))"
    folded = unicodedata.normalize("NFKC", text)
    for form, how in ((text, ""), (folded, " in its compatibility (NFKC) form")):
        markup = _HTML.search(form)
        if markup:
            return f"[html] text must be plain text, not HTML: found {markup.group()!r}{how} (write the character itself, unescaped)"
        template = _TEMPLATE.search(form)
        if template:
            return f"[template] text must not contain template syntax: found {template.group()!r}{how}"
    if not any(unicodedata.category(ch)[0] in "LNPS" for ch in text):
        return "[blank-text] text must contain at least one visible character"
    visible = text.strip("".join(_DIRECTION_MARKS))
    if visible != visible.strip():
        return "[whitespace] text must not start or end with white space"
    if not multiline and "\n" in text:
        return "[single-line] this field is a single line of text (no line breaks)"
    if max_length is not None and len(text) > max_length:
        return f"[length] text is {len(text)} characters long (at most {max_length})"
    return None
