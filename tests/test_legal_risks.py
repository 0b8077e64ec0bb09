"""Legal risks: designations recorded per country, and what the lists serve a reader there.

The rule under test, stated here on its own terms (not read from the code): under a country,
a donation or a petition toward an organization designated `undesirable`, `extremist` or
`banned` in that country is withheld by default (worldwide listings included), and
`include=risky` lists it with `safety.level == "danger"`; organizations stay listed with the
note; `foreign-agent`, `blocked` and `other` are a `caution`; anywhere else the same listing
is `none`. Everything goes through the real app over HTTP, the real importer and the CLI.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from conftest import AppClient, Deployment
from factory import listing, write_dataset
from test_text_policy import TEXT_REFUSED
from test_url_policy import HOSTILE, KNOWN

from api.app import create_app
from api.cli import cli
from api.dataset import DatasetInvalid, import_directory, load_directory, name_dict_paths, split_validation_error
from api.models import Listing
from api.services.tokens import create_token
from api.settings import load_settings
from api.store import Store
from api.validation import check_listing

# --- the rule, stated independently of api.models.risks -------------------------------------------

DESIGNATIONS = ("foreign-agent", "undesirable", "extremist", "banned", "blocked", "other")
DANGER = {"undesirable", "extremist", "banned"}
TRACEABLE = {"donation", "petition"}
KINDS = ("donation", "petition", "organization")
SCOPES = {"ru": ["RU"], "ww": ["XX"]}
NOTE = {"en": "Supporting it from Russia can be prosecuted.", "ru": "За поддержку из России могут преследовать."}
SINCE = dt.date(2025, 5, 19)


def withheld_in_ru(designation: str | None, kind: str) -> bool:
    return designation in DANGER and kind in TRACEABLE


def level_of(designation: str | None) -> str:
    return "none" if designation is None else "danger" if designation in DANGER else "caution"


def risk(designation: str, country: str = "RU", **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "country": country,
        "designation": designation,
        "since": SINCE,
        "sources": [f"https://reports.example.net/{country.lower()}/{designation}"],
        "note": dict(NOTE),
    }
    doc.update(changes)
    return doc


def of_kind(listing_id: str, kind: str, countries: list[str], **changes: Any) -> dict[str, Any]:
    """A listing of ``kind``, each on a site of its own (``<id>.org``): listings on one site are
    one organization's, whose danger designations its donations and petitions must record."""
    block = {"donation": {"donation": {"currency": "EUR"}}, "petition": {"petition": {"target": "A parliament"}}}
    changes.setdefault("url", f"https://{listing_id}.org/")
    return listing(listing_id, kind=kind, countries=countries, **block.get(kind, {}), **changes)


def matrix() -> list[dict[str, Any]]:
    """Every (scope, kind, designation in RU), plus undesignated ones and one designated elsewhere."""
    docs = [
        of_kind(f"{scope}-{kind}-{designation}", kind, countries, legal_risks=[risk(designation)])
        for scope, countries in SCOPES.items()
        for kind in KINDS
        for designation in DESIGNATIONS
    ]
    docs += [of_kind(f"{scope}-{kind}-clean", kind, countries) for scope, countries in SCOPES.items() for kind in KINDS]
    docs.append(of_kind("ww-donation-banned-in-ua", "donation", ["XX"], legal_risks=[risk("banned", "UA")]))
    docs.append(of_kind("br-petition-clean", "petition", ["BR"], languages=["pt-BR"]))
    return docs


def designation_of(listing_id: str) -> str | None:
    """The RU designation a matrix listing was built with (None: none in RU)."""
    if listing_id.endswith("-clean") or listing_id.endswith("-in-ua"):
        return None
    return next(d for d in DESIGNATIONS if listing_id.endswith(f"-{d}"))


def kind_of(listing_id: str) -> str:
    return next(k for k in KINDS if f"-{k}-" in listing_id)


