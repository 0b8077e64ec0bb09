"""Nothing approved is ever silently undone: the database is the source of truth once curators
work, and no sequence of the README's commands (`make run`, `make test`, `make import`,
`actiondir import`, `actiondir export`) may revert, retire or revive an approved change.

Everything runs for real: the app over HTTP for curation, the `actiondir` CLI (click's runner,
and the installed console script through `make`), SQLite files in a temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from conftest import REPO, Deployment
from factory import default_listings, listing, write_dataset

from api.cli import cli
from api.services.tokens import create_token
from api.store import Store

SOURCES = ["https://sources.example.org/check"]


def mint(db: Path, name: str, role: str) -> dict[str, str]:
    store = Store(db)
    try:
        secret, _ = create_token(store, name=name, role=role, expires_in_days=None, actor="test")
    finally:
        store.close()
    return {"Authorization": f"Bearer {secret}"}


def approve(dep: Deployment, body: dict[str, Any]) -> None:
    """Submit ``body`` as a curator and approve it as a reviewer (two people), over HTTP."""
    curator = mint(dep.db, f"Curator {os.urandom(3).hex()}", "curator")
    reviewer = mint(dep.db, f"Reviewer {os.urandom(3).hex()}", "reviewer")
    with dep.client() as http:
        submitted = http.post("/v1/submissions", json=body, headers=curator)
        assert submitted.status_code == 201, submitted.text
        decided = http.post(
            f"/v1/submissions/{submitted.json()['id']}/decision",
            json={"decision": "approve", "reason": "Checked the sources"},
            headers=reviewer,
        )
        assert decided.status_code == 200, decided.text


def current(dep: Deployment, listing_id: str) -> tuple[str, dict[str, Any] | None]:
    """(status, document) of a listing as stored."""
    store = Store(dep.db)
    try:
        row = store.listings.get(listing_id)
        assert row is not None
        return row.status, msgspec.to_builtins(row.document)
    finally:
        store.close()


def as_json(doc: dict[str, Any]) -> dict[str, Any]:
    return json.loads(msgspec.json.encode(doc))


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def retitle(dep: Deployment, listing_id: str, title: str) -> None:
    status, doc = current(dep, listing_id)
    assert doc is not None
    revision = Store(dep.db).listings.get(listing_id).revision  # noqa: SIM115 - closed with the process
    doc["translations"]["en"]["title"] = title
    approve(dep, {"action": "update", "listing_id": listing_id, "base_revision": revision,
                  "listing": as_json(doc), "note": "Renamed", "sources": SOURCES})


# --- `actiondir import` never undoes an approval -------------------------------------------------


def test_import_refuses_to_revert_an_approved_update_and_names_it(deployment):
    retitle(deployment, "ru-evacuation", "Evacuation help (approved title)")

    result = run("import", "--data", str(deployment.data), "--db", str(deployment.db))

    assert result.exit_code == 1
    assert "ru-evacuation (revision 2, approved update; the import would revert it)" in result.output
    assert "actiondir export" in result.output and "--force" in result.output
    assert "nothing was imported" in result.output
    assert current(deployment, "ru-evacuation")[1]["translations"]["en"]["title"] == "Evacuation help (approved title)"


def test_import_refuses_to_revive_an_approved_retirement(deployment):
    approve(deployment, {"action": "retire", "listing_id": "ug-shelter", "base_revision": 1,
                         "note": "Closed down", "sources": SOURCES})
    assert current(deployment, "ug-shelter")[0] == "retired"

    result = run("import", "--data", str(deployment.data), "--db", str(deployment.db))

    assert result.exit_code == 1
    assert "ug-shelter (revision 2, approved retire; the import would revive it)" in result.output
    assert current(deployment, "ug-shelter")[0] == "retired"


def test_import_refuses_to_retire_an_approved_creation(deployment):
    approve(deployment, {"action": "create", "listing": as_json(listing("ru-new-hotline")),
                         "note": "New hotline", "sources": SOURCES})

    result = run("import", "--data", str(deployment.data), "--db", str(deployment.db))

    assert result.exit_code == 1
    assert "ru-new-hotline (revision 1, approved create; the import would retire it)" in result.output
    assert current(deployment, "ru-new-hotline")[0] == "active"


def test_export_then_import_keeps_every_approval(deployment):
    retitle(deployment, "ru-evacuation", "Evacuation help (approved title)")
    approve(deployment, {"action": "retire", "listing_id": "ug-shelter", "base_revision": 1,
                         "note": "Closed down", "sources": SOURCES})

    assert run("export", "--data", str(deployment.data), "--db", str(deployment.db)).exit_code == 0
    result = run("import", "--data", str(deployment.data), "--db", str(deployment.db))

    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated, 0 retired" in result.output
    assert current(deployment, "ru-evacuation")[1]["translations"]["en"]["title"] == "Evacuation help (approved title)"
    assert current(deployment, "ug-shelter")[0] == "retired"


def test_after_an_export_the_files_may_change_again(deployment):
    """Export, edit a file by hand (a reviewed commit), import: the edit is newer, so it wins."""
    retitle(deployment, "ru-evacuation", "Approved title")
    assert run("export", "--data", str(deployment.data), "--db", str(deployment.db)).exit_code == 0
    path = deployment.data / "listings" / "ru-evacuation.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("Approved title", "Edited in a reviewed commit"), encoding="utf-8")

    result = run("import", "--data", str(deployment.data), "--db", str(deployment.db))

    assert result.exit_code == 0, result.output
    assert current(deployment, "ru-evacuation")[1]["translations"]["en"]["title"] == "Edited in a reviewed commit"


def test_an_approval_after_the_export_is_protected_again(deployment):
    retitle(deployment, "ru-evacuation", "First approved title")
    assert run("export", "--data", str(deployment.data), "--db", str(deployment.db)).exit_code == 0
    retitle(deployment, "ru-evacuation", "Second approved title")

    result = run("import", "--data", str(deployment.data), "--db", str(deployment.db))

    assert result.exit_code == 1
    assert "ru-evacuation (revision 3" in result.output


def test_an_export_to_another_folder_vouches_only_for_that_folder(deployment, tmp_path):
    retitle(deployment, "ru-evacuation", "Approved title")
    elsewhere = tmp_path / "elsewhere"
    assert run("export", "--data", str(elsewhere), "--db", str(deployment.db)).exit_code == 0

    result = run("import", "--data", str(deployment.data), "--db", str(deployment.db))

    assert result.exit_code == 1
    assert "ru-evacuation (revision 2, approved update; the import would revert it)" in result.output
    assert f"actiondir export --data {deployment.data} --db {deployment.db}" in result.output
    assert current(deployment, "ru-evacuation")[1]["translations"]["en"]["title"] == "Approved title"
    # The folder that was exported to imports cleanly: it holds the approval.
    assert run("import", "--data", str(elsewhere), "--db", str(deployment.db)).exit_code == 0


def test_an_old_copy_of_an_exported_folder_is_refused(deployment, tmp_path):
    """Export, approve again, export again; then the files go back to the first export (a
    checkout of an older commit): importing them would undo the second approval."""
    retitle(deployment, "ru-evacuation", "First approved title")
    assert run("export", "--data", str(deployment.data), "--db", str(deployment.db)).exit_code == 0
    old_copy = tmp_path / "old-copy"
    shutil.copytree(deployment.data, old_copy)
    retitle(deployment, "ru-evacuation", "Second approved title")
    assert run("export", "--data", str(deployment.data), "--db", str(deployment.db)).exit_code == 0

    result = run("import", "--data", str(old_copy), "--db", str(deployment.db))

    assert result.exit_code == 1
    assert "ru-evacuation (revision 3, approved update; the import would revert it)" in result.output
    assert current(deployment, "ru-evacuation")[1]["translations"]["en"]["title"] == "Second approved title"


def test_a_manifest_from_another_database_is_not_trusted(deployment, tmp_path):
    other = Deployment(data=tmp_path / "other-data", db=tmp_path / "other.db")
    other.reimport(default_listings())
    assert run("export", "--data", str(other.data), "--db", str(other.db)).exit_code == 0
    retitle(deployment, "ru-evacuation", "Approved here")

    result = run("import", "--data", str(other.data), "--db", str(deployment.db))

    assert result.exit_code == 1
    assert current(deployment, "ru-evacuation")[1]["translations"]["en"]["title"] == "Approved here"


def test_a_damaged_manifest_is_ignored_with_a_warning(deployment):
    retitle(deployment, "ru-evacuation", "Approved title")
    assert run("export", "--data", str(deployment.data), "--db", str(deployment.db)).exit_code == 0
    (deployment.data / "exported-from.toml").write_text("database = [[[\n", encoding="utf-8")
    path = deployment.data / "listings" / "ru-evacuation.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("Approved title", "Edited"), encoding="utf-8")

    result = run("import", "--data", str(deployment.data), "--db", str(deployment.db))

    assert "warning:" in result.output and "exported-from.toml" in result.output
    assert result.exit_code == 1  # without a usable manifest no file is trusted over the approval
    assert current(deployment, "ru-evacuation")[1]["translations"]["en"]["title"] == "Approved title"


def test_force_discards_but_history_keeps_the_approval(deployment):
    retitle(deployment, "ru-evacuation", "Approved title")

    result = run("import", "--force", "--data", str(deployment.data), "--db", str(deployment.db))

    assert result.exit_code == 0, result.output
    assert current(deployment, "ru-evacuation")[1]["translations"]["en"]["title"] == "ru-evacuation in English"
    with deployment.client() as http:
        history = http.get("/v1/listings/ru-evacuation/revisions").json()["data"]
    assert [r["listing"]["translations"]["en"]["title"] for r in history] == [
        "ru-evacuation in English", "Approved title", "ru-evacuation in English",
    ]


def test_an_unrelated_import_still_refuses_while_the_approval_is_unexported(deployment):
    """Files that lack the approval would revert it, whatever else they change."""
    retitle(deployment, "ru-evacuation", "Approved title")
    docs = default_listings()
    docs[1]["translations"]["en"]["title"] = "Legal aid (edited file)"
    write_dataset(deployment.data, docs)

    result = run("import", "--data", str(deployment.data), "--db", str(deployment.db))

    assert result.exit_code == 1
    assert current(deployment, "ru-legal-aid")[1]["translations"]["en"]["title"] == "ru-legal-aid in English"


def test_plain_imports_without_curation_are_unaffected(deployment):
    docs = default_listings()
    docs[0]["translations"]["en"]["title"] = "Changed in the file"
    write_dataset(deployment.data, docs)

    result = run("import", "--data", str(deployment.data), "--db", str(deployment.db))

    assert result.exit_code == 0, result.output
    assert "1 updated" in result.output


def test_a_database_from_before_provenance_protects_its_approvals(tmp_path, deployment):
    """Migration 5 finds earlier approvals through the submissions they came from."""
    retitle(deployment, "ru-evacuation", "Approved title")
    import sqlite3

    conn = sqlite3.connect(deployment.db)
    conn.execute("alter table listing_revisions drop column origin")  # as a version-4 database had it
    conn.execute("delete from meta where key = 'database_id'")
    conn.execute("alter table listings drop column moved_seq")
    conn.execute("drop index idx_tokens_person")
    conn.execute("alter table tokens drop column person")
    conn.execute("alter table listings drop column review_by")  # and what migration 6 added
    conn.execute("drop table countries")
    conn.execute("drop table country_revisions")
    conn.execute("alter table submissions drop column country")
    conn.execute("pragma user_version = 4")
    conn.commit()
    conn.close()

    result = run("import", "--data", str(deployment.data), "--db", str(deployment.db))

    assert result.exit_code == 1
    assert "ru-evacuation (revision 2, approved update" in result.output


# --- the README's two commands, for real -----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed (.ci/run installs it)")
def test_make_test_then_make_run_keeps_an_approval(tmp_path):
    """`make test` touches the venv's stamp files; the next `make run` must not re-import."""
    data = tmp_path / "data"
    shutil.copytree(REPO / "directory_data", data)
    db = tmp_path / "actiondir.db"
    make = ["make", "--no-print-directory", "-C", str(REPO), f"DB={db}", f"DATA={data}", str(db)]

    built = subprocess.run(make, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    assert db.exists()
    dep = Deployment(data=data, db=db)
    status, doc = current(dep, "ru-ovd-info")
    doc["translations"]["en"]["title"] = "OVD-Info (approved by two curators)"
    approve(dep, {"action": "update", "listing_id": "ru-ovd-info", "base_revision": 1,
                  "listing": as_json(doc), "note": "Renamed", "sources": SOURCES})

    # What `make test` does to the stamps, and a data file newer than the database.
    (REPO / ".venv" / ".installed").touch()
    (REPO / ".venv" / ".installed-test").touch()
    (data / "listings" / "ru-ovd-info.toml").touch()
    again = subprocess.run(make, capture_output=True, text=True, timeout=300)

    assert again.returncode == 0, again.stderr
    assert "import" not in again.stdout + again.stderr
    assert current(dep, "ru-ovd-info")[1]["translations"]["en"]["title"] == "OVD-Info (approved by two curators)"

    # `make import` (the README's way to load changed files) refuses rather than undo it.
    imported = subprocess.run([*make[:-1], "import"], capture_output=True, text=True, timeout=300)
    assert imported.returncode != 0
    assert "ru-ovd-info (revision 2, approved update; the import would revert it)" in imported.stderr
    assert current(dep, "ru-ovd-info")[1]["translations"]["en"]["title"] == "OVD-Info (approved by two curators)"


# --- a locked or hostile database file is an error that says what to do ---------------------------


def test_import_into_a_locked_database_is_a_clear_error(deployment):
    import sqlite3

    docs = default_listings()
    docs[0]["translations"]["en"]["title"] = "Changed in the file"
    write_dataset(deployment.data, docs)
    holder = sqlite3.connect(deployment.db, isolation_level=None)
    holder.execute("begin immediate")
    try:
        result = CliRunner(env={"ACTIONDIR_WRITE_WAIT_MS": "200"}).invoke(
            cli, ["import", "--data", str(deployment.data), "--db", str(deployment.db)]
        )
    finally:
        holder.execute("rollback")
        holder.close()
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "locked by another process" in result.output and "Try again" in result.output
    assert current(deployment, "ru-evacuation")[1]["translations"]["en"]["title"] == "ru-evacuation in English"


@pytest.mark.parametrize("command", [["token", "create", "--name", "Ana", "--role", "curator"], ["token", "revoke", "1"]])
def test_other_writing_commands_on_a_locked_database_are_clear_errors(deployment, command):
    import sqlite3

    holder = sqlite3.connect(deployment.db, isolation_level=None)
    holder.execute("begin immediate")
    try:
        result = CliRunner(env={"ACTIONDIR_WRITE_WAIT_MS": "200"}).invoke(cli, [*command, "--db", str(deployment.db)])
    finally:
        holder.execute("rollback")
        holder.close()
    assert result.exit_code == 1, result.output
    assert "locked by another process" in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed (.ci/run installs it)")
def test_make_clean_never_deletes_the_database(tmp_path):
    """`make clean` removes what make installed; the database holds approvals (dry run: the
    real one would delete this very virtual environment)."""
    db = tmp_path / "kept.db"
    planned = subprocess.run(
        ["make", "--no-print-directory", "-n", "-C", str(REPO), f"DB={db}", "clean"],
        capture_output=True, text=True, timeout=60,
    )
    assert planned.returncode == 0, planned.stderr
    assert "rm -rf" in planned.stdout
    assert str(db) not in planned.stdout and "actiondir.db" not in planned.stdout


def test_the_image_keeps_its_database_on_a_volume():
    """Replacing the container or the image must not replace the database with the seed."""
    lines = [line.strip() for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    final_stage = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM ")):]
    assert 'VOLUME ["/app/data"]' in final_stage
    assert any(line.startswith("ACTIONDIR_DB=/app/data/") for line in final_stage)
    assert "-v actiondir-data:/app/data" in (REPO / "README.md").read_text(encoding="utf-8")
