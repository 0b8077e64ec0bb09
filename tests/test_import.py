"""`actiondir import`: every validation rule, all-or-nothing loading, and what a good import says.

Each broken-data case starts from the default test dataset (tests/factory.py), breaks ONE
thing, and checks three things:

- ``load_directory`` raises ``DatasetInvalid`` naming exactly the expected (file, field) pairs,
  with a message that says what is wrong;
- ``actiondir import`` against an existing database exits non-zero, prints one
  ``error: <file>: <field>: <message>`` line per problem, and leaves the database exactly
  as it was (dataset revision, listings, topics);
- ``actiondir import`` into a database that does not exist yet exits non-zero and creates
  no database file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner, Result
from factory import TOPICS, default_listings, listing, write_dataset, write_listing

from api.cli import cli
from api.dataset import DataProblem, DatasetInvalid, load_directory
from api.store import Store

ALL_STATUSES = ("active", "closed", "retired")


# --- helpers ------------------------------------------------------------------------------------


def run_import(data: Path, db: Path, *extra: str) -> Result:
    return CliRunner().invoke(cli, ["import", "--data", str(data), "--db", str(db), *extra])


def snapshot(db: Path) -> tuple[int, list[tuple[Any, ...]], list[Any]]:
    """What an import may change: the dataset revision, every listing row, the taxonomy."""
    store = Store(db)
    try:
        rows = list(store.listings.each(statuses=ALL_STATUSES))
        listings = [
            (r.id, r.status, r.revision, r.updated_at, msgspec.json.encode(r.document)) for r in rows
        ]
        return store.get_revision(), listings, store.topics.all()
    finally:
        store.close()


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def db_files(db: Path) -> list[Path]:
    return sorted(db.parent.glob(db.name + "*"))


def replace_listing(root: Path, listing_id: str, **changes: Any) -> None:
    """Rewrite one of the default listings with some top-level fields changed."""
    doc = next(d for d in default_listings() if d["id"] == listing_id)
    doc.update(changes)
    write_listing(root, doc)


def bad(**changes: Any) -> Callable[[Path], None]:
    """Add a new listing ``bad-one.toml`` with the given top-level fields."""
    return lambda root: write_listing(root, listing("bad-one", **changes))


def bad_json(**changes: Any) -> Callable[[Path], None]:
    return lambda root: write_listing(root, listing("bad-one", **changes), suffix=".json")


def verification(**changes: Any) -> dict[str, Any]:
    doc = {
        "verified_at": dt.date(2026, 11, 20),
        "next_review_at": dt.date(2027, 2, 20),
        "sources": ["https://bad-one.example.org/about"],
    }
    doc.update(changes)
    return doc


def translations(en_title: str = "Bad one", en_summary: str = "Helps.", **more: Any) -> dict[str, Any]:
    return {"en": {"title": en_title, "summary": en_summary}, **more}


def without(doc: dict[str, Any], *path: str) -> dict[str, Any]:
    target = doc
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return doc


def write_raw(name: str, content: str) -> Callable[[Path], None]:
    return lambda root: (root / "listings" / name).write_text(content, encoding="utf-8")


def write_topics(topics: list[dict[str, Any]], *, topic: str = "refugees") -> Callable[[Path], None]:
    """A whole dataset whose listings all use ``topic`` and whose taxonomy is ``topics``."""

    def write(root: Path) -> None:
        docs = [dict(d, topics=[topic]) for d in default_listings()]
        write_dataset(root, docs, topics)

    return write


@dataclass
class Broken:
    write: Callable[[Path], None]
    #: (path relative to the data folder, field ("" for the file), message fragment)
    expected: list[tuple[str, str, str]] = field(default_factory=list)


L = "listings/bad-one.toml"
J = "listings/bad-one.json"

CASES = [
    # --- unknown fields
    pytest.param(Broken(bad(colour="red"), [(L, "colour", "unknown field")]), id="unknown-field-top-level"),
    pytest.param(
        Broken(bad(verification=verification(checked_by="me")), [(L, "verification.checked_by", "unknown field")]),
        id="unknown-field-nested-verification",
    ),
    pytest.param(
        Broken(bad(organization={"services": ["hotline"], "website": "x"}), [(L, "organization.website", "unknown field")]),
        id="unknown-field-nested-organization",
    ),
    pytest.param(
        Broken(bad_json(colour="red"), [(J, "colour", "unknown field")]), id="json-unknown-field-top-level"
    ),
    # --- wrong types
    pytest.param(Broken(bad(countries="RU"), [(L, "countries", "Expected `array`, got `str`")]), id="wrong-type-string-for-list"),
    pytest.param(
        Broken(bad(verification=verification(verified_at="2026-11-20")), [(L, "verification.verified_at", "Expected `date`, got `str`")]),
        id="wrong-type-string-for-toml-date",
    ),
    pytest.param(Broken(bad(kind=3), [(L, "kind", "Expected `str`, got `int`")]), id="wrong-type-int-for-kind"),
    pytest.param(Broken(bad_json(countries=5), [(J, "countries", "Expected `array`, got `int`")]), id="json-wrong-type"),
    pytest.param(Broken(bad(kind="campaign"), [(L, "kind", "Invalid enum value 'campaign'")]), id="unknown-kind"),
    pytest.param(
        Broken(bad(organization={"services": ["cooking"]}), [(L, "organization.services[0]", "Invalid enum value 'cooking'")]),
        id="unknown-service",
    ),
    # --- missing required fields
    pytest.param(
        Broken(lambda root: write_listing(root, without(listing("bad-one"), "kind")), [(L, "kind", "required field is missing")]),
        id="missing-required-top-level",
    ),
    pytest.param(
        Broken(
            lambda root: write_listing(root, without(listing("bad-one"), "verification", "sources")),
            [(L, "verification.sources", "required field is missing")],
        ),
        id="missing-required-nested",
    ),
    pytest.param(Broken(bad(translations={}), [(L, "translations", "length >= 1")]), id="empty-translations"),
    pytest.param(Broken(bad(countries=[]), [(L, "countries", "length >= 1")]), id="empty-countries"),
    # --- countries
    pytest.param(Broken(bad(countries=["RU", "UK"]), [(L, "countries[1]", "unknown country code 'UK'")]), id="country-UK"),
    pytest.param(Broken(bad(countries=["EU"]), [(L, "countries[0]", "unknown country code 'EU'")]), id="country-EU"),
    pytest.param(Broken(bad(countries=["RU", "ru"]), [(L, "countries[1]", "matching regex")]), id="country-lower-case"),
    pytest.param(
        Broken(bad_json(countries=["QQ"]), [(J, "countries[0]", "unknown country code 'QQ'")]), id="json-country-QQ"
    ),
    pytest.param(
        Broken(bad(countries=["XX", "RU"]), [(L, "countries", "XX (worldwide) cannot be combined")]),
        id="worldwide-combined",
    ),
    pytest.param(Broken(bad(countries=["RU", "RU"]), [(L, "countries", "'RU' is listed twice")]), id="country-twice"),
    # --- languages
    pytest.param(Broken(bad(languages=["ru", "english"]), [(L, "languages[1]", "matching regex")]), id="language-english"),
    pytest.param(Broken(bad(languages=["xx"]), [(L, "languages[0]", "unknown language tag 'xx'")]), id="language-xx"),
    pytest.param(Broken(bad(languages=["en", "pt_BR"]), [(L, "languages[1]", "matching regex")]), id="language-pt_BR"),
    pytest.param(
        Broken(bad(translations=translations(xx={"title": "T", "summary": "S"})), [(L, "translations.xx", "unknown language tag 'xx'")]),
        id="translation-key-xx",
    ),
    # --- URLs
    pytest.param(Broken(bad(url="http://bad-one.example.org/"), [(L, "url", "matching regex '^https://'")]), id="url-http"),
    pytest.param(Broken(bad(url="ftp://bad-one.example.org/file"), [(L, "url", "matching regex '^https://'")]), id="url-ftp"),
    pytest.param(Broken(bad(url="javascript:alert(1)"), [(L, "url", "matching regex '^https://'")]), id="url-javascript"),
    pytest.param(
        Broken(bad(url="https://user:secret@bad-one.example.org/"), [(L, "url", "must not carry a user name or password")]),
        id="url-userinfo",
    ),
    pytest.param(
        Broken(bad(url="https://bad one.example.org/"), [(L, "url", "must not contain spaces or control characters")]),
        id="url-space",
    ),
    pytest.param(
        Broken(bad(url="https://localhost/admin"), [(L, "url", "[reserved-host]")]), id="url-no-domain"
    ),
    pytest.param(
        Broken(bad(url="https://bad-one.example.org:99999/"), [(L, "url", "not a valid URL")]), id="url-bad-port"
    ),
    pytest.param(
        Broken(
            bad(verification=verification(sources=["https://ok.example.org/", "http://bad-one.example.org/"])),
            [(L, "verification.sources[1]", "matching regex '^https://'")],
        ),
        id="source-http",
    ),
    pytest.param(
        Broken(bad(verification=verification(sources=["javascript:alert(1)"])), [(L, "verification.sources[0]", "matching regex")]),
        id="source-javascript",
    ),
    pytest.param(
        Broken(bad(verification=verification(sources=["ftp://files.example.org/a"])), [(L, "verification.sources[0]", "matching regex")]),
        id="source-ftp",
    ),
    pytest.param(
        Broken(
            bad(verification=verification(sources=["https://me:pw@bad-one.example.org/"])),
            [(L, "verification.sources[0]", "user name or password")],
        ),
        id="source-userinfo",
    ),
    pytest.param(
        Broken(
            bad_json(verification=verification(sources=["https://me:pw@bad-one.example.org/"])),
            [(J, "verification.sources[0]", "user name or password")],
        ),
        id="json-source-userinfo",
    ),
    pytest.param(
        Broken(
            bad(organization={"contacts": [{"channel": "web", "value": "https://a:b@bad-one.example.org/"}]}),
            [(L, "organization.contacts[0].value", "user name or password")],
        ),
        id="web-contact-userinfo",
    ),
    # --- topics referenced by listings
    pytest.param(
        Broken(bad(topics=["lgbtq-rights", "cats"]), [(L, "topics[1]", "unknown topic 'cats'")]), id="unknown-topic"
    ),
    # --- ids
    pytest.param(
        Broken(
            lambda root: write_listing(root, listing("ru-evacuation"), suffix=".json"),
            [("listings/ru-evacuation.toml", "id", "duplicate id 'ru-evacuation', also in")],
        ),
        id="duplicate-id-toml-and-json",
    ),
    pytest.param(
        Broken(
            lambda root: write_listing(root, listing("bad-one"), name="other-name"),
            [("listings/other-name.toml", "id", "differs from the file name 'other-name'")],
        ),
        id="id-differs-from-file-name",
    ),
    # --- kind blocks and dates
    pytest.param(
        Broken(
            bad(kind="organization", donation={"currency": "EUR"}),
            [(L, "donation", "an organization listing cannot have a donation block")],
        ),
        id="donation-block-on-organization",
    ),
    pytest.param(
        Broken(
            lambda root: replace_listing(root, "ru-legal-aid", petition={"target": "Duma"}),
            [("listings/ru-legal-aid.toml", "petition", "cannot have a petition block")],
        ),
        id="petition-block-on-existing-donation",
    ),
    pytest.param(
        Broken(
            bad(verification=verification(verified_at=dt.date(2026, 11, 20), next_review_at=dt.date(2026, 11, 19))),
            [(L, "verification.next_review_at", "must not be before verified_at")],
        ),
        id="next-review-before-verified",
    ),
    # --- plain text
    pytest.param(
        Broken(bad(translations=translations(en_title="<script>alert(1)</script>")), [(L, "translations.en.title", "not HTML")]),
        id="html-script-in-title",
    ),
    pytest.param(
        Broken(bad(translations=translations(en_summary="Tom &amp; Jerry")), [(L, "translations.en.summary", "not HTML")]),
        id="html-entity-in-summary",
    ),
    pytest.param(
        Broken(
            lambda root: replace_listing(
                root, "br-kiss-in", translations={"pt-BR": {"title": "Beijaço <b>já</b>", "summary": "Ato em São Paulo."}}
            ),
            [("listings/br-kiss-in.toml", "translations.pt-BR.title", "not HTML")],
        ),
        id="html-in-pt-BR-title-of-existing",
    ),
    pytest.param(
        Broken(bad(translations=translations(en_title="Bell\x07")), [(L, "translations.en.title", "control characters")]),
        id="control-char-in-title",
    ),
    pytest.param(
        Broken(bad(translations=translations(en_summary="Red \x1b[31m text")), [(L, "translations.en.summary", "control characters")]),
        id="control-char-in-summary",
    ),
    pytest.param(
        Broken(bad_json(translations=translations(en_summary="nul\x00byte")), [(J, "translations.en.summary", "control characters")]),
        id="json-nul-in-summary",
    ),
    pytest.param(
        Broken(bad(translations=translations(en_title="Two\nlines")), [(L, "translations.en.title", "single line")]),
        id="newline-in-title",
    ),
    pytest.param(
        Broken(bad(translations=translations(en_title=" padded")), [(L, "translations.en.title", "white space")]),
        id="leading-space-in-title",
    ),
    pytest.param(
        Broken(bad(kind="petition", petition={"target": "<i>Duma</i>"}), [(L, "petition.target", "not HTML")]),
        id="html-in-petition-target",
    ),
    # --- files that are not listings
    pytest.param(
        Broken(write_raw("bad-one.toml", 'id = "bad-one"\nkind = \n'), [(L, "", "cannot parse the file")]),
        id="toml-syntax-error",
    ),
    pytest.param(
        Broken(write_raw("bad-one.json", '{"id": "bad-one", "kind": '), [(J, "", "cannot parse the file")]),
        id="json-syntax-error",
    ),
    pytest.param(
        Broken(write_raw("notes.txt", "remember to check the URLs"), [("listings/notes.txt", "", "not a listing file")]),
        id="stray-notes-txt",
    ),
    pytest.param(
        Broken(
            lambda root: (root / "listings" / "ru-evacuation.toml").write_bytes(b"\xff\xfe\x00 not utf-8"),
            [("listings/ru-evacuation.toml", "", "cannot parse the file")],
        ),
        id="not-utf8",
    ),
    # --- the taxonomy
    pytest.param(
        Broken(lambda root: (root / "topics.toml").unlink(), [("topics.toml", "", "missing")]), id="missing-topics-toml"
    ),
    pytest.param(
        Broken(write_topics([TOPICS[1]]), [("topics.toml", "topic", "must define 'lgbtq-rights'")]),
        id="topics-without-lgbtq-rights",
    ),
    pytest.param(
        Broken(
            write_topics([*TOPICS, {"id": "refugees", "labels": {"en": "Again"}}]),
            [("topics.toml", "topic", "'refugees' is defined twice")],
        ),
        id="duplicate-topic-id",
    ),
    pytest.param(
        Broken(
            write_topics([TOPICS[0], {"id": "refugees", "labels": {"en": "Refugees", "xx": "?"}}]),
            [("topics.toml", "topic[1].labels.xx", "unknown language tag 'xx'")],
        ),
        id="topic-label-unknown-language",
    ),
    pytest.param(
        Broken(
            lambda root: (root / "topics.toml").write_text('[[topic]]\nid = "lgbtq-rights"\nlabel = "x"\n'),
            [("topics.toml", "topic[0].label", "unknown field")],
        ),
        id="topics-unknown-field",
    ),
    pytest.param(
        Broken(lambda root: (root / "topics.toml").write_text("[[topic]\n"), [("topics.toml", "", "cannot parse the file")]),
        id="topics-toml-syntax-error",
    ),
]


def assert_problems(problems: list[DataProblem], data: Path, expected: list[tuple[str, str, str]]) -> None:
    got = sorted((p.path, p.field) for p in problems)
    want = sorted((str(data / rel), fld) for rel, fld, _ in expected)
    assert got == want, "\n".join(map(str, problems))
    for rel, fld, fragment in expected:
        [problem] = [p for p in problems if p.path == str(data / rel) and p.field == fld]
        assert fragment in problem.message, str(problem)


def assert_cli_reports(result: Result, data: Path, expected: list[tuple[str, str, str]]) -> None:
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = error_lines(result)
    assert len(lines) == len(expected), result.stderr
    for rel, fld, fragment in expected:
        prefix = f"error: {data / rel}: {fld or '(file)'}: "
        matching = [line for line in lines if line.startswith(prefix)]
        assert len(matching) == 1, (prefix, result.stderr)
        assert fragment in matching[0]
    assert f"{len(expected)} problem(s) found; nothing was imported" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("case", CASES)
def test_broken_dataset_is_reported_and_nothing_is_imported(case: Broken, deployment, tmp_path: Path) -> None:
    before = snapshot(deployment.db)
    assert before[0] == 1 and len(before[1]) == 5
    case.write(deployment.data)

    with pytest.raises(DatasetInvalid) as raised:
        load_directory(deployment.data)
    assert_problems(raised.value.problems, deployment.data, case.expected)

    result = run_import(deployment.data, deployment.db)
    assert_cli_reports(result, deployment.data, case.expected)
    assert snapshot(deployment.db) == before

    fresh = tmp_path / "fresh" / "first.db"
    fresh.parent.mkdir()
    result = run_import(deployment.data, fresh)
    assert_cli_reports(result, deployment.data, case.expected)
    assert db_files(fresh) == []


# --- regressions: each of these once failed (see the commit that fixed it) -------------------


@pytest.mark.parametrize(
    ("pt_br", "field_path"),
    [
        pytest.param({"title": "Sem resumo"}, "translations.pt-BR.summary", id="missing-summary"),
        pytest.param({"title": "T", "summary": "S", "subtitle": "x"}, "translations.pt-BR.subtitle", id="unknown-field"),
        pytest.param({"title": "", "summary": "S"}, "translations.pt-BR.title", id="empty-title"),
    ],
)
def test_structural_error_in_a_translation_names_the_language(deployment, pt_br, field_path) -> None:
    write_listing(deployment.data, listing("bad-one", translations=translations(**{"pt-BR": pt_br})))
    with pytest.raises(DatasetInvalid) as raised:
        load_directory(deployment.data)
    assert [p.field for p in raised.value.problems] == [field_path]


@pytest.mark.parametrize("tag", ["english", "pt_BR"])
def test_malformed_translation_key_names_field_and_tag(deployment, tag) -> None:
    write_listing(deployment.data, listing("bad-one", translations=translations(**{tag: {"title": "T", "summary": "S"}})))
    result = run_import(deployment.data, deployment.db)
    assert result.exit_code != 0
    [line] = error_lines(result)
    assert line.startswith(f"error: {deployment.data / L}: translations")
    assert tag in line


@pytest.mark.parametrize("note", ["<script>alert(1)</script>", "Tom &amp; Jerry", "bell\x07"])
def test_contact_note_must_be_plain_text(deployment, note) -> None:
    contact = {"channel": "email", "value": "help@bad-one.example.org", "note": note}
    write_listing(deployment.data, listing("bad-one", organization={"contacts": [contact]}))
    with pytest.raises(DatasetInvalid) as raised:
        load_directory(deployment.data)
    assert [p.field for p in raised.value.problems] == ["organization.contacts[0].note"]


def test_listing_problems_are_reported_even_when_topics_toml_is_broken(deployment) -> None:
    (deployment.data / "topics.toml").write_text("[[topic]\n")
    write_listing(deployment.data, listing("bad-one", countries=["UK"]))
    with pytest.raises(DatasetInvalid) as raised:
        load_directory(deployment.data)
    fields = {(Path(p.path).name, p.field) for p in raised.value.problems}
    assert fields == {("topics.toml", ""), ("bad-one.toml", "countries[0]")}


# --- several problems in one run -----------------------------------------------------------------


def test_every_broken_file_is_reported_in_one_run(deployment, tmp_path: Path) -> None:
    before = snapshot(deployment.db)
    data = deployment.data
    write_listing(data, listing("one", countries=["UK"]))
    write_listing(data, listing("two", colour="red"), suffix=".json")
    write_listing(data, listing("three", url="http://three.example.org/"))
    (data / "listings" / "four.toml").write_text("id = ", encoding="utf-8")
    (data / "listings" / "notes.txt").write_text("todo", encoding="utf-8")
    (data / "listings" / ".DS_Store").write_bytes(b"\x00\x01")  # hidden files are ignored

    result = run_import(data, deployment.db)

    assert result.exit_code == 1
    lines = error_lines(result)
    assert len(lines) == 5, result.stderr
    for name in ("one.toml", "two.json", "three.toml", "four.toml", "notes.txt"):
        assert sum(f"{data / 'listings' / name}: " in line for line in lines) == 1, name
    assert "5 problem(s) found; nothing was imported" in result.stderr
    assert snapshot(deployment.db) == before


def test_every_semantic_problem_of_one_file_is_reported(deployment) -> None:
    doc = listing(
        "bad-one",
        countries=["UK", "XX"],
        topics=["cats"],
        languages=["xx"],
        url="https://a:b@bad-one.example.org/",
        translations=translations(en_title="<b>x</b>"),
        verification=verification(next_review_at=dt.date(2020, 1, 1), sources=["https://localhost/"]),
    )
    write_listing(deployment.data, doc)
    with pytest.raises(DatasetInvalid) as raised:
        load_directory(deployment.data)
    assert sorted(p.field for p in raised.value.problems) == sorted(
        [
            "url",
            "countries[0]",
            "countries",
            "topics[0]",
            "languages[0]",
            "translations.en.title",
            "verification.next_review_at",
            "verification.sources[0]",
        ]
    )
    assert {p.path for p in raised.value.problems} == {str(deployment.data / L)}


def test_empty_listings_folder_is_an_error(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data", [])
    db = tmp_path / "x.db"
    result = run_import(data, db)
    assert result.exit_code == 1
    assert f"error: {data / 'listings'}: (file): no listing files" in result.stderr
    assert db_files(db) == []


def test_missing_data_folder_says_what_to_do(tmp_path: Path) -> None:
    result = run_import(tmp_path / "nope", tmp_path / "x.db")
    assert result.exit_code == 1
    assert "not found: pass --data DIR or set ACTIONDIR_DATA" in result.stderr
    assert db_files(tmp_path / "x.db") == []


# --- successful imports ----------------------------------------------------------------------------


def test_first_import_reports_counts_and_progress(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data")
    db = tmp_path / "new.db"

    result = run_import(data, db)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{db}: revision 1; 5 created, 0 updated, 0 retired, 0 unchanged, topics updated\n"
    assert "Validating" in result.stderr and "Importing" in result.stderr
    assert "error" not in result.stderr.lower()
    store = Store(db)
    try:
        assert store.get_revision() == 1
        rows = store.listings.page(limit=100)
        assert sorted(r.id for r in rows) == sorted(d["id"] for d in default_listings())
        assert {r.revision for r in rows} == {1}
        assert [t.id for t in store.topics.all()] == ["lgbtq-rights", "refugees"]
    finally:
        store.close()


def test_quiet_import_prints_only_the_summary(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data")
    result = run_import(data, tmp_path / "q.db", "--quiet")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout.startswith(f"{tmp_path / 'q.db'}: revision 1; 5 created")


def test_valid_json_listing_imports(deployment) -> None:
    doc = listing(
        "json-one",
        kind="donation",
        countries=["UA", "PL"],
        languages=["uk"],
        translations={"uk": {"title": "Допомога", "summary": "Збір коштів."}},
        donation={"currency": "UAH", "purpose": "Evacuation buses."},
    )
    write_listing(deployment.data, doc, suffix=".json")
    result = run_import(deployment.data, deployment.db)
    assert result.exit_code == 0, result.output
    assert "revision 2; 1 created, 0 updated, 0 retired, 5 unchanged" in result.stdout
    store = Store(deployment.db)
    try:
        row = store.listings.get("json-one")
    finally:
        store.close()
    assert row is not None and row.status == "active" and row.revision == 1
    assert row.document.countries == ["UA", "PL"]
    assert row.document.donation is not None and row.document.donation.currency == "UAH"
    assert row.document.verification.verified_at == dt.date(2026, 11, 20)
    # The JSON file is exactly the same document as its TOML twin would be.
    assert json.loads(msgspec.json.encode(row.document)) == json.loads(msgspec.json.encode(doc))


def test_identical_second_import_changes_nothing(deployment) -> None:
    before = snapshot(deployment.db)
    result = run_import(deployment.data, deployment.db)
    assert result.exit_code == 0
    assert result.stdout == f"{deployment.db}: revision 1; 0 created, 0 updated, 0 retired, 5 unchanged\n"
    assert snapshot(deployment.db) == before


def test_changed_listing_bumps_dataset_and_listing_revision_by_one(deployment) -> None:
    replace_listing(deployment.data, "ru-legal-aid", donation={"currency": "USD", "purpose": "Lawyers."})
    result = run_import(deployment.data, deployment.db)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{deployment.db}: revision 2; 0 created, 1 updated, 0 retired, 4 unchanged\n"
    store = Store(deployment.db)
    try:
        assert store.get_revision() == 2
        revisions = {r.id: r.revision for r in store.listings.page(limit=100)}
        changed = store.listings.get("ru-legal-aid")
    finally:
        store.close()
    assert revisions == {"ru-legal-aid": 2, "ru-evacuation": 1, "br-kiss-in": 1, "ww-rainbow": 1, "ug-shelter": 1}
    assert changed is not None and changed.document.donation.currency == "USD"  # type: ignore[union-attr]

    with deployment.client() as client:
        body = client.get("/v1/listings/ru-legal-aid").json()
        assert body["revision"] == 2
        assert body["donation"] == {"currency": "USD", "purpose": "Lawyers."}
        assert client.get("/healthz").json()["revision"] == 2


def test_changed_taxonomy_alone_bumps_the_dataset_revision(deployment) -> None:
    topics = [TOPICS[0], {**TOPICS[1], "labels": {**TOPICS[1]["labels"], "pt-BR": "Refugiados"}}]
    write_dataset(deployment.data, default_listings(), topics)
    result = run_import(deployment.data, deployment.db)
    assert result.exit_code == 0
    assert result.stdout == f"{deployment.db}: revision 2; 0 created, 0 updated, 0 retired, 5 unchanged, topics updated\n"


def test_removed_file_retires_the_listing(deployment) -> None:
    (deployment.data / "listings" / "ug-shelter.toml").unlink()
    result = run_import(deployment.data, deployment.db)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{deployment.db}: revision 2; 0 created, 0 updated, 1 retired, 4 unchanged\n"

    store = Store(deployment.db)
    try:
        row = store.listings.get("ug-shelter")
        active = [r.id for r in store.listings.page(limit=100)]
    finally:
        store.close()
    assert row is not None and row.status == "retired" and row.revision == 2
    assert "ug-shelter" not in active and len(active) == 4

    with deployment.client() as client:
        response = client.get("/v1/listings/ug-shelter")
        assert response.status_code == 410
        assert "retired" in response.json()["detail"]
        assert client.get("/v1/listings/ru-evacuation").status_code == 200
        assert client.get("/v1/listings/never-existed").status_code == 404
        ids = [item["id"] for item in client.get("/v1/countries/UG/listings").json()["data"]]
        assert ids == ["ww-rainbow"]

    # Retiring again is not a change.
    again = run_import(deployment.data, deployment.db)
    assert again.stdout == f"{deployment.db}: revision 2; 0 created, 0 updated, 0 retired, 4 unchanged\n"


def test_restored_file_reactivates_the_listing(deployment) -> None:
    (deployment.data / "listings" / "ug-shelter.toml").unlink()
    assert run_import(deployment.data, deployment.db).exit_code == 0
    write_dataset(deployment.data, default_listings())
    result = run_import(deployment.data, deployment.db)
    assert result.stdout == f"{deployment.db}: revision 3; 0 created, 1 updated, 0 retired, 4 unchanged\n"
    with deployment.client() as client:
        body = client.get("/v1/listings/ug-shelter").json()
    assert body["status"] == "active" and body["revision"] == 3


@pytest.mark.parametrize("retire_first", [False, True], ids=["retagged-in-same-import", "used-by-retired-listing"])
def test_a_topic_can_be_removed_from_the_taxonomy(deployment, retire_first: bool) -> None:
    listings = default_listings()
    if retire_first:
        listings = [d for d in listings if d["id"] != "ww-rainbow"]
        deployment.reimport(listings)
    else:
        for doc in listings:
            if doc["id"] == "ww-rainbow":
                doc["topics"] = ["lgbtq-rights"]
    write_dataset(deployment.data, listings, [TOPICS[0]])
    result = run_import(deployment.data, deployment.db)
    assert result.exit_code == 0, repr(result.exception)
    store = Store(deployment.db)
    try:
        assert [t.id for t in store.topics.all()] == ["lgbtq-rights"]
    finally:
        store.close()
