"""What every answer shares, added where a request enters, before litestar routes it.

litestar routes a request before any of its middleware runs, so these sit in ``Edge``, a
plain ASGI layer around the litestar app (api/app.py builds the stack):

- HEAD is routed and handled as the GET (with its ETag, 304 and headers), body dropped
  (RFC 9110 §9.3.2);
- every response, problems and 304s included, carries the CORS headers and
  ``X-Content-Type-Options: nosniff``;
- OPTIONS (plain, or a CORS preflight) answers ``Allow`` with the path's real methods:
  litestar computes it once per path when the first handler registers, so a path with
  GET and POST handlers would say only one of them;
- an integer path parameter is taken only as ``PLAIN_NUMBER``, before litestar's router
  reads it with ``int()``; any other spelling is a 400 naming the parameter (litestar
  would route " 1" and "١" to item 1, and answer 404 for "one");
- on a read-only replica (``ReadOnly``), a write, or any request to a route only the
  primary serves, is answered with a 503 problem that says where the primary is.

- a path with an encoded slash (``%2F``) is answered 404: RFC 3986 makes it a character of
  a segment, not a separator, but the server decodes it before anything routes, so
  ``/v1/tokens/1%2Frevocation`` would reach the revocation under a second name (which caches
  keep apart and rules on raw paths do not see). No name in this API holds a '/'.

Each decision reads the path as litestar's router does (``normalize_path``: ``/v1/tokens/``
and ``//v1//tokens`` reach ``/v1/tokens``), so no spelling of a path escapes a rule the path
itself is under.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from litestar import Litestar, Request, Response
from litestar.exceptions import NotFoundException
from litestar.routes import BaseRoute, HTTPRoute
from litestar.types import Message, Receive, Scope, Send
from litestar.types.internal_types import PathParameterDefinition
from litestar.utils import normalize_path

from api.http.problems import FieldError, InvalidRequest, Problem, handle_http_exception, problem_response

__all__ = [
    "CORS_ALLOW_HEADERS",
    "CORS_EXPOSE_HEADERS",
    "CORS_MAX_AGE",
    "ENCODED_SLASH_DETAIL",
    "EVERY_RESPONSE",
    "PLAIN_NUMBER",
    "PLAIN_NUMBER_DETAIL",
    "Edge",
    "ReadOnly",
    "allowed_methods",
]

#: The CORS answer, the same for every request whatever its Origin: the API uses no cookies
#: (tokens are bearer headers a script must set itself), so any site may read any answer.
#: Being the same, it survives shared caches: a copy stored for a request without Origin
#: serves a partner's browser too, and no ``Vary: Origin`` is needed.
CORS_ALLOW_HEADERS = "Accept, Accept-Language, Authorization, Content-Type, If-None-Match"
CORS_EXPOSE_HEADERS = "Content-Language, ETag, Location, Retry-After, X-Dataset-Revision"
CORS_MAX_AGE = 86400
EVERY_RESPONSE = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", CORS_EXPOSE_HEADERS.encode()),
    (b"x-content-type-options", b"nosniff"),
)
"""Headers appended to every answer, last (the front cache relies on their place)."""
_PREFLIGHT = (
    (b"access-control-allow-headers", CORS_ALLOW_HEADERS.encode()),
    (b"access-control-max-age", str(CORS_MAX_AGE).encode()),
)

#: How an integer path parameter is written: the spec's ``integer`` (minimum 1) in a URL. Python's
#: ``int()``, which litestar parses ``{name:int}`` with, also reads " 1", "1\\n", "+1", "01",
#: "1_0" (ten) and digits of every script ("١", "１").
PLAIN_NUMBER = re.compile(r"[1-9][0-9]*")
PLAIN_NUMBER_DETAIL = "must be a whole number in ASCII digits, without sign, spaces or leading zeros (e.g. 42)"

ENCODED_SLASH_DETAIL = (
    "nothing here has a '/' in its name: an encoded slash (%2F) is part of a path segment, not a "
    "separator; see /v1/openapi.json for the API's paths"
)

#: Methods that change nothing: the only ones a read-only replica answers.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class _PathShape:
    """A route's path, segment by segment: a literal, or ``None`` for a parameter."""

    segments: tuple[str | None, ...]
    integers: tuple[tuple[int, str], ...]
    """(position, name) of each integer parameter."""

    def fits(self, parts: list[str]) -> bool:
        return all(segment is None or segment == part for segment, part in zip(self.segments, parts, strict=True))

    @property
    def precedence(self) -> tuple[bool, ...]:
        """litestar's router takes a literal segment over a parameter, from the left."""
        return tuple(segment is not None for segment in self.segments)


def _path_shapes(routes: list[BaseRoute]) -> dict[int, list[_PathShape]]:
    """The route shapes by number of segments, for the lengths where an integer parameter is."""
    shapes: dict[int, list[_PathShape]] = defaultdict(list)
    for route in routes:
        components = route.path_components
        params = [c for c in components if isinstance(c, PathParameterDefinition)]
        if any(issubclass(p.type, PurePath) for p in params):  # {name:path} takes any number of segments
            continue
        segments = tuple(None if isinstance(c, PathParameterDefinition) else str(c) for c in components)
        integers = tuple(
            (i, c.name) for i, c in enumerate(components) if isinstance(c, PathParameterDefinition) and c.type is int
        )
        shapes[len(segments)].append(_PathShape(segments, integers))
    return {n: found for n, found in shapes.items() if any(shape.integers for shape in found)}


