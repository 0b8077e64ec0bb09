"""Every pattern is an exact match: a value with a trailing newline never passes.

Python's ``$`` also matches just before a final ``\\n`` (``re.search("^ab$", "ab\\n")`` matches),
and msgspec and litestar apply patterns with ``re.search``. So every pattern in the code ends
in ``\\Z`` (the true end of the string), and the published spec shows it as ECMA-262's ``$``
(which already means the end of the input there).

The walks below find every ``Meta(pattern=…)`` of every msgspec type in the ``api`` package
and every ``Parameter(pattern=…)`` of every route handler (and of its dependencies), so a
pattern added later is checked without anyone listing it here.
"""

from __future__ import annotations

import functools
import importlib
import json
import pkgutil
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, get_origin

import msgspec
import pytest
from click.testing import CliRunner
from factory import TOPICS, default_listings, listing, write_dataset, write_listing
from hypothesis import HealthCheck, find, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.params import ParameterKwarg
from litestar.routes import HTTPRoute
from msgspec import Meta

import api
from api.services.read_model import LISTING_CURSOR_PATTERN, CursorInvalid, decode_cursor
from api.cli import cli
from api.dataset import DatasetInvalid, load_directory
from api.i18n import canonical_tag
from api.committed_spec import render_spec
from api.messages import ecma_message, ecma_pattern
from api.services.tokens import create_token
from api.store import Store
from api.vetting import check_url

#: Patterns that deliberately check only how a value starts; each names the rule that refuses
#: a line break in the rest of the value.
PREFIX_PATTERNS = {
    r"^https://": "the URL policy refuses control characters anywhere in a URL ([control-char])",
}

#: Realistic values for patterns whose declaration has no ``examples`` (anything else is
#: generated from the pattern itself, so a new pattern needs no entry here).
SAMPLES = {
    r"^[a-z0-9]+(-[a-z0-9]+)*\Z": "ru-evacuation",
    r"^[A-Z]{2}\Z": "RU",
    r"^[A-Z]{3}\Z": "EUR",
    r"^(closed|unverified)(,(closed|unverified))?\Z": "closed,unverified",
    r"^[A-Za-z0-9](?:[A-Za-z0-9 ._@-]*[A-Za-z0-9._@-])?\Z": "Ana Souza",
}


@dataclass
class PatternUse:
    pattern: str
    examples: list[str] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)


@functools.cache
def _generated(pattern: str) -> str:
    """The simplest string the pattern matches in full (hypothesis shrinks it), deterministically."""
    return find(
        st.from_regex(pattern, fullmatch=True),
        lambda _: True,
        settings=settings(database=None, derandomize=True, suppress_health_check=list(HealthCheck)),
    )


def _samples(use: PatternUse) -> list[str]:
    samples = [*use.examples]
    if use.pattern in SAMPLES:
        samples.append(SAMPLES[use.pattern])
    samples.append(_generated(use.pattern))
    return list(dict.fromkeys(samples))


# --- the walk over msgspec types ----------------------------------------------------------------


def _api_modules() -> list[Any]:
    return [api] + [importlib.import_module(info.name) for info in pkgutil.walk_packages(api.__path__, "api.")]


def _msgspec_roots() -> list[tuple[str, Any]]:
    """Every Struct and every ``Annotated`` alias defined in the api package."""
    roots = []
    for module in _api_modules():
        for name, obj in vars(module).items():
            is_struct = isinstance(obj, type) and issubclass(obj, msgspec.Struct) and obj.__module__ == module.__name__
            if is_struct or get_origin(obj) is Annotated:
                roots.append((f"{module.__name__}.{name}", obj))
    return roots


