"""`actiondir export`: the dataset written back as the files `actiondir import` reads.

Round trip on the real seed data (import -> export -> import -> export is byte-identical and
both databases serve the same dataset), and approved curation changes reaching the files.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from conftest import REPO, Deployment
from factory import listing, write_listing

from api.cli import cli
from api.dataset import MANIFEST_NAME
from api.services.tokens import create_token
from api.store import Store

SOURCES = ["https://sources.example.org/check"]
SUMMARY = re.compile(r": (?P<written>\d+) written, (?P<unchanged>\d+) unchanged, (?P<removed>\d+) removed$")
IMPORT_SUMMARY = re.compile(r"revision (?P<revision>\d+); (?P<created>\d+) created, (?P<updated>\d+) updated, (?P<retired>\d+) retired")


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def export(data: Path, db: Path) -> dict[str, int]:
    match = SUMMARY.search(run("export", "--data", str(data), "--db", str(db)).strip())
    assert match, "export printed no summary"
    return {k: int(v) for k, v in match.groupdict().items()}


def import_(data: Path, db: Path) -> dict[str, int]:
    match = IMPORT_SUMMARY.search(run("import", "--data", str(data), "--db", str(db), "--quiet"))
    assert match, "import printed no summary"
    return {k: int(v) for k, v in match.groupdict().items()}


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path, with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def served_dataset(db: Path) -> dict[str, Any]:
    with Deployment(data=db.parent, db=db).client() as client:
        response = client.get("/v1/dataset")
        assert response.status_code == 200, response.text
        return response.json()


def documents(dataset: dict[str, Any]) -> dict[str, Any]:
    return {item["listing"]["id"]: item["listing"] for item in dataset["listings"]}


def test_import_export_import_export_gives_byte_identical_folders(tmp_path: Path) -> None:
    seed = REPO / "directory_data"
    first_db, second_db = tmp_path / "first.db", tmp_path / "second.db"
    first_out, second_out = tmp_path / "first", tmp_path / "second"

    import_(seed, first_db)
    summary = export(first_out, first_db)
    seed_listings = sorted(p.stem for p in (seed / "listings").iterdir() if p.suffix in (".toml", ".json"))
    seed_countries = sorted(p.stem for p in (seed / "countries").iterdir() if p.suffix in (".toml", ".json"))
    files = len(seed_listings) + len(seed_countries) + 1  # + topics.toml
    assert summary == {"written": files, "unchanged": 0, "removed": 0}
    import_(first_out, second_db)
    export(second_out, second_db)

    first_files, second_files = tree(first_out), tree(second_out)
    # The manifest names the database each export came from; everything else is identical.
    first_manifest, second_manifest = first_files.pop(MANIFEST_NAME), second_files.pop(MANIFEST_NAME)
    assert first_files == second_files
    assert sorted(first_files) == sorted(
        ["topics.toml", *(f"listings/{i}.toml" for i in seed_listings), *(f"countries/{c}.toml" for c in seed_countries)]
    )
    for manifest, db in ((first_manifest, first_db), (second_manifest, second_db)):
        parsed = msgspec.toml.decode(manifest)
        store = Store(db)
        assert parsed == {
            "database": store.database_id(),
            "listings": dict.fromkeys(seed_listings, 1),
            "countries": dict.fromkeys(seed_countries, 1),
        }
        store.close()
    assert first_manifest != second_manifest
    assert all(content.strip() for content in first_files.values())
    # Exporting again changes nothing, and importing the export into its own database is a no-op.
    assert export(first_out, first_db) == {"written": 0, "unchanged": files, "removed": 0}
    assert tree(first_out) == {**first_files, MANIFEST_NAME: first_manifest}
    again = import_(first_out, first_db)
    assert again == {"revision": 1, "created": 0, "updated": 0, "retired": 0}

    # Both databases serve the same dataset.
    first, second = served_dataset(first_db), served_dataset(second_db)
    assert len(first["listings"]) == len(seed_listings)
    assert first["topics"] == second["topics"]
    assert first["revision"] == second["revision"]
    strip = lambda d: [{k: v for k, v in item.items() if k != "updated_at"} for item in d["listings"]]  # noqa: E731
    assert strip(first) == strip(second)
    # And it is what the seed files say, document for document.
    assert documents(first) == {
        path.stem: json.loads(msgspec.json.encode(msgspec.toml.decode(path.read_bytes())))
        for path in (seed / "listings").glob("*.toml")
    }


@pytest.fixture
def curated(deployment: Deployment):
    """The default test deployment with a curator, a reviewer and an app serving it."""
    store = Store(deployment.db)
    try:
        curator, _ = create_token(store, name="Ana Export", role="curator", expires_in_days=None, actor="test")
        reviewer, _ = create_token(store, name="Ben Export", role="reviewer", expires_in_days=None, actor="test")
    finally:
        store.close()
    with deployment.client() as client:

        def approve(body: dict[str, Any]) -> None:
            body = {**body, "note": "Curated", "sources": SOURCES}
            submitted = client.post("/v1/submissions", json=body, headers={"Authorization": f"Bearer {curator}"})
            assert submitted.status_code == 201, submitted.text
            decided = client.post(
                f"/v1/submissions/{submitted.json()['id']}/decision",
                json={"decision": "approve", "reason": "Checked"},
                headers={"Authorization": f"Bearer {reviewer}"},
            )
            assert decided.status_code == 200, decided.text

        yield client, approve


def current(client, listing_id: str) -> dict[str, Any]:
    return next(i["listing"] for i in client.get("/v1/dataset").json()["listings"] if i["listing"]["id"] == listing_id)


def test_approved_changes_are_written_back_and_a_retired_listing_loses_its_file(deployment: Deployment, curated) -> None:
    client, approve = curated
    (deployment.data / "README.md").write_text("Curators: edit these files, or use the API.\n")
    export(deployment.data, deployment.db)  # canonical form first
    before = tree(deployment.data)
    manifest_before = before.pop(MANIFEST_NAME)  # not a data file: export's summary leaves it out

    doc = current(client, "ru-evacuation")
    doc["translations"]["en"]["title"] = "Evacuation and a 24/7 hotline"
    approve({"action": "update", "listing_id": "ru-evacuation", "base_revision": 1, "listing": doc})
    new = json.loads(msgspec.json.encode(listing("kz-new-shelter", countries=["KZ"])))
    approve({"action": "create", "listing": new})

    assert export(deployment.data, deployment.db) == {"written": 2, "unchanged": len(before) - 2, "removed": 0}
    after = tree(deployment.data)
    written = msgspec.toml.decode(after["listings/ru-evacuation.toml"])
    assert written["translations"]["en"]["title"] == "Evacuation and a 24/7 hotline"
    assert json.loads(msgspec.json.encode(written)) == current(client, "ru-evacuation")
    assert json.loads(msgspec.json.encode(msgspec.toml.decode(after["listings/kz-new-shelter.toml"]))) == new
    changed = {"listings/ru-evacuation.toml", "listings/kz-new-shelter.toml", MANIFEST_NAME}
    assert {k: v for k, v in after.items() if k not in changed} == {k: v for k, v in before.items() if k not in changed}
    assert after["listings/ru-evacuation.toml"] != before["listings/ru-evacuation.toml"]
    manifest = msgspec.toml.decode(after[MANIFEST_NAME])
    assert manifest["listings"]["ru-evacuation"] == 2 and manifest["listings"]["kz-new-shelter"] == 1
    assert after[MANIFEST_NAME] != manifest_before

    approve({"action": "retire", "listing_id": "ug-shelter", "base_revision": 1})
    assert export(deployment.data, deployment.db)["removed"] == 1
    final = tree(deployment.data)
    assert "listings/ug-shelter.toml" not in final
    assert set(final) == set(after) - {"listings/ug-shelter.toml"}
    assert final["README.md"] == b"Curators: edit these files, or use the API.\n"

    # The files now say what the database says: importing them changes nothing ...
    revision = client.get("/healthz").json()["revision"]
    assert import_(deployment.data, deployment.db) == {"revision": revision, "created": 0, "updated": 0, "retired": 0}
    # ... and a fresh database built from them serves the same listings.
    fresh = deployment.data.parent / "fresh.db"
    import_(deployment.data, fresh)
    assert documents(served_dataset(fresh)) == documents(client.get("/v1/dataset").json())


def test_export_rewrites_a_json_listing_as_canonical_toml(deployment: Deployment) -> None:
    doc = listing("br-json-listing", countries=["BR"])
    write_listing(deployment.data, doc, suffix=".json")
    import_(deployment.data, deployment.db)

    summary = export(deployment.data, deployment.db)
    assert summary["removed"] == 1
    assert not (deployment.data / "listings" / "br-json-listing.json").exists()
    toml_file = deployment.data / "listings" / "br-json-listing.toml"
    assert msgspec.toml.decode(toml_file.read_bytes()) == msgspec.toml.decode(msgspec.toml.encode(doc))
    assert not list(deployment.data.rglob(".*.tmp"))
    assert import_(deployment.data, deployment.db)["updated"] == 0


def test_export_refuses_to_write_what_import_would_refuse(deployment: Deployment) -> None:
    """A stored document that today's vetting rules refuse (here: slipped in by hand, or
    accepted before a rule grew stricter) stops the export; no file is written or removed."""
    conn = sqlite3.connect(deployment.db)
    with conn:
        document = json.loads(conn.execute("select document from listings where id = 'ru-evacuation'").fetchone()[0])
        document["url"] = "https://bit.ly/3xyz"
        conn.execute("update listings set document = ? where id = 'ru-evacuation'", (json.dumps(document),))
    conn.close()
    before = tree(deployment.data)

    result = CliRunner().invoke(cli, ["export", "--data", str(deployment.data), "--db", str(deployment.db)])

    assert result.exit_code == 1
    assert "ru-evacuation.toml: url: [shortener]" in result.output
    assert "nothing was written" in result.output
    assert tree(deployment.data) == before
