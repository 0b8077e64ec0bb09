"""Language negotiation over HTTP, CLDR names, and the negotiation functions themselves.

The rules (api/i18n.py, README): ``?lang=`` wins over ``Accept-Language``; for each preference
in turn an exact match, then the same base language; nothing matched: English, else the first
language the text was written in. Names of countries and languages come from CLDR (Babel).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Deployment
from factory import default_listings, listing
from litestar.testing import TestClient

from api.i18n import MAX_PREFERENCES, best_language, language_preferences

PROBLEM = "application/problem+json"


def language_listings() -> list[dict[str, Any]]:
    """The default listings plus two with unusual translation sets."""
    return [
        *default_listings(),
        # No English at all, Ukrainian written first: the fallback is "uk".
        listing(
            "ua-shelter",
            countries=["UA"],
            languages=["uk", "ru"],
            translations={
                "uk": {"title": "Притулок у Києві", "summary": "Безпечне житло."},
                "ru": {"title": "Приют в Киеве", "summary": "Безопасное жильё."},
            },
        ),
        # Brazilian only, with a topic that has no pt-BR label.
        listing(
            "br-refuge",
            countries=["BR"],
            topics=["refugees"],
            languages=["pt-BR"],
            translations={"pt-BR": {"title": "Acolhida a refugiados", "summary": "Abrigo."}},
        ),
        # British English, written after Russian.
        listing(
            "kz-help",
            countries=["KZ"],
            languages=["ru", "en-GB"],
            translations={
                "ru": {"title": "Помощь в Алматы", "summary": "Поддержка."},
                "en-GB": {"title": "Help in Almaty", "summary": "Support."},
            },
        ),
        # Both Portuguese variants, Brazilian first.
        listing(
            "pt-both",
            countries=["PT"],
            languages=["pt-PT", "pt-BR"],
            translations={
                "pt-BR": {"title": "Ajuda em português do Brasil", "summary": "Texto brasileiro."},
                "pt-PT": {"title": "Ajuda em português europeu", "summary": "Texto europeu."},
            },
        ),
    ]


@pytest.fixture(scope="module")
def lang_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Read-only: one deployment for the whole module (no test here changes the data)."""
    root = tmp_path_factory.mktemp("languages")
    dep = Deployment(data=root / "data", db=root / "test.db")
    dep.reimport(language_listings())
    with dep.client() as test_client:
        yield test_client


