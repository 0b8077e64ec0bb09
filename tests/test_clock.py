"""One clock for the whole app: the ``Clock`` given to ``create_app`` decides when tokens expire
and what time every written row carries, so a test with a ``FixedClock`` controls both."""

from __future__ import annotations

import ast
import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.clock import FixedClock
from api.services.tokens import create_token
from api.settings import load_settings
from api.store import Store

# Far from the real date, so that nothing here can pass by reading the system clock.
START = dt.datetime(2031, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
SOURCES = ["https://sources.example.org/check"]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def app_client(deployment, clock):
    with TestClient(create_app(load_settings(db=deployment.db), clock=clock)) as test_client:
        yield test_client


def mint(deployment, clock: FixedClock, role: str, name: str, expires_in_days: int | None = None) -> dict[str, str]:
    store = Store(deployment.db, clock=clock)
    try:
        secret, _row = create_token(store, name=name, role=role, expires_in_days=expires_in_days, actor="test")
    finally:
        store.close()
    return {"Authorization": f"Bearer {secret}"}


def sql(deployment, query: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(deployment.db)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


def test_a_token_expiring_tomorrow_works_until_the_clock_passes_it(deployment, clock, app_client):
    auth = mint(deployment, clock, "reviewer", "Tomasz Tomorrow", expires_in_days=1)
    assert app_client.get("/v1/reports", headers=auth).status_code == 200
    clock.advance(hours=23, minutes=59)
    assert app_client.get("/v1/reports", headers=auth).status_code == 200
    clock.advance(minutes=1)
    response = app_client.get("/v1/reports", headers=auth)
    assert response.status_code == 401, response.text
    assert "expired" in response.json()["detail"]


def test_a_token_made_over_the_api_expires_by_the_apps_clock(deployment, clock, app_client):
    admin = mint(deployment, clock, "admin", "Ada Admin")
    response = app_client.post("/v1/tokens", json={"name": "Nadia Weekly", "role": "reviewer", "expires_in_days": 7}, headers=admin)
    assert response.status_code == 201, response.text
    created = response.json()
    assert dt.datetime.fromisoformat(created["expires_at"].replace("Z", "+00:00")) == START + dt.timedelta(days=7)
    auth = {"Authorization": f"Bearer {created['token']}"}
    assert app_client.get("/v1/reports", headers=auth).status_code == 200
    clock.advance(days=7)
    assert app_client.get("/v1/reports", headers=auth).status_code == 401


def test_rows_written_through_the_app_carry_the_apps_time(deployment, clock, app_client):
    curator = mint(deployment, clock, "curator", "Cora Curator")
    assert sql(deployment, "select created_at from tokens where name = ?", "Cora Curator") == [(START.isoformat(),)]
    clock.advance(days=3, seconds=1.5)  # stamps are to the second
    body = {"action": "retire", "listing_id": "ru-evacuation", "base_revision": 1, "note": "Closed down", "sources": SOURCES}
    response = app_client.post("/v1/submissions", json=body, headers=curator)
    assert response.status_code == 201, response.text
    later = START + dt.timedelta(days=3, seconds=1)
    submitted = response.json()["submitted_at"]
    assert dt.datetime.fromisoformat(submitted.replace("Z", "+00:00")) == later
    [(at, action)] = sql(deployment, "select at, action from audit order by id desc limit 1")
    assert (dt.datetime.fromisoformat(at), action) == (later, "submission.create")


def test_a_shared_store_takes_the_apps_clock(deployment, clock):
    """A store handed to ``create_app`` (tests, tools) stamps with the app's clock, not its own."""
    store = Store(deployment.db)
    try:
        create_app(load_settings(db=deployment.db), store=store, clock=clock)
        assert store.now() == START
    finally:
        store.close()


# --- nothing else reads the wall clock -------------------------------------------------------

API = Path(__file__).resolve().parent.parent / "api"

#: Calls that read the wall clock. ``time.monotonic`` is not one: it measures intervals (poll
#: periods, deadlines), it tells no date.
WALL_CLOCK_READS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"), ("time", "time"),
                    ("time", "time_ns"), ("time", "localtime"), ("time", "gmtime")}


def wall_clock_reads(source: str) -> list[str]:
    """``datetime.now()``, ``dt.date.today()``, ``time.time()``… called anywhere in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.attr if isinstance(owner, ast.Attribute) else owner.id if isinstance(owner, ast.Name) else ""
            if (owner_name, node.func.attr) in WALL_CLOCK_READS:
                found.append(f"line {node.lineno}: {owner_name}.{node.func.attr}()")
    return found


@pytest.mark.parametrize("path", sorted(p for p in API.rglob("*.py") if p.name != "clock.py"), ids=lambda p: str(p.relative_to(API)))
def test_only_the_clock_reads_the_wall_clock(path: Path):
    """Every time the app keeps (expiry, row stamps, link checks, a Retry-After date) comes from
    the ``Clock`` it was given, so a ``FixedClock`` controls them all."""
    assert wall_clock_reads(path.read_text(encoding="utf-8")) == []


def test_wall_clock_reads_are_found():
    source = "import datetime as dt, time\nfrom datetime import datetime\na = dt.datetime.now(dt.UTC)\nb = datetime.today()\nc = time.time()\nd = dt.date.today()\ne = time.monotonic()\n"
    assert wall_clock_reads(source) == ["line 3: datetime.now()", "line 4: datetime.today()", "line 5: time.time()", "line 6: date.today()"]
