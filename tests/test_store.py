"""The SQLite store on real files: schema and migrations, pragmas, indexes, full-text search,
revision history, and all-or-nothing writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factory import default_listings, listing, write_dataset
from litestar.testing import TestClient

import api.store.migrations as migrations_module
from api.app import create_app
from api.cli import cli
from api.dataset import import_directory
from api.settings import load_settings
from api.store import MIGRATIONS, SCHEMA_VERSION, DatabaseNotReady, Store
from api.store.listings import ListingRepository

TABLES = {"meta", "topics", "listings", "listing_countries", "listing_topics", "listing_revisions", "listing_text"}


def raw(db: Path) -> sqlite3.Connection:
    """A plain connection that does not go through Store (no pragmas, no migrations)."""
    return sqlite3.connect(db)


def user_version(db: Path) -> int:
    conn = raw(db)
    try:
        return conn.execute("pragma user_version").fetchone()[0]
    finally:
        conn.close()


def dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the importer writes, in a stable order."""
    conn = raw(db)
    try:
        out = {
            table: conn.execute(f"select * from {table} order by 1, 2").fetchall()
            for table in sorted(TABLES - {"listing_text"})
        }
        out["listing_text"] = conn.execute(
            "select listing_id, lang, title, summary from listing_text order by 1, 2"
        ).fetchall()
        return out
    finally:
        conn.close()


@pytest.fixture
def store(deployment):
    s = Store(deployment.db)
    yield s
    s.close()


# --- schema and migrations ------------------------------------------------------------------


