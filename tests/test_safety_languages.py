"""What a reader in a country is told about acting there arrives in their language, whatever
answered first, and reads well on the embed page.

Found by attacking the legal-risk and advisory features after they landed: a designation's
note and a country's advisory may be written in a language that no listing title and no topic
label uses (a Ukrainian note for readers in Russia). The front cache reduced each request's
languages against the listings' and topics' languages only, so ``Accept-Language: de, uk``
and ``de`` shared one entry: whichever came first decided the language of the warning for
both. And a designation recorded without a note printed ``None`` on the embed page.

The rule for the family: every text a public read can carry (listing texts, topic labels,
legal-risk notes, country advisories) counts in the languages the cache keys on; every read
that carries such a text is checked here. Everything runs through the real app over HTTP.
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from conftest import Deployment
from factory import advisory, country, default_listings, listing

from api.http.cache import DatasetLanguages
from api.http.params import LANG_PATTERN
from api.store import Store

NOTE = {"en": "English note", "uk": "Українська примітка"}
ADVISORY = {"en": {"title": "English advisory", "summary": "In English."}, "uk": {"title": "Українська порада", "summary": "Українською."}}


def risk(designation: str, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "country": "RU",
        "designation": designation,
        "since": dt.date(2025, 1, 1),
        "sources": [f"https://reports.example.net/ru/{designation}"],
        "note": dict(NOTE),
    }
    doc.update(changes)
    return doc


@pytest.fixture
def noted(deployment: Deployment) -> Deployment:
    """Notes and an advisory in Ukrainian, which no listing nor topic is written in."""
    without_note = risk("extremist")
    del without_note["note"]
    deployment.reimport(
        [
            *default_listings(),
            listing("ru-org-noted", url="https://ru-org-noted.org/", legal_risks=[risk("undesirable")]),
            listing("ru-org-unnoted", url="https://ru-org-unnoted.org/", legal_risks=[without_note]),
            listing("ru-org-rtl-page", url="https://ru-org-rtl-page.org/", legal_risks=[risk("banned", note={"en": NOTE["en"]})]),
        ],
        countries=[country("RU", advisories=[advisory(translations=ADVISORY)])],
    )
    return deployment


def _note(body: dict[str, Any], listing_id: str = "ru-org-noted") -> str:
    items = body["data"] if "data" in body else [body]
    [item] = [i for i in items if i["id"] == listing_id]
    return item["safety"]["notes"][0]["text"]


def _advisory(body: dict[str, Any]) -> str:
    if "data" in body:
        [body] = [c for c in body["data"] if c["code"] == "RU"]
    return body["advisories"][0]["title"]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""

    def handle_data(self, data: str) -> None:
        self.text += data


def _embed_note(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return NOTE["uk"] if NOTE["uk"] in parser.text else NOTE["en"] if NOTE["en"] in parser.text else "none"


#: Every public read that carries a note or an advisory, and how to read it from the answer.
READS = [
    pytest.param("/v1/countries/RU", {}, _advisory, id="country"),
    pytest.param("/v1/countries", {}, _advisory, id="countries"),
    pytest.param("/v1/countries/RU/listings", {"kind": "organization"}, _note, id="country-listings"),
    pytest.param("/v1/listings", {"country": "RU", "kind": "organization"}, _note, id="listings-country"),
    pytest.param("/v1/listings/ru-org-noted", {"country": "RU"}, _note, id="one-listing"),
    pytest.param("/embed/v1/listings", {"country": "RU", "kind": "organization", "limit": "20"}, None, id="embed"),
]


def _read(client, path: str, params: dict[str, str], read, accept_language: str) -> str:
    response = client.get(path, params=params, headers={"Accept-Language": accept_language})
    assert response.status_code == 200, response.text
    return _embed_note(response.text) if read is None else read(response.json())


@pytest.mark.parametrize(("path", "params", "read"), READS)
@pytest.mark.parametrize("first", ["de", "de, uk"])
def test_the_warning_is_in_the_readers_language_whichever_request_came_first(noted, path, params, read, first) -> None:
    expected = ("de", "de, uk")
    with noted.client() as client:
        answers = {}
        for accept_language in (first, *(a for a in expected if a != first)):
            answers[accept_language] = _read(client, path, params, read, accept_language)
    for accept_language in expected:
        with noted.client() as fresh:  # what each one gets from an empty cache
            alone = _read(fresh, path, params, read, accept_language)
        assert answers[accept_language] == alone, (accept_language, answers)
    assert "Українська" in answers["de, uk"] and "English" in answers["de"]


def test_a_designation_without_a_note_shows_no_placeholder_on_the_embed_page(noted) -> None:
    with noted.client() as client:
        html = client.get("/embed/v1/listings", params={"country": "RU", "kind": "organization", "limit": "20"}).text
    parser = _Text()
    parser.feed(html)
    assert "None" not in parser.text


def test_a_note_on_the_embed_page_carries_its_own_language_and_direction(noted) -> None:
    """An English note on an Arabic page reads left to right, and a screen reader speaks it in English."""
    with noted.client() as client:
        response = client.get("/embed/v1/listings", params={"country": "RU", "kind": "organization", "lang": "ar", "limit": "20"})
    html = response.text
    assert f'<p lang="en" dir="ltr">{NOTE["en"]}</p>' in html
    assert "en" in response.headers["Content-Language"].split(", ")


def _language_keyed(node: Any, pattern: re.Pattern[str]) -> set[str]:
    """Every key of every dict in ``node`` whose keys are all language tags (texts by language)."""
    found: set[str] = set()
    if isinstance(node, dict):
        if node and all(isinstance(k, str) and pattern.fullmatch(k) and k != "id" for k in node):
            found.update(node)
        for value in node.values():
            found |= _language_keyed(value, pattern)
    elif isinstance(node, list):
        for value in node:
            found |= _language_keyed(value, pattern)
    return found


def test_the_cache_knows_the_language_of_every_text_in_the_dataset(noted) -> None:
    """The family's rule, whatever text a later change adds: every dict of texts keyed by
    language anywhere in the dataset has its languages among those the front cache keys on."""
    with noted.client() as client:
        dataset = client.get("/v1/dataset").json()
    in_data = _language_keyed(dataset, re.compile(LANG_PATTERN))
    assert {"en", "ru", "uk", "pt-BR"} <= in_data  # the walk sees notes and advisories
    store = Store(noted.db)
    try:
        known = DatasetLanguages().at(store, store.get_revision())
    finally:
        store.close()
    assert in_data <= known