def allowed_methods(routes: list[BaseRoute]) -> dict[str, bytes]:
    """Route template (``/v1/listings/{listing_id}``) -> its Allow value, HEAD included."""
    allowed = {}
    for route in routes:
        if isinstance(route, HTTPRoute):
            methods = set(route.methods) | ({"HEAD"} if "GET" in route.methods else set())
            allowed[route.path_format] = ", ".join(sorted(methods)).encode()
    return allowed


def _is_preflight(headers: list[tuple[bytes, bytes]]) -> bool:
    names = {name for name, _ in headers}
    return b"origin" in names and b"access-control-request-method" in names


@dataclass(frozen=True, slots=True)
class ReadOnly:
    """A read-only replica's refusals: what only the primary answers, and where it is."""

    primary_only: tuple[re.Pattern[str], ...]
    """The paths of the routes this process does not serve (curation, reports, tokens, vetting)."""
    primary_url: str
    """Where the primary is ("" when the setting is not given)."""

    @classmethod
    def of(cls, routes: list[BaseRoute], primary_url: str) -> ReadOnly:
        """Refuse the paths of ``routes``: those of the full app that this one leaves out."""
        patterns = {
            "/".join("[^/]+" if part.startswith("{") else re.escape(part) for part in route.path_format.split("/"))
            for route in routes
        }
        return cls(tuple(re.compile(pattern) for pattern in sorted(patterns)), primary_url)

    def refuses(self, method: str, path: str) -> bool:
        return method not in _SAFE_METHODS or any(pattern.fullmatch(path) for pattern in self.primary_only)

    def problem(self, method: str) -> Problem:
        """503: this process cannot answer, another one can; not 405, which would say the
        resource never takes the method (and may be cached)."""
        where = f"the primary at {self.primary_url}" if self.primary_url else "the primary server of this deployment"
        what = "writes" if method not in _SAFE_METHODS else "curation, reports, tokens and vetting"
        return Problem(
            type="about:blank",
            title="Service Unavailable",
            status=503,
            detail=f"this server is a read-only replica (ACTIONDIR_READ_ONLY=1) and answers public reads only; "
            f"send {what} to {where}",
        )


class Edge:
    """The ASGI layer between the front cache and litestar (see the module docstring)."""

    def __init__(self, app: Litestar, *, read_only: ReadOnly | None = None) -> None:
        self.app = app
        self.read_only = read_only
        self.allowed_methods = allowed_methods(app.routes)
        """Route template -> its Allow value, HEAD included."""
        self.path_shapes = _path_shapes(app.routes)
        """Routes with integer parameters, and their neighbours, by number of segments."""

    def inexact_integers(self, path: str) -> list[FieldError]:
        """An error for each integer parameter of the route ``path`` goes to that is not plain."""
        parts = [part for part in path.split("/") if part]
        fitting = [shape for shape in self.path_shapes.get(len(parts), ()) if shape.fits(parts)]
        if not fitting:
            return []
        routed = max(fitting, key=lambda shape: shape.precedence)
        return [
            FieldError(in_="path", field=name, detail=PLAIN_NUMBER_DETAIL)
            for position, name in routed.integers
            if not PLAIN_NUMBER.fullmatch(parts[position])
        ]

    async def _answer(self, scope: Scope, receive: Receive, send: Send, respond: Callable[[Request], Response]) -> None:
        """Answer a request the router must not see, as the app answers (its problem shape)."""
        scope["app"] = scope["litestar_app"] = self.app  # what litestar's own entry sets
        scope.setdefault("state", {})
        request = self.app.request_class(scope, receive)
        response = respond(request)
        await response.to_asgi_response(app=None, request=request)(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        preflight = method == "OPTIONS" and _is_preflight(scope["headers"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), *EVERY_RESPONSE]
                if method == "OPTIONS" and message["status"] < 300:
                    allow = self.allowed_methods.get(scope.get("path_template", ""), b"OPTIONS")
                    headers = [(k, v) for k, v in headers if k.lower() != b"allow"]
                    headers.append((b"allow", allow))
                    if preflight:
                        headers += [(b"access-control-allow-methods", allow), *_PREFLIGHT]
                message = {**message, "headers": headers}
            elif method == "HEAD" and message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        if method == "HEAD":
            scope = {**scope, "method": "GET"}
        if b"%2f" in (scope.get("raw_path") or b"").partition(b"?")[0].lower():  # some servers include the query
            missing = NotFoundException(detail=ENCODED_SLASH_DETAIL)
            await self._answer(scope, receive, send_with_headers, lambda request: handle_http_exception(request, missing))
            return
        path = scope["path"]
        if root_path := scope.get("root_path", ""):  # as litestar's router reads it
            path = path.split(root_path, maxsplit=1)[-1]
        # The path the router routes: without a trailing slash, repeated slashes merged. Every
        # decision here is about the route a request reaches, never about one of its spellings.
        path = normalize_path(path)
        if self.read_only is not None and self.read_only.refuses(method, path):
            problem = self.read_only.problem(method)
            await self._answer(scope, receive, send_with_headers, lambda request: problem_response(request, problem))
            return
        if errors := self.inexact_integers(path):
            invalid = InvalidRequest(errors)
            await self._answer(scope, receive, send_with_headers, lambda request: handle_http_exception(request, invalid))
            return
        await self.app(scope, receive, send_with_headers)
