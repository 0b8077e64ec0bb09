"""Per-client rate limits behind a reverse proxy: X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from api.app import create_app
from api.http.proxies import client_address_resolver, parse_networks
from api.settings import load_settings
from api.store import Store


class FakeRequest:
    def __init__(self, peer: str, forwarded: str | None = None) -> None:
        self.client = type("Client", (), {"host": peer})()
        self.headers = {"x-forwarded-for": forwarded} if forwarded is not None else {}


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "client"),
    [
        pytest.param("", "192.0.2.7", "198.51.100.1", "192.0.2.7", id="no-trusted-proxies-header-ignored"),
        pytest.param("127.0.0.1", "192.0.2.7", "198.51.100.1", "192.0.2.7", id="untrusted-peer-header-ignored"),
        pytest.param("127.0.0.1", "127.0.0.1", "198.51.100.1", "198.51.100.1", id="trusted-peer"),
        pytest.param("127.0.0.1", "127.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1", id="forged-left-entries-ignored"),
        pytest.param("127.0.0.1, 10.0.0.0/8", "127.0.0.1", "198.51.100.1, 10.1.2.3", "198.51.100.1", id="chain-of-proxies"),
        pytest.param("127.0.0.1", "127.0.0.1", None, "127.0.0.1", id="trusted-peer-no-header"),
        pytest.param("127.0.0.1", "127.0.0.1", "not-an-ip", "not-an-ip", id="garbage-is-its-own-bucket"),
        pytest.param("::1", "::1", "2001:db8::5", "2001:db8::/64", id="ipv6-keyed-by-its-64"),
        pytest.param("", "2001:db8:0:7:a:b:c:d", None, "2001:db8:0:7::/64", id="ipv6-peer-keyed-by-its-64"),
        pytest.param("", "::ffff:198.51.100.7", None, "198.51.100.7", id="ipv4-mapped-is-the-ipv4"),
    ],
)
def test_client_address(trusted, peer, forwarded, client):
    resolve = client_address_resolver(parse_networks(trusted))
    assert resolve(FakeRequest(peer, forwarded)) == client


def test_a_bad_trusted_proxy_setting_names_the_entry():
    with pytest.raises(ValueError, match="'10.0.0.300'"):
        parse_networks("127.0.0.1, 10.0.0.300")


def _report_statuses(deployment, trusted: str, forwarded_for: list[str]) -> list[int]:
    """Reports from a proxy on 127.0.0.1, one per X-Forwarded-For value, through the real app."""
    store = Store(deployment.db)
    app = create_app(load_settings(db=deployment.db, reports_per_minute=2, trusted_proxies=trusted), store=store)

    async def send() -> list[int]:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            statuses = []
            for address in forwarded_for:
                response = await client.post(
                    "/v1/listings/ru-evacuation/reports",
                    json={"reason": "outdated"},
                    headers={"X-Forwarded-For": address},
                )
                statuses.append(response.status_code)
            return statuses

    try:
        return asyncio.run(send())
    finally:
        store.close()


def test_behind_a_trusted_proxy_each_reader_has_their_own_limit(deployment):
    readers = ["198.51.100.1", "198.51.100.2"] * 2 + ["198.51.100.1"]
    assert _report_statuses(deployment, "127.0.0.1", readers) == [202, 202, 202, 202, 429]


def test_without_trusted_proxies_the_header_changes_nothing(deployment):
    readers = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    assert _report_statuses(deployment, "", readers) == [202, 202, 429]


def test_one_ipv6_subscriber_gets_one_limit_not_2_to_the_64(deployment):
    """Addresses of one /64 (what one subscriber is usually given) share the reports limit."""
    readers = [f"2001:db8:0:1::{n:x}" for n in range(1, 4)]
    assert _report_statuses(deployment, "127.0.0.1", readers) == [202, 202, 429]


def test_expired_rate_limit_entries_are_swept(deployment, monkeypatch):
    """litestar's memory store drops a key only when that key is read again; the app sweeps
    expired ones, so one-off clients do not stay in memory for good."""
    import time  # noqa: PLC0415

    import api.http.guards as guards  # noqa: PLC0415
    from litestar.testing import TestClient  # noqa: PLC0415

    monkeypatch.setattr(guards, "RATE_LIMIT_SWEEP_SECONDS", 0.05)
    app = create_app(load_settings(db=deployment.db, reports_per_minute=2))
    store = app.litestar.stores.get("rate_limit")
    with TestClient(app) as client:
        assert client.post("/v1/listings/ru-evacuation/reports", json={"reason": "outdated"}).status_code == 202
        assert len(store._store) == 1  # noqa: SLF001 - the store's size is what this test is about

        async def expire_all() -> None:
            for key in list(store._store):  # noqa: SLF001
                await store.set(key, await store.get(key), expires_in=1)

        client.blocking_portal.call(expire_all)
        deadline = time.monotonic() + 10
        while store._store and time.monotonic() < deadline:  # noqa: SLF001
            time.sleep(0.05)
        assert len(store._store) == 0  # noqa: SLF001
