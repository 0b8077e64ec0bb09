"""Request bodies: JSON in UTF-8, at most 1 MiB, and every problem with one a 4xx.

litestar reads a handler's ``data`` through ``Request.json()``, msgspec's untyped decoder.
litestar turns msgspec's ``DecodeError`` into a 400 but lets two other failures through as
500s: ``RecursionError`` (arrays or objects nested deeper than the interpreter's stack
allows) and ``UnicodeDecodeError`` (bytes that are not UTF-8). ``JsonRequest``, the app's
request class, catches both and words every failure as a 400 naming the body; it also
refuses a body that is not declared JSON (415), before decoding it. That closes a door:
an HTML form on any site can post ``text/plain``, urlencoded or multipart bodies without a
CORS preflight, but never ``application/json``.

The size limit is litestar's ``request_max_body_size``, set to ``MAX_BODY_BYTES`` (413).
"""

from __future__ import annotations

import codecs
from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException, SerializationException

from api.http.problems import FieldError, InvalidRequest

__all__ = ["MAX_BODY_BYTES", "JsonRequest", "UnsupportedBody", "check_media_type"]

MAX_BODY_BYTES = 1024 * 1024
"""1 MiB. The largest valid body, a submission with 40 translations at their length limits,
every character ``\\u``-escaped as ``json.dumps`` writes by default, is about 0.6 MiB;
anything larger is not a request this API can accept."""

_SEND_JSON = "send the body as JSON in UTF-8 with `Content-Type: application/json`"
_BOMS = {
    codecs.BOM_UTF8: "starts with a UTF-8 byte order mark; send JSON without one (RFC 8259 §8.1)",
    codecs.BOM_UTF32_LE: "is UTF-32; send UTF-8 (RFC 8259 §8.1)",  # before UTF-16 LE: same first bytes
    codecs.BOM_UTF32_BE: "is UTF-32; send UTF-8 (RFC 8259 §8.1)",
    codecs.BOM_UTF16_LE: "is UTF-16; send UTF-8 (RFC 8259 §8.1)",
    codecs.BOM_UTF16_BE: "is UTF-16; send UTF-8 (RFC 8259 §8.1)",
}


class UnsupportedBody(HTTPException):
    """415: the body is not declared JSON in UTF-8, or is compressed."""

    status_code = 415


def _is_json(media_type: str) -> bool:
    """``application/json`` or a structured ``application/<name>+json`` (RFC 6839)."""
    if media_type == "application/json":
        return True
    kind, _, subtype = media_type.partition("/")
    return kind == "application" and subtype.endswith("+json") and len(subtype) > len("+json")


def check_media_type(request: Request) -> None:
    """Raise ``UnsupportedBody`` unless the body is declared JSON, UTF-8 and uncompressed."""
    raw = request.headers.get("content-type")
    if raw is None:
        raise UnsupportedBody(
            detail=f"the request has a body but no Content-Type; {_SEND_JSON}",
            headers={"Accept-Post": "application/json"},
        )
    media_type, params = request.content_type
    if not _is_json(media_type):
        raise UnsupportedBody(
            detail=f"the body is declared {raw.strip()!r}, which this API does not read; {_SEND_JSON}",
            headers={"Accept-Post": "application/json"},
        )
    charset = params.get("charset")
    if charset is not None and charset.strip().lower() != "utf-8":
        raise UnsupportedBody(
            detail=f"the body is declared in charset {charset!r}; JSON is UTF-8 (RFC 8259 §8.1): {_SEND_JSON}",
            headers={"Accept-Post": "application/json"},
        )
    coding = request.headers.get("content-encoding")
    if coding is not None and coding.strip().lower() != "identity":
        raise UnsupportedBody(
            detail=f"the body is sent with Content-Encoding {coding.strip()!r}; send it uncompressed",
            headers={"Accept-Encoding": "identity"},
        )


def _body_error(detail: str) -> InvalidRequest:
    return InvalidRequest([FieldError(in_="body", field="", detail=detail)])


def _why_not_json(body: bytes, otherwise: str) -> str:
    """Name the usual mistake (a byte order mark, UTF-16) before the decoder's message."""
    for bom, why in _BOMS.items():
        if body.startswith(bom):
            return f"the body {why}"
    if b"\x00" in body[:4]:
        return "the body looks UTF-16 or UTF-32 encoded; send UTF-8 (RFC 8259 §8.1)"
    return otherwise


class JsonRequest(Request):
    """The app's request class: JSON bodies are checked, and read without a 500."""

    async def json(self) -> Any:
        check_media_type(self)
        try:
            return await super().json()
        except RecursionError:
            raise _body_error(
                "the body nests arrays or objects too deeply to be read; no request to this API "
                "nests more than a few levels"
            ) from None
        except UnicodeDecodeError as exc:
            why = f"the body is not UTF-8 (byte {exc.start}); {_SEND_JSON}"
            raise _body_error(_why_not_json(await self.body(), why)) from None
        except SerializationException as exc:
            raise _body_error(_why_not_json(await self.body(), f"the body is not valid JSON: {exc}")) from None
