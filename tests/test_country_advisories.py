"""Country advisories: ``countries/<CC>.toml`` validated as strictly as listings, stored with
their history, part of the dataset revision, exported byte for byte, and served localized under
``GET /v1/countries/{code}``.

Through the real importer and exporter (and the CLI), and the real app over HTTP.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import REPO, Deployment
from factory import advisory, country, default_listings, write_country, write_dataset

from api.cli import cli
from api.dataset import DatasetInvalid, export_directory, import_directory, load_dataset
from api.store import Store

RU_EN = "Donating can be prosecuted"
RU_RU = "За пожертвования могут преследовать"


@pytest.fixture
def advised(deployment: Deployment) -> Deployment:
    """The default listings plus a Russian country document, imported."""
    deployment.reimport(default_listings(), countries=[country("RU")])
    return deployment


# --- serving ---------------------------------------------------------------------------------------


def test_a_country_serves_its_advisories_in_the_readers_language(advised: Deployment) -> None:
    with advised.client() as client:
        english = client.get("/v1/countries/RU", params={"lang": "en"})
        assert english.status_code == 200, english.text
        [item] = english.json()["advisories"]
        assert item == {
            "title": RU_EN,
            "summary": "A court ruling makes donations a crime.",
            "lang": "en",
            "since": "2023-11-30",
            "sources": ["https://news.example.net/2023/11/30/ruling"],
        }
        russian = client.get("/v1/countries/RU", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
        [item] = russian.json()["advisories"]
        assert (item["title"], item["lang"]) == (RU_RU, "ru")
        assert "ru" in russian.headers["content-language"]
        # a language the advisory lacks: the best one it has, saying which
        [item] = client.get("/v1/countries/RU", params={"lang": "pt-BR"}).json()["advisories"]
        assert item["lang"] in {"en", "ru"}
        assert item["title"] == {"en": RU_EN, "ru": RU_RU}[item["lang"]]


def test_each_advisory_is_in_its_own_best_language(deployment: Deployment) -> None:
    only_english = advisory(
        since=dt.date(2021, 6, 28), translations={"en": {"title": "Undesirable groups", "summary": "Giving is a crime."}}
    )
    deployment.reimport(default_listings(), countries=[country("RU", advisories=[advisory(), only_english])])
    with deployment.client() as client:
        response = client.get("/v1/countries/RU", params={"lang": "ru"})
        advisories = response.json()["advisories"]
        assert [(a["lang"], a["since"]) for a in advisories] == [("ru", "2023-11-30"), ("en", "2021-06-28")]
        assert set(response.headers["content-language"].split(", ")) >= {"ru", "en"}


def test_countries_without_advisories_answer_an_empty_list(advised: Deployment) -> None:
    with advised.client() as client:
        assert client.get("/v1/countries/BR").json()["advisories"] == []
        assert client.get("/v1/countries/XX").json()["advisories"] == []
        listed = {c["code"]: c["advisories"] for c in client.get("/v1/countries", params={"lang": "en"}).json()["data"]}
        assert [a["title"] for a in listed["RU"]] == [RU_EN]
        assert listed["BR"] == [] and listed["UG"] == []


def test_a_country_with_advisories_but_no_listings_of_its_own_is_served(deployment: Deployment) -> None:
    deployment.reimport(default_listings(), countries=[country("BY")])
    with deployment.client() as client:
        belarus = client.get("/v1/countries/BY")
        assert belarus.status_code == 200, belarus.text
        assert belarus.json()["counts"]["total"] == 0
        assert len(belarus.json()["advisories"]) == 1
        assert "BY" in [c["code"] for c in client.get("/v1/countries").json()["data"]]
        assert client.get("/v1/countries/KZ").status_code == 404  # neither listings nor advisories


def test_the_dataset_carries_every_country_document(advised: Deployment) -> None:
    with advised.client() as client:
        dataset = client.get("/v1/dataset").json()
    assert [c["code"] for c in dataset["countries"]] == ["RU"]
    assert dataset["countries"][0]["advisories"][0]["translations"]["ru"]["title"] == RU_RU


# --- part of the dataset revision ------------------------------------------------------------------


def test_a_re_import_that_changes_an_advisory_changes_the_answer_and_the_revision(advised: Deployment) -> None:
    with advised.client() as client:
        first = client.get("/v1/countries/RU", params={"lang": "en"})
        again = client.get("/v1/countries/RU", params={"lang": "en"})  # from the front cache
        assert again.content == first.content
        revision = int(first.headers["x-dataset-revision"])

        summary = advised.reimport(default_listings(), countries=[country("RU")])  # the same files
        assert (summary.changed, summary.revision) == (False, revision)

        changed = country("RU", advisories=[advisory(translations={"en": {"title": "Signing can be prosecuted", "summary": "Updated."}})])
        summary = advised.reimport(default_listings(), countries=[changed])
        assert (summary.countries_changed, summary.revision) == (1, revision + 1)
        after = client.get("/v1/countries/RU", params={"lang": "en"})
        assert int(after.headers["x-dataset-revision"]) == revision + 1
        assert after.json()["advisories"][0]["title"] == "Signing can be prosecuted"
        stale = client.get("/v1/countries/RU", params={"lang": "en"}, headers={"If-None-Match": first.headers["etag"]})
        assert stale.status_code == 200


def test_removing_a_country_file_retires_its_advisories_with_their_history(advised: Deployment) -> None:
    with advised.client() as client:
        assert client.get("/v1/countries/RU").json()["advisories"]
        summary = advised.reimport(default_listings(), countries=[])
        assert summary.countries_changed == 1
        assert client.get("/v1/countries/RU").json()["advisories"] == []
        summary = advised.reimport(default_listings(), countries=[country("RU")])  # back again
        assert summary.countries_changed == 1
        assert client.get("/v1/countries/RU").json()["advisories"]
    store = Store(advised.db)
    try:
        assert [(r.revision, r.action) for r in store.countries.revisions("RU")] == [(1, "create"), (2, "retire"), (3, "update")]
    finally:
        store.close()


# --- validation, as strict as listings -----------------------------------------------------------


def problems_of(tmp_path: Path, *documents: tuple[str, Any]) -> list[tuple[str, str]]:
    """Import problems (file name, field) for country files written as given: (name, doc or raw bytes)."""
    root = write_dataset(tmp_path / "data", default_listings(), countries=[])
    for name, doc in documents:
        stem, _, suffix = name.rpartition(".")
        if isinstance(doc, bytes):
            (root / "countries" / name).write_bytes(doc)
        else:
            write_country(root, doc, name=stem, suffix=f".{suffix}")
    with pytest.raises(DatasetInvalid) as caught:
        load_dataset(root)
    return sorted((Path(p.path).name, p.field) for p in caught.value.problems)


def with_advisory(**changes: Any) -> dict[str, Any]:
    return country("RU", advisories=[advisory(**changes)])


def with_text(title: str = "A title", summary: str = "A summary.") -> dict[str, Any]:
    return with_advisory(translations={"en": {"title": title, "summary": summary}})


BROKEN = {
    "unknown-top-level-field": (country("RU", flag="red"), "flag"),
    "unknown-advisory-field": (with_advisory(until="2030-01-01"), "advisories[0].until"),
    "missing-since": ({"code": "RU", "advisories": [{k: v for k, v in advisory().items() if k != "since"}]}, "advisories[0].since"),
    "missing-advisories": ({"code": "RU"}, "advisories"),
    "bad-date": (with_advisory(since="30 November 2023"), "advisories[0].since"),
    "worldwide-code": (country("XX"), "code"),
    "unknown-code": (country("ZZ"), "code"),
    "lower-case-code": (country("ru"), "code"),
    "no-sources": (with_advisory(sources=[]), "advisories[0].sources"),
    "http-source": (with_advisory(sources=["http://news.example.net/ruling"]), "advisories[0].sources[0]"),
    "shortened-source": (with_advisory(sources=["https://bit.ly/3abcdef"]), "advisories[0].sources[0]"),
    "tracking-source": (with_advisory(sources=["https://news.example.net/r?utm_source=x"]), "advisories[0].sources[0]"),
    "duplicate-source": (with_advisory(sources=["https://news.example.net/r", "https://news.example.net/r"]), "advisories[0].sources"),
    "look-alike-of-a-listing-domain": (with_advisory(sources=["https://examp1e.org/ruling"]), "advisories[0].sources[0]"),
    "no-translation": (with_advisory(translations={}), "advisories[0].translations"),
    "bad-language-key": (with_advisory(translations={"english": {"title": "T", "summary": "S"}}), "advisories[0].translations.english"),
    "unknown-language": (with_advisory(translations={"qq": {"title": "T", "summary": "S"}}), "advisories[0].translations.qq"),
    "html-in-title": (with_text(title="<b>Danger</b>"), "advisories[0].translations.en.title"),
    "newline-in-title": (with_text(title="Two\nlines"), "advisories[0].translations.en.title"),
    "entity-in-summary": (with_text(summary="Fines &amp; prison"), "advisories[0].translations.en.summary"),
    "invisible-in-summary": (with_text(summary="Don\u200bate"), "advisories[0].translations.en.summary"),
    "title-too-long": (with_text(title="x" * 201), "advisories[0].translations.en.title"),
    "summary-too-long": (with_text(summary="x" * 2001), "advisories[0].translations.en.summary"),
    "missing-summary": (with_advisory(translations={"en": {"title": "T"}}), "advisories[0].translations.en.summary"),
    "too-many-advisories": (country("RU", advisories=[advisory()] * 21), "advisories"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_country_file_is_refused_naming_file_and_field(tmp_path: Path, case: str) -> None:
    doc, field = BROKEN[case]
    name = "ru.toml" if case == "lower-case-code" else f"{doc.get('code', 'RU')}.toml"
    assert (name, field) in problems_of(tmp_path, (name, doc))


def test_the_file_name_must_be_the_code(tmp_path: Path) -> None:
    assert problems_of(tmp_path, ("UA.toml", country("RU"))) == [("UA.toml", "code")]


def test_one_code_in_two_files_and_stray_files_are_refused(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, ("RU.toml", country("RU")), ("RU.json", country("RU")), ("notes.txt", b"hello"))
    assert ("RU.toml", "code") in problems or ("RU.json", "code") in problems
    assert ("notes.txt", "") in problems


@pytest.mark.parametrize("raw", [b"code = ", b"\xff\xfe", b'code = "RU"\nadvisories = [' + b"[" * 2000])
def test_an_unreadable_country_file_is_one_problem_not_a_crash(tmp_path: Path, raw: bytes) -> None:
    assert problems_of(tmp_path, ("RU.toml", raw)) == [("RU.toml", "")]


def test_a_country_file_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "data", default_listings(), countries=[])
    target = write_country(tmp_path, country("RU"))
    (root / "countries" / "RU.toml").symlink_to(target)
    with pytest.raises(DatasetInvalid) as caught:
        load_dataset(root)
    assert [(Path(p.path).name, p.field) for p in caught.value.problems] == [("RU.toml", "")]


def test_a_country_file_that_is_a_fifo_or_too_big_is_refused(tmp_path: Path) -> None:
    import os  # noqa: PLC0415

    root = write_dataset(tmp_path / "data", default_listings(), countries=[])
    os.mkfifo(root / "countries" / "RU.toml")
    (root / "countries" / "UA.toml").write_bytes(b'code = "UA"\nadvisories = []\n# ' + b"x" * (1024 * 1024))
    with pytest.raises(DatasetInvalid) as caught:
        load_dataset(root)
    problems = {Path(p.path).name: p.message for p in caught.value.problems}
    assert problems["RU.toml"] == "not a regular file"
    assert "larger than" in problems["UA.toml"] and "country" in problems["UA.toml"]


def test_every_problem_of_the_folder_is_reported_together_and_nothing_is_imported(tmp_path: Path, deployment) -> None:
    root = write_dataset(tmp_path / "data", default_listings(), countries=[with_text(title="<i>x</i>"), country("ZZ")])
    store = Store(deployment.db)
    try:
        before = store.get_revision()
        with pytest.raises(DatasetInvalid) as caught:
            import_directory(root, store)
        assert sorted((Path(p.path).name, p.field) for p in caught.value.problems) == [
            ("RU.toml", "advisories[0].translations.en.title"), ("ZZ.toml", "code"),
        ]
        assert store.get_revision() == before and store.countries.all() == []
    finally:
        store.close()


def test_the_cli_import_names_file_and_field(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "data", default_listings(), countries=[with_advisory(sources=["http://x.example.net/"])])
    result = CliRunner().invoke(cli, ["import", "--data", str(root), "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 1
    assert "countries/RU.toml: advisories[0].sources[0]: " in result.output


# --- export round trip -----------------------------------------------------------------------------


def test_export_then_import_then_export_is_byte_identical(tmp_path: Path) -> None:
    two = country("RU", advisories=[advisory(), advisory(since=dt.date(2021, 6, 28), sources=["https://news.example.net/a", "https://other.example.net/b"])])
    root = write_dataset(tmp_path / "data", default_listings(), countries=[two, country("UG")])
    db = tmp_path / "one.db"
    store = Store(db, create=True)
    try:
        import_directory(root, store)
        first = tmp_path / "first"
        export_directory(store, first)
    finally:
        store.close()
    store = Store(tmp_path / "two.db", create=True)
    try:
        import_directory(first, store)
        second = tmp_path / "second"
        export_directory(store, second)
    finally:
        store.close()
    for name in ("RU.toml", "UG.toml"):
        assert (first / "countries" / name).read_bytes() == (second / "countries" / name).read_bytes()
    assert sorted(p.name for p in (second / "countries").iterdir()) == ["RU.toml", "UG.toml"]
    # and the export is what a curator writes: re-importing the first export changes nothing
    store = Store(db)
    try:
        assert import_directory(first, store).changed is False
    finally:
        store.close()


def test_the_seed_data_round_trips_byte_for_byte(tmp_path: Path) -> None:
    store = Store(tmp_path / "seed.db", create=True)
    try:
        import_directory(REPO / "directory_data", store)
        export_directory(store, tmp_path / "out")
    finally:
        store.close()
    seed = REPO / "directory_data" / "countries"
    assert sorted(p.name for p in seed.iterdir()) == sorted(p.name for p in (tmp_path / "out" / "countries").iterdir())
    for path in seed.iterdir():
        assert path.read_bytes() == (tmp_path / "out" / "countries" / path.name).read_bytes(), path.name


def test_export_removes_the_file_of_a_retired_country_and_the_manifest_names_revisions(tmp_path: Path, advised: Deployment) -> None:
    out = tmp_path / "out"
    shutil.copytree(advised.data, out)
    advised.reimport(default_listings(), countries=[country("UG")])  # RU retired
    store = Store(advised.db)
    try:
        summary = export_directory(store, out)
    finally:
        store.close()
    assert sorted(p.name for p in (out / "countries").iterdir()) == ["UG.toml"]
    assert summary.removed == 1
    manifest = (out / "exported-from.toml").read_text()
    assert "[countries]" in manifest and "RU = 2" in manifest and "UG = 1" in manifest


# --- the seed data -------------------------------------------------------------------------------


def test_the_seed_advisories_are_served_in_russian_and_english(seed_client) -> None:
    russian = seed_client.get("/v1/countries/RU", params={"lang": "ru"}).json()["advisories"]
    assert [a["lang"] for a in russian] == ["ru", "ru"]
    assert [a["since"] for a in russian] == ["2023-11-30", "2021-06-28"]
    english = seed_client.get("/v1/countries/RU", params={"lang": "en"}).json()["advisories"]
    assert all(a["lang"] == "en" and a["sources"][0].startswith("https://") for a in english)
    uganda = seed_client.get("/v1/countries/UG", params={"lang": "sw"}).json()["advisories"]
    assert [(a["lang"], a["since"]) for a in uganda] == [("en", "2023-05-26")]
    assert seed_client.get("/v1/countries/BR").json()["advisories"] == []
