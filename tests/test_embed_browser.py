"""The widget in a real browser: headless Chromium, a partner's page on one port of 127.0.0.1,
the API (``actiondir serve``) on another.

What a partner and their readers rely on, checked where it happens: the frame appears,
sandboxed exactly as documented, and takes its content's height; several widgets on a page
are independent; links open a new tab; hostile listing text shows as text and runs nothing;
Persian runs right to left; the frame cannot reach anything of the page or of its own
origin; only its own frame can resize it; colours hold WCAG AA in the browser; focus is
visible; and no request of the pages leaves 127.0.0.1 (the browser's NetLog, which records
every request it starts, and the DevTools performance log).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import PartnerSite, network_log, partner_page, performance_log_urls, start_chromium, wait_for, widget_tag
from conftest import free_port
from embed_support import CURATED_TITLES, FLAG, PLANTED_TITLES, approve_through_curation, hostile_listing, plant
from factory import default_listings, listing, write_dataset
from serving import start_server, stop_server, wait_up

from api.dataset import import_directory
from api.http.embed import SANDBOX
from api.services.embed_text import EMBED_TEXTS
from api.store import Store

pytestmark = pytest.mark.slow

DEFAULT_HEIGHT = 360  # widget.js's height before the frame has said how tall it is


# --- the deployment: an API server with listings for each case, and a partner's site -----------------


@dataclass
class Site:
    api: str
    partner: PartnerSite
    driver: Any

    def open(self, body: str, name: str, *, head: str = "") -> None:
        """Serve ``body`` as a partner's page and open it."""
        path = f"/{name}.html"
        self.partner.pages[path] = partner_page(body, head=head)
        self.driver.switch_to.default_content()
        self.driver.get(self.partner.url(path))

    def frames(self, count: int) -> list[Any]:
        """The page's widget frames, once each has reported its height."""
        frames = wait_for(lambda: (found := self.driver.find_elements("css selector", "iframe")) and len(found) >= count and found,
                          what=f"{count} frame(s)")
        for frame in frames:
            wait_for(lambda frame=frame: frame.get_attribute("height") != str(DEFAULT_HEIGHT), what="the first resize")
        return frames

    def inside(self, frame: Any, script: str, *args: Any) -> Any:
        """Run ``script`` in ``frame``'s document and come back to the page."""
        self.driver.switch_to.frame(frame)
        try:
            return self.driver.execute_script(script, *args)
        finally:
            self.driver.switch_to.default_content()

    def content_height(self, frame: Any) -> int:
        return self.inside(frame, "return Math.ceil(document.documentElement.getBoundingClientRect().height)")


class API:
    def __init__(self, base: str) -> None:
        self.base = base

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.base + path, timeout=10, trust_env=False, **kwargs)


@pytest.fixture(scope="module")
def deployment_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("embed-browser")
    listings = [
        *default_listings(),
        listing("ir-shelter", countries=["IR"], languages=["fa"], translations={
            "fa": {"title": "خانه امن برای پناهجویان", "summary": "پناهگاه و کمک حقوقی برای افراد در خطر."}}),
        listing("ir-legal", countries=["IR"], languages=["en"], translations={
            "en": {"title": "Legal help for people at risk", "summary": "Lawyers who answer within a day."}}),
    ]
    write_dataset(root / "data", listings)
    db = root / "api.db"
    store = Store(db, create=True)
    try:
        import_directory(root / "data", store)
    finally:
        store.close()
    for n, title in enumerate(PLANTED_TITLES):  # markup no write path takes: see embed_support
        plant(db, hostile_listing(f"kz-planted-{n}", title, countries=["KZ"]))
    return root, db


@pytest.fixture(scope="module")
def api(deployment_dir: tuple[Path, Path]) -> Iterator[str]:
    _, db = deployment_dir
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_server(db, port)
    try:
        wait_up(base, process)
        client = API(base)
        for n, title in enumerate(CURATED_TITLES):  # through four-eyes curation, on the real server
            approve_through_curation(client, db, hostile_listing(f"kz-curated-{n}", title, countries=["KZ"]))
        yield base
    finally:
        stop_server(process)


