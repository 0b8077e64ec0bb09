"""Curating country advisories: a ``country`` submission carries a country's whole document;
the same validation as the importer, four-eyes, stale bases, history, audit, and an import
that would undo an approved change is refused.

Through the real app over HTTP, the real importer, exporter and CLI.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from conftest import Deployment
from factory import advisory, country, default_listings

from api.cli import cli
from api.services.tokens import create_token
from api.store import Store

SOURCES = ["https://sources.example.org/ruling"]
RU_SIGNING = "Signing can be prosecuted too"


def token(deployment: Deployment, role: str, name: str) -> dict[str, str]:
    store = Store(deployment.db)
    try:
        secret, _ = create_token(store, name=name, role=role, expires_in_days=None, actor="test")
    finally:
        store.close()
    return {"Authorization": f"Bearer {secret}"}


def as_json(doc: dict[str, Any]) -> dict[str, Any]:
    return json.loads(msgspec.json.encode(doc))


def body(doc: dict[str, Any], base_revision: int | None = None, note: str = "New ruling") -> dict[str, Any]:
    data: dict[str, Any] = {"action": "country", "country": as_json(doc), "note": note, "sources": SOURCES}
    if base_revision is not None:
        data["base_revision"] = base_revision
    return data


def signing() -> dict[str, Any]:
    return country("RU", advisories=[advisory(translations={"en": {"title": RU_SIGNING, "summary": "Petitions too."}})])


@pytest.fixture
def site(deployment: Deployment):
    with deployment.client() as client:
        yield client, deployment


def submit(client, who: dict[str, str], data: dict[str, Any]):
    return client.post("/v1/submissions", json=data, headers=who)


def decide(client, who: dict[str, str], submission_id: int, decision: str = "approve"):
    return client.post(
        f"/v1/submissions/{submission_id}/decision", json={"decision": decision, "reason": "Sources checked"}, headers=who
    )


def test_a_country_document_goes_live_only_when_a_second_person_approves_it(site) -> None:
    client, deployment = site
    curator, reviewer = token(deployment, "curator", "Cora Country"), token(deployment, "reviewer", "Remi Review")
    before = client.get("/v1/countries/RU")
    assert before.json()["advisories"] == []

    submitted = submit(client, curator, body(country("RU")))
    assert submitted.status_code == 201, submitted.text
    proposal = submitted.json()
    assert (proposal["action"], proposal["listing_id"], proposal["status"]) == ("country", "countries/RU", "pending")
    assert proposal["country"]["code"] == "RU" and proposal["current_revision"] is None
    assert client.get("/v1/countries/RU").json()["advisories"] == []  # nothing live yet

    diff = client.get(f"/v1/submissions/{proposal['id']}", headers=reviewer).json()["diff"]
    assert [c["field"] for c in diff] == ["code", "advisories"]

    decided = decide(client, reviewer, proposal["id"])
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"]["applied_revision"] == 1
    after = client.get("/v1/countries/RU", params={"lang": "en"})
    assert int(after.headers["x-dataset-revision"]) == int(before.headers["x-dataset-revision"]) + 1
    assert [a["title"] for a in after.json()["advisories"]] == ["Donating can be prosecuted"]

    history = client.get("/v1/countries/RU/revisions").json()["data"]
    assert [(h["revision"], h["action"]) for h in history] == [(1, "create")]
    assert "Cora" not in json.dumps(history) and "Remi" not in json.dumps(history)

    store = Store(deployment.db)
    try:
        audit = [(a.actor, a.action, a.details.get("listing_id")) for a in store.audit.all() if a.action.startswith("submission.")]
    finally:
        store.close()
    assert audit == [("Cora Country", "submission.create", "countries/RU"), ("Remi Review", "submission.approve", "countries/RU")]


def test_an_update_from_the_current_revision_changes_the_served_advisories(site) -> None:
    client, deployment = site
    curator, reviewer = token(deployment, "curator", "Cid Update"), token(deployment, "reviewer", "Rae Update")
    first = submit(client, curator, body(country("RU")))
    assert decide(client, reviewer, first.json()["id"]).status_code == 200
    client.get("/v1/countries/RU", params={"lang": "en"})  # cached at this revision

    update = submit(client, curator, body(signing(), base_revision=1, note="Petitions too"))
    assert update.status_code == 201, update.text
    assert update.json()["current_revision"] == 1
    diff = client.get(f"/v1/submissions/{update.json()['id']}", headers=reviewer).json()["diff"]
    assert [c["field"] for c in diff] == ["advisories"]
    assert decide(client, reviewer, update.json()["id"]).status_code == 200

    served = client.get("/v1/countries/RU", params={"lang": "en"}).json()["advisories"]
    assert [a["title"] for a in served] == [RU_SIGNING]
    history = client.get("/v1/countries/RU/revisions").json()["data"]
    assert [(h["revision"], h["action"], h["changed"]) for h in history] == [
        (1, "create", ["code", "advisories"]), (2, "update", ["advisories"]),
    ]


def test_four_eyes_no_one_approves_their_own_country_document(site) -> None:
    client, deployment = site
    author = token(deployment, "reviewer", "Vera Self")
    submitted = submit(client, author, body(country("RU")))
    assert submitted.status_code == 201
    for who in (author, token(deployment, "reviewer", "VERA  self"), token(deployment, "admin", "vera self")):
        refused = decide(client, who, submitted.json()["id"])
        assert refused.status_code == 403, refused.text
    curator = token(deployment, "curator", "Cleo Cannot")
    assert decide(client, curator, submitted.json()["id"]).status_code == 403  # curators never decide
    assert client.get("/v1/countries/RU").json()["advisories"] == []
    assert client.get("/v1/countries/RU/revisions").status_code == 404


def test_stale_or_missing_bases_are_refused(site) -> None:
    client, deployment = site
    curator, reviewer = token(deployment, "curator", "Cass Base"), token(deployment, "reviewer", "Rolf Base")
    assert submit(client, curator, body(country("RU"), base_revision=1)).status_code == 404  # none yet
    first, second = (submit(client, curator, body(country("RU"))) for _ in range(2))
    assert decide(client, reviewer, first.json()["id"]).status_code == 200
    late = decide(client, reviewer, second.json()["id"])  # proposed before the first went live
    assert late.status_code == 409 and late.json()["current_revision"] == 1

    no_base = submit(client, curator, body(signing()))
    assert no_base.status_code == 409 and no_base.json()["current_revision"] == 1
    stale = submit(client, curator, body(signing(), base_revision=2))
    assert stale.status_code == 409 and stale.json()["current_revision"] == 1
    assert [a["title"] for a in client.get("/v1/countries/RU", params={"lang": "en"}).json()["advisories"]] == [
        "Donating can be prosecuted"
    ]


def _advised(**changes: Any) -> dict[str, Any]:
    return country("RU", advisories=[advisory(**changes)])


REFUSED = {
    "worldwide": (country("XX"), "country.code"),
    "unknown-code": (country("ZZ"), "country.code"),
    "unknown-field": ({**country("RU"), "flag": "red"}, "country.flag"),
    "http-source": (_advised(sources=["http://news.example.net/x"]), "country.advisories[0].sources[0]"),
    "shortener": (_advised(sources=["https://bit.ly/3abcdef"]), "country.advisories[0].sources[0]"),
    "look-alike": (_advised(sources=["https://examp1e.org/x"]), "country.advisories[0].sources[0]"),
    "html-title": (_advised(translations={"en": {"title": "<b>x</b>", "summary": "S"}}), "country.advisories[0].translations.en.title"),
    "long-title": (_advised(translations={"pt-BR": {"title": "x" * 201, "summary": "S"}}), "country.advisories[0].translations.pt-BR.title"),
    "bad-key": (_advised(translations={"english": {"title": "T", "summary": "S"}}), "country.advisories[0].translations.english"),
    "unknown-language": (_advised(translations={"qq": {"title": "T", "summary": "S"}}), "country.advisories[0].translations.qq"),
    "no-sources": (_advised(sources=[]), "country.advisories[0].sources"),
    "too-many": (country("RU", advisories=[advisory()] * 21), "country.advisories"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_proposed_country_document_is_validated_as_imports_validate_files(site, case: str) -> None:
    client, deployment = site
    doc, field = REFUSED[case]
    response = submit(client, token(deployment, "curator", f"Cato {case}"), body(doc))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]], response.json()


def test_the_evidence_of_a_country_submission_passes_the_url_policy(site) -> None:
    client, deployment = site
    data = {**body(country("RU")), "sources": ["https://bit.ly/3abcdef"]}
    response = submit(client, token(deployment, "curator", "Cato Evidence"), data)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["sources[0]"]


def test_an_import_does_not_undo_an_approved_country_document_unless_exported(site) -> None:
    client, deployment = site
    deployment.reimport(default_listings(), countries=[country("RU")])
    curator, reviewer = token(deployment, "curator", "Cy Import"), token(deployment, "reviewer", "Rho Import")
    submitted = submit(client, curator, body(signing(), base_revision=1))
    assert decide(client, reviewer, submitted.json()["id"]).status_code == 200

    stale_files = CliRunner().invoke(cli, ["import", "--data", str(deployment.data), "--db", str(deployment.db)])
    assert stale_files.exit_code == 1
    assert "would be undone: countries/RU (revision 2, approved update; the import would revert it)" in stale_files.output
    assert [a["title"] for a in client.get("/v1/countries/RU", params={"lang": "en"}).json()["advisories"]] == [RU_SIGNING]

    exported = CliRunner().invoke(cli, ["export", "--data", str(deployment.data), "--db", str(deployment.db)])
    assert exported.exit_code == 0, exported.output
    assert RU_SIGNING in (deployment.data / "countries" / "RU.toml").read_text()
    again = CliRunner().invoke(cli, ["import", "--data", str(deployment.data), "--db", str(deployment.db)])
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated" in again.output and "country" not in again.output  # nothing changed

    (deployment.data / "countries" / "RU.toml").unlink()  # a reviewed edit after the export: allowed
    removed = CliRunner().invoke(cli, ["import", "--data", str(deployment.data), "--db", str(deployment.db)])
    assert removed.exit_code == 0, removed.output
    assert client.get("/v1/countries/RU").json()["advisories"] == []
