"""The real seed dataset in directory_data/ imports cleanly and serves what the README promises."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

import pytest
from conftest import REPO

from api.dataset import load_directory


def test_seed_dataset_is_valid_and_broad():
    listings, topics = load_directory(REPO / "directory_data")
    assert len(listings) >= 30
    countries = Counter(c for listing in listings for c in listing.countries if c != "XX")
    assert len(countries) >= 8, countries
    assert any(listing.countries == ["XX"] for listing in listings)
    assert {listing.kind for listing in listings} == {"donation", "petition", "organization"}
    multilingual = [listing for listing in listings if len(listing.translations) >= 2]
    assert len(multilingual) > len(listings) / 2
    assert "lgbtq-rights" in {t.id for t in topics}
    for listing in listings:
        assert listing.verification.sources, listing.id


def test_russian_listings_in_russian(seed_client):
    listings, _ = load_directory(REPO / "directory_data")
    russian_titles = {listing.id: listing.translations["ru"].title for listing in listings if "ru" in listing.translations}
    response = seed_client.get("/v1/countries/RU/listings", params={"lang": "ru"})
    assert response.status_code == 200
    items = response.json()["data"]
    own = [item for item in items if "RU" in item["countries"]]
    assert own, "the seed has listings for Russia"
    assert all(item["lang"] == "ru" and item["title"] == russian_titles[item["id"]] for item in own)
    assert response.headers["content-language"].startswith("ru")


def test_every_seed_country_is_listed_with_cldr_names(seed_client):
    body = seed_client.get("/v1/countries", params={"lang": "pt-BR"}).json()
    names = {c["code"]: c["name"] for c in body["data"]}
    assert names["RU"] == "Rússia"
    assert names["BR"] == "Brasil"
    assert body["data"][-1]["code"] == "XX"


# --- Provenance: sources are the organizations' pages, not copies of them ----------------------

#: Hosts that serve copies of other people's documents (aggregators, demo or staging mirrors,
#: document dumps) or unofficial mirrors of blocked sites. A fact taken from such a copy cannot be
#: told from a forgery, and a mirror link may not be the organization's; cite the original.
COPY_HOSTS = (
    "docslib.org",
    "demotrac.com",
    "scribd.com",
    "yumpu.com",
    "issuu.com",
    "123dok.com",
    "fdokumen.com",
    "readkong.com",
    "appspot.com",
)


def _seed_addresses() -> list[tuple[str, str]]:
    """(listing id, address) for every url, source and web-style contact of the seed."""
    listings, _ = load_directory(REPO / "directory_data")
    addresses = []
    for listing in listings:
        addresses += [(listing.id, listing.url)] + [(listing.id, s) for s in listing.verification.sources]
        if listing.organization is not None:
            addresses += [(listing.id, c.value) for c in listing.organization.contacts if c.value.startswith("https://")]
    return addresses


@pytest.mark.parametrize("host", COPY_HOSTS)
def test_no_seed_address_is_on_a_copy_host(host):
    on_host = [
        (listing_id, address)
        for listing_id, address in _seed_addresses()
        if (name := (urlsplit(address).hostname or "")) == host or name.endswith("." + host)
    ]
    assert on_host == []


# --- Languages: `languages` is the linked site, `translations` are ours --------------------------


def _primary(tag: str) -> str:
    return tag.split("-")[0]


def test_site_and_text_tags_of_one_language_agree():
    """A listing that writes `pt-BR` texts and says its site is in `pt` describes one language
    two ways; a client matching one against the other misses it."""
    listings, _ = load_directory(REPO / "directory_data")
    disagreements = [
        (listing.id, site, text)
        for listing in listings
        for site in listing.languages
        for text in listing.translations
        if _primary(site) == _primary(text) and site != text
    ]
    assert disagreements == []


# --- Who wrote the texts: directory_data/README.md says which texts are ours ----------


def _readme_section(title: str) -> str:
    readme = (REPO / "directory_data" / "README.md").read_text(encoding="utf-8")
    start = readme.index(f"## {title}")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else None]


#: A line of that README section: "- `ir-irqr` (fa): …" or "- `ww-…` (es, fr, ru): …".
_DECLARED = re.compile(r"^- `(?P<id>[a-z0-9-]+)` \((?P<tags>[A-Za-z0-9, -]+)\)", re.M)


def test_readme_names_every_text_in_a_language_the_site_does_not_publish():
    """Such a title is our rendering, not the organization's name, and the reader lands on a page
    in another language: directory_data/README.md says so, listing by listing."""
    listings, _ = load_directory(REPO / "directory_data")
    declared = {
        (line["id"], tag)
        for line in _DECLARED.finditer(_readme_section("Who wrote the texts"))
        for tag in line["tags"].split(", ")
    }
    undeclared = [
        (listing.id, tag)
        for listing in listings
        for tag in listing.translations
        if tag != "en" and tag not in listing.languages and (listing.id, tag) not in declared
    ]
    assert undeclared == []


# --- The README's first example is what the seed serves ----------------------------------------

_FIRST_EXAMPLE = re.compile(
    r"```sh\n\$ curl -s '127\.0\.0\.1:8000(?P<path>[^']+)' \| jq -r '\.data\[\] \| "
    r"\"\\\(\.id\) \\\(\.lang\) \\\(\.title\)\"'\n(?P<output>.*?)```",
    re.S,
)


def test_readme_first_example_is_what_the_seed_serves(seed_client):
    match = _FIRST_EXAMPLE.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md opens with a curl | jq example of a country's listings"
    response = seed_client.get(match["path"])
    assert response.status_code == 200
    served = [f"{item['id']} {item['lang']} {item['title']}" for item in response.json()["data"]]
    assert served == match["output"].strip().splitlines()
