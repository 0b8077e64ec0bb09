"""Builds small data folders for tests: real TOML files, written the way curators write them."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import msgspec

TOPICS: list[dict[str, Any]] = [
    {"id": "lgbtq-rights", "labels": {"en": "LGBTQ+ rights", "ru": "Права ЛГБТК+", "pt-BR": "Direitos LGBTQ+"}},
    {"id": "refugees", "labels": {"en": "Refugees and asylum", "ru": "Беженцы и убежище"}},
]


def listing(listing_id: str, **changes: Any) -> dict[str, Any]:
    """A valid listing document; keyword arguments replace top-level fields."""
    doc: dict[str, Any] = {
        "id": listing_id,
        "kind": "organization",
        "url": f"https://{listing_id}.example.org/",
        "countries": ["RU"],
        "topics": ["lgbtq-rights"],
        "languages": ["ru", "en"],
        "translations": {
            "en": {"title": f"{listing_id} in English", "summary": "Helps people leave danger."},
            "ru": {"title": f"{listing_id} по-русски", "summary": "Помогает людям выбраться из опасности."},
        },
        "verification": {
            "verified_at": dt.date(2026, 11, 20),
            "next_review_at": dt.date(2027, 2, 20),
            "sources": [f"https://{listing_id}.example.org/about"],
        },
    }
    doc.update(copy.deepcopy(changes))
    if doc["kind"] == "petition":
        # A petition without a closing day needs its review deadline to be valid: the day it
        # is due for review, unless the test says otherwise (delete the key to leave it out).
        petition = doc.setdefault("petition", {})
        if "closes_at" not in petition and "review_by" not in petition:
            petition["review_by"] = doc["verification"]["next_review_at"]
    return doc


def default_listings() -> list[dict[str, Any]]:
    return [
        listing("ru-evacuation", organization={"services": ["evacuation", "hotline"]}),
        listing(
            "ru-legal-aid",
            kind="donation",
            donation={"currency": "EUR", "purpose": "Lawyers for people detained."},
        ),
        listing(
            "br-kiss-in",
            kind="petition",
            countries=["BR"],
            languages=["pt-BR"],
            translations={"pt-BR": {"title": "Beijaço pela diversidade", "summary": "Ato em São Paulo."}},
            petition={"target": "Congresso Nacional"},
        ),
        listing(
            "ww-rainbow",
            countries=["XX"],
            topics=["lgbtq-rights", "refugees"],
            languages=["en"],
            translations={"en": {"title": "Worldwide relocation help", "summary": "Relocation support anywhere."}},
        ),
        listing("ug-shelter", countries=["UG"], languages=["en"], translations={"en": {"title": "Kampala shelter", "summary": "Safe housing."}}),
    ]


def advisory(**changes: Any) -> dict[str, Any]:
    """A valid advisory of a country document; keyword arguments replace its fields."""
    doc: dict[str, Any] = {
        "since": dt.date(2023, 11, 30),
        "sources": ["https://news.example.net/2023/11/30/ruling"],
        "translations": {
            "en": {"title": "Donating can be prosecuted", "summary": "A court ruling makes donations a crime."},
            "ru": {"title": "За пожертвования могут преследовать", "summary": "Решение суда делает пожертвования преступлением."},
        },
    }
    doc.update(copy.deepcopy(changes))
    return doc


def country(code: str = "RU", **changes: Any) -> dict[str, Any]:
    """A valid country document (``countries/<code>.toml``) with one advisory."""
    doc: dict[str, Any] = {"code": code, "advisories": [advisory()]}
    doc.update(copy.deepcopy(changes))
    return doc


def write_dataset(
    root: Path,
    listings: list[dict[str, Any]] | None = None,
    topics: list[dict[str, Any]] | None = None,
    countries: list[dict[str, Any]] | None = None,
) -> Path:
    """Write ``topics.toml``, ``listings/<id>.toml`` and, when ``countries`` is given,
    ``countries/<code>.toml`` (replacing the folder's) under ``root``; return ``root``."""
    (root / "listings").mkdir(parents=True, exist_ok=True)
    for old in (root / "listings").glob("*"):
        old.unlink()
    (root / "topics.toml").write_bytes(msgspec.toml.encode({"topic": topics if topics is not None else TOPICS}))
    for doc in listings if listings is not None else default_listings():
        write_listing(root, doc)
    if countries is not None:
        (root / "countries").mkdir(exist_ok=True)
        for old in (root / "countries").glob("*"):
            old.unlink()
        for doc in countries:
            write_country(root, doc)
    return root


def write_country(root: Path, doc: dict[str, Any], *, name: str | None = None, suffix: str = ".toml") -> Path:
    (root / "countries").mkdir(parents=True, exist_ok=True)
    path = root / "countries" / f"{name or doc['code']}{suffix}"
    encode = msgspec.json.encode if suffix == ".json" else msgspec.toml.encode
    path.write_bytes(encode(doc))
    return path


def write_listing(root: Path, doc: dict[str, Any], *, name: str | None = None, suffix: str = ".toml") -> Path:
    path = root / "listings" / f"{name or doc['id']}{suffix}"
    encode = msgspec.json.encode if suffix == ".json" else msgspec.toml.encode
    path.write_bytes(encode(doc))
    return path
