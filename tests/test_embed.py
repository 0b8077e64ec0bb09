"""The embed page, its loader and the picker, through the real app over HTTP.

The HTML is read with the standard library's HTML parser (as a browser tokenizes it), never
with string searches alone: what matters is which elements and attributes a browser would
build. The browser itself runs in tests/test_embed_browser.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import msgspec
import pytest
from embed_support import CURATED_TITLES, PLANTED_TITLES, approve_through_curation, hostile_listing, plant, propose
from factory import default_listings, listing
from conftest import AppClient

from api.app import create_app
from api.clock import FixedClock
from api.http.embed import ASSETS, SANDBOX, WIDGET_CACHE_CONTROL
from api.models import ListingPage
from api.services.embed import EMBED_LANGUAGES, EmbedItem, EmbedNote, EmbedSafety, build_embed_view
from api.services.embed_text import EMBED_TEXTS
from api.settings import load_settings
from api.store import Store

ASSET_DIR = Path(__file__).resolve().parent.parent / "api" / "assets" / "embed"
EMBED = "/embed/v1/listings"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "data", "background", "cite", "ping", "manifest", "xlink:href"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    text: str = ""
    parent: Element | None = None


@dataclass
class Page(HTMLParser):
    """Every element with its attributes and text (descendants' included), as parsed."""

    elements: list[Element] = field(default_factory=list)

    def __post_init__(self) -> None:
        HTMLParser.__init__(self, convert_charrefs=True)
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]
        assert len(names) == len(set(names)), f"repeated attribute in <{tag}>: {names}"
        element = Element(tag, dict(attrs), parent=self._open[-1] if self._open else None)
        self.elements.append(element)
        if tag not in VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            element = self._open.pop()
            if element.tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def all(self, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag]

    def by_id(self, element_id: str) -> Element:
        (found,) = [e for e in self.elements if e.attrs.get("id") == element_id]
        return found


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def csp_of(response: Any) -> dict[str, list[str]]:
    policy = {}
    for directive in response.headers["content-security-policy"].split(";"):
        name, *values = directive.split()
        assert name not in policy, f"{name} given twice"
        policy[name] = values
    return policy


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.fixture
def http(deployment):
    with deployment.client() as client:
        yield client


# --- headers -----------------------------------------------------------------------------------------


def test_the_embed_page_headers(http):
    response = http.get(f"{EMBED}?country=RU&lang=ru")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "set-cookie" not in response.headers
    assert "x-frame-options" not in response.headers  # any partner may frame it
    assert response.headers["etag"] and response.headers["x-dataset-revision"] == "1"
    assert response.headers["cache-control"] == "public, max-age=60, stale-while-revalidate=600"
    assert "Accept-Language" in response.headers["vary"]
    assert response.headers["content-language"] == "ru, en"  # the page's words in ru; a worldwide listing in en


def test_the_embed_page_policy_is_strict(http):
    policy = csp_of(http.get(f"{EMBED}?country=RU"))
    assert policy["default-src"] == ["'none'"]
    assert policy["img-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'none'"]
    assert policy["frame-ancestors"] == ["*"]
    assert policy["sandbox"] == SANDBOX.split()
    assert "allow-same-origin" not in policy["sandbox"]
    assert policy["require-trusted-types-for"] == ["'script'"]
    for directive in ("style-src", "script-src"):
        (source,) = policy[directive]
        assert re.fullmatch(r"'sha256-[A-Za-z0-9+/]{43}='", source), (directive, source)
    # Nothing that loads or connects is allowed beyond the default.
    assert not {"connect-src", "font-src", "frame-src", "child-src", "media-src", "object-src", "worker-src"} & policy.keys()


@pytest.mark.parametrize("query", ["country=RU", "country=BR&lang=pt-BR", "lang=fa", "kind=petition&theme=dark", "country=ZW"])
def test_every_inline_style_and_script_is_the_one_the_policy_hashes(http, query):
    response = http.get(f"{EMBED}?{query}")
    policy = csp_of(response)
    page = parse(response.text)
    (style,) = page.all("style")
    (script,) = page.all("script")
    assert policy["style-src"] == [sha256_source(style.text)]
    assert policy["script-src"] == [sha256_source(script.text)]
    assert script.attrs == {} and style.attrs == {}  # inline, not loaded
    assert style.text == ASSETS.embed_css and script.text == ASSETS.resize_js


