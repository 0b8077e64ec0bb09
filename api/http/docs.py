"""The interactive docs at /v1/docs, served whole by this process, showing /v1/openapi.json.

Why not litestar's ``SwaggerRenderPlugin``: it loads Swagger UI, unpinned and without an
integrity hash, from a public CDN, so the page is blank without internet and every reader of
the docs is announced to a third party (for an at-risk audience that matters); and it shows
litestar's own copy of the spec, not the committed one that /v1/openapi.json serves.

Here Swagger UI's files come from one pinned release of ``swagger-ui-dist`` (the npm package
its authors publish), vendored in api/http/swagger_ui/ with its licence and notice, and a
``SHA256SUMS`` that tests/test_docs_ui.py checks, also against the release as
tools/package-lock.json pins it. The page is plain HTML with no inline script; the one
setting-up script is a file of ours. Every answer under /v1/docs carries a
``Content-Security-Policy`` that lets the page load and fetch from its own origin only, and
Swagger UI's calls to other hosts (its online validator) are switched off.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
from typing import Annotated
from pathlib import PurePosixPath

from litestar import Request, Response, Router, get
from litestar.datastructures import ResponseHeader
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import Parameter

from api.http.cache import make_etag

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "DOCS_PATH",
    "SPEC_URL",
    "SWAGGER_UI_VERSION",
    "DocsPlugin",
    "docs_router",
    "setup_script",
    "swagger_ui_file",
    "swagger_ui_files",
]

DOCS_PATH = "/v1/docs"
SPEC_URL = "/v1/openapi.json"
"""What the page shows: the committed spec, the one every server of a deployment serves."""
SWAGGER_UI_VERSION = "5.35.0"
"""The vendored ``swagger-ui-dist`` release (tools/package.json pins the same one)."""
_ASSETS = f"{DOCS_PATH}/swagger-ui/{SWAGGER_UI_VERSION}"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
"""Own origin only: no script, style, image, font or fetch from anywhere else, nothing inline
but ``data:`` images (Swagger UI's icons live in its stylesheet), and no framing."""

_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}  # litestar adds the charset

_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Action Directory API</title>
<link rel="stylesheet" href="{_ASSETS}/swagger-ui.css">
</head>
<body>
<noscript><p>The interactive docs need JavaScript. The spec itself is at <a href="{SPEC_URL}">{SPEC_URL}</a>.</p></noscript>
<div id="swagger-ui"></div>
<script src="{_ASSETS}/swagger-ui-bundle.js"></script>
<script src="{DOCS_PATH}/setup.js"></script>
</body>
</html>
""".encode()

_SETUP = f"""\
"use strict";
// Swagger UI on this API's own spec. No validator (it would send the spec to another host),
// no spec or settings taken from the page's URL.
window.ui = SwaggerUIBundle({{
  url: "{SPEC_URL}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  displayOperationId: true,
  displayRequestDuration: true,
  validatorUrl: null,
  queryConfigEnabled: false,
  withCredentials: false,
}});
""".encode()


@functools.cache
def swagger_ui_files() -> dict[str, bytes]:
    """The vendored files by name, as ``SHA256SUMS`` lists them (read once, checked on reading)."""
    folder = importlib.resources.files("api.http").joinpath("swagger_ui")
    files: dict[str, bytes] = {}
    for line in folder.joinpath("SHA256SUMS").read_text(encoding="ascii").splitlines():
        digest, name = line.split("  ", 1)
        content = folder.joinpath(name).read_bytes()
        if hashlib.sha256(content).hexdigest() != digest:
            raise RuntimeError(f"api/http/swagger_ui/{name} is not the vendored release's file (SHA256SUMS)")
        files[name] = content
    return files


@functools.cache
def _etag(name: str) -> str:
    return make_etag(swagger_ui_files()[name])


@get(f"/swagger-ui/{SWAGGER_UI_VERSION}/{{name:str}}", sync_to_thread=False, include_in_schema=False)
def swagger_ui_file(name: Annotated[str, Parameter(max_length=100)]) -> Response[bytes]:
    """A file of the pinned release, cacheable for good: its URL changes with the release."""
    content = swagger_ui_files().get(name)
    suffix = PurePosixPath(name).suffix
    if content is None or suffix not in _MEDIA_TYPES:
        raise NotFoundException(detail=f"no file {name!r} in Swagger UI {SWAGGER_UI_VERSION}")
    return Response(
        content,
        media_type=_MEDIA_TYPES[suffix],
        headers={"ETag": _etag(name), "Cache-Control": "public, max-age=31536000, immutable"},
    )


@get("/setup.js", sync_to_thread=False, include_in_schema=False)
def setup_script() -> Response[bytes]:
    return Response(_SETUP, media_type=_MEDIA_TYPES[".js"])


class DocsPlugin(OpenAPIRenderPlugin):
    """The docs page (``/v1/docs``) and, through ``receive_router``, the files it loads."""

    def __init__(self) -> None:
        super().__init__(path="/")

    def render(self, request: Request, openapi_schema: dict) -> bytes:  # noqa: ARG002
        return _PAGE

    def receive_router(self, router: Router) -> None:
        router.register(swagger_ui_file)
        router.register(setup_script)


def docs_router() -> Router:
    """The router litestar puts the spec's render plugins on, with the policy on every answer."""
    return Router(
        path=DOCS_PATH,
        route_handlers=[],
        include_in_schema=False,
        response_headers=[
            ResponseHeader(name="Content-Security-Policy", value=CONTENT_SECURITY_POLICY),
            ResponseHeader(name="Referrer-Policy", value="no-referrer"),
        ],
    )
