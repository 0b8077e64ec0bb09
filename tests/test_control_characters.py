"""An escaped control character (``"\\u0000"``, ``"\\u001b"``…) in a JSON string is still a control
character: every free-text field of every request body refuses it with a 400 naming the field.

JSON lets a client write any control character as ``\\uXXXX``; the decoder hands it on as the
character itself, so nothing but the text policy (``api/vetting/text.py``) stands between it and
what a reviewer reads, a mirror stores or a terminal prints. The table below is every field a
client writes free text into; line feeds are refused too where a field is a single line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
from conftest import Deployment
from factory import default_listings, listing
from litestar.testing import TestClient

from api.app import create_app
from api.services.tokens import create_token
from api.settings import load_settings
from api.store import Store

PROBLEM = "application/problem+json"

#: Every C0 and C1 control character a text could carry but a line feed, and DEL.
CONTROLS = [chr(c) for c in (*range(0x00, 0x0A), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0))]


@dataclass(frozen=True)
class TextField:
    name: str  # as the problem names it
    path: Callable[[dict[str, str]], str]
    body: Callable[[str], dict[str, Any]]
    multiline: bool
    sample: str = "Plain text"
    """A value the field takes; the control characters go inside it, at its end and at its start."""


def _new_listing(**changes: Any) -> dict[str, Any]:
    doc = listing("fresh-listing", **changes)
    doc["verification"] = {"verified_at": "2026-11-20", "next_review_at": "2027-02-20",
                           "sources": ["https://fresh-listing.example.org/about"]}
    return doc


def _create(doc: dict[str, Any], note: str = "A new listing.") -> dict[str, Any]:
    return {"action": "create", "listing": doc, "note": note, "sources": ["https://fresh-listing.example.org/source"]}


def _with_translation(text: str, part: str) -> dict[str, Any]:
    doc = _new_listing(languages=["en"], translations={"en": {"title": "Fresh help", "summary": "Helps people."}})
    doc["translations"]["en"][part] = text
    return _create(doc)


def _organization_contact(**contact: str) -> dict[str, Any]:
    contact = {"channel": "web", "value": "https://fresh-listing.example.org/c", **contact}
    return _create(_new_listing(organization={"contacts": [contact]}))


#: A value each contact channel takes, as curators write it.
CONTACT_SAMPLES = {
    "web": "https://fresh-listing.example.org/contact",
    "email": "help@fresh-listing.example.org",
    "phone": "+256 800 130 683",
    "telegram": "@freshhelp",
    "signal": "nickname.42",
    "whatsapp": "+256 700 123456",
}


SUBMISSIONS = lambda ids: "/v1/submissions"  # noqa: E731

TEXT_FIELDS = [
    TextField("note", SUBMISSIONS, lambda t: _create(_new_listing(), note=t), True),
    TextField("note", SUBMISSIONS, lambda t: {"action": "retire", "listing_id": "ug-shelter", "base_revision": 1, "note": t,
                                              "sources": ["https://sources.example.org/check"]}, True),
    TextField("listing.translations.en.title", SUBMISSIONS, lambda t: _with_translation(t, "title"), False),
    TextField("listing.translations.en.summary", SUBMISSIONS, lambda t: _with_translation(t, "summary"), True),
    TextField("listing.petition.target", SUBMISSIONS, lambda t: _create(_new_listing(kind="petition", petition={"target": t})), False),
    TextField("listing.donation.purpose", SUBMISSIONS, lambda t: _create(_new_listing(kind="donation", donation={"purpose": t})), False),
    TextField("listing.organization.contacts[0].note", SUBMISSIONS, lambda t: _organization_contact(note=t), False),
    *(
        TextField("listing.organization.contacts[0].value", SUBMISSIONS,
                  lambda t, channel=channel: _organization_contact(channel=channel, value=t), False, sample)
        for channel, sample in CONTACT_SAMPLES.items()
    ),
    TextField("reason", lambda ids: f"/v1/submissions/{ids['submission']}/decision", lambda t: {"decision": "reject", "reason": t}, True),
    TextField("details", lambda ids: "/v1/listings/ru-evacuation/reports", lambda t: {"reason": "other", "details": t}, True),
    TextField("resolution", lambda ids: f"/v1/reports/{ids['report']}/resolution", lambda t: {"resolution": t}, True),
    TextField("reason", lambda ids: "/v1/vetting/holds/ru-evacuation/release", lambda t: {"reason": t}, True),
    TextField("name", lambda ids: "/v1/tokens", lambda t: {"name": t, "role": "curator"}, False, "Plain Name"),
]


def _field_id(field: TextField) -> str:
    return f"{field.path({'submission': 'S', 'report': 'R'})} {field.name} {field.sample}"



@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    root = tmp_path_factory.mktemp("controls")
    dep = Deployment(data=root / "data", db=root / "test.db")
    dep.reimport(default_listings())
    store = Store(dep.db)
    try:
        curator, _ = create_token(store, name="Control Curator", role="curator", expires_in_days=None, actor="test")
        admin, _ = create_token(store, name="Control Admin", role="admin", expires_in_days=None, actor="test")
    finally:
        store.close()
    with TestClient(create_app(load_settings(db=dep.db, reports_per_minute=1_000_000))) as client:
        as_curator = {"Authorization": f"Bearer {curator}"}
        as_admin = {"Authorization": f"Bearer {admin}"}
        pending = client.post("/v1/submissions", headers=as_curator, json=_create(_new_listing()))
        report = client.post("/v1/listings/ru-evacuation/reports", json={"reason": "broken_link"})
        assert pending.status_code == 201 and report.status_code == 202, (pending.text, report.text)
        yield client, as_admin, {"submission": str(pending.json()["id"]), "report": str(report.json()["id"])}


def _post(site, field: TextField, text: str):
    client, auth, ids = site
    body = msgspec.json.encode(field.body(text))  # the character travels as \uXXXX (or \t, \r…)
    return client.post(field.path(ids), content=body, headers={**auth, "Content-Type": "application/json"})


def _names(response, field: TextField) -> bool:
    return response.status_code == 400 and any(
        e["in"] == "body" and e["field"] == field.name for e in response.json().get("errors", [])
    )


@pytest.mark.parametrize("field", [pytest.param(f, id=_field_id(f)) for f in TEXT_FIELDS])
def test_a_valid_text_is_not_refused(site, field: TextField):
    """The baseline: the same request with the field's sample (and a line break where the field
    takes several lines) has no error naming the field."""
    response = _post(site, field, field.sample + (" over\ntwo lines" if field.multiline else ""))
    assert not _names(response, field), response.text


@pytest.mark.parametrize("field", [pytest.param(f, id=_field_id(f)) for f in TEXT_FIELDS])
@pytest.mark.parametrize("where", ["inside", "at-the-end", "at-the-start"])
def test_every_control_character_in_a_text_field_is_a_400_naming_it(site, field: TextField, where: str):
    escaped = []
    half = len(field.sample) // 2
    for control in CONTROLS + ([] if field.multiline else ["\n"]):
        text = {
            "inside": field.sample[:half] + control + field.sample[half:],
            "at-the-end": field.sample + control,
            "at-the-start": control + field.sample,
        }[where]
        response = _post(site, field, text)
        if not _names(response, field):
            escaped.append((f"U+{ord(control):04X}", response.status_code, response.text[:200]))
        else:
            assert response.headers["content-type"].startswith(PROBLEM)
    assert escaped == []


def test_the_table_covers_every_free_text_field_of_the_request_bodies():
    """Every plain ``str`` field of a request body is in the table (or is a pattern, a URL or an
    enum, which take no free text)."""
    from api import models  # noqa: PLC0415

    free_text = set()
    for struct in (models.Translation, models.PetitionBlock, models.DonationBlock, models.Contact, models.CreateSubmission,
                   models.UpdateSubmission, models.RetireSubmission, models.DecisionCreate, models.ReportCreate,
                   models.ReportResolution, models.HoldRelease, models.TokenCreate):
        for f in msgspec.inspect.type_info(struct).fields:
            info = f.type.type if isinstance(f.type, msgspec.inspect.Metadata) else f.type
            if isinstance(info, msgspec.inspect.UnionType):
                info = next(t for t in info.types if not isinstance(t, msgspec.inspect.NoneType))
            info = info.type if isinstance(info, msgspec.inspect.Metadata) else info
            if isinstance(info, msgspec.inspect.StrType) and (info.pattern is None or struct is models.TokenCreate):
                free_text.add(f"{struct.__name__}.{f.name}")
    assert free_text == {
        "Translation.title", "Translation.summary", "PetitionBlock.target", "DonationBlock.purpose",
        "Contact.value", "Contact.note", "CreateSubmission.note", "UpdateSubmission.note", "RetireSubmission.note",
        "DecisionCreate.reason", "ReportCreate.details", "ReportResolution.resolution", "HoldRelease.reason",
        "TokenCreate.name",
    }
    covered = {f.name.rsplit(".", 1)[-1] for f in TEXT_FIELDS}
    assert {name.rsplit(".", 1)[-1] for name in free_text} <= covered
    assert {f.body("x")["listing"]["organization"]["contacts"][0]["channel"] for f in TEXT_FIELDS
            if f.name.endswith("contacts[0].value")} == set(models.ContactChannel.__args__)
