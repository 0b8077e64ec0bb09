"""A read-only store (a replica): it reads a real database the normal store made, refuses every
write with ``ReadOnlyDatabase``, never migrates, and sees what another process commits.

What SQLite needs for a ``mode=ro`` reader of a WAL database is pinned here too (see the
docstring of api/store/db.py): the ``-shm`` index, found beside the file or created in a
directory the reader may write; ``immutable=1`` would miss later commits.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factory import default_listings, write_dataset

import api.store.migrations as migrations_module
from api.cli import cli
from api.clock import FixedClock
from api.dataset import import_directory
from api.services.tokens import create_token
from api.store import MIGRATIONS, SCHEMA_VERSION, DatabaseNotReady, ReadOnlyDatabase, Store

ACTIONDIR = Path(sys.executable).parent / "actiondir"
NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


def dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, and the schema version, read over a plain connection."""
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' order by name")]
        out = {t: conn.execute(f'select * from "{t}" order by 1').fetchall() for t in tables}
        out["user_version"] = conn.execute("pragma user_version").fetchall()
        return out
    finally:
        conn.close()


def build(root: Path) -> Path:
    """A database made by the normal store: the default listings, a token, a submission, a
    report, and a listing held after two broken link checks."""
    db = root / "primary.db"
    write_dataset(root / "data", default_listings())
    store = Store(db, create=True, clock=FixedClock(NOW))
    try:
        import_directory(root / "data", store)
        _, token = create_token(store, name="Ana", role="curator", expires_in_days=None, actor="test")
        with store.transaction():
            store.submissions.add(action="retire", listing_id="ug-shelter", base_revision=1, document=None,
                                  note="closed", sources=[], submitted_by=token.id)
            store.reports.add(listing_id="ru-evacuation", reason="broken_link", details=None)
        for _ in range(2):
            store.link_checks.add(listing_id="ru-legal-aid", checked_at=NOW, status="broken", http_status=404,
                                  final_url=None, needs_review=False)
        store.link_checks.finish_run(2)
    finally:
        store.close()
    return db


@pytest.fixture(scope="module")
def primary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("primary"))


@pytest.fixture
def replica(primary: Path) -> Iterator[Store]:
    store = Store(primary, read_only=True, busy_timeout_ms=100, clock=FixedClock(NOW))
    try:
        yield store
    finally:
        store.close()


# --- reads work ------------------------------------------------------------------------------------

READS: dict[str, Callable[[Store], object]] = {
    "listings.get": lambda s: s.listings.get("ru-evacuation").revision,  # type: ignore[union-attr]
    "listings.page": lambda s: [r.id for r in s.listings.page(country="RU", limit=10)],
    "listings.each": lambda s: len(list(s.listings.each(statuses=("active", "retired")))),
    "listings.count_by_topic": lambda s: s.listings.count_by_topic(),
    "listings.count_by_country": lambda s: s.listings.count_by_country(),
    "listings.count_active": lambda s: s.listings.count_active(),
    "listings.revisions": lambda s: [r.revision for r in s.listings.revisions("ru-evacuation")],
    "listings.changes": lambda s: [r.seq for r in s.listings.changes(after_seq=0, limit=100)],
    "listings.last_seq": lambda s: s.listings.last_seq(),
    "topics.all": lambda s: [t.id for t in s.topics.all()],
    "dataset.export_manifest": lambda s: s.dataset.export_manifest().listings,
    "tokens.get": lambda s: s.tokens.get(1).name,  # type: ignore[union-attr]
    "tokens.get_by_hash": lambda s: s.tokens.get_by_hash(s.tokens.get(1).hash).id,  # type: ignore[union-attr]
    "tokens.all": lambda s: [t.name for t in s.tokens.all()],
    "submissions.get": lambda s: s.submissions.get(1).status,  # type: ignore[union-attr]
    "submissions.page": lambda s: [r.id for r in s.submissions.page(status=None, submitter_person=None, after_id=None, limit=10)],
    "audit.all": lambda s: [a.action for a in s.audit.all()],
    "reports.get": lambda s: s.reports.get(1).reason,  # type: ignore[union-attr]
    "reports.page": lambda s: [r.id for r in s.reports.page(status="open", after_id=None, limit=None)],
    "link_checks.to_check": lambda s: s.link_checks.to_check(country="RU"),
    "link_checks.held": lambda s: s.link_checks.held(),
    "link_checks.of_listing": lambda s: [c.status for c in s.link_checks.of_listing("ru-legal-aid")],
    "link_checks.consecutive_failures": lambda s: s.link_checks.consecutive_failures("ru-legal-aid"),
    "link_checks.latest": lambda s: sorted(s.link_checks.latest()),
}


@pytest.mark.parametrize("name", sorted(READS))
def test_every_read_answers_as_on_the_primary(primary: Path, replica: Store, name: str) -> None:
    writable = Store(primary)
    try:
        expected = READS[name](writable)
    finally:
        writable.close()
    assert READS[name](replica) == expected
    assert expected not in (None, [], {}, 0)  # the fixture gives every read something to find