def _walk_type_info(info: Any, where: str, found: dict[str, PatternUse], seen: set[int]) -> None:
    examples: list[str] = []
    if isinstance(info, msgspec.inspect.Metadata):
        examples = [e for e in (info.extra_json_schema or {}).get("examples", []) if isinstance(e, str)]
        info = info.type
    if isinstance(info, msgspec.inspect.StrType) and info.pattern is not None:
        use = found.setdefault(info.pattern, PatternUse(info.pattern))
        use.examples += [e for e in examples if e not in use.examples]
        if where not in use.sites:
            use.sites.append(where)
        return
    if isinstance(info, msgspec.inspect.StructType):
        if id(info.cls) in seen:
            return
        seen.add(id(info.cls))
        for f in info.fields:
            _walk_type_info(f.type, f"{info.cls.__name__}.{f.name}", found, seen)
        return
    if isinstance(info, msgspec.inspect.UnionType):
        for member in info.types:
            _walk_type_info(member, where, found, seen)
    for attr in ("item_type", "key_type", "value_type"):
        if hasattr(info, attr):
            _walk_type_info(getattr(info, attr), f"{where}[{attr}]", found, seen)
    for member in getattr(info, "item_types", ()):
        _walk_type_info(member, f"{where}[item]", found, seen)


def msgspec_patterns() -> list[PatternUse]:
    found: dict[str, PatternUse] = {}
    roots = _msgspec_roots()
    infos = msgspec.inspect.multi_type_info([obj for _, obj in roots])
    for (where, _), info in zip(roots, infos, strict=True):
        _walk_type_info(info, where, found, set())
    return list(found.values())


MSGSPEC_PATTERNS = msgspec_patterns()


def test_the_msgspec_walk_finds_the_patterns_we_know_of() -> None:
    """A guard on the walk itself: it must see nested, aliased and dict-key patterns."""
    sites = {site for use in MSGSPEC_PATTERNS for site in use.sites}
    assert {"Listing.id", "TokenCreate.name", "DonationBlock.currency", "UpdateSubmission.listing_id"} <= sites
    assert any(site.startswith("Listing.translations[key_type]") for site in sites)
    assert any(site.startswith("Listing.countries") for site in sites)
    assert len(MSGSPEC_PATTERNS) >= 6


@pytest.mark.parametrize("use", [pytest.param(u, id=u.sites[0]) for u in MSGSPEC_PATTERNS])
def test_every_msgspec_pattern_matches_whole_values_only(use: PatternUse) -> None:
    compiled = re.compile(use.pattern)
    constrained = Annotated[str, Meta(pattern=use.pattern)]
    for sample in _samples(use):
        assert compiled.search(sample), (use.sites, sample)
        assert msgspec.convert(sample, constrained) == sample
        padded = [c + sample for c in ("\n", " ")]
        if use.pattern not in PREFIX_PATTERNS:
            padded += [sample + c for c in ("\n", "\r\n", " ", "\x00")]
        for value in padded:
            assert compiled.search(value) is None, (use.sites, value)
            with pytest.raises(msgspec.ValidationError):
                msgspec.convert(value, constrained)


def test_a_prefix_pattern_leaves_a_newline_to_the_url_policy() -> None:
    for pattern, why in PREFIX_PATTERNS.items():
        assert any(use.pattern == pattern for use in MSGSPEC_PATTERNS), f"unused prefix pattern {pattern!r}"
        assert why
    assert check_url("url", "https://example.org/\n")[0][1].startswith("[control-char]")
    assert check_url("url", "https://example.org/") == []


# --- the walk over route handlers' parameters ---------------------------------------------------


@dataclass
class RouteParam:
    path: str
    method: str
    name: str
    where: str  # path, query, header or cookie
    use: PatternUse

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} {self.where}:{self.name}"


def _kwarg_patterns(signature: Any) -> list[tuple[str, ParameterKwarg]]:
    return [
        (name, fd.kwarg_definition)
        for name, fd in signature.parameters.items()
        if isinstance(fd.kwarg_definition, ParameterKwarg) and fd.kwarg_definition.pattern is not None
    ]


def route_params(app: Litestar) -> list[RouteParam]:
    params = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path_names = set(re.findall(r"\{(\w+)(?::\w+)?\}", route.path))
        for handler in route.route_handlers:
            signatures = [handler.parsed_fn_signature] + [
                provider.parsed_fn_signature
                for provider in handler.resolve_dependencies().values()
                if getattr(provider, "parsed_fn_signature", None) is not None
            ]
            for signature in signatures:
                for name, kwarg in _kwarg_patterns(signature):
                    wire = kwarg.query or kwarg.header or kwarg.cookie or name
                    where = (
                        "header" if kwarg.header else "cookie" if kwarg.cookie
                        else "path" if name in path_names else "query"
                    )
                    examples = [e.value for e in (kwarg.examples or []) if isinstance(e.value, str)]
                    use = PatternUse(kwarg.pattern, examples, [f"{route.path} {name}"])  # type: ignore[arg-type]
                    for method in sorted(handler.http_methods):
                        params.append(RouteParam(route.path, method, wire, where, use))
    return params


