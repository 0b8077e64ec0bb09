"""The docs at /v1/docs work offline and tell no third party: Swagger UI from the pinned,
vendored release (api/http/docs.py), showing exactly /v1/openapi.json, under a policy that
allows no other origin.

- The vendored files are the release's: their SHA-256 sums, and, where tools/node_modules is
  installed (``make tools``: ``npm ci`` checks the package against tools/package-lock.json's
  integrity hash), byte for byte the files of ``swagger-ui-dist`` at the pinned version; its
  licence and notice come with them.
- The page and its files, through the real app: no inline script, no URL of another host, the
  ``Content-Security-Policy`` on every answer, the setup pointing at ``/v1/openapi.json``.
- In a real headless Chromium (Debian's, through its chromedriver) against ``actiondir serve``
  on 127.0.0.1, with every other host unreachable: the page renders every operation of the
  spec, the spec it shows is byte for byte /v1/openapi.json, no request left 127.0.0.1 and the
  browser reported no error (a policy violation included). The browser tests skip where
  Chromium is not installed, except under ``REQUIRE_BROWSER=1`` (CI).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, free_port
from serving import start_server, stop_server, wait_up

from api.dataset import import_directory
from api.http.docs import CONTENT_SECURITY_POLICY, SPEC_URL, SWAGGER_UI_VERSION, swagger_ui_files
from api.store import Store

VENDORED = REPO / "api" / "http" / "swagger_ui"
TOOLS = REPO / "tools"
RELEASE = TOOLS / "node_modules" / "swagger-ui-dist"
COMMITTED = (REPO / "openapi" / "v1.json").read_bytes()
ASSETS = f"/v1/docs/swagger-ui/{SWAGGER_UI_VERSION}"
#: Every route under /v1/docs that answers 200.
DOCS_ROUTES = ("/v1/docs", "/v1/docs/setup.js", f"{ASSETS}/swagger-ui-bundle.js", f"{ASSETS}/swagger-ui.css",
               f"{ASSETS}/swagger-ui-bundle.js.LICENSE.txt", "/v1/docs/openapi.json")


# --- the vendored release -------------------------------------------------------------------------


def _sums() -> dict[str, str]:
    lines = (VENDORED / "SHA256SUMS").read_text(encoding="ascii").splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines)}


def test_every_vendored_file_is_listed_with_its_sha256():
    sums = _sums()
    assert set(sums) == {path.name for path in VENDORED.iterdir()} - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256((VENDORED / name).read_bytes()).hexdigest() == digest, name
    assert set(swagger_ui_files()) == set(sums)


def test_the_release_comes_with_its_licence_and_notice():
    assert "Apache License" in (VENDORED / "LICENSE").read_text(encoding="utf-8")
    assert "Version 2.0" in (VENDORED / "LICENSE").read_text(encoding="utf-8")
    assert "swagger-ui" in (VENDORED / "NOTICE").read_text(encoding="utf-8")
    assert "swagger-ui-bundle.js.LICENSE.txt" in (VENDORED / "swagger-ui-bundle.js").read_text(encoding="utf-8")[:200]


def test_the_vendored_version_is_the_pinned_one():
    pinned = json.loads((TOOLS / "package.json").read_text(encoding="utf-8"))["devDependencies"]["swagger-ui-dist"]
    locked = json.loads((TOOLS / "package-lock.json").read_text(encoding="utf-8"))["packages"]["node_modules/swagger-ui-dist"]
    assert pinned == locked["version"] == SWAGGER_UI_VERSION
    assert locked["license"] == "Apache-2.0" and locked["integrity"].startswith("sha512-")


def test_the_vendored_files_are_the_releases_byte_for_byte():
    if not RELEASE.exists():
        if os.environ.get("REQUIRE_NODE_TOOLS") == "1":
            pytest.fail("tools/node_modules is not installed: run `make tools`")
        pytest.skip("tools/node_modules is not installed (`make tools`)")
    assert json.loads((RELEASE / "package.json").read_text(encoding="utf-8"))["version"] == SWAGGER_UI_VERSION
    for name in _sums():
        assert (VENDORED / name).read_bytes() == (RELEASE / name).read_bytes(), name


def test_a_file_that_is_not_the_release_is_refused(tmp_path, monkeypatch):
    """A vendored file changed by hand (or damaged) stops the docs, rather than being served."""
    import api.http.docs as docs  # noqa: PLC0415

    copy = tmp_path / "swagger_ui"
    shutil.copytree(VENDORED, copy)
    (copy / "swagger-ui.css").write_bytes(b"body{}")

    class Files:
        def joinpath(self, name: str) -> Path:
            return copy if name == "swagger_ui" else copy / name

    monkeypatch.setattr(docs.importlib.resources, "files", lambda package: Files())
    docs.swagger_ui_files.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="swagger-ui.css"):
            docs.swagger_ui_files()
    finally:
        docs.swagger_ui_files.cache_clear()


# --- the page, through the app ----------------------------------------------------------------------


def _policy(header: str) -> dict[str, list[str]]:
    return {parts[0]: parts[1:] for parts in (d.split() for d in header.split(";")) if parts}


def test_the_policy_allows_no_other_origin():
    policy = _policy(CONTENT_SECURITY_POLICY)
    assert policy["default-src"] == ["'none'"]
    for directive, sources in policy.items():
        assert set(sources) <= {"'self'", "'none'", "data:"}, directive
    assert "data:" not in policy["script-src"] and "'unsafe-inline'" not in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("path", DOCS_ROUTES)
def test_every_docs_answer_carries_the_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_page_loads_only_our_files_and_runs_no_inline_script(client):
    page = client.get("/v1/docs").text
    sources = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]*)"', page)
    assert sources and all(s.startswith("/v1/docs/") or s == "data:," for s in sources), sources
    assert not re.search(r"<script\b(?![^>]*\bsrc=)[^>]*>", page), "an inline script"
    assert not re.search(r"https?://", page)


def test_the_setup_shows_the_served_spec_and_calls_no_other_host(client):
    setup = client.get("/v1/docs/setup.js").text
    assert re.findall(r'\burl: "([^"]*)"', setup) == [SPEC_URL]
    assert "validatorUrl: null" in setup and "queryConfigEnabled: false" in setup
    assert client.get(SPEC_URL).content == COMMITTED


@pytest.mark.parametrize(("name", "media_type"), [("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css")])
def test_the_release_files_are_served_whole_and_cacheable_for_good(client, name, media_type):
    response = client.get(f"{ASSETS}/{name}", headers={"Accept-Encoding": "identity"})
    assert response.content == (VENDORED / name).read_bytes()
    assert response.headers["content-type"].startswith(media_type)
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = client.get(f"{ASSETS}/{name}", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("name", ["LICENSE", "SHA256SUMS", "../docs.py", "swagger-ui.js", "index.html"])
def test_nothing_else_is_served_from_the_release_folder(client, name):
    assert client.get(f"{ASSETS}/{name}").status_code == 404


# --- in a real browser ------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("docs-browser") / "seed.db"
    store = Store(db, create=True)
    try:
        import_directory(REPO / "directory_data", store)
    finally:
        store.close()
    port = free_port()
    process = start_server(db, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base, process)
        yield base
    finally:
        stop_server(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, through its chromedriver; every host but 127.0.0.1 is
    unreachable (a proxy on a closed port, which the browser bypasses for loopback only)."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
        pytest.skip("chromium and chromedriver are not installed")
    from selenium import webdriver  # noqa: PLC0415
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--window-size=1280,2000", f"--proxy-server=http://127.0.0.1:{free_port()}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _requested_urls(driver: Any) -> list[str]:
    """Every URL the page asked for, from the browser's own network log (DevTools events)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _beyond(urls: list[str], base: str) -> list[str]:
    """The requests that went anywhere but the server under test (``data:`` URLs go nowhere)."""
    return [url for url in urls if not (url.startswith(f"{base}/") or url.startswith("data:"))]