@pytest.mark.parametrize("query", ["country=RU", "lang=fa", "country=BR&kind=petition&limit=100"])
def test_nothing_on_the_page_loads_anything_and_no_attribute_styles_or_runs(http, query):
    """The family of ways a page could reach out or run code: URL attributes other than the
    listings' links, style and event-handler attributes, frames, objects, forms, base."""
    page = parse(http.get(f"{EMBED}?{query}").text)
    for element in page.elements:
        assert "style" not in element.attrs, element
        assert not [name for name in element.attrs if name.startswith("on")], element
        assert element.tag not in {"iframe", "frame", "object", "embed", "img", "link", "form", "base", "svg", "math", "video", "audio"}
        for name in URL_ATTRIBUTES & element.attrs.keys():
            assert (element.tag, name) == ("a", "href"), element
            assert element.attrs["href"].startswith("https://"), element


@pytest.mark.parametrize("query", ["country=RU", "country=RU&lang=ru", "lang=fa", "country=BR&lang=pt-BR", "limit=100"])
def test_every_link_opens_a_new_tab_without_opener_or_referrer(http, query):
    page = parse(http.get(f"{EMBED}?{query}").text)
    links = page.all("a")
    assert links
    for link in links:
        assert link.attrs["target"] == "_blank", link
        assert {"noopener", "noreferrer"} <= set((link.attrs.get("rel") or "").split()), link


# --- the same parameters and the same answer as the JSON lists -------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["", "country=RU", "country=RU&kind=donation", "country=XX", "country=BR&lang=pt-BR", "topic=refugees",
     "kind=organization&limit=2", "country=UG&limit=100", "country=ZW"],
)
def test_the_page_lists_what_the_json_list_lists(http, query):
    json_query = query if "limit=" in query else "&".join(filter(None, [query, "limit=5"]))
    expected = [item["id"] for item in http.get(f"/v1/listings?{json_query}").json()["data"]]
    page = parse(http.get(f"{EMBED}?{query}").text)
    shown = [article.attrs["aria-labelledby"].removeprefix("actiondir-") for article in page.all("article")]
    assert shown == expected


BAD_QUERIES = [
    "country=ru", "country=UK", "country=null", "kind=event", "kind=null", "kind=", "limit=0", "limit=101", "limit=1.0",
    "limit=05", "limit=-1", "limit=x", "topic=Bad_Topic", "lang=!!", "lang=en-", "country=RU&country=BR",
    "limt=5", "q=x&country=RU", "cursor=c1.0.x",
]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_parameters_are_the_json_lists_problems(http, query):
    """One set of rules: every parameter the embed page shares with the JSON list is refused
    with the same problem, naming the same field (and a parameter only the JSON list takes is
    unknown here)."""
    embed = http.get(f"{EMBED}?{query}")
    assert embed.status_code == 400, embed.text
    assert embed.headers["content-type"].startswith("application/problem+json")
    errors = embed.json()["errors"]
    if query.split("=")[0] in {"q", "cursor"}:
        assert [(e["in"], e["field"]) for e in errors] == [("query", query.split("=")[0])]
        assert errors[0]["detail"].startswith("unknown parameter")
    elif query.startswith("limt"):
        assert [e["field"] for e in errors] == ["limt"]
    else:
        assert errors == http.get(f"/v1/listings?{query}").json()["errors"]


@pytest.mark.parametrize("theme", ["blue", "", "DARK", "Dark", "null", "dark ", "light,dark", "auto\n", "%00", "1"])
def test_a_theme_outside_the_few_is_a_problem_naming_it(http, theme):
    response = http.get(EMBED, params={"theme": theme})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["type"] == "urn:actiondir:problem:invalid-request"
    assert [(e["in"], e["field"]) for e in body["errors"]] == [("query", "theme")]


def test_a_repeated_theme_is_a_problem(http):
    response = http.get(f"{EMBED}?theme=dark&theme=light")
    assert [e["field"] for e in response.json()["errors"]] == ["theme"]