def _app() -> Litestar:
    from api.app import create_app  # noqa: PLC0415
    from api.settings import load_settings  # noqa: PLC0415

    return create_app(load_settings(db=Path("/nonexistent/never-opened.db"))).litestar


ROUTE_PARAMS = route_params(_app())


def test_the_route_walk_finds_the_parameters_we_know_of() -> None:
    ids = {p.id for p in ROUTE_PARAMS}
    assert "GET /v1/listings query:include" in ids
    assert "GET /v1/countries/{code:str}/listings path:code" in ids
    assert "POST /v1/listings/{listing_id:str}/reports path:listing_id" in ids
    assert "GET /v1/changes query:since" in ids


@pytest.mark.parametrize("param", [pytest.param(p, id=p.id) for p in ROUTE_PARAMS])
def test_every_route_pattern_matches_whole_values_only(param: RouteParam) -> None:
    compiled = re.compile(param.use.pattern)
    for sample in _samples(param.use):
        assert compiled.search(sample), (param.id, sample)
        for value in (sample + "\n", sample + "\r\n", sample + " ", "\n" + sample, " " + sample):
            assert compiled.search(value) is None, (param.id, value)


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory: pytest.TempPathFactory):
    """The real app over a real imported dataset, and an admin token (admins pass every guard)."""
    from conftest import Deployment  # noqa: PLC0415
    from factory import default_listings  # noqa: PLC0415

    root = tmp_path_factory.mktemp("patterns")
    deployment = Deployment(data=root / "data", db=root / "test.db")
    deployment.reimport(default_listings())
    store = Store(deployment.db)
    try:
        token, _ = create_token(store, name="pattern-admin", role="admin", expires_in_days=None, actor="test")
    finally:
        store.close()
    with deployment.client(reports_per_minute=10_000) as client:
        yield client, token


def _send(client, token: str, param: RouteParam, value: str):
    """One request with ``value`` for ``param``, and a valid value for every other path parameter."""
    values = {p.name: _samples(p.use)[0] for p in ROUTE_PARAMS if p.path == param.path and p.where == "path"}
    query: dict[str, str] = {}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if param.where == "path":
        values[param.name] = value
    elif param.where == "query":
        query[param.name] = value
    else:
        headers[param.name] = value
    url = re.sub(
        r"\{(\w+)(?::\w+)?\}", lambda m: urllib.parse.quote(values[m.group(1)], safe=""), param.path
    )
    body = b"{}" if param.method in {"POST", "PUT", "PATCH"} else None
    return client.request(param.method, url, params=query, headers=headers, content=body)


def _errors_naming(response, param: RouteParam) -> list[dict[str, str]]:
    if response.status_code != 400:
        return []
    return [e for e in response.json().get("errors", []) if e["field"] == param.name and e["in"] == param.where]


