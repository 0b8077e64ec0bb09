"""The embed: a page of vetted listings a partner frames, its loader, and a picker for the tag.

Why a controller of its own: these answers are HTML and JavaScript for browsers, not the JSON
API, so they are left out of the spec (``include_in_schema=False``: a client generated from
it has nothing to call here; docs/partners.md documents them). Everything else is as for any
public read: the same shared parameters and unknown-parameter rules (api/http/params.py), the
same read model and filtering (``read_listing_page``), served by a read-only replica too,
with an ETag, ``Cache-Control`` and a place in the front cache. The headers that make the
page safe to frame anywhere come from api/http/embed.py.
"""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.response import Template

from api.http.embed import ASSETS, embed_headers, picker_headers, widget_headers
from api.http.params import AcceptLanguage, CountryParam, KindParam, LangParam, LimitParam, ThemeParam, TopicParam
from api.i18n import language_preferences
from api.routes.common import ReaderDep
from api.routes.listings import read_listing_page
from api.services.embed import DEFAULT_LIMIT, build_embed_view, build_picker_view

__all__ = ["EmbedController"]

_HTML = "text/html"  # litestar adds "; charset=utf-8" to text types
_JAVASCRIPT = "application/javascript; charset=utf-8"


class EmbedController(Controller):
    """The embed page, its loader, and the picker."""

    path = "/embed/v1"
    include_in_schema = False

    @get("/listings", media_type=_HTML)
    async def embed_listings(
        self,
        reader: ReaderDep,
        country: CountryParam = None,
        kind: KindParam = None,
        topic: TopicParam = None,
        lang: LangParam = None,
        limit: LimitParam = DEFAULT_LIMIT,
        theme: ThemeParam = "auto",
        accept_language: AcceptLanguage = None,
    ) -> Template:
        """The listings the JSON list would answer for the same filters (worldwide ones after a
        country's own), as a self-contained page in the reader's language."""
        preferences = language_preferences(lang, accept_language)
        revision = reader.revision()
        page = read_listing_page(
            reader, preferences, country=country, kind=kind, topic=topic, q=None, limit=limit, cursor=None,
            include_worldwide=True, visibility=reader.visibility(),
        )
        view = build_embed_view(page, preferences, today=reader.today(), theme=theme)
        headers = {
            **embed_headers(),
            "Content-Language": view.content_languages,
            "Vary": "Accept-Language",
            "X-Dataset-Revision": str(revision),
        }
        return Template("embed/listings.html", context={"view": view, "assets": ASSETS}, headers=headers, media_type=_HTML)

    @get("/widget.js", media_type=_JAVASCRIPT, sync_to_thread=False)
    def widget_js(self) -> Response[bytes]:
        """The loader a partner's tag loads: it puts the embed page in a sandboxed frame."""
        return Response(ASSETS.widget_js, media_type=_JAVASCRIPT, headers=widget_headers())

    @get("/", media_type=_HTML)
    async def embed_picker(self, reader: ReaderDep) -> Template:
        """The picker: choose, copy the tag, see it live."""
        revision = reader.revision()
        picker = build_picker_view(reader.store, reader.visibility())
        headers = {**picker_headers(), "X-Dataset-Revision": str(revision)}
        return Template("embed/picker.html", context={"picker": picker, "assets": ASSETS}, headers=headers, media_type=_HTML)