@pytest.mark.parametrize(("theme", "scheme"), [("auto", "light dark"), ("light", "light"), ("dark", "dark")])
def test_each_theme(http, theme, scheme):
    page = parse(http.get(f"{EMBED}?theme={theme}").text)
    (html,) = page.all("html")
    assert html.attrs["data-theme"] == theme
    (meta,) = [m for m in page.all("meta") if m.attrs.get("name") == "color-scheme"]
    assert meta.attrs["content"] == scheme


def test_an_unknown_topic_is_a_404_as_in_the_json_list(http):
    assert http.get(f"{EMBED}?topic=no-such-topic").status_code == 404
    assert http.get("/v1/listings?topic=no-such-topic").status_code == 404


def test_the_default_is_five_listings(deployment):
    deployment.reimport([listing(f"ru-org-{n}") for n in range(8)])
    with deployment.client() as client:
        assert len(parse(client.get(f"{EMBED}?country=RU").text).all("article")) == 5
        assert len(parse(client.get(f"{EMBED}?country=RU&limit=7").text).all("article")) == 7


# --- language and direction --------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "direction"), [("fa", "rtl"), ("ar", "rtl"), ("he", "rtl"), ("en", "ltr"), ("ru", "ltr"), ("pt-BR", "ltr")])
def test_the_page_runs_in_its_languages_direction(http, lang, direction):
    page = parse(http.get(f"{EMBED}?lang={lang}").text)
    (html,) = page.all("html")
    assert html.attrs["dir"] == direction
    assert html.attrs["lang"] == lang.split("-")[0]
    assert page.by_id("actiondir-heading").text == EMBED_TEXTS[lang.split("-")[0]].heading


def test_each_listing_carries_its_own_language_and_direction(deployment):
    deployment.reimport([
        listing("ir-shelter", countries=["IR"], languages=["fa"], translations={
            "fa": {"title": "خانه امن", "summary": "پناهگاه برای افراد در خطر."}}),
        listing("ir-legal", countries=["IR"], languages=["en"], translations={
            "en": {"title": "Legal help", "summary": "Lawyers for people at risk."}}),
    ])
    with deployment.client() as client:
        page = parse(client.get(f"{EMBED}?country=IR&lang=fa").text)
        (html,) = page.all("html")
        assert (html.attrs["lang"], html.attrs["dir"]) == ("fa", "rtl")
        farsi, english = page.by_id("actiondir-ir-shelter"), page.by_id("actiondir-ir-legal")
        assert (farsi.attrs["lang"], farsi.attrs["dir"]) == ("fa", "rtl")
        assert (english.attrs["lang"], english.attrs["dir"]) == ("en", "ltr")  # English inside a Persian page
        summaries = [p for p in page.all("p") if "summary" in (p.attrs.get("class") or "")]
        assert [(p.attrs["lang"], p.attrs["dir"]) for p in summaries] == [("en", "ltr"), ("fa", "rtl")]


def test_the_page_speaks_the_readers_first_language_it_has_words_in(http):
    # Italian has no words here yet: Spanish, the next preference, not English.
    page = parse(http.get(EMBED, headers={"Accept-Language": "it, es;q=0.8, en;q=0.5"}).text)
    assert page.all("html")[0].attrs["lang"] == "es"
    assert parse(http.get(f"{EMBED}?lang=it").text).all("html")[0].attrs["lang"] == "en"
    assert parse(http.get(f"{EMBED}?lang=pt-PT").text).all("html")[0].attrs["lang"] == "pt"


@pytest.mark.parametrize("lang", EMBED_LANGUAGES)
def test_every_language_has_every_word_and_its_ago(lang):
    text = EMBED_TEXTS[lang]
    for name in text.__dataclass_fields__:
        value = getattr(text, name)
        assert value.strip() == value and value, (lang, name)
        assert ("{ago}" in value) == (name in {"verified", "link_checked"}), (lang, name)


# --- "verified 3 days ago", in the reader's language (CLDR through Babel) -----------------------------


def _client_at(deployment, day: dt.date) -> AppClient:
    clock = FixedClock(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC))
    return AppClient(create_app(load_settings(db=deployment.db), clock=clock))


def _checked_lines(client: AppClient, query: str) -> dict[str, str]:
    page = parse(client.get(f"{EMBED}?{query}").text)
    return {
        article.attrs["aria-labelledby"].removeprefix("actiondir-"): next(
            p.text for p in page.all("p") if p.parent is article and p.attrs.get("class") == "checked"
        )
        for article in page.all("article")
    }


