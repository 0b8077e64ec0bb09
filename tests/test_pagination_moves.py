"""A cursor never serves a listing twice, even when the listing moves between the country
group and the worldwide group while a client pages (the README's promise).

Pages are ordered country-specific first, then worldwide, by id. A listing served on page 1
as a country listing that becomes worldwide would sort after the cursor again; the cursor
remembers where in the history the pagination began and leaves such listings out (they
changed, so leaving them out is allowed; serving them twice is not).
"""

from __future__ import annotations

from typing import Any

from factory import listing

WORLDWIDE = {"languages": ["en"], "translations": {"en": {"title": "Anywhere", "summary": "For everyone."}}}


def docs() -> list[dict[str, Any]]:
    return [
        listing("ru-a", countries=["RU"]),
        listing("ru-b", countries=["RU"]),
        listing("ru-c", countries=["RU"]),
        listing("zz-ru", countries=["RU"]),
        listing("ww-m", countries=["XX"], **WORLDWIDE),
        listing("ww-n", countries=["XX"], **WORLDWIDE),
    ]


def moved(documents: list[dict[str, Any]], listing_id: str, countries: list[str]) -> list[dict[str, Any]]:
    out = []
    for doc in documents:
        if doc["id"] == listing_id:
            doc = {**doc, "countries": countries, **(WORLDWIDE if countries == ["XX"] else {})}
        out.append(doc)
    return out


def page(client, cursor: str | None, limit: int = 2) -> tuple[list[str], str | None]:
    response = client.get("/v1/listings", params={"limit": limit, **({"cursor": cursor} if cursor else {})})
    assert response.status_code == 200, response.text
    body = response.json()
    return [item["id"] for item in body["data"]], body["next_cursor"]


def rest(client, cursor: str | None) -> list[str]:
    seen: list[str] = []
    for _ in range(20):
        ids, cursor = page(client, cursor)
        seen += ids
        if cursor is None:
            return seen
    raise AssertionError("pagination never ended")


def test_a_served_listing_that_becomes_worldwide_is_not_served_again(deployment, client):
    deployment.reimport(docs())
    first, cursor = page(client, None)
    assert first == ["ru-a", "ru-b"]

    deployment.reimport(moved(docs(), "ru-a", ["XX"]))  # served as RU; now sorts among worldwide
    remaining = rest(client, cursor)

    assert "ru-a" not in remaining
    assert remaining == ["ru-c", "zz-ru", "ww-m", "ww-n"]


def test_a_move_after_the_pagination_reached_the_worldwide_group(deployment, client):
    deployment.reimport(docs())
    served, cursor = [], None
    while True:  # page until the cursor is inside the worldwide group
        ids, cursor = page(client, cursor, limit=1)
        served += ids
        if "ww-m" in served:
            break
    assert cursor is not None and "zz-ru" in served

    deployment.reimport(moved(docs(), "zz-ru", ["XX"]))  # "zz-ru" sorts after "ww-m" now
    remaining = rest(client, cursor)

    assert "zz-ru" not in remaining
    assert remaining == ["ww-n"]


def test_a_listing_moved_and_moved_back_is_not_served_twice(deployment, client):
    deployment.reimport(docs())
    first, cursor = page(client, None, limit=1)
    assert first == ["ru-a"]
    deployment.reimport(moved(docs(), "ru-a", ["XX"]))
    deployment.reimport(docs())

    remaining = rest(client, cursor)

    assert remaining.count("ru-a") == 0
    assert len(remaining) == len(set(remaining))


def test_listings_that_changed_without_moving_are_still_served(deployment, client):
    deployment.reimport(docs())
    _, cursor = page(client, None)
    changed = docs()
    changed[3]["translations"]["en"]["title"] = "zz-ru renamed"  # not served yet, stays in RU
    changed[5]["translations"]["en"]["title"] = "ww-n renamed"
    changed.append(listing("ww-new", countries=["XX"], **WORLDWIDE))  # created meanwhile
    deployment.reimport(changed)

    assert rest(client, cursor) == ["ru-c", "zz-ru", "ww-m", "ww-n", "ww-new"]


def test_cursors_made_before_the_change_still_work(deployment, client):
    deployment.reimport(docs())
    assert rest(client, "c1.0.ru-b") == ["ru-c", "zz-ru", "ww-m", "ww-n"]


def test_no_listing_is_served_twice_under_any_single_move(deployment, client):
    """Every listing moved at every page boundary, both directions: never a repeat."""
    base = docs()
    for boundary in range(1, 4):
        for target in base:
            for countries in (["XX"], ["RU"]):
                deployment.reimport(base)
                served: list[str] = []
                cursor = None
                for _ in range(boundary):
                    ids, cursor = page(client, cursor)
                    served += ids
                deployment.reimport(moved(base, target["id"], countries))
                if cursor is not None:
                    served += rest(client, cursor)
                assert len(served) == len(set(served)), (boundary, target["id"], countries, served)


def test_a_worldwide_listing_that_becomes_a_country_listing_ahead_of_the_cursor_is_served(deployment, client):
    """It was after the cursor before the move and after it still: never served, so not left out."""
    deployment.reimport(docs())
    first, cursor = page(client, None)
    assert first == ["ru-a", "ru-b"]

    deployment.reimport(moved(docs(), "ww-m", ["RU"]))
    remaining = rest(client, cursor)

    assert remaining == ["ru-c", "ww-m", "zz-ru", "ww-n"]

