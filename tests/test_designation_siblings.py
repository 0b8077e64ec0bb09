"""A donation or petition on the site of an organization designated a danger in a country
records that designation too, or it would be listed to readers there.

Found by attacking the withholding rule after it landed: it reads each listing's own
``legal_risks``. A donation page on ``lgbtnet.org`` proposed without them, next to
the organization's listing designated ``extremist`` in Russia, passed import and curation and
was served under ``/v1/countries/RU/listings`` and on the embed page with ``safety: none``:
the reader in Russia was invited to finance an "extremist" organization, with no warning.
The rule: a donation or a petition whose link is on the same registrable domain as a listing
with a danger designation in a country must record it (it may add more), at import, in a
submission, at approval and on export. Caution designations and organizations are not
concerned: they are never withheld.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from conftest import Deployment
from factory import listing, write_dataset
from test_country_curation import token
from test_legal_risks import of_kind, risk

from api.cli import cli
from api.dataset import DatasetInvalid, load_dataset

SITE = "https://lgbtnet.org"


def organization(designation: str = "extremist", country: str = "RU") -> dict[str, Any]:
    return listing("ru-network", url=f"{SITE}/", legal_risks=[risk(designation, country)])


def sibling(kind: str, url: str = f"{SITE}/donate", **changes: Any) -> dict[str, Any]:
    return of_kind(f"ru-network-{kind}", kind, ["RU"], url=url, **changes)


def _import_problems(tmp_path: Path, docs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    root = write_dataset(tmp_path / "data", docs)
    try:
        load_dataset(root)
    except DatasetInvalid as exc:
        return [(Path(p.path).name, p.field) for p in exc.problems]
    return []


@pytest.mark.parametrize("kind", ["donation", "petition"])
@pytest.mark.parametrize("designation", ["undesirable", "extremist", "banned"])
def test_import_refuses_an_action_on_a_designated_site_that_does_not_record_it(tmp_path, kind, designation) -> None:
    problems = _import_problems(tmp_path, [organization(designation), sibling(kind)])
    assert problems == [(f"ru-network-{kind}.toml", "legal_risks")]


@pytest.mark.parametrize(
    "docs",
    [
        pytest.param([organization(), sibling("donation", legal_risks=[risk("extremist")])], id="recorded"),
        pytest.param([organization(), sibling("donation", legal_risks=[risk("extremist"), risk("blocked")])], id="recorded-and-more"),
        pytest.param([organization(), sibling("organization")], id="an-organization-is-never-withheld"),
        pytest.param([organization("foreign-agent"), sibling("donation")], id="a-caution-is-never-withheld"),
        pytest.param([organization(), sibling("donation", url="https://other-fund.org/donate")], id="another-site"),
    ],
)
def test_import_accepts_the_neighbours(tmp_path, docs) -> None:
    assert _import_problems(tmp_path, docs) == []


def _body(doc: dict[str, Any]) -> dict[str, Any]:
    return {"action": "create", "listing": json.loads(msgspec.json.encode(doc)), "note": "New", "sources": [f"{SITE}/about"]}


@pytest.mark.parametrize("kind", ["donation", "petition"])
def test_a_submission_is_a_problem_naming_the_field_and_nothing_is_served(deployment: Deployment, kind: str) -> None:
    deployment.reimport([organization()])
    with deployment.client() as client:
        response = client.post("/v1/submissions", json=_body(sibling(kind)), headers=token(deployment, "curator", "Cora"))
        assert response.status_code == 400, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["listing.legal_risks"]
        recorded = client.post(
            "/v1/submissions", json=_body(sibling(kind, legal_risks=[risk("extremist")])), headers=token(deployment, "curator", "Cora")
        )
        assert recorded.status_code == 201, recorded.text
        approved = client.post(
            f"/v1/submissions/{recorded.json()['id']}/decision",
            json={"decision": "approve", "reason": "Checked"},
            headers=token(deployment, "reviewer", "Remi"),
        )
        assert approved.status_code == 200, approved.text
        ids = {i["id"] for i in client.get("/v1/countries/RU/listings").json()["data"]}
        assert f"ru-network-{kind}" not in ids
        embed = client.get("/embed/v1/listings", params={"country": "RU", "limit": "100"}).text
        assert f"actiondir-ru-network-{kind}" not in embed


def _submit_and_approve(client, deployment: Deployment, data: dict[str, Any]):
    response = client.post("/v1/submissions", json=data, headers=token(deployment, "curator", "Cora"))
    if response.status_code != 201:
        return response
    return client.post(
        f"/v1/submissions/{response.json()['id']}/decision",
        json={"decision": "approve", "reason": "Checked"},
        headers=token(deployment, "reviewer", "Remi"),
    )


def _update(doc: dict[str, Any], base_revision: int) -> dict[str, Any]:
    return {"action": "update", "listing_id": doc["id"], "base_revision": base_revision,
            "listing": json.loads(msgspec.json.encode(doc)), "note": "Designated", "sources": [f"{SITE}/about"]}


def test_designating_an_organization_asks_for_its_actions_first_so_the_data_stays_exportable(deployment: Deployment, tmp_path: Path) -> None:
    """The other way round: an organization whose donation page is listed gets a danger
    designation. Approving it alone would leave the donation listed under RU and a dataset
    that export (and import) refuse; so the designation is recorded on the actions first,
    the ones that are withheld, then on the organization."""
    plain = listing("ru-network", url=f"{SITE}/")
    deployment.reimport([plain, sibling("donation")])
    designated = {**plain, "legal_risks": [risk("extremist")]}
    with deployment.client() as client:
        refused = client.post("/v1/submissions", json=_update(designated, 1), headers=token(deployment, "curator", "Cora"))
        assert refused.status_code == 400, refused.text
        [error] = refused.json()["errors"]
        assert error["field"] == "listing.legal_risks" and "ru-network-donation" in error["detail"]

        donation = sibling("donation", legal_risks=[risk("extremist")])
        assert _submit_and_approve(client, deployment, _update(donation, 1)).status_code == 200
        assert _submit_and_approve(client, deployment, _update(designated, 1)).status_code == 200
        assert "ru-network-donation" not in {i["id"] for i in client.get("/v1/countries/RU/listings").json()["data"]}
    result = CliRunner().invoke(cli, ["export", "--data", str(tmp_path / "out"), "--db", str(deployment.db)])
    assert result.exit_code == 0, result.output