# The factory's listings were verified on 2026-11-20.
@pytest.mark.parametrize(
    ("lang", "day", "expected"),
    [
        ("en", dt.date(2026, 11, 23), "Verified 3 days ago"),
        ("en", dt.date(2026, 11, 21), "Verified 1 day ago"),
        ("en", dt.date(2026, 11, 20), "Verified today"),
        ("en", dt.date(2027, 1, 20), "Verified 2 months ago"),
        ("ru", dt.date(2026, 11, 23), "Проверено 3 дня назад"),
        ("ru", dt.date(2026, 11, 25), "Проверено 5 дней назад"),
        ("pt-BR", dt.date(2026, 11, 23), "Verificado há 3 dias"),
        ("de", dt.date(2026, 11, 23), "Geprüft vor 3 Tagen"),
        ("tr", dt.date(2026, 11, 23), "3 gün önce doğrulandı"),
        ("fa", dt.date(2026, 11, 23), "تأیید شده 3 روز پیش"),
        ("ar", dt.date(2026, 11, 23), "تم التحقق قبل 3 أيام"),
    ],
)
def test_verified_n_days_ago_in_the_readers_language(deployment, lang, day, expected):
    with _client_at(deployment, day) as client:
        lines = _checked_lines(client, f"country=RU&lang={lang}")
    assert set(lines.values()) == {expected}


def test_a_link_check_that_passed_is_said_too(deployment):
    store = Store(deployment.db)
    try:
        store.link_checks.add(listing_id="ru-evacuation", checked_at=dt.datetime(2026, 11, 22, 8, tzinfo=dt.UTC), status="ok",
                              http_status=200, final_url=None, needs_review=False)
        store.link_checks.add(listing_id="ru-legal-aid", checked_at=dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC), status="broken",
                              http_status=404, final_url=None, needs_review=True)
        store.link_checks.finish_run(2)
    finally:
        store.close()
    with _client_at(deployment, dt.date(2026, 11, 23)) as client:
        english = _checked_lines(client, "country=RU&lang=en")
        russian = _checked_lines(client, "country=RU&lang=ru")
    assert english["ru-evacuation"] == "Verified 3 days ago · link checked 1 day ago"
    assert english["ru-legal-aid"] == "Verified 3 days ago"  # a broken link is never "checked"
    assert russian["ru-evacuation"] == "Проверено 3 дня назад · ссылка проверена 1 день назад"


# --- hostile text ------------------------------------------------------------------------------------


def _assert_inert(html: str, title: str) -> None:
    """``title`` is on the page as text, exactly, and added no element or attribute."""
    page = parse(html)
    (heading,) = [h for h in page.all("h2") if h.attrs.get("id") == "actiondir-ru-hostile"]
    (link,) = [a for a in page.all("a") if a.parent is heading]
    assert link.text.startswith(title), (link.text, title)
    assert any(p.text == f"Summary: {title}" for p in page.all("p"))
    assert len(page.all("script")) == 1 and len(page.all("style")) == 1
    assert not page.all("img") and not page.all("svg") and not page.all("body")[1:]
    for element in page.elements:
        assert not [name for name in element.attrs if name.startswith("on") or name in {"x", "autofocus", "src"}], element
    assert "49" not in html  # no template ran on it either


@pytest.mark.parametrize("title", CURATED_TITLES)
def test_a_hostile_title_approved_through_curation_shows_as_text(deployment, title):
    with deployment.client() as client:
        approve_through_curation(client, deployment.db, hostile_listing("ru-hostile", title))
        response = client.get(f"{EMBED}?country=RU&lang=en&limit=100")
    _assert_inert(response.text, title)


@pytest.mark.parametrize("title", PLANTED_TITLES)
def test_markup_the_policy_refuses_is_still_inert_if_it_got_into_the_database(deployment, title):
    with deployment.client() as client:
        refused = propose(client, deployment.db, hostile_listing("ru-hostile", title))
        assert refused.status_code == 400, refused.text  # no write path takes it...
    plant(deployment.db, hostile_listing("ru-hostile", title))  # ...but an older database might hold it
    with deployment.client() as client:
        response = client.get(f"{EMBED}?country=RU&lang=en&limit=100")
    _assert_inert(response.text, title)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "http://plain.example.org/", "data:text/html,hi", " https://x.example.org/"])
