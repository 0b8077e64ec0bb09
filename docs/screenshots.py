"""Screenshots of the embed widget for the README and docs/partners.md: light, dark, right to left.

Serves the seed dataset (directory_data/) with ``actiondir serve`` on 127.0.0.1, puts the
paste-in tag in a partner's page on another port, and photographs each widget's frame in the
system's headless Chromium (the browser tests' set-up: tests/browser.py). Writes
docs/embed-light.png, docs/embed-dark.png and docs/embed-rtl.png.

    make screenshots        # or: .venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from browser import PartnerSite, partner_page, start_chromium, wait_for, widget_tag  # noqa: E402
from conftest import free_port  # noqa: E402
from serving import start_server, stop_server, wait_up  # noqa: E402

from api.dataset import import_directory  # noqa: E402
from api.store import Store  # noqa: E402

#: (file, the tag's data-* values): what each screenshot shows.
SHOTS = {
    "embed-light.png": {"country": "UA", "lang": "en", "limit": "3", "theme": "light"},
    "embed-dark.png": {"country": "BR", "lang": "pt-BR", "limit": "3", "theme": "dark"},
    "embed-rtl.png": {"country": "IR", "lang": "fa", "limit": "3", "theme": "light"},
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "seed.db"
        store = Store(db, create=True)
        try:
            import_directory(REPO / "directory_data", store)
        finally:
            store.close()
        port = free_port()
        api = f"http://127.0.0.1:{port}"
        server = start_server(db, port)
        partner = PartnerSite()
        driver = None
        try:
            wait_up(api, server)
            driver = start_chromium(width=560, height=1600)
            for name, data in SHOTS.items():
                partner.pages["/article.html"] = partner_page(widget_tag(api, **data))
                driver.get(partner.url("/article.html"))
                frame = wait_for(lambda: driver.find_elements("css selector", "iframe"), what="the widget")[0]
                wait_for(lambda frame=frame: frame.get_attribute("height") != "360", what="the widget's resize")
                driver.execute_script("arguments[0].scrollIntoView()", frame)
                frame.screenshot(str(REPO / "docs" / name))
                print(f"wrote docs/{name}")
        finally:
            if driver is not None:
                driver.quit()
            partner.close()
            stop_server(server)


if __name__ == "__main__":
    main()
