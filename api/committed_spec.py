"""The OpenAPI document ``actiondir openapi`` commits: what ``create_app()`` serves.

Apart from api/http/openapi.py, which the app itself uses to serve its spec: building the
app from there would make the two modules import each other. The CLI reaches the routes only
through here, to render the spec.
"""

from __future__ import annotations

from api.app import create_app
from api.http.openapi import render_spec as render_app_spec

__all__ = ["render_spec"]


def render_spec() -> str:
    """The spec of a freshly built app, as sorted, indented JSON with a final newline."""
    return render_app_spec(create_app().litestar)
