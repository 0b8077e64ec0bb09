"""The embed's static parts and the HTTP headers that make it safe to frame anywhere.

Why here: a Content-Security-Policy that allows inline CSS and script only by their SHA-256
must hash the very bytes the page carries. So the CSS and scripts are read once, from
``api/assets/embed/``, and this module gives the templates those exact strings and the
policies their hashes: editing an asset cannot leave a stale hash behind.

The frames: a partner's page frames the embed page (``/embed/v1/listings``) with the loader
(``widget.js``), sandboxed with ``SANDBOX``: scripts (the hashed resize snippet, which posts
the page's height to its parent) and popups (every link opens a new tab, which escapes the
sandbox so the linked site works normally), but never ``allow-same-origin``: the page runs
with an opaque origin, so even a script that got in could read no cookie, no storage and
nothing of ours. The page sends the same sandbox as a CSP directive, so it is sandboxed also
when framed without the attribute, or opened on its own.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from markupsafe import Markup

__all__ = [
    "ASSETS",
    "EMBED_CSP",
    "PICKER_CSP",
    "SANDBOX",
    "WIDGET_CACHE_CONTROL",
    "EmbedAssets",
    "csp_hash",
    "embed_headers",
    "picker_headers",
    "template_config",
    "widget_headers",
]

_ASSET_DIR = Path(__file__).resolve().parent.parent / "assets" / "embed"
_TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"

SANDBOX = "allow-scripts allow-popups allow-popups-to-escape-sandbox"
"""The frame's sandbox: what the embed page may do, and nothing else (see the docstring)."""

WIDGET_CACHE_CONTROL = "public, max-age=3600, stale-while-revalidate=86400"
"""The loader changes rarely (its URL carries the version, v1): an hour in caches, revalidated
with its ETag after that; a fix still reaches every page within the hour."""


def csp_hash(text: str) -> str:
    """``'sha256-…'``: the CSP source expression that allows exactly this inline text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _read(name: str, closing: str) -> str:
    text = (_ASSET_DIR / name).read_text(encoding="utf-8").rstrip("\n")
    if closing in text.lower():  # it would end the element it is inlined in
        raise ValueError(f"{name} contains {closing!r}")
    return text


@dataclass(frozen=True, slots=True)
class EmbedAssets:
    """The inline CSS and scripts, as the templates insert them (``Markup``: ours, not data)."""

    embed_css: Markup
    resize_js: Markup
    picker_css: Markup
    picker_js: Markup
    widget_js: bytes
    """The loader, served as a file (``/embed/v1/widget.js``), never inlined."""

    @classmethod
    def load(cls) -> EmbedAssets:
        return cls(
            embed_css=Markup(_read("embed.css", "</style")),
            resize_js=Markup(_read("resize.js", "</script")),
            picker_css=Markup(_read("picker.css", "</style")),
            picker_js=Markup(_read("picker.js", "</script")),
            widget_js=(_ASSET_DIR / "widget.js").read_bytes(),
        )


ASSETS = EmbedAssets.load()

EMBED_CSP = "; ".join([
    "default-src 'none'",
    f"style-src {csp_hash(ASSETS.embed_css)}",
    f"script-src {csp_hash(ASSETS.resize_js)}",
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors *",
    f"sandbox {SANDBOX}",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
])
"""The embed page's policy: nothing loads, nothing but our hashed CSS and resize snippet
runs, any page may frame it, and it is sandboxed however it is opened."""

PICKER_CSP = "; ".join([
    "default-src 'none'",
    f"style-src {csp_hash(ASSETS.picker_css)}",
    # The picker's own script, and what it adds: the loader, for the live preview.
    f"script-src {csp_hash(ASSETS.picker_js)} 'strict-dynamic'",
    "frame-src 'self'",
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
])
"""The picker's policy: its hashed script, the loader it adds, and frames of our embed page."""

_COMMON = {"Referrer-Policy": "no-referrer", "Cross-Origin-Resource-Policy": "cross-origin"}
"""No address of ours leaks to the sites listed, and a partner whose page requires CORP
(``Cross-Origin-Embedder-Policy: require-corp``) may still load the loader and the page."""


def embed_headers() -> dict[str, str]:
    return {"Content-Security-Policy": EMBED_CSP, **_COMMON}


def picker_headers() -> dict[str, str]:
    return {"Content-Security-Policy": PICKER_CSP, "Referrer-Policy": "no-referrer"}


def widget_headers() -> dict[str, str]:
    return {"Cache-Control": WIDGET_CACHE_CONTROL, **_COMMON}


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """litestar's Jinja2 integration, with autoescaping on for every template whatever its
    name (a listing's text is always text), and a name the template does not know an error
    rather than an empty string."""
    environment = Environment(
        loader=FileSystemLoader(_TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))