def get_listing(client: TestClient, listing_id: str, lang: str | None = None, accept: str | None = None):
    params = {"lang": lang} if lang is not None else {}
    headers = {"Accept-Language": accept} if accept is not None else {}
    response = client.get(f"/v1/listings/{listing_id}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response


# --- Negotiation of listing texts -------------------------------------------------------------

NEGOTIATION = [
    # (listing, ?lang=, Accept-Language, expected lang, expected title)
    pytest.param("ru-evacuation", "ru", None, "ru", "ru-evacuation по-русски", id="lang=ru"),
    pytest.param("ru-evacuation", "en", None, "en", "ru-evacuation in English", id="lang=en"),
    pytest.param("ru-evacuation", "RU", None, "ru", "ru-evacuation по-русски", id="lang-is-case-insensitive"),
    pytest.param("ru-evacuation", None, "ru", "ru", "ru-evacuation по-русски", id="accept-language-ru"),
    pytest.param("ru-evacuation", "en", "ru", "en", "ru-evacuation in English", id="lang-beats-accept-language"),
    pytest.param("ru-evacuation", "ru", "en", "ru", "ru-evacuation по-русски", id="lang-beats-accept-language-2"),
    # ?lang= is the only preference: an unavailable one falls back to English, not to the header.
    pytest.param("ru-evacuation", "de", "ru", "en", "ru-evacuation in English", id="lang-unavailable-ignores-header"),
    pytest.param("ru-evacuation", None, "de, ru;q=0.5, en;q=0.8", "en", "ru-evacuation in English", id="q-values-en-wins"),
    pytest.param("ru-evacuation", None, "de, en;q=0.3, ru;q=0.9", "ru", "ru-evacuation по-русски", id="q-values-ru-wins"),
    pytest.param("ru-evacuation", None, "en;q=0.5, ru;q=0.5", "en", "ru-evacuation in English", id="q-tie-keeps-header-order"),
    pytest.param("ru-evacuation", None, "ru;q=0, en;q=0.1", "en", "ru-evacuation in English", id="q0-means-not-acceptable"),
    pytest.param("ru-evacuation", None, "ru-RU", "ru", "ru-evacuation по-русски", id="region-matches-base"),
    pytest.param("br-kiss-in", "pt", None, "pt-BR", "Beijaço pela diversidade", id="pt-gets-pt-BR"),
    pytest.param("br-kiss-in", "pt-PT", None, "pt-BR", "Beijaço pela diversidade", id="pt-PT-gets-pt-BR"),
    pytest.param("br-kiss-in", None, "pt-PT,pt;q=0.9", "pt-BR", "Beijaço pela diversidade", id="header-pt-PT-gets-pt-BR"),
    pytest.param("pt-both", "pt-PT", None, "pt-PT", "Ajuda em português europeu", id="exact-region-wins"),
    pytest.param("pt-both", "pt-BR", None, "pt-BR", "Ajuda em português do Brasil", id="exact-region-wins-2"),
    pytest.param("pt-both", "pt", None, "pt-BR", "Ajuda em português do Brasil", id="base-takes-first-written-variant"),
    pytest.param("ru-evacuation", "de", None, "en", "ru-evacuation in English", id="unavailable-falls-back-to-en"),
    pytest.param("ru-evacuation", None, None, "en", "ru-evacuation in English", id="no-preference-is-en"),
    pytest.param("ua-shelter", "de", None, "uk", "Притулок у Києві", id="no-en-falls-back-to-first-written"),
    pytest.param("ua-shelter", None, None, "uk", "Притулок у Києві", id="no-en-no-preference-first-written"),
    pytest.param("ua-shelter", "ru", None, "ru", "Приют в Киеве", id="no-en-but-requested-exists"),
    pytest.param("ua-shelter", None, "fr, de;q=0.9, ru;q=0.1", "ru", "Приют в Киеве", id="lowest-q-still-beats-fallback"),
    pytest.param("br-kiss-in", "en", None, "pt-BR", "Beijaço pela diversidade", id="en-requested-but-only-pt-BR"),
    pytest.param("kz-help", "en-US", None, "en-GB", "Help in Almaty", id="en-US-gets-en-GB"),
    pytest.param(
        "kz-help", "de", None, "en-GB", "Help in Almaty", id="fallback-to-regional-english",
    ),
]


@pytest.mark.parametrize(("listing_id", "lang", "accept", "want_lang", "want_title"), NEGOTIATION)
def test_listing_text_negotiation(lang_client, listing_id, lang, accept, want_lang, want_title):
    body = get_listing(lang_client, listing_id, lang, accept).json()
    assert body["lang"] == want_lang
    assert body["title"] == want_title


def test_negotiation_applies_per_item_in_lists(lang_client):
    response = lang_client.get("/v1/listings", params={"lang": "ru", "limit": 100})
    assert response.status_code == 200
    got = {item["id"]: (item["lang"], item["title"]) for item in response.json()["data"]}
    assert got["ru-evacuation"] == ("ru", "ru-evacuation по-русски")
    assert got["ww-rainbow"] == ("en", "Worldwide relocation help")  # English only
    assert got["br-kiss-in"] == ("pt-BR", "Beijaço pela diversidade")  # no English: first written
    assert got["ua-shelter"] == ("ru", "Приют в Киеве")


def test_same_url_different_accept_language_gives_different_bodies_and_etags(lang_client):
    """The response cache and ETags are keyed on the negotiated languages, not just the URL."""
    ru = get_listing(lang_client, "ru-evacuation", accept="ru")
    en = get_listing(lang_client, "ru-evacuation", accept="en")
    again_ru = get_listing(lang_client, "ru-evacuation", accept="ru")
    assert ru.json()["title"] != en.json()["title"]
    assert ru.headers["etag"] != en.headers["etag"]
    assert again_ru.json()["title"] == ru.json()["title"]
    assert again_ru.headers["etag"] == ru.headers["etag"]


MALFORMED_ACCEPT_LANGUAGE = [
    # (header value, language served for ru-evacuation (en + ru))
    ("", "en"),
    (",,,", "en"),
    (";;;", "en"),
    ("ru;q=", "en"),
    ("ru;q=abc", "en"),
    ("ru;q=2", "en"),
    ("ru;q=-1", "en"),
    ("ru;q=nan", "en"),
    ("ru;q=inf", "en"),
    ("ru;q=1e-400", "en"),
    ("*", "en"),
    ("*;q=0.5", "en"),
    ("en-", "en"),
    ("-ru", "en"),
    ("123", "en"),
    ("ru_RU", "en"),
    ("q=1", "en"),
    (";q=1", "en"),
    ("ru-RU-RU-RU", "en"),
    ("ru;;;", "ru"),
    ("ru;q=0.5;q=0.9", "ru"),
    ("\t ru ", "ru"),
    ("i-klingon, ru;q=0.1", "ru"),
    (", ".join(["zz"] * 40) + ", ru", "en"),  # only the first 16 items count
    ("x" * 499, "en"),
]


@pytest.mark.parametrize(("value", "want_lang"), MALFORMED_ACCEPT_LANGUAGE)
def test_malformed_accept_language_never_fails(lang_client, value, want_lang):
    body = get_listing(lang_client, "ru-evacuation", accept=value).json()
    assert body["lang"] == want_lang


def test_non_ascii_accept_language_is_ignored_not_an_error(lang_client):
    response = lang_client.get("/v1/listings/ru-evacuation", headers={"Accept-Language": b"\xff\xfe\xd0\xb6, ru"})
    assert response.status_code == 200
    assert response.json()["lang"] == "ru"


@pytest.mark.parametrize("path", ["/v1/listings", "/v1/countries", "/v1/topics", "/v1/listings/ru-evacuation"])
def test_very_long_accept_language_is_read_not_rejected(lang_client, path):
    """Only the first 16 items count; a long header is neither a 4xx nor a 5xx."""
    response = lang_client.get(path, headers={"Accept-Language": "ru;q=0.9, " * 300 + "en"})
    assert response.status_code == 200
    assert "ru" in _content_language(response)


@pytest.mark.parametrize("value", ["!!", "", "r", "russian", "ru_RU", "ru-", "en-US-x", "ru;q=1"])
@pytest.mark.parametrize("path", ["/v1/listings", "/v1/listings/ru-evacuation", "/v1/countries", "/v1/topics"])
def test_invalid_lang_is_a_400_problem_naming_lang(lang_client, path, value):
    response = lang_client.get(path, params={"lang": value})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == 400
    assert {"in": "query", "field": "lang"} in [{"in": e["in"], "field": e["field"]} for e in body["errors"]]


# --- Headers: Content-Language and Vary -------------------------------------------------------


def _languages_in(body: dict[str, Any]) -> set[str]:
    items = body["data"] if "data" in body else [body]
    langs = {item["lang"] for item in items}
    langs |= {item["labels"]["lang"] for item in items if "lang" in item.get("labels", {})}
    langs |= {lang for item in items for lang in item.get("labels", {}).get("topic_langs", {}).values()}
    return langs


def _content_language(response) -> list[str]:
    return [tag.strip() for tag in response.headers["content-language"].split(",")]


@pytest.mark.parametrize(
    ("path", "params", "headers", "expected"),
    [
        ("/v1/listings/ru-evacuation", {"lang": "ru"}, {}, {"ru"}),
        ("/v1/listings/ww-rainbow", {"lang": "ru"}, {}, {"en", "ru"}),  # English text, Russian labels
        ("/v1/listings/br-kiss-in", {"lang": "de"}, {}, {"pt-BR", "de", "en"}),  # topic label in English
        ("/v1/listings/ua-shelter", {}, {}, {"uk", "en"}),
        ("/v1/listings", {"lang": "ru", "limit": 100}, {}, {"ru", "en", "pt-BR"}),
        ("/v1/listings", {"country": "RU", "include_worldwide": "false"}, {"Accept-Language": "ru"}, {"ru"}),
        ("/v1/countries", {"lang": "pt-BR"}, {}, {"pt-BR"}),
        ("/v1/countries/RU", {"lang": "ru"}, {}, {"ru"}),
        ("/v1/topics", {"lang": "pt-BR"}, {}, {"pt-BR", "en"}),  # refugees has no pt-BR label
        ("/v1/topics", {}, {"Accept-Language": "ru"}, {"ru"}),
    ],
)
def test_content_language_lists_the_languages_in_the_body(lang_client, path, params, headers, expected):
    response = lang_client.get(path, params=params, headers=headers)
    assert response.status_code == 200
    declared = _content_language(response)
    assert len(declared) == len(set(declared)), "no duplicates"
    assert set(declared) == expected
    assert set(declared) == _languages_in(response.json())


def test_content_language_includes_fallback_topic_label_languages(lang_client):
    response = get_listing(lang_client, "br-refuge", lang="pt-BR")
    body = response.json()
    assert body["lang"] == "pt-BR"
    assert body["labels"]["topics"]["refugees"] == "Refugees and asylum"  # English text in the body
    assert "en" in _content_language(response)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/listings",
        "/v1/listings/ru-evacuation",
        "/v1/countries",
        "/v1/countries/RU",
        "/v1/countries/RU/listings",
        "/v1/topics",
    ],
)
@pytest.mark.parametrize("params", [{}, {"lang": "ru"}])
def test_vary_includes_accept_language(lang_client, path, params):
    response = lang_client.get(path, params=params)
    assert response.status_code == 200
    vary = [v.strip().lower() for v in response.headers["vary"].split(",")]
    assert "accept-language" in vary