def test_a_read_snapshot_works_and_the_connection_is_query_only(replica: Store) -> None:
    with replica.read_snapshot():
        assert replica.get_revision() == replica.listings.count_active()[0]
    assert replica.read_only is True
    assert replica.connection_settings()["query_only"] == 1
    assert replica.now() == NOW  # the clock passed in is the one it keeps


# --- every write is refused ------------------------------------------------------------------------


def _with_transaction(s: Store) -> None:
    with s.transaction():
        pass


WRITES: dict[str, Callable[[Store], object]] = {
    "store.transaction": _with_transaction,
    "listings.apply": lambda s: s.listings.apply(s.listings.get("ru-evacuation").document),  # type: ignore[union-attr]
    "listings.retire": lambda s: s.listings.retire("ug-shelter"),
    "listings.write_revision": lambda s: s.listings.write_revision(
        s.listings.get("ru-evacuation").document, "{}", 9, "update", NOW),  # type: ignore[union-attr]
    "listings.retire_revision": lambda s: s.listings.retire_revision("ug-shelter", "{}", 9, NOW),
    "topics.upsert": lambda s: s.topics.upsert(s.topics.all()),
    "topics.remove_all_but": lambda s: s.topics.remove_all_but([]),
    "dataset.replace": lambda s: s.dataset.replace([], s.topics.all()),
    "tokens.add": lambda s: s.tokens.add(name="Ben", role="reviewer", token_hash="x" * 64, expires_at=None),
    "tokens.touch": lambda s: s.tokens.touch(1, NOW + dt.timedelta(days=1)),
    "tokens.revoke": lambda s: s.tokens.revoke(1),
    "submissions.add": lambda s: s.submissions.add(action="retire", listing_id="ru-evacuation", base_revision=1,
                                                   document=None, note="n", sources=[], submitted_by=1),
    "submissions.decide": lambda s: s.submissions.decide(1, status="rejected", decided_by=1, reason="r", applied_revision=None),
    "audit.add": lambda s: s.audit.add(actor="test", action="x", target="y", details={}),
    "reports.add": lambda s: s.reports.add(listing_id="ru-evacuation", reason="other", details=None),
    "reports.resolve": lambda s: s.reports.resolve(1, resolved_by=1, resolution="fixed"),
    "link_checks.add": lambda s: s.link_checks.add(listing_id="ru-evacuation", checked_at=NOW, status="ok",
                                                   http_status=200, final_url=None, needs_review=False),
    "link_checks.release_hold": lambda s: s.link_checks.release_hold("ru-legal-aid"),
    "link_checks.finish_run": lambda s: s.link_checks.finish_run(1),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_every_write_is_refused_as_read_only_and_changes_nothing(primary: Path, replica: Store, name: str) -> None:
    before = dump(primary)
    with pytest.raises(ReadOnlyDatabase, match="read-only"):
        WRITES[name](replica)
    assert not isinstance(ReadOnlyDatabase(), sqlite3.Error)  # its own class, not an OperationalError
    assert dump(primary) == before
    assert replica.listings.get("ru-evacuation") is not None  # and the store still reads


REPOSITORIES = ("listings", "topics", "dataset", "tokens", "submissions", "audit", "reports", "link_checks")


@pytest.mark.parametrize("repository", REPOSITORIES)
def test_every_public_method_of_a_repository_is_checked_as_a_read_or_a_write(replica: Store, repository: str) -> None:
    """The rule covers the family: a method added later must join READS or WRITES above."""
    methods = {
        f"{repository}.{name}"
        for name in dir(getattr(replica, repository))
        if not name.startswith("_") and callable(getattr(getattr(replica, repository), name))
    }
    assert methods
    assert methods - READS.keys() - WRITES.keys() == set()


# --- never migrates, never creates -------------------------------------------------------------------


def test_a_schema_behind_the_release_is_refused_and_names_the_command_that_upgrades_it(tmp_path: Path, monkeypatch) -> None:
    db = build(tmp_path)

    def m_next(db: Any) -> None:
        db.execute("create table next_feature (x)")

    monkeypatch.setattr(migrations_module, "MIGRATIONS", (*MIGRATIONS, m_next))
    monkeypatch.setattr(migrations_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    before = dump(db)
    with pytest.raises(DatabaseNotReady) as raised:
        Store(db, read_only=True)
    message = str(raised.value)
    assert f"schema version {SCHEMA_VERSION}, older than this release ({SCHEMA_VERSION + 1})" in message
    assert f"actiondir migrate --db {db}" in message
    assert dump(db) == before  # not migrated

    result = CliRunner().invoke(cli, ["migrate", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert f"schema version {SCHEMA_VERSION + 1}" in result.stdout
    replica = Store(db, read_only=True)
    try:
        assert replica.schema_version == SCHEMA_VERSION + 1
        assert replica.get_revision() == 2  # the data is as it was
    finally:
        replica.close()


def test_migrate_on_a_current_database_changes_nothing(primary: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.db"
    shutil.copy(primary, db)
    before = dump(db)
    result = CliRunner().invoke(cli, ["migrate", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert dump(db) == before


def test_a_missing_file_is_not_ready_and_is_not_created(tmp_path: Path) -> None:
    db = tmp_path / "missing.db"
    with pytest.raises(DatabaseNotReady, match="does not exist"):
        Store(db, read_only=True)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="cannot create"):
        Store(db, read_only=True, create=True)


@pytest.mark.parametrize(("content", "says"), [(b"", "is empty"), (b"not a database" * 100, "not a usable SQLite database")])
def test_an_empty_or_foreign_file_is_not_ready(tmp_path: Path, content: bytes, says: str) -> None:
    db = tmp_path / "odd.db"
    db.write_bytes(content)
    with pytest.raises(DatabaseNotReady, match=says):
        Store(db, read_only=True)
    assert db.read_bytes() == content


def test_a_database_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    db = build(tmp_path)
    conn = sqlite3.connect(db)
    conn.execute(f"pragma user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(DatabaseNotReady, match="newer than this release"):
        Store(db, read_only=True)


# --- a replica of a WAL database that another process writes -----------------------------------------


def test_the_reader_sees_each_commit_another_process_makes(tmp_path: Path) -> None:
    db = build(tmp_path)
    replica = Store(db, read_only=True)
    try:
        revision, listings = replica.listings.count_active()
        write_dataset(tmp_path / "data", default_listings()[:-1])  # one listing fewer: retired
        subprocess.run([str(ACTIONDIR), "import", "--quiet", "--data", str(tmp_path / "data"), "--db", str(db)],
                       check=True, capture_output=True)
        assert replica.listings.count_active() == (revision + 1, listings - 1)
        subprocess.run([str(ACTIONDIR), "token", "create", "--name", "Ben", "--role", "reviewer", "--db", str(db)],
                       check=True, capture_output=True)
        assert [t.name for t in replica.tokens.all()] == ["Ana", "Ben"]
    finally:
        replica.close()


def test_a_reader_creates_the_shm_it_needs_when_the_directory_is_writable(tmp_path: Path) -> None:
    db = build(tmp_path)  # closed cleanly: SQLite removed its -wal and -shm
    assert not Path(f"{db}-shm").exists()
    replica = Store(db, read_only=True)
    try:
        assert replica.get_revision() == 2
        assert Path(f"{db}-shm").exists()  # a mode=ro reader of a WAL database writes this index
    finally:
        replica.close()


@contextmanager
def unwritable(directory: Path) -> Iterator[None]:
    """No new file can be made in ``directory`` while inside (chmod, or chattr +i for root)."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("root needs chattr to make a directory unwritable")
        lock, unlock = ["chattr", "+i", str(directory)], ["chattr", "-i", str(directory)]
    else:
        lock, unlock = ["chmod", "555", str(directory)], ["chmod", "755", str(directory)]
    subprocess.run(lock, check=False, capture_output=True)
    try:
        try:
            (directory / "probe").touch()
        except OSError:
            pass
        else:
            (directory / "probe").unlink()
            pytest.skip("this file system lets the directory be written anyway")
        yield
    finally:
        subprocess.run(unlock, check=False, capture_output=True)


def test_without_the_shm_and_a_directory_to_make_it_in_the_reader_is_refused_clearly(tmp_path: Path) -> None:
    db = build(tmp_path / "replica")
    with unwritable(db.parent), pytest.raises(DatabaseNotReady) as raised:
        Store(db, read_only=True)
    assert f"{db.name}-shm" in str(raised.value)


def test_beside_the_writers_shm_the_reader_needs_no_write_permission_and_sees_new_commits(tmp_path: Path) -> None:
    db = build(tmp_path / "replica")
    writer = Store(db)  # open: its -wal and -shm stay beside the file
    try:
        with unwritable(db.parent):
            replica = Store(db, read_only=True)
            try:
                assert replica.get_revision() == 2
                with writer.transaction():
                    writer.listings.retire("ug-shelter")
                assert replica.get_revision() == 3
                assert replica.listings.get("ug-shelter").status == "retired"  # type: ignore[union-attr]
            finally:
                replica.close()
    finally:
        writer.close()


def test_immutable_would_miss_what_another_connection_commits(tmp_path: Path) -> None:
    """Why the store opens ``mode=ro`` and never ``immutable=1``: SQLite trusts an immutable
    file never to change, so a reader kept open serves a stale dataset."""
    db = build(tmp_path)
    immutable = sqlite3.connect(f"file:{db}?immutable=1", uri=True)
    writer = Store(db)
    try:
        assert immutable.execute("select value from meta where key = 'revision'").fetchone()[0] == "2"
        with writer.transaction():
            writer.listings.retire("ug-shelter")
        assert writer.get_revision() == 3
        assert immutable.execute("select value from meta where key = 'revision'").fetchone()[0] == "2"
    finally:
        writer.close()
        immutable.close()