@pytest.fixture(scope="module")
def risky(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    root = tmp_path_factory.mktemp("risks")
    dep = Deployment(data=root / "data", db=root / "risks.db")
    dep.reimport(matrix())
    return dep


@pytest.fixture(scope="module")
def http(risky: Deployment):
    with risky.client() as client:
        yield client


def walk(client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, following next_cursor."""
    items, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["data"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


RU_LISTS = [
    pytest.param("/v1/countries/RU/listings", {}, id="country-path"),
    pytest.param("/v1/listings", {"country": "RU"}, id="country-filter"),
]
ALL_IDS = [doc["id"] for doc in matrix()]
RU_SERVED = [i for i in ALL_IDS if i.startswith(("ru-", "ww-"))]


# --- withheld by default, back with include=risky ------------------------------------------------


@pytest.mark.parametrize(("path", "params"), RU_LISTS)
def test_under_ru_no_donation_or_petition_toward_a_danger_designation_is_listed(http, path, params) -> None:
    ids = [item["id"] for item in walk(http, path, **params, limit=100)]
    expected = [i for i in RU_SERVED if not withheld_in_ru(designation_of(i), kind_of(i))]
    assert sorted(ids) == sorted(expected)
    for withheld in ("ww-donation-undesirable", "ww-petition-extremist", "ru-donation-banned", "ru-petition-undesirable"):
        assert withheld not in ids  # worldwide ones included


@pytest.mark.parametrize(("path", "params"), RU_LISTS)
@pytest.mark.parametrize("kind", KINDS)
def test_a_kind_filter_withholds_the_same(http, path, params, kind) -> None:
    ids = {item["id"] for item in walk(http, path, **params, kind=kind)}
    assert ids == {i for i in RU_SERVED if kind_of(i) == kind and not withheld_in_ru(designation_of(i), kind)}


@pytest.mark.parametrize(("path", "params"), RU_LISTS)
def test_include_risky_brings_them_back_as_a_danger(http, path, params) -> None:
    items = {item["id"]: item for item in walk(http, path, **params, include="risky")}
    assert sorted(items) == sorted(RU_SERVED)
    for listing_id, item in items.items():
        designation = designation_of(listing_id)
        assert item["safety"]["level"] == level_of(designation), listing_id
        if withheld_in_ru(designation, kind_of(listing_id)):
            assert item["safety"]["level"] == "danger"
            [note] = item["safety"]["notes"]
            assert note["designation"] == designation and note["text"] == NOTE["en"]


def test_include_risky_combines_with_the_other_inclusions(http) -> None:
    ids = {item["id"] for item in walk(http, "/v1/countries/RU/listings", include="closed,risky,unverified")}
    assert ids == set(RU_SERVED)
    ids = {item["id"] for item in walk(http, "/v1/countries/RU/listings", include="unverified,closed")}
    assert "ww-donation-banned" not in ids


def test_organizations_designated_in_ru_stay_listed_with_the_note_in_the_readers_language(http) -> None:
    for lang in ("ru", "en"):
        items = {i["id"]: i for i in walk(http, "/v1/countries/RU/listings", kind="organization", lang=lang)}
        for designation in DESIGNATIONS:
            for scope in SCOPES:
                item = items[f"{scope}-organization-{designation}"]
                assert item["safety"]["level"] == level_of(designation)
                [note] = item["safety"]["notes"]
                assert note == {
                    "designation": designation,
                    "since": SINCE.isoformat(),
                    "text": NOTE[lang],
                    "lang": lang,
                    "sources": [f"https://reports.example.net/ru/{designation}"],
                }


def test_a_language_the_note_lacks_falls_back_like_every_text(http) -> None:
    [item] = [i for i in walk(http, "/v1/countries/RU/listings", lang="pt-BR") if i["id"] == "ru-organization-extremist"]
    note = item["safety"]["notes"][0]
    assert (note["lang"], note["text"]) == ("en", NOTE["en"])


def test_the_note_languages_are_in_content_language(http) -> None:
    response = http.get("/v1/countries/RU/listings", params={"lang": "ru", "kind": "organization"})
    assert "ru" in response.headers["Content-Language"].split(", ")


# --- the same listings anywhere else -------------------------------------------------------------


def test_the_same_worldwide_listings_under_another_country_are_listed_and_safe(http) -> None:
    items = {i["id"]: i for i in walk(http, "/v1/countries/BR/listings")}
    worldwide = [i for i in ALL_IDS if i.startswith("ww-") and not i.endswith("-in-ua")]
    for listing_id in worldwide:
        assert items[listing_id]["safety"] == {"level": "none", "notes": []}, listing_id


@pytest.mark.parametrize("listing_id", ["ru-donation-banned", "ww-petition-undesirable", "ru-organization-extremist"])
def test_one_listing_says_its_safety_for_the_country_asked(http, listing_id) -> None:
    assert http.get(f"/v1/listings/{listing_id}", params={"country": "RU"}).json()["safety"]["level"] == "danger"
    assert http.get(f"/v1/listings/{listing_id}", params={"country": "BR"}).json()["safety"] == {"level": "none", "notes": []}
    assert http.get(f"/v1/listings/{listing_id}", params={"country": "XX"}).json()["safety"]["level"] == "none"
    assert http.get(f"/v1/listings/{listing_id}").json()["safety"] is None


def test_a_designation_counts_only_in_its_own_country(http) -> None:
    ru = {i["id"]: i for i in walk(http, "/v1/countries/RU/listings")}
    assert ru["ww-donation-banned-in-ua"]["safety"] == {"level": "none", "notes": []}
    ua = {i["id"] for i in walk(http, "/v1/countries/UA/listings")}
    assert "ww-donation-banned-in-ua" not in ua
    assert "ww-donation-banned" in ua


def test_without_a_country_nothing_is_withheld_and_safety_is_null(http) -> None:
    items = walk(http, "/v1/listings")
    assert sorted(i["id"] for i in items) == sorted(ALL_IDS)
    assert all(i["safety"] is None for i in items)


def test_a_country_that_is_not_one_is_a_problem_on_one_listing(http) -> None:
    response = http.get("/v1/listings/ru-donation-banned", params={"country": "ru"})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["country"]


# --- pages, cursors and counts agree with what is withheld ----------------------------------------


@pytest.mark.parametrize("limit", [1, 3, 7])
@pytest.mark.parametrize("include", [None, "risky"])
def test_pages_serve_exactly_the_whole_list_once(http, limit, include) -> None:
    extra = {"include": include} if include else {}
    whole = [i["id"] for i in walk(http, "/v1/countries/RU/listings", limit=100, **extra)]
    paged = [i["id"] for i in walk(http, "/v1/countries/RU/listings", limit=limit, **extra)]
    assert paged == whole and len(set(paged)) == len(paged)


def test_country_counts_leave_out_what_is_withheld_there(http) -> None:
    listed = walk(http, "/v1/countries/RU/listings", include_worldwide="false")
    per_kind = {kind: sum(1 for i in listed if i["kind"] == kind) for kind in KINDS}
    expected = {**per_kind, "total": sum(per_kind.values())}
    assert http.get("/v1/countries/RU").json()["counts"] == expected
    [ru] = [c for c in http.get("/v1/countries").json()["data"] if c["code"] == "RU"]
    assert ru["counts"] == expected
    assert expected["donation"] == sum(1 for d in DESIGNATIONS if d not in DANGER) + 1  # +1: ru-donation-clean


def test_worldwide_counts_are_not_reduced_by_a_countrys_designation(http) -> None:
    counts = http.get("/v1/countries/XX").json()["counts"]
    assert counts["total"] == sum(1 for i in ALL_IDS if i.startswith("ww-"))


def test_the_front_cache_keeps_risky_and_default_answers_apart(http) -> None:
    def ids(**params: str) -> set[str]:
        return {i["id"] for i in http.get("/v1/countries/RU/listings", params={"limit": "100", **params}).json()["data"]}

    default, risky_ids, again = ids(), ids(include="risky"), ids()
    assert "ww-donation-undesirable" in risky_ids - default
    assert again == default
    with_country = http.get("/v1/listings/ww-donation-undesirable", params={"country": "RU"}).json()
    without = http.get("/v1/listings/ww-donation-undesirable").json()
    assert (with_country["safety"]["level"], without["safety"]) == ("danger", None)
    assert http.get("/v1/listings/ww-donation-undesirable", params={"country": "RU"}).json() == with_country


# --- export -> import round trip ----------------------------------------------------------------


def _cli(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_legal_risks_survive_export_and_import_byte_identically(risky: Deployment, tmp_path: Path) -> None:
    first, second, db = tmp_path / "first", tmp_path / "second", tmp_path / "copy.db"
    _cli("export", "--data", str(first), "--db", str(risky.db))
    _cli("import", "--data", str(first), "--db", str(db), "--quiet")
    _cli("export", "--data", str(second), "--db", str(db))
    names = sorted(p.name for p in (first / "listings").iterdir())
    assert names == sorted(p.name for p in (second / "listings").iterdir()) and len(names) == len(ALL_IDS)
    for name in names:
        assert (first / "listings" / name).read_bytes() == (second / "listings" / name).read_bytes(), name
    written = (first / "listings" / "ww-donation-undesirable.toml").read_text(encoding="utf-8")
    assert "[[legal_risks]]" in written and 'designation = "undesirable"' in written and "since = 2025-05-19" in written
    store = Store(db)
    try:
        assert store.listings.get("ww-donation-undesirable").document == risky_document("ww-donation-undesirable", risky)
    finally:
        store.close()


def risky_document(listing_id: str, dep: Deployment) -> Listing:
    store = Store(dep.db)
    try:
        return store.listings.get(listing_id).document
    finally:
        store.close()


def test_the_dataset_and_the_feed_carry_legal_risks(http) -> None:
    dataset = http.get("/v1/dataset").json()
    [item] = [i for i in dataset["listings"] if i["listing"]["id"] == "ru-petition-extremist"]
    assert item["listing"]["legal_risks"][0]["designation"] == "extremist"
    [clean] = [i for i in dataset["listings"] if i["listing"]["id"] == "ru-petition-clean"]
    assert "legal_risks" not in clean["listing"]  # absent, not empty: files stay as curators wrote them


# --- curation: four-eyes ------------------------------------------------------------------------


def _token(dep: Deployment, name: str, role: str) -> dict[str, str]:
    store = Store(dep.db)
    try:
        secret, _ = create_token(store, name=name, role=role, expires_in_days=None, actor="test")
    finally:
        store.close()
    return {"Authorization": f"Bearer {secret}"}


def test_a_submission_adding_a_designation_is_live_only_after_a_second_person_approves(deployment) -> None:
    deployment.reimport([of_kind("ru-fund", "donation", ["RU"]), of_kind("ru-help", "organization", ["RU"])])
    curator = _token(deployment, "Ana Souza", "curator")
    same_person = _token(deployment, "ANA SOUZA", "reviewer")
    reviewer = _token(deployment, "Ben Okafor", "reviewer")
    with deployment.client() as client:
        doc = client.get("/v1/dataset").json()["listings"]
        [fund] = [i["listing"] for i in doc if i["listing"]["id"] == "ru-fund"]
        fund["legal_risks"] = [json.loads(msgspec.json.encode(risk("undesirable")))]
        body = {"action": "update", "listing_id": "ru-fund", "base_revision": 1, "listing": fund,
                "note": "Designated undesirable in Russia", "sources": ["https://reports.example.net/ru/undesirable"]}
        created = client.post("/v1/submissions", json=body, headers=curator)
        assert created.status_code == 201, created.text
        submission = created.json()["id"]

        def listed() -> set[str]:
            return {i["id"] for i in client.get("/v1/countries/RU/listings").json()["data"]}

        assert "ru-fund" in listed()  # proposed, not live
        assert client.get("/v1/listings/ru-fund", params={"country": "RU"}).json()["safety"]["level"] == "none"
        diff = client.get(f"/v1/submissions/{submission}", headers=reviewer).json()["diff"]
        assert [change["field"] for change in diff] == ["legal_risks"]

        refused = client.post(f"/v1/submissions/{submission}/decision", json={"decision": "approve", "reason": "Mine"}, headers=same_person)
        assert refused.status_code == 403, refused.text
        assert "ru-fund" in listed()

        approved = client.post(f"/v1/submissions/{submission}/decision", json={"decision": "approve", "reason": "Checked"}, headers=reviewer)
        assert approved.status_code == 200, approved.text
        assert "ru-fund" not in listed()
        risky_items = {i["id"]: i for i in client.get("/v1/countries/RU/listings", params={"include": "risky"}).json()["data"]}
        assert risky_items["ru-fund"]["safety"]["level"] == "danger"
        revisions = client.get("/v1/listings/ru-fund/revisions").json()["data"]
        assert revisions[-1]["changed"] == ["legal_risks"]
        assert revisions[-1]["listing"]["legal_risks"][0]["designation"] == "undesirable"
        last_change = client.get("/v1/changes", params={"limit": "100"}).json()["data"][-1]
        assert last_change["listing_id"] == "ru-fund" and last_change["listing"]["legal_risks"][0]["country"] == "RU"
        assert client.get("/v1/countries/RU").json()["counts"]["donation"] == 0


def test_a_submission_can_remove_a_designation_too(deployment) -> None:
    deployment.reimport([of_kind("ru-fund", "donation", ["RU"], legal_risks=[risk("banned")])])
    curator, reviewer = _token(deployment, "Ana Souza", "curator"), _token(deployment, "Ben Okafor", "reviewer")
    with deployment.client() as client:
        [item] = client.get("/v1/dataset").json()["listings"]
        fund = item["listing"]
        del fund["legal_risks"]
        body = {"action": "update", "listing_id": "ru-fund", "base_revision": 1, "listing": fund,
                "note": "The ban was lifted", "sources": ["https://reports.example.net/ru/lifted"]}
        submission = client.post("/v1/submissions", json=body, headers=curator).json()["id"]
        assert client.get("/v1/countries/RU/listings").json()["data"] == []
        decided = client.post(f"/v1/submissions/{submission}/decision", json={"decision": "approve", "reason": "Checked"}, headers=reviewer)
        assert decided.status_code == 200, decided.text
        assert [i["id"] for i in client.get("/v1/countries/RU/listings").json()["data"]] == ["ru-fund"]


# --- hostile values: a problem naming the field, on import and on submission ----------------------

TOMORROW_BUT_ONE = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)

#: (id, the risk as written, the field at fault, what the message starts with or contains)
HOSTILE_RISKS: list[tuple[str, dict[str, Any], str, str]] = [
    ("javascript-source", risk("banned", sources=["javascript:alert(1)"]), "legal_risks[0].sources[0]", "https://"),
    ("http-source", risk("banned", sources=["http://reports.example.net/"]), "legal_risks[0].sources[0]", "https://"),
    ("shortener-source", risk("banned", sources=["https://bit.ly/3xYzAbc"]), "legal_risks[0].sources[0]", "[shortener]"),
    ("cyrillic-look-alike-source", risk("banned", sources=["https://ex\u0430mple.org/news"]), "legal_risks[0].sources[0]", "[confusable"),
    ("latin-look-alike-source", risk("banned", sources=["https://exarnple.org/news"]), "legal_risks[0].sources[0]", "[confusable-domain]"),
    ("tracking-source", risk("banned", sources=["https://reports.example.net/?utm_source=x"]), "legal_risks[0].sources[0]", "[tracking-param]"),
    ("repeated-source", risk("banned", sources=["https://reports.example.net/a"] * 2), "legal_risks[0].sources", "listed twice"),
    ("no-source", risk("banned", sources=[]), "legal_risks[0].sources", "length >= 1"),
    ("control-char-in-note", risk("banned", note={"en": "Bell\x07"}), "legal_risks[0].note.en", "[control-char]"),
    ("bidi-in-note", risk("banned", note={"ru": "Опасно \u202eтекст"}), "legal_risks[0].note.ru", "[bidi-control]"),
    ("html-in-note", risk("banned", note={"en": "<script>alert(1)</script>"}), "legal_risks[0].note.en", "[html]"),
    ("template-in-note", risk("banned", note={"en": "{{7*7}}"}), "legal_risks[0].note.en", "[template]"),
    ("too-long-note", risk("banned", note={"en": "x" * 2001}), "legal_risks[0].note.en", "length <= 2000"),
    ("unknown-note-language", risk("banned", note={"xq": "Text."}), "legal_risks[0].note.xq", "unknown language tag"),
    ("malformed-note-language", risk("banned", note={"english": "Text."}), "legal_risks[0].note.english", "invalid language tag"),
    ("empty-note", risk("banned", note={}), "legal_risks[0].note", "length >= 1"),
    ("unknown-designation", risk("terrorist"), "legal_risks[0].designation", "Invalid enum value"),
    ("other-without-note", {k: v for k, v in risk("other").items() if k != "note"}, "legal_risks[0].note", "required"),
    ("future-since", risk("banned", since=TOMORROW_BUT_ONE), "legal_risks[0].since", "in the future"),
    ("worldwide-country", risk("banned", country="XX"), "legal_risks[0].country", "not XX"),
    ("unknown-country", risk("banned", country="ZZ"), "legal_risks[0].country", "unknown country code"),
    ("lower-case-country", risk("banned", country="ru"), "legal_risks[0].country", "^[A-Z]{2}$"),
    ("unknown-field", risk("banned", severity="high"), "legal_risks[0].severity", "unknown field"),
]
DUPLICATE = [risk("undesirable"), risk("undesirable", since=dt.date(2024, 1, 1))]


def _import_problems(dep: Deployment, risks: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    write_dataset(dep.data, [listing("ru-one"), of_kind("ru-fund", "donation", ["RU"], legal_risks=risks)])
    store = Store(dep.db)
    try:
        with pytest.raises(DatasetInvalid) as raised:
            import_directory(dep.data, store)
    finally:
        store.close()
    return [(Path(p.path).name, p.field, p.message) for p in raised.value.problems]


@pytest.mark.parametrize(("written", "field", "says"), [pytest.param(r, f, s, id=i) for i, r, f, s in HOSTILE_RISKS])
def test_import_names_the_file_and_the_field(deployment, written, field, says) -> None:
    """(A look-alike is also reported from the other side, the listing it imitates: import has
    no "first" listing to trust.)"""
    problems = [(f, m) for name, f, m in _import_problems(deployment, [written]) if name == "ru-fund.toml"]
    assert [f for f, _ in problems] == [field], problems
    assert says in problems[0][1], problems


def test_a_country_and_designation_recorded_twice_is_named(deployment) -> None:
    problems = _import_problems(deployment, DUPLICATE)
    assert [(name, f) for name, f, _ in problems] == [("ru-fund.toml", "legal_risks[1]")]
    assert "listed twice" in problems[0][2]


@pytest.fixture(scope="module")
def curation(tmp_path_factory: pytest.TempPathFactory):
    """One app for the submission cases (building one costs most of a second)."""
    root = tmp_path_factory.mktemp("risk-curation")
    dep = Deployment(data=root / "data", db=root / "c.db")
    dep.reimport([listing("ru-one"), of_kind("ru-fund", "donation", ["RU"])])
    with AppClient(create_app(load_settings(db=dep.db))) as client:
        yield client, _token(dep, "Cora Curator", "curator")


def _submit(curation, risks: list[dict[str, Any]]):
    client, curator = curation
    doc = of_kind("ru-new-fund", "donation", ["RU"], legal_risks=risks)
    body = {"action": "create", "listing": doc, "note": "New", "sources": ["https://ru-new-fund.example.org/"]}
    return client.post("/v1/submissions", content=msgspec.json.encode(body), headers={**curator, "Content-Type": "application/json"})


@pytest.mark.parametrize(("written", "field", "says"), [pytest.param(r, f, s, id=i) for i, r, f, s in HOSTILE_RISKS])
def test_a_submission_is_a_problem_naming_the_field(curation, written, field, says) -> None:
    response = _submit(curation, [written])
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [f"listing.{field}"], errors
    assert says in errors[0]["detail"], errors


def test_a_submission_recording_a_designation_twice_is_a_problem(curation) -> None:
    response = _submit(curation, DUPLICATE)
    assert response.status_code == 400, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["listing.legal_risks[1]"]


def test_a_clean_designation_is_accepted_in_a_submission(curation) -> None:
    response = _submit(curation, [risk("banned", since=dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1))])
    assert response.status_code == 201, response.text


# --- family rules: a legal risk's source is a URL like every other; its note, text like every other --


def _refusals(doc: dict[str, Any], field: str) -> list[str]:
    """What the write paths say about ``field`` of ``doc``: the struct's message, or each rule."""
    try:
        parsed = msgspec.convert(doc, Listing)
    except msgspec.ValidationError as exc:
        at, message = name_dict_paths(*split_validation_error(exc), doc)
        return [message] if at == field else [f"elsewhere: {at}"]
    return [m.split("]")[0] + "]" for f, m in check_listing(parsed, None, known_domains=KNOWN, today=SINCE) if f == field]


@pytest.mark.parametrize("url", [pytest.param(u, id=i) for i, u, _ in HOSTILE])
def test_a_legal_risk_source_is_refused_exactly_like_a_listing_url(url: str) -> None:
    as_url = _refusals(listing("ru-one", url=url), "url")
    as_source = _refusals(listing("ru-one", legal_risks=[risk("banned", sources=[url])]), "legal_risks[0].sources[0]")
    assert as_url, url
    assert as_source == as_url


@pytest.mark.parametrize("url", ["https://www.\u0430mnesty.org/donate", "https://arnnesty.org/", "https://rainbowrai1road.org/"])
def test_a_legal_risk_source_that_looks_like_a_known_domain_is_refused_like_a_url(url: str) -> None:
    as_url = _refusals(listing("ru-one", url=url), "url")
    as_source = _refusals(listing("ru-one", legal_risks=[risk("banned", sources=[url])]), "legal_risks[0].sources[0]")
    assert as_url == as_source == ["[confusable-domain]"]


@pytest.mark.parametrize("text", [pytest.param(t, id=i) for i, t, options, _ in TEXT_REFUSED if not options])
def test_a_legal_risk_note_is_refused_exactly_like_a_summary(text: str) -> None:
    as_summary = _refusals(listing("ru-one", translations={"en": {"title": "T", "summary": text}}), "translations.en.summary")
    as_note = _refusals(listing("ru-one", legal_risks=[risk("banned", note={"en": text})]), "legal_risks[0].note.en")
    assert as_summary, text
    assert as_note == as_summary


def test_the_seed_data_records_its_designations_with_sources() -> None:
    """Every legal risk in directory_data has sources and a note in English and Russian when
    it is about Russia (the readers it serves there read Russian)."""
    listings, _ = load_directory(Path(__file__).resolve().parent.parent / "directory_data")
    risks = [(doc.id, r) for doc in listings for r in doc.legal_risks]
    assert risks
    for listing_id, r in risks:
        assert r.sources and r.note.get("en"), listing_id
        if r.country == "RU":
            assert r.note.get("ru"), listing_id


def test_the_seed_data_withholds_the_undesirable_organizations_actions_under_ru(seed_client) -> None:
    ids = {i["id"] for i in walk(seed_client, "/v1/countries/RU/listings")}
    assert {"ww-amnesty-international-donate", "ww-amnesty-write-for-rights", "ww-human-rights-watch-donate"}.isdisjoint(ids)
    items = {i["id"]: i for i in walk(seed_client, "/v1/countries/RU/listings", include="risky", lang="ru")}
    assert items["ww-amnesty-international-donate"]["safety"]["level"] == "danger"
    assert items["ww-ilga-world"]["safety"]["level"] == "danger"  # an organization: listed
    assert items["ru-russian-lgbt-network"]["safety"]["level"] == "caution"
    assert items["ru-ovd-info"]["safety"]["level"] == "caution"
    assert all(n["lang"] == "ru" for n in items["ru-russian-lgbt-network"]["safety"]["notes"])
    br = {i["id"]: i for i in walk(seed_client, "/v1/countries/BR/listings")}
    assert br["ww-amnesty-international-donate"]["safety"] == {"level": "none", "notes": []}