# --- CLDR names -------------------------------------------------------------------------------


def _country_names(client: TestClient, **request: Any) -> dict[str, tuple[str, str]]:
    response = client.get("/v1/countries", **request)
    assert response.status_code == 200
    return {c["code"]: (c["name"], c["lang"]) for c in response.json()["data"]}


@pytest.mark.parametrize(
    ("request_args", "code", "name", "lang"),
    [
        ({"params": {"lang": "pt-BR"}}, "RU", "Rússia", "pt-BR"),
        ({"params": {"lang": "ru"}}, "RU", "Россия", "ru"),
        ({"headers": {"Accept-Language": "ru"}}, "RU", "Россия", "ru"),
        ({"params": {"lang": "en"}}, "RU", "Russia", "en"),
        ({}, "RU", "Russia", "en"),
        ({"params": {"lang": "de"}}, "RU", "Russland", "de"),
        ({"params": {"lang": "pt-BR"}}, "BR", "Brasil", "pt-BR"),
        ({"params": {"lang": "ru"}}, "UA", "Украина", "ru"),
        ({"params": {"lang": "en"}}, "XX", "World", "en"),
        ({}, "XX", "World", "en"),
        ({"params": {"lang": "zz"}}, "RU", "Russia", "en"),  # CLDR does not know zz: English names
        ({"headers": {"Accept-Language": "zz, ru;q=0.5"}}, "RU", "Россия", "ru"),
    ],
)
def test_country_names_come_from_cldr(lang_client, request_args, code, name, lang):
    assert _country_names(lang_client, **request_args)[code] == (name, lang)