@pytest.mark.parametrize("param", [pytest.param(p, id=p.id) for p in ROUTE_PARAMS if p.where != "header"])
def test_a_trailing_newline_in_a_route_parameter_is_a_400_naming_it(admin_app, param: RouteParam) -> None:
    """Through the real app: the value is accepted (no error names it), the value plus a line
    break is a 400 problem naming it. (HTTP cannot carry a line break in a header value.)"""
    client, token = admin_app
    for sample in _samples(param.use):
        accepted = _send(client, token, param, sample)
        assert accepted.status_code < 500, accepted.text
        assert _errors_naming(accepted, param) == [], (sample, accepted.text)
        refused = _send(client, token, param, sample + "\n")
        assert refused.status_code == 400, (sample, refused.status_code, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert _errors_naming(refused, param), refused.text


_QUOTED_REGEX = re.compile(r"matching regex '(?P<pattern>[^']*)'")


def _quoted_patterns(problem: dict[str, Any]) -> list[str]:
    """Every regex a problem quotes, in its detail and in each error."""
    texts = [problem.get("detail") or ""] + [e["detail"] for e in problem.get("errors", [])]
    return [m["pattern"] for text in texts for m in _QUOTED_REGEX.finditer(text)]


@pytest.mark.parametrize("param", [pytest.param(p, id=p.id) for p in ROUTE_PARAMS if p.where != "header"])
def test_a_route_parameter_problem_quotes_its_pattern_as_the_spec_does(admin_app, param: RouteParam) -> None:
    """The spec shows ECMA-262 patterns (``$``); a problem quoting Python's ``\\Z`` would send a
    client looking for a pattern the spec does not have."""
    client, token = admin_app
    refused = _send(client, token, param, _samples(param.use)[0] + "\n")
    quoted = _quoted_patterns(refused.json())
    assert set(quoted) == {ecma_pattern(param.use.pattern)}, refused.text
    assert "\\Z" not in refused.text


def _submission(doc: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"action": "create", "listing": doc, "note": "A new listing.", "sources": ["https://new-one.example.org/about"], **extra}


#: Body fields with a pattern, each given a value the pattern refuses: (path, body, field named).
BODY_PATTERN_CASES = [
    ("/v1/submissions", _submission(listing("New-One")), "listing.id"),
    ("/v1/submissions", _submission(listing("new-one", countries=["ru"])), "listing.countries[0]"),
    ("/v1/submissions", _submission(listing("new-one", languages=["english"])), "listing.languages[0]"),
    ("/v1/submissions", _submission(listing("new-one", topics=["LGBT"])), "listing.topics[0]"),
    ("/v1/submissions", _submission(listing("new-one", kind="donation", donation={"currency": "eur"})), "listing.donation.currency"),
    ("/v1/submissions", _submission(listing("new-one", url="http://new-one.example.org/")), "listing.url"),
    ("/v1/submissions", {"action": "retire", "listing_id": "UG-Shelter", "base_revision": 1, "note": "Closed",
                         "sources": ["https://sources.example.org/check"]}, "listing_id"),
    ("/v1/tokens", {"name": " Ana", "role": "curator"}, "name"),
]


@pytest.mark.parametrize(("path", "body", "field_name"), [pytest.param(*c, id=c[2]) for c in BODY_PATTERN_CASES])
def test_a_body_field_problem_quotes_its_pattern_as_the_spec_does(admin_app, path: str, body: dict, field_name: str) -> None:
    client, token = admin_app
    response = client.post(path, content=msgspec.json.encode(body),
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == [field_name], response.text
    spec_patterns = set(_spec_patterns(json.loads(render_spec())))
    quoted = _quoted_patterns(problem)
    assert quoted and set(quoted) <= spec_patterns, (quoted, response.text)
    assert "\\Z" not in response.text


@pytest.mark.parametrize(
    ("changes", "field_name", "pattern"),
    [
        ({"countries": ["ru"]}, "countries[0]", r"^[A-Z]{2}$"),
        ({"id": "Bad-One"}, "id", r"^[a-z0-9]+(?:-[a-z0-9]+)*$"),
        ({"languages": ["english"]}, "languages[0]", "^[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?$"),
        ({"kind": "donation", "donation": {"currency": "eur"}}, "donation.currency", r"^[A-Z]{3}$"),
    ],
)
def test_an_import_problem_quotes_the_pattern_as_the_spec_does(deployment, changes, field_name: str, pattern: str) -> None:
    write_listing(deployment.data, listing("bad-one", **changes), name="bad-one")
    result = CliRunner().invoke(cli, ["import", "--quiet", "--data", str(deployment.data), "--db", str(deployment.db)])
    assert result.exit_code == 1, result.output
    [line] = [line for line in result.output.splitlines() if "bad-one" in line and "regex" in line]
    assert f": {field_name}" in line, line
    assert f"matching regex '{pattern}" in line, line
    assert "\\Z" not in result.output


def test_an_import_problem_in_a_dict_key_quotes_the_pattern_as_the_spec_does(deployment) -> None:
    topics = [dict(t) for t in TOPICS]
    topics[1] = {"id": "refugees", "labels": {"english": "Refugees"}}
    write_dataset(deployment.data, default_listings(), topics)
    result = CliRunner().invoke(cli, ["import", "--quiet", "--data", str(deployment.data), "--db", str(deployment.db)])
    assert result.exit_code == 1, result.output
    assert "topic[1].labels: invalid key: Expected `str` matching regex '^[a-z]{2,3}" in result.output, result.output
    assert "\\Z" not in result.output


@pytest.mark.parametrize(
    "pattern", sorted({u.pattern for u in MSGSPEC_PATTERNS} | {p.use.pattern for p in ROUTE_PARAMS})
)
def test_every_pattern_of_the_code_is_quoted_as_the_spec_states_it_however_often_rewritten(pattern: str) -> None:
    """A listing's errors pass the rewrite twice (the importer's resolver, then the problem)."""
    with pytest.raises(msgspec.ValidationError) as raised:
        msgspec.convert("\n", Annotated[str, Meta(pattern=pattern)])
    once = ecma_message(str(raised.value))
    assert f"matching regex '{ecma_pattern(pattern)}'" in once
    assert ecma_message(once) == once


def test_the_cli_token_name_message_quotes_the_pattern_as_the_spec_does(deployment) -> None:
    result = CliRunner().invoke(cli, ["token", "create", "--name", " Ana", "--role", "curator", "--db", str(deployment.db)])
    assert result.exit_code != 0, result.output
    assert "matching regex '^[A-Za-z0-9](?:[A-Za-z0-9 ._@-]*[A-Za-z0-9._@-])?$'" in result.output, result.output
    assert "\\Z" not in result.output


# --- the published spec: ECMA-262 patterns, byte-for-byte what it was ----------------------------


def _spec_patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == "pattern" and isinstance(v, str)]
        return found + [p for v in node.values() for p in _spec_patterns(v)]
    if isinstance(node, list):
        return [p for v in node for p in _spec_patterns(v)]
    return []


def test_the_spec_states_every_pattern_in_ecma_262_syntax() -> None:
    patterns = _spec_patterns(json.loads(render_spec()))
    assert patterns
    for pattern in patterns:
        assert "\\Z" not in pattern and "\\A" not in pattern, pattern
    code_patterns = {u.pattern for u in MSGSPEC_PATTERNS} | {p.use.pattern for p in ROUTE_PARAMS}
    assert {ecma_pattern(p) for p in code_patterns} <= set(patterns)


@pytest.mark.parametrize(
    ("python", "ecma"),
    [
        (r"^[A-Z]{2}\Z", r"^[A-Z]{2}$"),
        (r"\A(a|b)\Z", r"^(a|b)$"),
        (r"^a\\Z", r"^a\\Z"),  # an escaped backslash followed by a literal Z
        (r"^[\Z]x\Z", r"^[\Z]x$"),  # inside a class \Z is no anchor; left as it is
        (r"^https://", r"^https://"),
        (r"^(?:a\Z|b\Z)", r"^(?:a$|b$)"),
    ],
)
def test_ecma_pattern_translates_only_the_python_anchors(python: str, ecma: str) -> None:
    assert ecma_pattern(python) == ecma


# --- hand-written checks outside the types --------------------------------------------------------


@pytest.mark.parametrize("tag", ["en\n", "pt-BR\n", "zh-Hant\n", "es-419\n", "en\r\n"])
def test_canonical_tag_refuses_a_trailing_newline(tag: str) -> None:
    assert canonical_tag(tag.rstrip()) is not None
    assert canonical_tag(tag) is None


def test_a_listing_cursor_with_a_trailing_newline_is_not_a_cursor() -> None:
    cursor = _generated(LISTING_CURSOR_PATTERN)
    decode_cursor(cursor)
    with pytest.raises(CursorInvalid):
        decode_cursor(cursor + "\n")


def test_a_translation_keyed_by_a_tag_with_a_newline_is_refused_on_import(deployment) -> None:
    doc = listing("bad-one", languages=["en"], translations={"en\n": {"title": "Hi", "summary": "Hello."}})
    write_listing(deployment.data, doc)
    with pytest.raises(DatasetInvalid) as raised:
        load_directory(deployment.data)
    [problem] = raised.value.problems
    assert problem.field == "translations.en\n", problem
    assert "invalid language tag" in problem.message


def test_a_submitted_listing_id_with_a_trailing_newline_is_a_400_naming_it(deployment) -> None:
    store = Store(deployment.db)
    try:
        token, _ = create_token(store, name="curator-ana", role="curator", expires_in_days=None, actor="test")
    finally:
        store.close()
    body = {
        "action": "create",
        "listing": listing("new-one\n", url="https://new-one.example.org/"),
        "note": "A new listing.",
        "sources": ["https://new-one.example.org/about"],
    }
    with deployment.client() as client:
        response = client.post(
            "/v1/submissions", content=msgspec.json.encode(body),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
    assert response.status_code == 400, response.text
    assert [(e["in"], e["field"]) for e in response.json()["errors"]] == [("body", "listing.id")]


@pytest.mark.parametrize("name", ["Root\n", "Ana Souza\n", "Ana\r\n"])
def test_a_token_name_with_a_trailing_newline_is_refused_over_http(admin_app, name: str) -> None:
    client, token = admin_app
    response = client.post(
        "/v1/tokens",
        content=msgspec.json.encode({"name": name, "role": "admin"}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert [(e["in"], e["field"]) for e in response.json()["errors"]] == [("body", "name")]


def test_a_token_name_with_a_trailing_newline_is_refused_by_the_cli(deployment) -> None:
    result = CliRunner().invoke(cli, ["token", "create", "--name", "Root\n", "--role", "admin", "--db", str(deployment.db)])
    assert result.exit_code != 0, result.output
    assert "invalid --name" in result.output
    store = Store(deployment.db)
    try:
        assert [row.name for row in store.tokens.all()] == []
    finally:
        store.close()


# --- hand-written regexes: no `$` where a value is validated -----------------------------------------

#: Regexes that parse msgspec's own error messages (never a caller's value): `$` is harmless there.
MESSAGE_PARSERS = {"_AT_PATH", "_AT_KEY", "_UNKNOWN_FIELD", "_MISSING_FIELD", "_NAMED_FIELD"}


def test_no_compiled_regex_in_the_code_validates_with_a_dollar() -> None:
    """Every module-level compiled regex of the api package either parses messages (listed above)
    or anchors with ``\\Z`` / is used with ``fullmatch``: ``$`` would let a final newline through."""
    offenders = []
    for module in _api_modules():
        for name, obj in vars(module).items():
            outside_classes = re.sub(r"\[(?:\\.|[^\]\\])*\]", "", obj.pattern) if isinstance(obj, re.Pattern) else ""
            if isinstance(obj, re.Pattern) and name not in MESSAGE_PARSERS and re.search(r"(?<!\\)\$", outside_classes):
                offenders.append(f"{module.__name__}.{name}: {obj.pattern}")
    assert offenders == []


# --- the CLI's --country -------------------------------------------------------------------------


@pytest.mark.parametrize("country", ["RU\n", " RU", "RUS", "R", "ＲＵ", "ß", "\ufb00"])
def test_check_links_refuses_a_country_that_is_not_two_ascii_letters(deployment, country: str) -> None:
    """Checked as typed: ``"ß".upper()`` is ``"SS"`` and ``"ﬀ".upper()`` is ``"FF"``."""
    result = CliRunner().invoke(cli, ["check-links", "--country", country, "--db", str(deployment.db)])
    assert result.exit_code == 2, result.output
    assert "--country" in result.output and "ISO 3166-1 alpha-2" in result.output


def test_check_links_takes_a_lower_case_country(deployment) -> None:
    """``fr``: no listing serves France in the test data, so nothing is fetched."""
    result = CliRunner().invoke(cli, ["check-links", "--country", "fr", "--db", str(deployment.db)])
    assert result.exit_code == 0, result.output
    assert "ISO 3166-1 alpha-2" not in result.output