@pytest.fixture(scope="module")
def partner() -> Iterator[PartnerSite]:
    site = PartnerSite()
    try:
        yield site
    finally:
        site.close()


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    chrome = start_chromium()
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.fixture
def site(api: str, partner: PartnerSite, driver: Any) -> Site:
    driver.get_log("browser")  # start each test with an empty console
    return Site(api, partner, driver)


def assert_quiet_console(site: Site) -> None:
    """Nothing failed or was refused (an injected inline script would be refused by the CSP,
    and the refusal logged; a broken hash would refuse our own)."""
    problems = [entry for entry in site.driver.get_log("browser") if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]]
    assert problems == []


# --- appears, sandboxed, and takes its content's height ---------------------------------------------


def test_the_widget_replaces_its_link_with_a_sandboxed_frame_that_fits_its_content(site):
    site.open(widget_tag(site.api, country="RU", lang="ru"), "one")
    (frame,) = site.frames(1)
    assert frame.get_attribute("sandbox") == SANDBOX
    assert frame.get_attribute("referrerpolicy") == "no-referrer"
    assert frame.get_attribute("loading") == "lazy"
    assert frame.get_attribute("src") == f"{site.api}/embed/v1/listings?country=RU&lang=ru"
    assert frame.get_attribute("title") == f"{EMBED_TEXTS['ru'].heading} · Action Directory"  # the frame's own title
    # It fits: its height is its content's, and the content does not scroll.
    assert int(frame.get_attribute("height")) == site.content_height(frame)
    assert site.inside(frame, "return document.documentElement.scrollHeight <= window.innerHeight")
    # The link it stood in for is hidden now that the frame runs.
    (link,) = site.driver.find_elements("css selector", "body > a")
    assert not link.is_displayed()
    # When its content grows, so does the frame.
    before = int(frame.get_attribute("height"))
    site.inside(frame, "var d = document.createElement('div'); d.style.height = '400px'; document.body.append(d)")
    wait_for(lambda: int(frame.get_attribute("height")) == before + 400, what="the frame to grow")
    assert_quiet_console(site)


def test_without_a_running_frame_the_link_stays(site):
    """Link first: where the loader cannot run (here, the script is blocked by the page's own
    Content-Security-Policy), the plain link is what the reader gets, and it works."""
    strict = '<meta http-equiv="Content-Security-Policy" content="script-src \'none\'">'
    site.open(widget_tag(site.api, country="RU"), "strict-host", head=strict)
    (link,) = site.driver.find_elements("css selector", "body a")
    assert link.is_displayed()
    assert link.get_attribute("href") == f"{site.api}/embed/v1/listings?country=RU"
    assert not site.driver.find_elements("css selector", "iframe")


def test_two_widgets_on_one_page_are_independent(site):
    site.open(widget_tag(site.api, country="RU", lang="ru") + "<p>Between the two.</p>" +
              widget_tag(site.api, country="IR", lang="fa", theme="dark"), "two")
    first, second = site.frames(2)
    assert first.get_attribute("src").endswith("country=RU&lang=ru")
    assert second.get_attribute("src").endswith("country=IR&lang=fa&theme=dark")
    assert site.inside(first, "return document.documentElement.lang") == "ru"
    assert site.inside(second, "return document.documentElement.lang") == "fa"
    heights = [int(f.get_attribute("height")) for f in (first, second)]
    assert heights == [site.content_height(first), site.content_height(second)]
    assert all(not link.is_displayed() for link in site.driver.find_elements("css selector", "body > a"))
    # Growing one leaves the other alone.
    site.inside(second, "var d = document.createElement('div'); d.style.height = '250px'; document.body.append(d)")
    wait_for(lambda: int(second.get_attribute("height")) == heights[1] + 250, what="the second frame to grow")
    time.sleep(0.3)
    assert int(first.get_attribute("height")) == heights[0]
    assert_quiet_console(site)


# --- links ------------------------------------------------------------------------------------------


def test_every_link_opens_a_new_tab_without_opener_or_referrer(site):
    site.open(widget_tag(site.api, country="RU", lang="en", limit="100"), "links")
    (frame,) = site.frames(1)
    links = site.inside(frame, "return [...document.links].map(a => [a.target, a.rel, a.href])")
    assert links
    for target, rel, href in links:
        assert target == "_blank" and set(rel.split()) >= {"noopener", "noreferrer"}, (target, rel, href)