def test_countries_are_by_code_with_the_world_last(lang_client):
    codes = list(_country_names(lang_client, params={"lang": "ru"}))
    assert codes == ["BR", "KZ", "PT", "RU", "UA", "UG", "XX"]


@pytest.mark.parametrize(("lang", "name"), [("pt-BR", "Rússia"), ("ru", "Россия"), ("en", "Russia")])
def test_single_country_name_is_localized(lang_client, lang, name):
    response = lang_client.get("/v1/countries/RU", params={"lang": lang})
    assert response.status_code == 200
    assert response.json()["name"] == name
    assert response.json()["lang"] == lang


def test_world_is_named_as_cldr_names_it(lang_client):
    response = lang_client.get("/v1/countries/XX")
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["worldwide"]) == ("World", True)


@pytest.mark.parametrize(
    ("listing_id", "lang", "want"),
    [
        (
            "ru-evacuation",
            "ru",
            {
                "lang": "ru",
                "countries": {"RU": "Россия"},
                "languages": {"ru": "Русский", "en": "Английский"},
                "topics": {"lgbtq-rights": "Права ЛГБТК+"},
                "topic_langs": {"lgbtq-rights": "ru"},
            },
        ),
        (
            "ru-evacuation",
            "en",
            {
                "lang": "en",
                "countries": {"RU": "Russia"},
                "languages": {"ru": "Russian", "en": "English"},
                "topics": {"lgbtq-rights": "LGBTQ+ rights"},
                "topic_langs": {"lgbtq-rights": "en"},
            },
        ),
        (
            "br-kiss-in",
            "pt-BR",
            {
                "lang": "pt-BR",
                "countries": {"BR": "Brasil"},
                "languages": {"pt-BR": "Português (Brasil)"},
                "topics": {"lgbtq-rights": "Direitos LGBTQ+"},
                "topic_langs": {"lgbtq-rights": "pt-BR"},
            },
        ),
        (
            # Names in German although the text is in English: labels follow the request.
            "ww-rainbow",
            "de",
            {
                "lang": "de",
                "countries": {"XX": "Welt"},
                "languages": {"en": "Englisch"},
                "topics": {"lgbtq-rights": "LGBTQ+ rights", "refugees": "Refugees and asylum"},
                "topic_langs": {"lgbtq-rights": "en", "refugees": "en"},  # the taxonomy has no German
            },
        ),
        (
            "ww-rainbow",
            "ru",
            {
                "lang": "ru",
                "countries": {"XX": "Весь мир"},
                "languages": {"en": "Английский"},
                "topics": {"lgbtq-rights": "Права ЛГБТК+", "refugees": "Беженцы и убежище"},
                "topic_langs": {"lgbtq-rights": "ru", "refugees": "ru"},
            },
        ),
    ],
)
def test_listing_labels_are_localized(lang_client, listing_id, lang, want):
    body = get_listing(lang_client, listing_id, lang).json()
    assert body["labels"] == want


