"""``dir`` beside ``lang``: every listing item says which way its title and summary run.

The oracle is the text itself: most of the strongly directional characters of a title and
summary (Unicode's bidirectional class ``R`` or ``AL`` for right-to-left, ``L`` for
left-to-right), never the function under test. Not the first one, as ``dir="auto"`` would
take: the seed's Persian title of IRQR starts with the Latin acronym, and is still Persian.
"""

from __future__ import annotations

import unicodedata

import pytest
from factory import listing

from api.i18n import text_direction


def _direction_of_most(text: str) -> str:
    classes = [unicodedata.bidirectional(ch) for ch in text]
    right_to_left = sum(bidi in ("R", "AL") for bidi in classes)
    return "rtl" if right_to_left > sum(bidi == "L" for bidi in classes) else "ltr"


def test_the_oracle_reads_the_text():
    assert _direction_of_most("IRQR – راه آهن بین المللی") == "rtl"
    assert _direction_of_most("Casa 1 – Centro de Cultura") == "ltr"


@pytest.mark.parametrize(
    ("tag", "direction"),
    [
        ("fa", "rtl"), ("ar", "rtl"), ("he", "rtl"), ("ur", "rtl"), ("ps", "rtl"), ("ckb", "rtl"), ("yi", "rtl"),
        ("ar-EG", "rtl"), ("fa-AF", "rtl"), ("az-Arab", "rtl"), ("ku-Arab", "rtl"), ("pa-Arab", "rtl"), ("uz-Arab", "rtl"),
        ("en", "ltr"), ("pt-BR", "ltr"), ("ru", "ltr"), ("sw", "ltr"), ("az", "ltr"), ("ku", "ltr"), ("pa", "ltr"),
        ("az-Latn", "ltr"), ("sr-Cyrl", "ltr"), ("zh-Hant", "ltr"), ("ja", "ltr"),
        # Tags CLDR has no locale for: the script, then the language decide.
        ("zz-Arab", "rtl"), ("zz-Hebr", "rtl"), ("zz-Latn", "ltr"), ("qaa", "ltr"),
        # Any case, as tags arrive.
        ("FA", "rtl"), ("AZ-arab", "rtl"),
    ],
)
def test_text_direction_of_a_tag(tag, direction):
    assert text_direction(tag) == direction


def test_every_seed_text_says_the_direction_its_title_runs_in(seed_client):
    """Every listing of the seed dataset, in every language it has: ``dir`` agrees with the
    title's own characters (Persian titles run right to left, the rest left to right)."""
    items = seed_client.get("/v1/listings?limit=100&include=closed,unverified").json()["data"]
    checked = set()
    for item in items:
        for lang in item["translations"]:
            view = seed_client.get(f"/v1/listings/{item['id']}?lang={lang}").json()
            assert view["lang"] == lang
            assert view["dir"] == _direction_of_most(view["title"] + view["summary"]), (item["id"], lang, view["title"])
            checked.add(view["dir"])
    assert checked == {"ltr", "rtl"}  # the seed has both, so both answers were checked


def test_list_items_carry_dir_beside_lang(deployment):
    deployment.reimport([
        listing("ir-shelter", countries=["IR"], languages=["fa", "en"], translations={
            "fa": {"title": "خانه امن", "summary": "پناهگاه برای افراد در خطر."},
            "en": {"title": "Safe house", "summary": "Shelter for people at risk."},
        }),
        listing("ru-help"),
    ])
    with deployment.client() as http:
        for path in ("/v1/listings?lang=fa", "/v1/countries/IR/listings?lang=fa"):
            data = {item["id"]: item for item in http.get(path).json()["data"]}
            assert (data["ir-shelter"]["lang"], data["ir-shelter"]["dir"]) == ("fa", "rtl")
            if "ru-help" in data:  # falls back to English, which runs left to right
                assert (data["ru-help"]["lang"], data["ru-help"]["dir"]) == ("en", "ltr")
        one = http.get("/v1/listings/ir-shelter", headers={"Accept-Language": "en"}).json()
        assert (one["lang"], one["dir"]) == ("en", "ltr")
        keys = list(http.get("/v1/listings/ir-shelter?lang=fa").json())
        assert keys[keys.index("lang") + 1] == "dir"  # beside lang
