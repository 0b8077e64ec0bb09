"""What the embed tests share: hostile listings, put live the two ways they could get there.

- ``approve_through_curation``: the real four-eyes flow over HTTP (a curator proposes, another
  person approves). The text policy lets through what is plain text, quotes and ``>``
  included, so these are the hostile titles a curator could really get approved.
- ``plant``: written straight into the store, past the text policy, as a database written by
  an older version (before the policy refused something) or a bug in the policy would hold
  it. The embed page must stay inert even then: escaping is its own defence, not the
  policy's.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import msgspec
from factory import listing

from api.models import Listing
from api.services.tokens import create_token
from api.store import Store

FLAG = "__actiondirPwned"
"""What every payload would set on ``window`` if it ran."""

#: Titles a curator can get approved: plain text to the policy, markup-like to a careless page.
CURATED_TITLES = [
    f'" onmouseover="window.{FLAG}=1" x="',
    f"' autofocus onfocus='window.{FLAG}=1' x='",
    f"javascript:window.{FLAG}=1",
    "Fund \"Safe\" & 'Sound' > 3 < 4",
]
#: Titles the policy refuses on every write path, planted in the store.
PLANTED_TITLES = [
    f"<script>window.{FLAG}=1</script>",
    f'"><img src=x onerror="window.{FLAG}=1">',
    f"</style></head><body><script>window.{FLAG}=1</script>",
    f"<svg onload=window.{FLAG}=1>",
    "{{ 7*7 }} {% raw %}",
]

_serial = itertools.count(1)


def hostile_listing(listing_id: str, title: str, **changes: Any) -> dict[str, Any]:
    """A listing (for Russia, unless ``changes`` say otherwise) whose English title is ``title``,
    repeated in its summary."""
    fields: dict[str, Any] = {"countries": ["RU"], "languages": ["en"],
                              "translations": {"en": {"title": title, "summary": f"Summary: {title}"}}}
    return listing(listing_id, **{**fields, **changes})


def plant(db: Path, doc: dict[str, Any]) -> None:
    """Make ``doc`` live without the text policy (see the module docstring)."""
    store = Store(db)
    try:
        store.listings.apply(msgspec.convert(doc, Listing))
    finally:
        store.close()


def token(db: Path, role: str) -> str:
    store = Store(db)
    try:
        secret, _ = create_token(store, name=f"Embed {role} {next(_serial)}", role=role, expires_in_days=None, actor="test")
    finally:
        store.close()
    return secret


def approve_through_curation(http: Any, db: Path, doc: dict[str, Any]) -> None:
    """A curator proposes ``doc`` and a reviewer (another person) approves it, over HTTP."""
    curator, reviewer = token(db, "curator"), token(db, "reviewer")
    body = {"action": "create", "listing": msgspec.to_builtins(doc), "note": "New listing", "sources": ["https://sources.example.org/check"]}
    submitted = http.post("/v1/submissions", json=body, headers={"Authorization": f"Bearer {curator}"})
    assert submitted.status_code == 201, submitted.text
    decided = http.post(
        f"/v1/submissions/{submitted.json()['id']}/decision",
        json={"decision": "approve", "reason": "Checked the sources"},
        headers={"Authorization": f"Bearer {reviewer}"},
    )
    assert decided.status_code == 200, decided.text


def propose(http: Any, db: Path, doc: dict[str, Any]) -> Any:
    """A curator's proposal of ``doc``: the answer (201, or the policy's refusal)."""
    curator = token(db, "curator")
    body = {"action": "create", "listing": msgspec.to_builtins(doc), "note": "New listing", "sources": ["https://sources.example.org/check"]}
    return http.post("/v1/submissions", json=body, headers={"Authorization": f"Bearer {curator}"})