def test_listing_labels_in_lists_follow_accept_language(lang_client):
    response = lang_client.get("/v1/countries/RU/listings", headers={"Accept-Language": "ru"})
    assert response.status_code == 200
    labels = {item["id"]: item["labels"] for item in response.json()["data"]}
    assert labels["ru-legal-aid"]["countries"] == {"RU": "Россия"}
    assert labels["ww-rainbow"]["topics"]["refugees"] == "Беженцы и убежище"
    assert {label["lang"] for label in labels.values()} == {"ru"}


@pytest.mark.parametrize(
    ("request_args", "want"),
    [
        ({"params": {"lang": "ru"}}, {"lgbtq-rights": ("Права ЛГБТК+", "ru"), "refugees": ("Беженцы и убежище", "ru")}),
        ({"params": {"lang": "pt-BR"}}, {"lgbtq-rights": ("Direitos LGBTQ+", "pt-BR"), "refugees": ("Refugees and asylum", "en")}),
        ({"params": {"lang": "pt"}}, {"lgbtq-rights": ("Direitos LGBTQ+", "pt-BR"), "refugees": ("Refugees and asylum", "en")}),
        ({"headers": {"Accept-Language": "de, ru;q=0.5"}}, {"lgbtq-rights": ("Права ЛГБТК+", "ru"), "refugees": ("Беженцы и убежище", "ru")}),
        ({}, {"lgbtq-rights": ("LGBTQ+ rights", "en"), "refugees": ("Refugees and asylum", "en")}),
    ],
)
def test_topic_labels_are_localized(lang_client, request_args, want):
    response = lang_client.get("/v1/topics", **request_args)
    assert response.status_code == 200
    data = response.json()["data"]
    assert [t["id"] for t in data] == ["lgbtq-rights", "refugees"]  # curated order
    assert {t["id"]: (t["label"], t["lang"]) for t in data} == want
    # Every label is there too, whatever the request.
    assert data[0]["labels"] == {"en": "LGBTQ+ rights", "ru": "Права ЛГБТК+", "pt-BR": "Direitos LGBTQ+"}