def test_new_database_is_migrated_to_the_latest_schema(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    s = Store(db, create=True)
    try:
        assert s.schema_version == SCHEMA_VERSION == len(MIGRATIONS) >= 1
        assert s.get_revision() == 0
    finally:
        s.close()
    assert user_version(db) == len(MIGRATIONS)
    conn = raw(db)
    try:
        names = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    finally:
        conn.close()
    assert TABLES <= names


def test_reopening_keeps_data_and_does_not_migrate_again(deployment) -> None:
    before = dump(deployment.db)
    for create in (False, True):
        s = Store(deployment.db, create=create)
        try:
            assert s.schema_version == len(MIGRATIONS)
            assert s.get_revision() == 1
        finally:
            s.close()
    assert dump(deployment.db) == before


def test_an_older_database_gets_only_the_missing_migrations(deployment, monkeypatch) -> None:
    applied: list[str] = []

    def m2(db) -> None:
        applied.append("m2")
        db.execute("create table future_feature (url text primary key)")

    monkeypatch.setattr(migrations_module, "MIGRATIONS", (*MIGRATIONS, m2))
    monkeypatch.setattr(migrations_module, "SCHEMA_VERSION", len(MIGRATIONS) + 1)
    s = Store(deployment.db)
    try:
        assert s.schema_version == len(MIGRATIONS) + 1
        assert s.get_revision() == 1  # the data of the older release is still there
    finally:
        s.close()
    conn = raw(deployment.db)
    try:
        assert conn.execute("select count(*) from sqlite_master where name = 'future_feature'").fetchone()[0] == 1
    finally:
        conn.close()
    assert applied == ["m2"]
    assert user_version(deployment.db) == len(MIGRATIONS) + 1


def test_a_failing_migration_leaves_the_database_at_its_old_version(deployment, monkeypatch) -> None:
    def m2(db) -> None:
        db.execute("create table half_done (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations_module, "MIGRATIONS", (*MIGRATIONS, m2))
    monkeypatch.setattr(migrations_module, "SCHEMA_VERSION", len(MIGRATIONS) + 1)
    with pytest.raises(RuntimeError, match="boom"):
        Store(deployment.db)
    assert user_version(deployment.db) == len(MIGRATIONS)
    conn = raw(deployment.db)
    try:
        assert conn.execute("select count(*) from sqlite_master where name = 'half_done'").fetchone()[0] == 0
    finally:
        conn.close()


def test_pragmas_wal_synchronous_full_and_foreign_keys(store: Store, deployment) -> None:
    pragmas = store.connection_settings()
    assert pragmas["journal_mode"] == "wal"
    assert pragmas["foreign_keys"] == 1
    assert pragmas["synchronous"] == 2  # FULL
    assert pragmas["query_only"] == 0
    # WAL is a property of the file: a plain connection sees it too; and the schema declares the
    # foreign keys that the store's connection (foreign_keys = 1 above) enforces.
    conn = raw(deployment.db)
    try:
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
        conn.execute("pragma foreign_keys = on")
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            conn.execute("insert into listing_countries (country, listing_id) values ('RU', 'no-such-listing')")
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            conn.execute("insert into listing_topics (topic, listing_id) values ('no-such-topic', 'ru-evacuation')")
    finally:
        conn.close()


def test_indexes_exist_for_the_filter_columns(deployment) -> None:
    conn = raw(deployment.db)
    rows = conn.execute("select name, tbl_name from sqlite_master where type = 'index'").fetchall()
    by_table: dict[str, set[tuple[str, ...]]] = {}
    unique: set[tuple[str, tuple[str, ...]]] = set()
    for name, table in rows:
        columns = tuple(r[2] for r in conn.execute(f"pragma index_info('{name}')"))
        by_table.setdefault(table, set()).add(columns)
        if conn.execute(f"select \"unique\" from pragma_index_list('{table}') where name = ?", (name,)).fetchone()[0]:
            unique.add((table, columns))
    conn.close()
    assert ("status", "worldwide", "id") in by_table["listings"]
    assert ("kind", "status") in by_table["listings"]
    assert {("country", "listing_id"), ("listing_id",)} <= by_table["listing_countries"]
    assert {("topic", "listing_id"), ("listing_id",)} <= by_table["listing_topics"]
    assert ("listing_revisions", ("listing_id", "revision")) in unique


def test_listing_queries_search_indexes_instead_of_scanning(store: Store, deployment) -> None:
    with store.traced() as statements:
        store.listings.page(country="RU", kind="donation", topic="lgbtq-rights", after=(0, "a"))
        store.listings.page(kind="petition")
    queries = [s for s in statements if s.lstrip().lower().startswith("select")]
    assert len(queries) == 2
    conn = raw(deployment.db)  # the traced statements carry their values: any connection can plan them
    plan = [row[3] for q in queries for row in conn.execute("explain query plan " + q)]
    conn.close()
    assert not [step for step in plan if step.startswith("SCAN")], plan
    assert any("listing_countries USING COVERING INDEX" in step for step in plan)
    assert any("listing_topics USING COVERING INDEX" in step for step in plan)
    assert any("SEARCH listings USING" in step for step in plan)


# --- databases the release cannot use ------------------------------------------------------------


def make_future_db(db: Path) -> int:
    Store(db, create=True).close()
    conn = raw(db)
    conn.execute(f"pragma user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    return SCHEMA_VERSION + 1


@pytest.mark.parametrize("create", [False, True])
def test_a_database_from_a_newer_release_is_refused(tmp_path: Path, create: bool) -> None:
    db = tmp_path / "future.db"
    future = make_future_db(db)
    with pytest.raises(DatabaseNotReady) as raised:
        Store(db, create=create)
    message = str(raised.value)
    assert str(db) in message
    assert f"schema version {future}, newer than this release knows ({SCHEMA_VERSION})" in message
    assert "run a newer release" in message
    assert user_version(db) == future


def test_import_and_serve_refuse_a_newer_database_and_say_what_to_do(tmp_path: Path, monkeypatch) -> None:
    started: list[Any] = []
    monkeypatch.setattr("granian.Granian", lambda *a, **k: started.append((a, k)))
    db = tmp_path / "future.db"
    future = make_future_db(db)
    data = write_dataset(tmp_path / "data")

    for args in (["import", "--data", str(data), "--db", str(db)], ["serve", "--db", str(db)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1, args
        assert isinstance(result.exception, SystemExit)  # a clean message, not a traceback
        assert f"Error: database {db} has schema version {future}, newer than this release" in result.stderr
        assert "run a newer release" in result.stderr
    assert started == []
    assert user_version(db) == future


def test_a_missing_database_is_not_created_without_create(tmp_path: Path) -> None:
    db = tmp_path / "missing.db"
    with pytest.raises(DatabaseNotReady, match=r"does not exist: run `actiondir import`"):
        Store(db)
    assert list(tmp_path.iterdir()) == []


def test_an_empty_database_file_asks_for_an_import(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    db.touch()
    with pytest.raises(DatabaseNotReady, match=r"is empty: run `actiondir import`"):
        Store(db)
    assert user_version(db) == 0


def test_serve_without_a_database_says_to_run_import(tmp_path: Path, monkeypatch) -> None:
    started: list[Any] = []
    monkeypatch.setattr("granian.Granian", lambda *a, **k: started.append((a, k)))
    db = tmp_path / "missing.db"
    result = CliRunner().invoke(cli, ["serve", "--db", str(db)])
    assert result.exit_code == 1
    assert f"Error: database {db} does not exist: run `actiondir import` to build it" in result.stderr
    assert started == []
    assert not db.exists()


# --- full-text search ------------------------------------------------------------------------------

SEARCH_LISTINGS = [
    *default_listings(),
    listing(
        "intl-help",
        countries=["CH"],
        languages=["en", "fr", "el", "ru"],
        translations={
            "en": {"title": "Help in Zürich", "summary": "Near or far. Not alone: shelter for all."},
            "fr": {"title": "Aide à Montréal", "summary": "Hébergement d'urgence."},
            "el": {"title": "Βοήθεια στην Αθήνα", "summary": "Στέγαση."},
            "ru": {"title": "Ёлки и ежики", "summary": "Убежище."},
        },
    ),
]


@pytest.fixture
def search(deployment):
    """A deployment with the search listings, for tests that change it."""
    deployment.reimport(SEARCH_LISTINGS)
    return deployment


@pytest.fixture(scope="module")
def search_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The search listings imported once, for the read-only search tests."""
    root = tmp_path_factory.mktemp("search")
    write_dataset(root / "data", SEARCH_LISTINGS)
    s = Store(root / "search.db", create=True)
    try:
        import_directory(root / "data", s)
    finally:
        s.close()
    return root / "search.db"


@pytest.fixture(scope="module")
def search_client(search_db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load_settings(db=search_db))) as client:
        yield client


def found(db: Path, q: str) -> list[str]:
    s = Store(db)
    try:
        return [r.id for r in s.listings.page(q=q, limit=100)]
    finally:
        s.close()


SEARCHES = [
    pytest.param("sao paulo", ["br-kiss-in"], id="latin-no-accents"),
    pytest.param("SÃO PAULO", ["br-kiss-in"], id="latin-upper-accents"),
    pytest.param("beijaco", ["br-kiss-in"], id="cedilla-folded"),
    pytest.param("zurich", ["intl-help"], id="umlaut-folded"),
    pytest.param("MONTREAL", ["intl-help"], id="acute-folded-upper"),
    pytest.param("hebergement", ["intl-help"], id="french-summary"),
    pytest.param("помогает", ["ru-evacuation", "ru-legal-aid"], id="cyrillic-lower"),
    pytest.param("ПОМОГАЕТ", ["ru-evacuation", "ru-legal-aid"], id="cyrillic-upper"),
    pytest.param("ЛЮДЯМ ВЫБР", ["ru-evacuation", "ru-legal-aid"], id="cyrillic-prefix-of-last-word"),
    pytest.param("ЁЛКИ", ["intl-help"], id="cyrillic-yo-upper"),
    pytest.param("ΑΘΉΝΑ", ["intl-help"], id="greek-upper"),
    pytest.param("kampala sh", ["ug-shelter"], id="prefix-of-last-word"),
    pytest.param("kamp shelter", [], id="no-prefix-for-earlier-words"),
    pytest.param("kampala worldwide", [], id="every-word-must-match"),
    pytest.param("ru-evac", ["ru-evacuation"], id="hyphen-is-a-separator"),
    pytest.param("   ", [], id="blank"),
]


@pytest.mark.parametrize(("q", "expected"), SEARCHES)
def test_search_through_the_store(search_db, q: str, expected: list[str]) -> None:
    assert found(search_db, q) == expected


@pytest.mark.parametrize(("q", "expected"), [p for p in SEARCHES if p.id != "blank"])
def test_search_over_http(search_client, q: str, expected: list[str]) -> None:
    response = search_client.get("/v1/listings", params={"q": q})
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["data"]] == expected


def test_search_combines_with_filters_over_http(search_client) -> None:
    body = search_client.get("/v1/listings", params={"q": "помогает", "kind": "donation", "country": "RU"}).json()
    assert [item["id"] for item in body["data"]] == ["ru-legal-aid"]
    body = search_client.get("/v1/countries/BR/listings", params={"q": "sao"}).json()
    assert [item["id"] for item in body["data"]] == ["br-kiss-in"]


def test_search_follows_updates_and_retirements(search) -> None:
    changed = [d for d in SEARCH_LISTINGS if d["id"] != "ug-shelter"]
    for doc in changed:
        if doc["id"] == "ww-rainbow":
            doc["translations"] = {"en": {"title": "Worldwide evacuation fund", "summary": "Tickets out."}}
    assert found(search.db, "relocation") == ["ww-rainbow"]
    assert found(search.db, "kampala") == ["ug-shelter"]
    search.reimport(changed)
    assert found(search.db, "relocation") == []
    assert found(search.db, "tickets") == ["ww-rainbow"]
    assert found(search.db, "kampala") == []  # retired: no longer searchable
    with search.client() as client:
        assert client.get("/v1/listings", params={"q": "kampala"}).json()["data"] == []


@pytest.mark.parametrize(
    ("q", "expected"),
    [pytest.param("елки", ["intl-help"], id="cyrillic-yo-written-as-ye"), pytest.param("αθηνα", ["intl-help"], id="greek-without-tonos")],
)
def test_search_folds_non_latin_diacritics(search_db, q: str, expected: list[str]) -> None:
    assert found(search_db, q) == expected


FTS_SYNTAX = ['"', '""', 'a"b', "OR", "AND", "NOT", "NEAR(", "NEAR(a b, 5)", "*", "* *", "-", "- -", ":", "title:x",
              "^", "(", ")", "{a b}", "+", "'", '"unterminated', "kamp*", "col: -x OR \"y", "\\"]


@pytest.mark.parametrize("q", FTS_SYNTAX)
def test_fts_syntax_typed_by_a_user_is_never_an_error(search_db, search_client, q: str) -> None:
    found(search_db, q)  # raises sqlite3.OperationalError on an FTS5 syntax error
    response = search_client.get("/v1/listings", params={"q": q})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["data"], list)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # As FTS5 syntax each would mean something else; as words they must all be in the text.
        pytest.param("shelter NOT alone", ["intl-help"], id="NOT-is-a-word"),
        pytest.param("near or far", ["intl-help"], id="or-is-a-word"),
        pytest.param("kampala OR worldwide", [], id="OR-is-not-a-union"),
        pytest.param("title:kampala", [], id="colon-is-not-a-column-filter"),
        pytest.param("NEAR(shelter kampala)", [], id="NEAR-is-not-an-operator"),
        pytest.param('"shelter', ["intl-help", "ug-shelter"], id="stray-quote-ignored"),
        pytest.param("NEAR(", ["intl-help"], id="NEAR-paren-is-the-word-near"),
    ],
)
def test_fts_operators_are_searched_as_words(search_db, q: str, expected: list[str]) -> None:
    assert found(search_db, q) == expected


@pytest.mark.parametrize("q", ["\x00", "sao\x00paulo"])
def test_nul_in_search_is_not_an_error(search_client, q: str) -> None:
    assert search_client.get("/v1/listings", params={"q": q}).status_code == 200


# --- revision history --------------------------------------------------------------------------------


def history(db: Path, listing_id: str) -> list[tuple[int, int, str, str]]:
    conn = raw(db)
    try:
        return conn.execute(
            "select seq, revision, action, document from listing_revisions where listing_id = ? order by seq",
            (listing_id,),
        ).fetchall()
    finally:
        conn.close()


def test_listing_revisions_keep_one_row_per_accepted_change(deployment) -> None:
    assert [(r, a) for _, r, a, _ in history(deployment.db, "ug-shelter")] == [(1, "create")]

    changed = default_listings()
    changed[-1]["url"] = "https://ug-shelter.example.org/v2"
    assert deployment.reimport(changed).updated == 1
    assert deployment.reimport(changed).changed is False  # identical: no new row
    assert deployment.reimport(changed[:-1]).retired == 1
    assert deployment.reimport(changed[:-1]).changed is False  # still retired: no new row
    assert deployment.reimport(changed).updated == 1  # back again

    rows = history(deployment.db, "ug-shelter")
    assert [(r, a) for _, r, a, _ in rows] == [(1, "create"), (2, "update"), (3, "retire"), (4, "update")]
    seqs = [seq for seq, *_ in rows]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    assert '"https://ug-shelter.example.org/"' in rows[0][3]
    assert '"https://ug-shelter.example.org/v2"' in rows[1][3]
    assert rows[2][3] == rows[1][3]  # the retire row records the last document
    # Untouched listings have only their creation.
    assert [(r, a) for _, r, a, _ in history(deployment.db, "ru-evacuation")] == [(1, "create")]

    s = Store(deployment.db)
    try:
        assert s.get_revision() == 4
        row = s.listings.get("ug-shelter")
        assert row is not None and row.revision == 4 and row.status == "active"
    finally:
        s.close()


def test_listing_revision_numbers_are_unique_per_listing(deployment) -> None:
    conn = raw(deployment.db)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            conn.execute(
                "insert into listing_revisions (listing_id, revision, action, document, created_at) "
                "values ('ug-shelter', 1, 'update', '{}', '2026-01-01T00:00:00+00:00')"
            )
    finally:
        conn.close()


# --- all or nothing --------------------------------------------------------------------------------


def next_dataset() -> list[dict[str, Any]]:
    """An update, a creation and a retirement against the default dataset."""
    docs = [d for d in default_listings() if d["id"] != "ug-shelter"]
    docs[0]["url"] = "https://ru-evacuation.example.org/new"
    docs.append(listing("md-newcomer", countries=["MD"], translations={"en": {"title": "Chisinau newcomer", "summary": "New."}}))
    return docs


@pytest.mark.parametrize("fail_at", ["_add_revision", "retire_revision"])
def test_a_failure_mid_import_rolls_everything_back(deployment, monkeypatch, fail_at: str) -> None:
    before = dump(deployment.db)
    calls: list[str] = []
    original = getattr(ListingRepository, fail_at)

    def write_then_fail(self, *args, **kwargs):
        original(self, *args, **kwargs)
        calls.append(fail_at)
        if fail_at == "retire_revision" or len(calls) == 2:
            raise RuntimeError("disk on fire")

    monkeypatch.setattr(ListingRepository, fail_at, write_then_fail)
    with pytest.raises(RuntimeError, match="disk on fire"):
        deployment.reimport(next_dataset())
    assert calls  # the store had written something before it failed

    assert dump(deployment.db) == before
    assert found(deployment.db, "chisinau") == []
    assert found(deployment.db, "kampala") == ["ug-shelter"]

    # The same Store connection and the file remain usable: the next import succeeds.
    monkeypatch.undo()
    summary = deployment.reimport(next_dataset())
    assert (summary.created, summary.updated, summary.retired, summary.revision) == (1, 1, 1, 2)


def test_a_failure_mid_import_through_the_cli_leaves_the_database_unchanged(deployment, monkeypatch) -> None:
    before = dump(deployment.db)

    def fail(self, *args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ListingRepository, "retire_revision", fail)
    write_dataset(deployment.data, next_dataset())
    result = CliRunner().invoke(cli, ["import", "--data", str(deployment.data), "--db", str(deployment.db)])
    assert result.exit_code != 0
    assert isinstance(result.exception, RuntimeError)
    assert dump(deployment.db) == before


def test_a_store_rolls_back_its_own_transaction(store: Store, deployment) -> None:
    before = dump(deployment.db)
    revision = store.get_revision()
    with pytest.raises(ZeroDivisionError):
        with store.transaction():
            store.listings.retire("ug-shelter")
            store.audit.add(actor="test", action="listing.retire", target="listing:ug-shelter", details={})
            assert store.get_revision() == revision + 1
            assert store.listings.get("ug-shelter").status == "retired"  # type: ignore[union-attr]
            1 / 0  # noqa: B018
    assert store.get_revision() == revision
    assert store.audit.all() == []
    assert dump(deployment.db) == before
    with store.transaction():  # no transaction was left open: a new one begins
        store.audit.add(actor="test", action="check", target="store", details={})
    assert len(store.audit.all()) == 1
