"""RFC 9457 problem details: the one error shape of the API.

Every 4xx and 5xx answer is ``application/problem+json``::

    {"type": "about:blank", "title": "Not Found", "status": 404,
     "detail": "no listing with id 'x'", "instance": "/v1/listings/x"}

Validation problems use the type ``urn:actiondir:problem:invalid-request`` and list each
field at fault in ``errors`` (``{"in": "query", "field": "limit", "detail": "..."}``), so a
client can point at the exact input to fix.

Exceptions, from the edge inward:

* litestar ``HTTPException`` (and subclasses: ``NotFoundException``, ``ValidationException``,
  ``MethodNotAllowedException``…) -> its status, as a problem;
* ``InvalidRequest`` -> 400 with ``errors``; raised by our own checks (unknown parameters,
  bad cursors, unknown topics);
* a domain error (api/errors.py), a rule the services refused -> 400 naming the body's
  fields, 403, 404, or 409 with the listing's ``current_revision``;
* ``StoreBusy`` and a busy ``sqlite3.OperationalError`` -> 503 with ``Retry-After``;
* anything else -> 500 with no internals revealed (the traceback goes to the log).
"""

from __future__ import annotations

import logging
import re
import sqlite3
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import quote

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from api.dataset import name_dict_paths
from api.errors import Conflict, DomainError, Invalid
from api.messages import ecma_message
from api.store import StoreBusy, is_busy_error

__all__ = [
    "INVALID_REQUEST_TYPE",
    "PROBLEM_MEDIA_TYPE",
    "RETRY_AFTER_BUSY",
    "FieldError",
    "InvalidRequest",
    "Problem",
    "exception_handlers",
    "handle_database_error",
    "handle_domain_error",
    "handle_http_exception",
    "handle_internal_error",
    "handle_store_busy",
    "problem_response",
    "problem_responses",
    "request_target",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
INVALID_REQUEST_TYPE = "urn:actiondir:problem:invalid-request"

_log = logging.getLogger("api")
_NAMED_FIELD = re.compile(r"^Object (?P<what>contains unknown|missing required) field `(?P<name>[^`]+)`")


class FieldError(msgspec.Struct, kw_only=True, rename={"in_": "in"}):
    """One input at fault."""

    in_: Literal["query", "path", "header", "body", "cookie"]
    field: str
    detail: str

    def __post_init__(self) -> None:
        # Whoever made it (litestar, the importer's resolver, a token's name check), a quoted
        # pattern reads as the spec writes it: ``$``, not Python's ``\Z``.
        self.detail = ecma_message(self.detail)


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):  # type is required, so never omitted
    """An RFC 9457 problem details object."""

    type: str
    """``about:blank`` when the status says it all; a URN for our own problem types."""
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] = []
    """For validation problems: each field at fault."""
    current_revision: int | None = None
    """For 409 conflicts about a listing: its revision now."""


class InvalidRequest(HTTPException):
    """A 400 naming the fields at fault."""

    status_code = 400

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__(detail="; ".join(f"{e.field}: {e.detail}" for e in errors))


_problem_encoder = msgspec.json.Encoder()

#: What a request target keeps as it is: printable ASCII but the space ("%" included, so what
#: the client percent-encoded stays so). Anything else is percent-encoded.
_AS_SENT = bytes(range(0x21, 0x7F)).decode()


def request_target(request: Request, *, with_query: bool = True) -> str:
    """The path (and query) as the client sent them, percent-encoded: never a decoded control
    character (``/v1/countries/RU%0A``, not a line break), for problems and logs."""
    scope = request.scope
    raw = scope.get("raw_path")
    # Some servers (and test clients) put the query in raw_path too; a raw path has no "?".
    path = raw.split(b"?", 1)[0] if raw else scope["path"].encode()
    query = scope.get("query_string") or b""
    return quote(path + (b"?" + query if with_query and query else b""), safe=_AS_SENT)


