"""A real headless Chromium for tests (and docs/screenshots.py), and a partner's site to put
the widget in.

The browser is the system's (Debian's ``chromium`` and ``chromedriver``, which ``.ci/run``
installs), driven by Selenium with that driver: nothing is downloaded at run time. It runs
with ``--host-resolver-rules`` that resolve no name but 127.0.0.1, so neither the pages nor
the browser's own background services (component updates, sign-in) can reach the internet;
every request it starts is still written to its NetLog, which ``network_log`` reads.

``PartnerSite`` is a partner's web server on its own port of 127.0.0.1: a different origin
from the API, as a real partner's page is.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import free_port

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-pings",
    "--disable-dev-shm-usage",
    # Chrome's own services that call Google about a page: form autofill (the picker has a
    # form), translation offers, page hints. Not the pages' requests; off so that the only
    # requests left are the pages' own and the browser's background ones (see network_log).
    "--disable-features=AutofillServerCommunication,Translate,OptimizationHints,MediaRouter",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


def find_browser() -> tuple[str, str]:
    """(chromium, chromedriver) from the system; skip without them, unless ``REQUIRE_BROWSER=1``
    (set by ``.ci/run``) makes that a failure."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or next(
        (p for p in ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver") if Path(p).exists()), None
    )
    if chromium and driver:
        return chromium, driver
    message = "chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def start_chromium(net_log: Path | None = None, *, width: int = 900, height: int = 3200, extra: tuple[str, ...] = ()) -> Any:
    """A Selenium driver for the system's headless Chromium; ``net_log``: where it writes every
    request it starts (read it with ``network_log`` once the driver has quit)."""
    from selenium import webdriver  # noqa: PLC0415 - test dependency
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    chromium, driver = find_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--window-size={width},{height}", *extra):
        options.add_argument(flag)
    if net_log is not None:
        options.add_argument(f"--log-net-log={net_log}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(options=options, service=Service(driver))


@dataclass(frozen=True)
class Request:
    url: str
    initiator: str
    """The origin of the document that asked (``null`` for a sandboxed one), or ``not an
    origin`` for the browser's own requests and navigations it was told to make."""
    isolation: str
    """The network isolation key: the top-level site (and frame site) the request was made for."""
    headers: tuple[str, ...] = ()
    """The request headers as sent (``Name: value``), when it reached the network."""

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""


def network_log(path: Path) -> list[Request]:
    """Every request Chromium started, in order, from its NetLog (finished when it quits)."""
    text = path.read_text(encoding="utf-8").rstrip()
    if not text.endswith("}"):  # a browser that did not finish writing leaves the list open
        text = text.rstrip(",") + "]}"
    data = json.loads(text)
    types = data["constants"]["logEventTypes"]
    start_job, sent = types["URL_REQUEST_START_JOB"], types["HTTP_TRANSACTION_SEND_REQUEST_HEADERS"]
    headers: dict[int, tuple[str, ...]] = {}
    for event in data["events"]:
        if event["type"] == sent:
            headers[event["source"]["id"]] = tuple(event["params"].get("headers", ()))
    return [
        Request(url=event["params"]["url"], initiator=event["params"].get("initiator", ""),
                isolation=event["params"].get("network_isolation_key", ""), headers=headers.get(event["source"]["id"], ()))
        for event in data["events"]
        if event["type"] == start_job and "url" in event.get("params", {})
    ]


def performance_log_urls(driver: Any) -> list[str]:
    """The URLs the DevTools performance log saw requested (the page and its frames)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


class PartnerSite:
    """A partner's site on 127.0.0.1: ``pages`` maps a path to its HTML."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                site.requests.append((self.path, dict(self.headers)))
                body = site.pages.get(self.path.partition("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.origin + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def partner_page(body: str, *, title: str = "A partner's article", head: str = "") -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
        f"<body><h1>{title}</h1><p>The article ends here. To find out how you can help:</p>{body}"
        "<p>After the widgets.</p></body></html>"
    )


def widget_tag(api: str, link_text: str = "Ways to help", **data: str) -> str:
    """The paste-in tag, as docs/partners.md gives it: a plain link, then the loader."""
    from html import escape  # noqa: PLC0415

    query = "&".join(f"{k}={v}" for k, v in data.items())
    attributes = "".join(f' data-{k}="{escape(v)}"' for k, v in data.items())
    return (
        f'<a href="{escape(api)}/embed/v1/listings?{escape(query)}" target="_blank" rel="noopener noreferrer">{escape(link_text)}</a>\n'
        f'<script src="{escape(api)}/embed/v1/widget.js"{attributes} referrerpolicy="no-referrer" async></script>'
    )


def wait_for(predicate: Callable[[], Any], *, timeout: float = 15, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