# --- hostile text -----------------------------------------------------------------------------------


def test_hostile_titles_show_literally_and_run_nothing(site):
    site.open(widget_tag(site.api, country="KZ", lang="en", limit="100"), "hostile")
    (frame,) = site.frames(1)
    shown = site.inside(frame, """
        return [...document.querySelectorAll('h2')].map(h => {
            const copy = h.cloneNode(true);
            copy.querySelectorAll('.vh').forEach(s => s.remove());
            return copy.textContent;
        })""")
    for title in [*CURATED_TITLES, *PLANTED_TITLES]:
        assert title in shown, title
    # Give every would-be handler its chance: hover and focus everything.
    site.driver.switch_to.frame(frame)
    try:
        from selenium.webdriver import ActionChains  # noqa: PLC0415

        for element in site.driver.find_elements("css selector", "h2, h2 a, p"):
            ActionChains(site.driver).move_to_element(element).perform()
        site.driver.execute_script("document.querySelectorAll('a').forEach(a => a.focus())")
        inside = site.driver.execute_script(f"""return {{
            flag: typeof window.{FLAG},
            scripts: document.scripts.length,
            others: document.querySelectorAll('img, svg, iframe, object, embed, form, style + style').length,
            handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
        }}""")
    finally:
        site.driver.switch_to.default_content()
    assert inside == {"flag": "undefined", "scripts": 1, "others": 0, "handlers": 0}
    assert site.driver.execute_script(f"return typeof window.{FLAG}") == "undefined"
    assert_quiet_console(site)


# --- right to left ----------------------------------------------------------------------------------


def test_persian_renders_right_to_left_with_english_left_to_right_inside(site):
    site.open(widget_tag(site.api, country="IR", lang="fa"), "rtl")
    (frame,) = site.frames(1)
    layout = site.inside(frame, """
        const page = document.documentElement, h1 = document.querySelector('h1');
        const persian = document.getElementById('actiondir-ir-shelter'), english = document.getElementById('actiondir-ir-legal');
        const text = e => { const r = document.createRange(); r.selectNodeContents(e); return r.getBoundingClientRect(); };
        const body = document.body.getBoundingClientRect();
        return {
            page: getComputedStyle(page).direction, persian: getComputedStyle(persian).direction,
            english: getComputedStyle(english).direction,
            headingFromRight: body.right - text(h1).right, headingFromLeft: text(h1).left - body.left,
            englishFromLeft: text(english).left - body.left,
        };""")
    assert (layout["page"], layout["persian"], layout["english"]) == ("rtl", "rtl", "ltr")
    assert layout["headingFromRight"] < layout["headingFromLeft"]  # the heading starts at the right
    assert layout["englishFromLeft"] < 20  # the English title starts at the left


# --- the sandbox ------------------------------------------------------------------------------------


def test_the_frame_has_no_same_origin_access(site):
    site.open(widget_tag(site.api, country="RU"), "origin")
    (frame,) = site.frames(1)
    outside = site.driver.execute_script(
        "try { return document.querySelector('iframe').contentWindow.document.title } catch (e) { return e.name }")
    assert outside == "SecurityError"
    inside = site.inside(frame, """
        const attempt = f => { try { f(); return 'allowed' } catch (e) { return e.name } };
        return { origin: self.origin, cookie: attempt(() => document.cookie), storage: attempt(() => localStorage.length),
                 session: attempt(() => sessionStorage.length), parent: attempt(() => parent.document.title),
                 top: attempt(() => top.location.href) };""")
    assert inside == {"origin": "null", "cookie": "SecurityError", "storage": "SecurityError", "session": "SecurityError",
                      "parent": "SecurityError", "top": "SecurityError"}


