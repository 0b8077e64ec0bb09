"""A country advisory's dates and entries follow the rules a listing's legal risks follow, on
every path a document takes: import, a curator's submission and its approval.

Found by attacking country curation after it landed: a ``country`` submission whose advisory
starts in 2099 (a typo for 2009, or a rumour recorded before it is law) was accepted, while
the same date on a listing's ``legal_risks`` is refused; and one advisory could be given twice
over, which a reader in that country would be shown twice. The rule for the family: a date
on which a state's act took effect is never in the future, and no entry of a document is
given twice, wherever the document comes from.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from factory import advisory, country
from test_country_advisories import problems_of
from test_country_curation import body, submit, token

FUTURE = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)

CASES = [
    pytest.param(country("RU", advisories=[advisory(since=FUTURE)]), "advisories[0].since", "in the future", id="future-since"),
    pytest.param(country("RU", advisories=[advisory(), advisory()]), "advisories[1]", "given twice", id="repeated-advisory"),
]


@pytest.mark.parametrize(("doc", "field", "says"), CASES)
def test_import_refuses_it_naming_the_file_and_field(tmp_path: Path, doc: dict[str, Any], field: str, says: str) -> None:
    assert ("RU.toml", field) in problems_of(tmp_path, ("RU.toml", doc))


@pytest.mark.parametrize(("doc", "field", "says"), CASES)
def test_a_submission_is_a_problem_naming_the_field(deployment, doc: dict[str, Any], field: str, says: str) -> None:
    with deployment.client() as client:
        response = submit(client, token(deployment, "curator", "Cora Country"), body(doc))
        assert response.status_code == 400, response.text
        errors = response.json()["errors"]
        assert [e["field"] for e in errors] == [f"country.{field}"], errors
        assert says in errors[0]["detail"]
        assert client.get("/v1/countries/RU").json()["advisories"] == []  # nothing stored


def test_today_and_a_past_day_are_accepted(deployment) -> None:
    today = dt.datetime.now(dt.UTC).date()
    doc = country("RU", advisories=[advisory(since=today), advisory(since=dt.date(2021, 6, 28))])
    with deployment.client() as client:
        response = submit(client, token(deployment, "curator", "Cora Country"), body(doc))
        assert response.status_code == 201, response.text
