"""The production server (`actiondir serve`, granian) answers over real TCP on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import REPO, free_port

from api.dataset import load_directory

pytestmark = pytest.mark.slow

ACTIONDIR = Path(sys.executable).parent / "actiondir"


@pytest.fixture(scope="module")
def live_server(seed_db: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "ACTIONDIR_PORT": str(port)}  # settings from the environment…
    process = subprocess.Popen(
        [str(ACTIONDIR), "serve", "--db", str(seed_db), "--workers", "2"],  # …and from options
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            output = process.stdout.read().decode() if process.stdout else ""
            process.kill()
            pytest.fail(f"server did not start:\n{output}")
        time.sleep(0.1)
    yield base
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def test_serves_russian_listings_over_tcp(live_server):
    listings, _ = load_directory(REPO / "directory_data")
    russian_titles = {listing.translations["ru"].title for listing in listings if "RU" in listing.countries and "ru" in listing.translations}
    response = httpx.get(f"{live_server}/v1/countries/RU/listings", params={"lang": "ru"})
    assert response.status_code == 200
    items = response.json()["data"]
    assert any(item["title"] in russian_titles and item["lang"] == "ru" for item in items)


def test_conditional_get_and_compression_over_tcp(live_server):
    with httpx.Client(base_url=live_server, headers={"Accept-Encoding": "gzip"}) as client:
        first = client.get("/v1/dataset")
        assert first.status_code == 200
        assert first.headers["content-encoding"] == "gzip"
        assert first.json()["revision"] >= 1
        again = client.get("/v1/dataset", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304
        assert again.content == b""


@pytest.mark.parametrize("path", ["/v1/listings/ru-ovd-info%2Frevisions", "/v1%2flistings", "/v1/countries/RU%2Flistings"])
def test_an_encoded_slash_is_not_a_separator_over_tcp(live_server, path):
    """granian decodes %2F into the path it hands the app; the app reads the raw path too."""
    for _ in range(2):  # the second from the front cache, if it had kept the first
        response = httpx.get(f"{live_server}{path}")
        assert response.status_code == 404, response.text
        assert "%2F" in response.json()["detail"]


def test_serve_refuses_a_missing_database(tmp_path):
    result = subprocess.run(
        [str(ACTIONDIR), "serve", "--db", str(tmp_path / "missing.db"), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "actiondir import" in result.stderr