def test_only_its_own_frame_can_resize_a_widget(site):
    """Messages that look right but come from elsewhere change nothing: from the page itself,
    and from another sandboxed frame (whose origin is also "null")."""
    spoof = """<script>
        const message = {type: 'actiondir:height', height: 4321, title: 'Spoofed'};
        setInterval(() => window.postMessage(message, '*'), 50);
    </script>
    <iframe sandbox="allow-scripts" title="another frame" srcdoc="<script>setInterval(() =>
        parent.postMessage({type: 'actiondir:height', height: 4321, title: 'Spoofed'}, '*'), 50)</script>"></iframe>"""
    site.open(widget_tag(site.api, country="RU", lang="en") + spoof, "spoof")
    frame = wait_for(lambda: [f for f in site.driver.find_elements("css selector", "iframe") if f.get_attribute("src")],
                     what="the widget")[0]
    wait_for(lambda: frame.get_attribute("height") != str(DEFAULT_HEIGHT), what="the first resize")
    time.sleep(0.5)  # ten rounds of spoofed messages
    assert int(frame.get_attribute("height")) == site.content_height(frame) != 4321
    assert frame.get_attribute("title") != "Spoofed"


# --- looks: themes, contrast, focus -------------------------------------------------------------------

_COLOURS = """
    const rgb = s => s.match(/[0-9.]+/g).slice(0, 4).map(Number);
    const background = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length < 4 || c[3] > 0) return c.slice(0, 3); } return [255, 255, 255]; };
    return [...document.querySelectorAll('h1, .kind, h2 a, .summary, .checked, footer p')]
        .map(e => [e.className || e.tagName, rgb(getComputedStyle(e).color).slice(0, 3), background(e)]);"""


def _contrast(a: list[float], b: list[float]) -> float:
    def luminance(rgb: list[float]) -> float:
        linear = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(("theme", "scheme", "dark"), [("light", "dark", False), ("dark", "light", True), ("auto", "dark", True), ("auto", "light", False)])
def test_themes_and_their_contrast_as_rendered(site, theme, scheme, dark):
    """``theme`` forces light or dark whatever the system says; ``auto`` follows it."""
    site.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
    try:
        site.open(widget_tag(site.api, country="RU", lang="en", theme=theme), f"theme-{theme}-{scheme}")
        (frame,) = site.frames(1)
        colours = site.inside(frame, _COLOURS)
    finally:
        site.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    page_background = next(bg for name, _, bg in colours if name == "H1")
    assert (sum(page_background) < 3 * 128) == dark, page_background
    assert len(colours) >= 6
    for name, foreground, background in colours:
        assert _contrast(foreground, background) >= 4.5, (theme, scheme, name, foreground, background)


def test_keyboard_focus_is_visible(site):
    site.open(widget_tag(site.api, country="RU", lang="en"), "focus")
    (frame,) = site.frames(1)
    from selenium.webdriver import ActionChains  # noqa: PLC0415
    from selenium.webdriver.common.keys import Keys  # noqa: PLC0415

    site.driver.switch_to.frame(frame)
    try:
        ActionChains(site.driver).send_keys(Keys.TAB).perform()
        focus = site.driver.execute_script("""const a = document.activeElement, s = getComputedStyle(a);
            return [a.tagName, a.matches(':focus-visible'), s.outlineStyle, parseFloat(s.outlineWidth)]""")
    finally:
        site.driver.switch_to.default_content()
    assert focus[:3] == ["A", True, "solid"] and focus[3] >= 2


def test_landmarks_and_headings(site):
    site.open(widget_tag(site.api, country="RU", lang="en"), "landmarks")
    (frame,) = site.frames(1)
    found = site.inside(frame, """return {
        main: document.querySelectorAll('main').length, footer: document.querySelectorAll('body > footer').length,
        h1: document.querySelectorAll('main h1').length, items: document.querySelectorAll('main li article h2').length,
        labelled: [...document.querySelectorAll('main, article')].every(e => document.getElementById(e.getAttribute('aria-labelledby')))}""")
    assert found["main"] == found["footer"] == found["h1"] == 1 and found["items"] >= 3 and found["labelled"]


# --- the picker ---------------------------------------------------------------------------------------