def problem_response(request: Request, problem: Problem, headers: dict[str, str] | None = None) -> Response:
    """Encode a problem (see the module docstring) as the response to ``request``."""
    problem.instance = request_target(request)
    return Response(
        content=_problem_encoder.encode(problem),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _field_errors_from_litestar(extra: Any) -> list[FieldError]:
    """litestar's ValidationException.extra is ``[{"message", "key", "source"}, …]``."""
    errors = []
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        source = item.get("source") or "body"
        source = str(getattr(source, "value", source))
        field = str(item.get("key") or "")
        message = str(item.get("message") or "invalid value")
        named = _NAMED_FIELD.match(message)
        if named:  # msgspec names the field in the message; the key is its parent ("data" = the body)
            parent = "" if field == "data" else field
            field = f"{parent}.{named['name']}" if parent else named["name"]
            message = "unknown field" if named["what"] == "contains unknown" else "required field is missing"
        errors.append(
            FieldError(
                in_=source if source in {"query", "path", "header", "body", "cookie"} else "body",  # type: ignore[arg-type]
                field=field,
                detail=message,
            )
        )
    return errors


#: Body fields of a listing whose entries are keyed by language, besides its translations.
_RISK_NOTE = re.compile(r"listing\.legal_risks\[[0-9]+\]\.note")


def _language_keyed_in(field: str) -> str | None:
    """The document (``listing`` or ``country``) a body error inside a dict keyed by language
    is about: a listing's translations or a legal risk's note, a country advisory's translations."""
    if field.startswith("listing.translations") or _RISK_NOTE.match(field):
        return "listing"
    if field.startswith("country.advisories[") and ".translations" in field:
        return "country"
    return None


def _name_listing_entries(request: Request, errors: list[FieldError]) -> list[FieldError]:
    """Body errors inside a dict keyed by language (a listing's translations, a legal risk's
    note, a country advisory's translations) name the language, as imports do (with the
    importer's resolver: one rule for both).

    msgspec reports a dict value's position as ``[...]``; the importer's resolver finds which
    entry it was in the body litestar already decoded (kept in the scope: decoding it again
    here would be a second pass over a hostile body, on a deeper stack).
    """
    if not any(e.in_ == "body" and _language_keyed_in(e.field) for e in errors):
        return errors
    body = ScopeState.from_scope(request.scope).json
    if not isinstance(body, dict):
        return errors
    named = []
    for error in errors:
        key = _language_keyed_in(error.field) if error.in_ == "body" else None
        document = body.get(key) if key else None
        if key and isinstance(document, dict):
            field, detail = name_dict_paths(error.field.removeprefix(f"{key}."), error.detail, document)
            error = FieldError(in_="body", field=f"{key}.{field}", detail=detail)
        named.append(error)
    return named


def _name_the_whole_body(request: Request, errors: list[FieldError]) -> list[FieldError]:
    """litestar names the body as a whole after the handler's parameter, ``data``: call it
    ``""`` (as imports name a whole file), and say so plainly when there is no body at all."""
    named = []
    for error in errors:
        if error.in_ == "body" and error.field == "data":
            body = ScopeState.from_scope(request.scope).body
            detail = error.detail
            if body is Empty or not body:
                detail = "a JSON body is required and this request has none"
            error = FieldError(in_="body", field="", detail=detail)
        named.append(error)
    return named


def _describe(errors: list[FieldError]) -> str:
    return "; ".join(f"{e.in_} {e.field!r}: {e.detail}" if e.field else f"{e.in_}: {e.detail}" for e in errors)


def _with_head(allowed: str) -> str:
    """HEAD is answered wherever GET is (api/http/edge.py), so Allow names it too."""
    methods = {m.strip().upper() for m in allowed.split(",") if m.strip()}
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def _title(status: int) -> str:
    """The status's reason phrase; "Error" for a code HTTP does not name."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    title = _title(status)
    if isinstance(exc, InvalidRequest) or isinstance(exc, ValidationException):
        errors = exc.errors if isinstance(exc, InvalidRequest) else _field_errors_from_litestar(exc.extra)
        errors = _name_the_whole_body(request, _name_listing_entries(request, errors))
        detail = _describe(errors) or exc.detail
        problem = Problem(
            type=INVALID_REQUEST_TYPE, title="Invalid request", status=400, detail=detail, errors=errors
        )
        return problem_response(request, problem)
    if status >= 500:
        _log.error("%s %s answered %s: %s", request.method, request_target(request), status, exc.detail, exc_info=exc)
        return problem_response(
            request,
            Problem(type="about:blank", title=title, status=status, detail="the server failed to answer; the error was logged"),
        )
    detail = exc.detail if exc.detail and exc.detail != title else None
    if status == 404 and detail is None:
        detail = f"nothing at {request_target(request, with_query=False)}; see /v1/openapi.json for the API's paths"
    headers = dict(exc.headers or {})
    if status == 405:
        allowed = _with_head(next((headers.pop(k) for k in list(headers) if k.lower() == "allow"), ""))
        if allowed:
            headers["Allow"] = allowed
        detail = detail or f"{request.method} is not allowed on {request_target(request, with_query=False)}" + (
            f"; use {allowed}" if allowed else ""
        )
    if status == 413:
        limit = request.route_handler.resolve_request_max_body_size()
        size = f"{limit // 1024 // 1024} MiB" if limit and limit % (1024 * 1024) == 0 else f"{limit} bytes"
        detail = f"the request body is larger than this API reads ({size})"
    if status == 429:
        retry = next((v for k, v in headers.items() if k.lower() == "ratelimit-reset"), "60")
        headers.setdefault("Retry-After", str(retry))
        detail = detail or f"too many requests from your address; try again in {retry} seconds"
    return problem_response(request, Problem(type="about:blank", title=title, status=status, detail=detail), headers)


def handle_internal_error(request: Request, exc: Exception) -> Response:
    _log.exception("unhandled error on %s %s", request.method, request_target(request), exc_info=exc)
    problem = Problem(
        type="about:blank",
        title="Internal Server Error",
        status=500,
        detail="the server failed to answer; the error was logged. Try again later.",
    )
    return problem_response(request, problem)


def handle_domain_error(request: Request, exc: DomainError) -> Response:
    """A refused business rule (api.errors) as a problem: 400 naming the fields, 403, 404, or
    409 carrying the listing's current revision."""
    if isinstance(exc, Invalid):
        errors = [FieldError(in_="body", field=field, detail=detail) for field, detail in exc.problems]
        return handle_http_exception(request, InvalidRequest(errors))
    problem = Problem(
        type="about:blank",
        title=HTTPStatus(exc.status).phrase,
        status=exc.status,
        detail=ecma_message(exc.detail),
        current_revision=exc.current_revision if isinstance(exc, Conflict) else None,
    )
    return problem_response(request, problem)


#: Seconds a client should wait before retrying a write the database was too busy to take.
RETRY_AFTER_BUSY = 2


def handle_store_busy(request: Request, exc: Exception) -> Response:
    """503, not 500: another process held the write lock; nothing was written, retrying is safe."""
    problem = Problem(
        type="about:blank",
        title="Service Unavailable",
        status=503,
        detail=f"the database is busy with another write; nothing was changed. Try again in {RETRY_AFTER_BUSY} seconds",
    )
    return problem_response(request, problem, headers={"Retry-After": str(RETRY_AFTER_BUSY)})


def handle_database_error(request: Request, exc: sqlite3.OperationalError) -> Response:
    """A busy database anywhere (a read during recovery, a write outside the writer) is a 503."""
    if is_busy_error(exc):
        return handle_store_busy(request, exc)
    return handle_internal_error(request, exc)


exception_handlers = {
    HTTPException: handle_http_exception,
    DomainError: handle_domain_error,
    StoreBusy: handle_store_busy,
    sqlite3.OperationalError: handle_database_error,
    Exception: handle_internal_error,
}
"""The app's exception handlers, by exception class (litestar picks the most specific)."""


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI descriptions of the problems a handler can answer with."""
    descriptions = {
        400: "Invalid request: `errors` names each field at fault.",
        404: "Not found.",
        401: "Missing, unknown, revoked or expired token (`WWW-Authenticate: Bearer`).",
        403: "The token's role is not enough, or the four-eyes rule forbids it.",
        406: "Not acceptable.",
        413: "The request body is larger than 1 MiB.",
        415: "The request body is not JSON in UTF-8 (`Content-Type: application/json`), or is compressed.",
        409: "Conflict with the current state; for listings, `current_revision` says what it is now.",
        429: "Too many requests from this address; see `Retry-After`.",
        410: "Gone: the listing was retired.",
        500: "Internal error.",
        503: "Service unavailable: the database is busy (nothing was changed; retry after `Retry-After` "
        "seconds), or this server is a read-only replica and the operation is the primary's.",
    }
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_MEDIA_TYPE,
            description=descriptions.get(status, HTTPStatus(status).phrase),
            generate_examples=False,
        )
        for status in statuses
    }
