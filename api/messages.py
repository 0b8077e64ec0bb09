"""Validation messages and patterns as the published spec states them (no web types here).

The code anchors patterns with Python's ``\\Z``; the spec (JSON Schema, ECMA-262) says ``$``.
Messages that quote a pattern are rewritten to match, wherever they are made: the importer,
a domain rule, a problem. Kept free of litestar so the importer and the services can use it.
"""

from __future__ import annotations

import re

__all__ = ["ecma_message", "ecma_pattern"]


def ecma_pattern(pattern: str) -> str:
    """A pattern of the code as JSON Schema states it: ECMA-262 has no ``\\A`` or ``\\Z``.

    The code anchors with ``\\Z`` because Python's ``$`` also matches before a final newline
    (and msgspec and litestar apply patterns with ``re.search``); in ECMA-262, ``$`` (without
    the ``m`` flag) is already the end of the input, so the spec says ``$`` and means the same.
    Only anchors outside a character class are translated; every other escape is kept.
    """
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        ch = pattern[index]
        if ch == "\\" and index + 1 < len(pattern):
            escaped = pattern[index + 1]
            anchor = {"Z": "$", "A": "^"}.get(escaped) if not in_class else None
            out.append(anchor or ch + escaped)
            index += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append(ch)
        index += 1
    return "".join(out)


#: A pattern quoted in a validation message, as msgspec writes it: ``matching regex %R``.
_QUOTED_PATTERN = re.compile(r"""matching regex (?P<literal>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""", re.S)
_REPR_ESCAPE = re.compile(r"\\(?:x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|.)", re.S)
_SIMPLE_ESCAPES = {"\\\\": "\\", "\\'": "'", '\\"': '"', "\\n": "\n", "\\r": "\r", "\\t": "\t"}


def _from_repr(literal: str) -> str | None:
    """The string whose ``repr()`` is ``literal``; None when it is not one (e.g. already rewritten)."""

    def unescape(match: re.Match[str]) -> str:
        escape = match[0]
        if escape in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[escape]
        if escape[1] in "xuU" and len(escape) > 2:
            return chr(int(escape[2:], 16))
        raise ValueError(escape)

    try:
        value = _REPR_ESCAPE.sub(unescape, literal[1:-1])
    except ValueError:
        return None
    return value if repr(value) == literal else None


def ecma_message(message: str) -> str:
    """A validation message quoting each pattern as the spec states it.

    msgspec (and litestar, which validates parameters with it) writes ``Expected `str` matching
    regex '^[A-Z]{2}\\\\Z'``: the code's pattern, in Python's ``repr``. A client reading the spec
    finds ``^[A-Z]{2}$``, so the message quotes that: ``ecma_pattern`` of the pattern, as it is
    (not escaped again). Only patterns with Python's anchors are rewritten, so a message that
    passes here twice (a listing's errors do, on the way to a problem) stays as it was.
    """

    def rewrite(match: re.Match[str]) -> str:
        pattern = _from_repr(match["literal"])
        if pattern is None or ecma_pattern(pattern) == pattern:
            return match[0]
        return f"matching regex '{ecma_pattern(pattern)}'"

    return _QUOTED_PATTERN.sub(rewrite, message) if "matching regex" in message else message