def test_the_picker_shows_the_tag_and_runs_it(site):
    site.driver.get(f"{site.api}/embed/v1/")
    preview = wait_for(lambda: site.driver.find_elements("css selector", "#preview iframe"), what="the preview")[0]
    wait_for(lambda: preview.get_attribute("height") != str(DEFAULT_HEIGHT), what="the preview's resize")
    snippet = site.driver.find_element("id", "snippet").text
    assert f'<script src="{site.api}/embed/v1/widget.js" referrerpolicy="no-referrer" async></script>' in snippet
    from selenium.webdriver.support.select import Select  # noqa: PLC0415

    Select(site.driver.find_element("name", "country")).select_by_value("IR")
    Select(site.driver.find_element("name", "lang")).select_by_value("fa")
    Select(site.driver.find_element("name", "theme")).select_by_value("dark")
    snippet = site.driver.find_element("id", "snippet").text
    assert 'data-country="IR" data-lang="fa" data-theme="dark"' in snippet
    assert f'href="{site.api}/embed/v1/listings?country=IR&amp;lang=fa&amp;theme=dark"' in snippet
    frame = wait_for(lambda: [f for f in site.driver.find_elements("css selector", "#preview iframe")
                              if "country=IR" in f.get_attribute("src")], what="the new preview")[0]
    assert frame.get_attribute("sandbox") == SANDBOX
    wait_for(lambda: frame.get_attribute("height") != str(DEFAULT_HEIGHT), what="the new preview's resize")
    site.driver.switch_to.frame(frame)
    try:
        assert site.driver.execute_script("return [document.documentElement.lang, document.documentElement.dir]") == ["fa", "rtl"]
    finally:
        site.driver.switch_to.default_content()
    assert_quiet_console(site)


# --- no request leaves 127.0.0.1 ---------------------------------------------------------------------


def test_no_request_of_the_pages_leaves_127_0_0_1(api, partner, tmp_path):
    """Every page here, in a browser of its own that records every request it starts. Then a
    control page that does load something from elsewhere, to show the record would see it."""
    net_log = tmp_path / "netlog.json"
    chrome = start_chromium(net_log)
    site = Site(api, partner, chrome)
    try:
        site.open(widget_tag(api, country="RU", lang="ru") + widget_tag(api, country="IR", lang="fa", theme="dark") +
                  widget_tag(api, country="KZ", lang="en", limit="100"), "network")
        site.frames(3)
        chrome.get(f"{api}/embed/v1/")
        preview = wait_for(lambda: chrome.find_elements("css selector", "#preview iframe"), what="the preview")[0]
        wait_for(lambda: preview.get_attribute("height") != str(DEFAULT_HEIGHT), what="the preview's resize")
        seen_by_devtools = performance_log_urls(chrome)
        partner.pages["/control.html"] = partner_page('<img src="http://example.invalid/pixel.png" alt="">')
        chrome.get(partner.url("/control.html"))
        time.sleep(0.5)
    finally:
        chrome.quit()
    requests = network_log(net_log)
    control = next(i for i, r in enumerate(requests) if r.url.endswith("/control.html"))
    pages, after = requests[:control], requests[control:]
    # The recorder sees a request that leaves, when a page makes one.
    assert [r.url for r in after if r.host == "example.invalid"] == ["http://example.invalid/pixel.png"]
    # Everything the pages asked for stayed on 127.0.0.1: what the partner's page, the frames and
    # the picker loaded, and the navigations to them. The rest is the browser's own background
    # traffic (component updates, sign-in), made for no page and kept off the network by the
    # resolver rule (tests/browser.py).
    ours = [r for r in pages if r.initiator != "not an origin" or "127.0.0.1" in r.isolation]
    assert {r.host for r in ours} == {"127.0.0.1"}, [r.url for r in ours if r.host != "127.0.0.1"]
    urls = [r.url for r in ours]
    assert sum("/embed/v1/listings" in url for url in urls) >= 4 and any(url.endswith("/embed/v1/widget.js") for url in urls)
    assert {u.split("/")[2] for u in seen_by_devtools if u.startswith("http")} <= {"127.0.0.1:" + api.rsplit(":", 1)[1], partner.origin[7:]}
    # The loader and the frames were asked for with nothing about the page they sit in: no
    # Referer (the tag and the frame say no-referrer), no cookie.
    sent = [r for r in ours if r.url.startswith(api + "/embed/v1/") and r.headers]  # the rest came from the cache
    assert any(r.url.endswith("/widget.js") for r in sent) and sum("/listings" in r.url for r in sent) >= 4
    for request in sent:
        names = {header.split(":", 1)[0].lower() for header in request.headers}
        assert not names & {"referer", "cookie"}, (request.url, request.headers)