# --- The negotiation functions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "accept", "expected"),
    [
        (None, None, ()),
        (None, "", ()),
        ("ru", None, ("ru",)),
        ("ru", "en, de", ("ru",)),  # ?lang= is the only preference
        ("PT-br", None, ("pt-BR",)),
        ("zh-hant-tw", None, ("zh-Hant-TW",)),
        ("es-419", None, ("es-419",)),
        ("!!", "ru", ()),  # an invalid ?lang= never reaches here over HTTP (400); the header is not consulted
        (None, "ru", ("ru",)),
        (None, "de, ru;q=0.5, en;q=0.8", ("de", "en", "ru")),
        (None, "ru;q=0.5, en;q=0.5, de;q=0.5", ("ru", "en", "de")),  # ties keep header order
        (None, "ru;Q=0.2, en", ("en", "ru")),  # q is case-insensitive
        (None, "ru;q=0, en", ("en",)),
        (None, "ru;q=1.5, en;q=0.1", ("en",)),
        (None, "ru;q=abc, en;q=0.1", ("en",)),
        (None, "en-us, EN-US;q=0.5, en;q=0.4", ("en-US", "en")),  # duplicates collapse, first wins
        (None, "*, ru;q=0.1", ("ru",)),
        (None, " ru , en ", ("ru", "en")),
        (None, "ru_RU, en", ("en",)),
        (None, ",".join(f"l{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(40)), tuple(f"l{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(MAX_PREFERENCES))),
    ],
)
def test_language_preferences(lang, accept, expected):
    assert language_preferences(lang, accept) == expected


@pytest.mark.parametrize(
    ("available", "preferences", "expected"),
    [
        (["en", "ru"], ("ru",), "ru"),
        (["en", "ru"], ("en",), "en"),
        (["en", "ru"], ("ru-RU",), "ru"),
        (["pt-BR"], ("pt",), "pt-BR"),
        (["pt-BR"], ("pt-PT",), "pt-BR"),
        (["pt-BR", "pt-PT"], ("pt-PT",), "pt-PT"),
        (["pt-BR", "pt-PT"], ("pt",), "pt-BR"),
        (["pt-PT", "pt-BR"], ("pt",), "pt-PT"),
        (["pt-BR", "pt"], ("pt-PT",), "pt"),  # the bare language beats another region
        (["en", "pt-BR"], ("pt-PT", "en"), "pt-BR"),  # a base match on the 1st preference beats the 2nd
        (["en", "ru"], ("de", "ru"), "ru"),
        (["ru", "en"], ("de",), "en"),
        (["ru", "en"], (), "en"),
        (["uk", "ru"], ("de",), "uk"),
        (["uk", "ru"], (), "uk"),
        (["pt-BR"], ("en",), "pt-BR"),
        (["en-GB", "ru"], ("en-US",), "en-GB"),
        (["en-GB", "ru"], ("de",), "en-GB"),
        pytest.param(
            ["ru", "en-GB"], ("de",), "en-GB",
        ),
    ],
)
def test_best_language(available, preferences, expected):
    assert best_language(available, preferences) == expected