def test_the_request_check_can_fail():
    base = "http://127.0.0.1:8123"
    assert _beyond([f"{base}/v1/docs", "data:,", "https://cdn.example.org/x.js", "http://127.0.0.1:9/"], base) == [
        "https://cdn.example.org/x.js", "http://127.0.0.1:9/",
    ]


def _spec_operations() -> set[str]:
    spec = json.loads(COMMITTED)
    return {operation["operationId"] for item in spec["paths"].values() for operation in item.values()}


@pytest.mark.slow
def test_the_docs_render_every_operation_offline_in_a_real_browser(browser, docs_server):
    from selenium.webdriver.common.by import By  # noqa: PLC0415
    from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415

    browser.get_log("performance")  # start from an empty log
    browser.get(f"{docs_server}/v1/docs")
    expected = _spec_operations()
    WebDriverWait(browser, 60).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock-summary-operation-id")) >= len(expected)
    )
    shown = {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-operation-id")}
    assert shown == expected
    assert browser.find_element(By.CSS_SELECTOR, ".info .title").text.startswith("Action Directory API")

    # What it shows is the served spec, byte for byte, fetched from where the setup says.
    assert browser.execute_script("return window.ui.specSelectors.url()") == SPEC_URL
    assert browser.execute_script("return window.ui.specSelectors.specStr()").encode() == COMMITTED

    urls = _requested_urls(browser)
    assert f"{docs_server}{SPEC_URL}" in urls
    assert not _beyond(urls, docs_server), f"requests beyond 127.0.0.1: {_beyond(urls, docs_server)}"
    problems = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert not problems, problems  # a Content-Security-Policy violation would be one


@pytest.mark.slow
def test_the_policy_refuses_a_request_to_another_host_in_the_browser(browser, docs_server):
    """The browser enforces the policy: a script on the page that asks another host is refused."""
    browser.get(f"{docs_server}/v1/docs")
    browser.get_log("browser")
    outcome = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('https://cdn.example.org/swagger-ui.js').then(() => done('fetched'), (e) => done('refused: ' + e));"
    )
    assert outcome.startswith("refused"), outcome
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert any("Content Security Policy" in message for message in messages), messages