def test_a_link_that_is_not_https_is_not_a_link(http, url):
    """The store cannot hold such a link (the listing's type requires https); the page would
    still not make one of it."""
    page = _page_of(http)
    page.data[0] = msgspec.structs.replace(page.data[0], url=url)
    view = build_embed_view(page, ("en",), today=dt.date(2026, 11, 23), theme="auto")
    html = parse(_render(http, view))
    heading = html.by_id(f"actiondir-{page.data[0].id}")
    assert heading.text == page.data[0].title
    assert not [a for a in html.all("a") if a.parent is heading]
    assert all(a.attrs["href"].startswith("https://") for a in html.all("a"))


# --- the safety hook ------------------------------------------------------------------------------------


def _render(client: AppClient, view: Any) -> str:
    template = client.served.litestar.template_engine.get_template("embed/listings.html")
    return template.render(view=view, assets=ASSETS)


@pytest.mark.parametrize(("level", "heading"), [("danger", "Warning"), ("caution", "Caution")])
def test_a_listing_with_a_safety_note_shows_it_above_itself(http, level, heading):
    """The hook for safety notes: a note above the listing, escaped like everything else."""
    view = build_embed_view(_page_of(http), ("en",), today=dt.date(2026, 11, 23), theme="auto")
    note = EmbedNote(text="Donating from Russia <b>may</b> be prosecuted.", lang="en", dir="ltr")
    item = view.items[0]
    view.items[0] = EmbedItem(**{**{f: getattr(item, f) for f in item.__slots__}, "safety": EmbedSafety(level, [note])})
    page = parse(_render(http, view))
    (box,) = [d for d in page.all("div") if "safety" in (d.attrs.get("class") or "").split()]
    assert box.attrs["role"] == "note" and level in box.attrs["class"].split()
    assert box.parent.tag == "article" and box.parent.attrs["aria-labelledby"] == f"actiondir-{item.id}"
    assert box.text.strip().startswith(heading)
    assert note.text in box.text and not page.all("b")
    # Above the listing's title.
    assert page.elements.index(box) < page.elements.index(page.by_id(f"actiondir-{item.id}"))


@pytest.mark.parametrize("safety", [None, EmbedSafety("none", [])])
def test_no_note_without_a_risk(http, safety):
    view = build_embed_view(_page_of(http), ("en",), today=dt.date(2026, 11, 23), theme="auto")
    item = view.items[0]
    view.items[0] = EmbedItem(**{**{f: getattr(item, f) for f in item.__slots__}, "safety": safety})
    assert not [d for d in parse(_render(http, view)).all("div") if "safety" in (d.attrs.get("class") or "")]


def _page_of(http: AppClient) -> ListingPage:
    return msgspec.json.decode(http.get("/v1/listings?country=RU&limit=5").content, type=ListingPage)


# --- caching ------------------------------------------------------------------------------------------


def test_the_page_is_cached_like_the_json_reads(http):
    cache = http.served.front_cache
    first = http.get(f"{EMBED}?country=RU&lang=ru")
    hits = cache.hits
    again = http.get(f"{EMBED}?country=RU&lang=ru")
    assert cache.hits == hits + 1 and again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert again.headers["content-security-policy"] == first.headers["content-security-policy"]
    not_modified = http.get(f"{EMBED}?country=RU&lang=ru", headers={"If-None-Match": first.headers["etag"]})
    assert not_modified.status_code == 304 and not_modified.content == b""
    head = http.head(f"{EMBED}?country=RU&lang=ru")
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == first.headers["etag"]


def test_the_cache_keeps_pages_apart_by_the_language_of_their_own_words(http):
    """Italian has no texts in the dataset and no words here: ``it, es`` and ``it, fr`` negotiate
    the same texts and CLDR names, yet the page speaks Spanish for one and French for the other."""
    spanish = http.get(EMBED, headers={"Accept-Language": "it, es;q=0.9"})
    french = http.get(EMBED, headers={"Accept-Language": "it, fr;q=0.9"})
    assert parse(spanish.text).all("html")[0].attrs["lang"] == "es"
    assert parse(french.text).all("html")[0].attrs["lang"] == "fr"


def test_a_change_reaches_the_page(deployment):
    with deployment.client() as client:
        before = client.get(f"{EMBED}?country=RU")
        approve_through_curation(client, deployment.db, hostile_listing("ru-added", "A new shelter"))
        after = client.get(f"{EMBED}?country=RU")
    assert "A new shelter" not in before.text and "A new shelter" in after.text
    assert after.headers["x-dataset-revision"] != before.headers["x-dataset-revision"]


def test_a_read_only_replica_serves_the_embed(deployment):
    with deployment.client(read_only=True) as replica:
        for path in (f"{EMBED}?country=RU", "/embed/v1/widget.js", "/embed/v1/"):
            assert replica.get(path).status_code == 200, path


# --- the loader ----------------------------------------------------------------------------------------


def test_the_loader_is_small_typed_and_cacheable(http):
    response = http.get("/embed/v1/widget.js")
    assert response.status_code == 200
    assert len(response.content) < 10 * 1024
    assert response.content == (ASSET_DIR / "widget.js").read_bytes()
    assert response.headers["content-type"] == "application/javascript; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == WIDGET_CACHE_CONTROL
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "set-cookie" not in response.headers
    again = http.get("/embed/v1/widget.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert http.get("/embed/v1/widget.js?v=2").status_code == 400  # one URL per version: the path's


def _code_of(script: str) -> str:
    """The script without its comments (what runs)."""
    return re.sub(r"/\*.*?\*/|//[^\n]*", "", script, flags=re.S)


def test_the_loader_frames_with_exactly_the_sandbox_and_checks_every_message():
    code = _code_of((ASSET_DIR / "widget.js").read_text(encoding="utf-8"))
    assert re.findall(r'SANDBOX = "([^"]*)"', code) == [SANDBOX]
    assert "allow-same-origin" not in code and "allow-top-navigation" not in code
    assert 'setAttribute("referrerpolicy", "no-referrer")' in code and 'setAttribute("loading", "lazy")' in code
    # It listens; it never posts (so never to "*"), and reads nothing about the page it is in.
    assert "postMessage" not in code
    for leak in ("location", "document.URL", "document.referrer", "document.title", "cookie", "localStorage", "innerHTML"):
        assert leak not in code, leak
    assert 'event.source !== frame.contentWindow || event.origin !== "null"' in code


def test_the_loader_passes_exactly_the_parameters_the_page_takes(http):
    code = _code_of((ASSET_DIR / "widget.js").read_text(encoding="utf-8"))
    (listed,) = re.findall(r"PARAMETERS = \[([^\]]*)\]", code)
    passed = re.findall(r'"([a-z_]+)"', listed)
    handler = next(h for route in http.served.litestar.routes for h in getattr(route, "route_handlers", [])
                   if h.handler_name == "embed_listings")
    assert sorted(passed) == sorted(http.served.query_rules.of(handler).allowed)


def test_the_resize_snippet_sends_a_number_and_the_pages_title_only():
    code = _code_of(ASSETS.resize_js)
    (message,) = re.findall(r"postMessage\((.*?)\);", code)
    assert message == '{ type: "actiondir:height", height: height, title: document.title }, "*"'


# --- the picker ---------------------------------------------------------------------------------------


def test_the_picker(http):
    response = http.get("/embed/v1/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = csp_of(response)
    page = parse(response.text)
    (style,) = page.all("style")
    (script,) = page.all("script")
    assert policy["style-src"] == [sha256_source(style.text)]
    assert policy["script-src"] == [sha256_source(script.text), "'strict-dynamic'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["default-src"] == ["'none'"]
    countries = [o.attrs["value"] for o in page.all("option") if o.parent and o.parent.attrs.get("name") == "country"]
    assert countries == ["", *[c["code"] for c in http.get("/v1/countries").json()["data"]]]
    themes = [o.attrs["value"] for o in page.all("option") if o.parent and o.parent.attrs.get("name") == "theme"]
    assert themes == ["auto", "light", "dark"]
    for element in page.elements:
        assert "style" not in element.attrs and not [n for n in element.attrs if n.startswith("on")]


def test_the_picker_never_writes_the_requests_host_into_a_cached_page(http):
    """The snippet's address comes from the browser's location: a Host header cannot poison
    the copy the response cache keeps for everyone."""
    poisoned = http.get("/embed/v1/", headers={"Host": "attacker.example", "X-Forwarded-Host": "attacker.example"})
    assert "attacker.example" not in poisoned.text
    embed = http.get(f"{EMBED}?country=RU", headers={"Host": "attacker.example"})
    assert "attacker.example" not in embed.text


# --- contrast (WCAG 2.1 AA) -----------------------------------------------------------------------------


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _themes(css: str) -> dict[str, dict[str, str]]:
    """Each block of custom properties in the stylesheet, by its selector."""
    themes = {}
    for selector, body in re.findall(r"((?:@media[^{]*\{)?[^{}]*)\{([^{}]*--bg:[^{}]*)\}", css):
        themes[selector.strip()] = dict(re.findall(r"--([\w-]+):(#[0-9a-fA-F]{6})", body))
    return themes


#: (text, background, minimum): body text 4.5:1; the focus ring and borders of notes 3:1 (non-text).
EMBED_PAIRS = [
    ("fg", "bg", 4.5), ("muted", "bg", 4.5), ("link", "bg", 4.5), ("tag-fg", "tag-bg", 4.5),
    ("danger-fg", "danger-bg", 4.5), ("caution-fg", "caution-bg", 4.5), ("focus", "bg", 3.0),
    ("danger-line", "danger-bg", 3.0), ("caution-line", "caution-bg", 3.0),
]
PICKER_PAIRS = [("fg", "bg", 4.5), ("muted", "bg", 4.5), ("focus", "bg", 4.5), ("button-fg", "button-bg", 4.5), ("fg", "code-bg", 4.5)]


def test_contrast_is_computed_right():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48  # the classic just-fails grey


@pytest.mark.parametrize(("stylesheet", "pairs", "blocks"), [("embed.css", EMBED_PAIRS, 3), ("picker.css", PICKER_PAIRS, 2)])
def test_every_colour_pair_meets_wcag_aa_in_every_theme(stylesheet, pairs, blocks):
    themes = _themes((ASSET_DIR / stylesheet).read_text(encoding="utf-8"))
    assert len(themes) == blocks, themes.keys()  # light, dark (and the system's dark for auto)
    for selector, colours in themes.items():
        for text, background, minimum in pairs:
            ratio = contrast(colours[text], colours[background])
            assert ratio >= minimum, f"{stylesheet} {selector}: {text} on {background} is {ratio:.2f}:1"


def test_the_system_dark_theme_is_the_dark_theme():
    themes = _themes((ASSET_DIR / "embed.css").read_text(encoding="utf-8"))
    forced = next(v for k, v in themes.items() if k == ":root[data-theme=dark]")
    system = next(v for k, v in themes.items() if k.startswith("@media"))
    assert forced == system


def test_the_default_test_data_is_what_the_tests_assume():
    assert {d["id"] for d in default_listings()} >= {"ru-evacuation", "ru-legal-aid", "ww-rainbow"}


# --- the partner guide says what the code does ------------------------------------------------------

PARTNERS = (Path(__file__).resolve().parent.parent / "docs" / "partners.md").read_text(encoding="utf-8")


def test_the_partner_guide_matches_the_code():
    flat = " ".join(PARTNERS.split())
    assert f'sandbox="{SANDBOX}"' in flat
    assert "under 3 KB" in flat and len((ASSET_DIR / "widget.js").read_bytes()) < 3 * 1024
    assert WIDGET_CACHE_CONTROL in flat and "public, max-age=60, stale-while-revalidate=600" in flat
    languages = flat[flat.index("The widget's own words"):flat.index("other languages fall back")]
    from api.i18n import language_name  # noqa: PLC0415

    assert sorted(re.findall(r"[A-Z][a-z]+", languages.split("exist in", 1)[1])) == sorted(
        language_name(tag, "en") for tag in EMBED_LANGUAGES
    )
    for name in ("embed-light.png", "embed-dark.png", "embed-rtl.png"):
        assert f"]({name})" in PARTNERS and (ASSET_DIR.parent.parent.parent / "docs" / name).stat().st_size > 10_000
    for parameter in ("country", "kind", "topic", "lang", "limit", "theme"):
        assert f"| `data-{parameter}` |" in PARTNERS
