"""The OpenAPI document: what litestar generates, completed, and rendered stably for diffs.

litestar builds the spec from the handlers' signatures; ``openapi_config`` gives it what no
signature says (the description, tags, the bearer scheme), ``customize_schema`` what litestar
cannot infer (optional parameters are absent, not null; the NDJSON answer; links; the 413
and 415 of every body), and ``render_spec`` the exact JSON committed as openapi/v1.json
(``actiondir openapi``), which /v1/openapi.json serves byte for byte.
"""

from __future__ import annotations

import json

import msgspec
from litestar import Litestar, Request, Response, get
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    Contact,
    License,
    Link,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
    SecurityScheme,
    Tag,
)

from api import __version__, models
from api.http import problems
from api.http.problems import PROBLEM_MEDIA_TYPE, problem_responses
from api.messages import ecma_pattern

__all__ = [
    "API_DESCRIPTION",
    "SECURITY",
    "SPEC_SOURCE",
    "SpecRenderPlugin",
    "customize_schema",
    "openapi_config",
    "render_spec",
    "serve_spec",
]

API_DESCRIPTION = """\
Vetted ways to help, by country and topic: donation links, petitions and support
organizations, each checked by a curator against its sources.

Every list is an envelope `{"data": [...], "next_cursor": ...}`; follow `next_cursor` until it
is null. Texts come in the language you ask for with `?lang=` or `Accept-Language` (each item
says which one it got in `lang`). Every GET has an `ETag` and honours `If-None-Match`. Errors
are RFC 9457 `application/problem+json`; unknown query parameters are errors.
"""

SECURITY = [{"bearer": []}]
"""What an operation that needs a token declares (the scheme is ``openapi_config``'s)."""


def openapi_config() -> OpenAPIConfig:
    """What the spec says that no handler's signature does."""
    return OpenAPIConfig(
        title="Action Directory API",
        version=__version__,
        description=API_DESCRIPTION,
        # The docs UI lives under /v1/docs (its router adds a catch-all below its path);
        # /v1/openapi.json is served by serve_spec, byte-identical to openapi/v1.json.
        path="/v1/docs",
        render_plugins=[SwaggerRenderPlugin(path="/"), SpecRenderPlugin(path="/openapi.json")],
        license=License(name="MIT (code); CC-BY-4.0 (data)", identifier="MIT"),
        contact=Contact(name="Action Directory"),
        tags=[
            Tag(name="listings", description="Ways to act: donations, petitions, organizations."),
            Tag(name="countries", description="Countries with listings, named by CLDR."),
            Tag(name="topics", description="The curated taxonomy."),
            Tag(name="dataset", description="Everything at once, for mirrors."),
            Tag(name="operations", description="For load balancers and monitors."),
            Tag(name="curation", description="Propose changes; a second person reviews them."),
            Tag(name="reports", description="Anyone reports a problem; reviewers resolve it."),
            Tag(name="tokens", description="Admins manage curators' and reviewers' tokens."),
            Tag(name="vetting", description="What needs a reviewer: reviews due, broken links, closing petitions."),
        ],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="A token from `actiondir token create` (or POST /v1/tokens).",
                )
            }
        ),
        use_handler_docstrings=False,
    )


def _not_nullable(schema: Schema) -> None:
    """An optional parameter is absent, never null: drop the ``null`` litestar adds for ``X | None``."""
    if schema.one_of:
        kept = [s for s in schema.one_of if not (isinstance(s, Schema) and s.type == OpenAPIType.NULL)]
        if len(kept) == 1 and isinstance(kept[0], Schema):
            schema.type = kept[0].type
            schema.one_of = None
    if isinstance(schema.type, list):
        types = [t for t in schema.type if t != OpenAPIType.NULL]
        schema.type = types[0] if len(types) == 1 else types
    if schema.enum:
        schema.enum = [v for v in schema.enum if v is not None]


#: OpenAPI links: how the answer of one operation feeds the next (clients and schemathesis's
#: stateful mode follow them: create -> read -> decide, report -> resolve, token -> revoke).
_LINKS = {
    ("/v1/submissions", "post", "201"): {
        "GetSubmission": ("V1SubmissionsSubmissionIdGetSubmission", {"submission_id": "$response.body#/id"}),
        "DecideSubmission": ("V1SubmissionsSubmissionIdDecisionDecideSubmission", {"submission_id": "$response.body#/id"}),
    },
    ("/v1/submissions/{submission_id}/decision", "post", "200"): {
        "GetDecidedListing": ("V1ListingsListingIdGetListing", {"listing_id": "$response.body#/listing_id"}),
        "GetListingHistory": ("V1ListingsListingIdRevisionsListListingRevisions", {"listing_id": "$response.body#/listing_id"}),
    },
    ("/v1/listings/{listing_id}/reports", "post", "202"): {
        "ResolveReport": ("V1ReportsReportIdResolutionResolveReport", {"report_id": "$response.body#/id"}),
    },
    ("/v1/tokens", "post", "201"): {
        "RevokeToken": ("V1TokensTokenIdRevocationRevokeTokenEndpoint", {"token_id": "$response.body#/id"}),
    },
    ("/v1/listings/{listing_id}", "get", "200"): {
        "GetListingHistory": ("V1ListingsListingIdRevisionsListListingRevisions", {"listing_id": "$response.body#/id"}),
        "ReportListing": ("V1ListingsListingIdReportsAddReport", {"listing_id": "$response.body#/id"}),
    },
}


def _add_links(schema: OpenAPI) -> None:
    """Each link whose two operations the app serves (a read-only replica serves no writes)."""
    paths = schema.paths or {}
    served = {
        operation.operation_id
        for item in paths.values()
        for operation in (item.get, item.post, item.put, item.patch, item.delete)
        if operation is not None
    }
    for (path, method, status), links in _LINKS.items():
        operation = getattr(paths.get(path), method, None)
        if operation is None:
            continue
        response = operation.responses[status]  # type: ignore[index]
        response.links = {
            name: Link(operation_id=operation_id, parameters=parameters)
            for name, (operation_id, parameters) in links.items()
            if operation_id in served
        } or None


def _document_body_problems(schema: OpenAPI) -> None:
    """Every operation that takes a body can answer 413 and 415 (api/http/bodies.py)."""
    specs = problem_responses(413, 415)
    for path_item in (schema.paths or {}).values():
        for operation in (path_item.post, path_item.put, path_item.patch):
            if operation is None or operation.request_body is None:
                continue
            for status, spec in specs.items():
                (operation.responses or {}).setdefault(
                    str(status),
                    OpenAPIResponse(
                        description=spec.description or "",
                        content={PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))},
                    ),
                )


def customize_schema(schema: OpenAPI) -> None:
    """Say what litestar cannot infer from signatures.

    - optional query and header parameters are plain strings, not ``string | null``;
    - links from one operation's answer to the next;
    - /v1/dataset also answers NDJSON (when it is served: a read-only replica serves it too);
    - every operation with a body can answer 413 and 415.
    """
    for path_item in (schema.paths or {}).values():
        for operation in (path_item.get, path_item.post, path_item.put, path_item.patch, path_item.delete):
            for parameter in (operation.parameters or []) if operation else []:
                if isinstance(parameter.schema, Schema):
                    _not_nullable(parameter.schema)
    _add_links(schema)
    _document_body_problems(schema)
    dataset = schema.paths["/v1/dataset"].get  # type: ignore[index,union-attr]
    ok = dataset.responses["200"]  # type: ignore[index,union-attr]
    ok.content["application/x-ndjson"] = OpenAPIMediaType(  # type: ignore[index,union-attr]
        schema=Schema(
            type="string",  # type: ignore[arg-type]
            description="One DatasetItem as JSON per line, on `Accept: application/x-ndjson`.",
        )
    )


def _struct_components(names: set[str]) -> dict[str, dict]:
    """msgspec's own JSON Schema for our Structs.

    litestar's generator drops constraints on list items (``list[HttpsUrl]`` becomes a list
    of any string) and never says ``additionalProperties: false``; msgspec's schema is the
    exact one its decoder enforces, so clients and schemathesis see the real contract.
    """
    structs = [
        obj
        for module in (models, problems)
        for name, obj in vars(module).items()
        if name in names and isinstance(obj, type) and issubclass(obj, msgspec.Struct)
    ]
    _, components = msgspec.json.schema_components(structs, ref_template="#/components/schemas/{name}")
    return components


def _ecma_patterns(node: object) -> None:
    """Rewrite every ``pattern`` of a rendered spec (or part of it) with ``ecma_pattern``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                node[key] = ecma_pattern(value)
            else:
                _ecma_patterns(value)
    elif isinstance(node, list):
        for item in node:
            _ecma_patterns(item)


def render_spec(app: Litestar) -> str:
    """The app's spec as sorted, indented JSON with a final newline (the committed document:
    ``api.committed_spec.render_spec``)."""
    spec = app.openapi_schema.to_schema()
    schemas = spec["components"]["schemas"]
    schemas.update(_struct_components(set(schemas)))
    _ecma_patterns(spec)
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class SpecRenderPlugin(JsonRenderPlugin):
    """The docs UI's copy of the spec, the same document as /v1/openapi.json."""

    def render(self, request: Request, openapi_schema: dict) -> bytes:  # noqa: ARG002
        return _cached_spec(request)


#: Key of the app state that names, on a read-only replica, the app whose spec it serves.
SPEC_SOURCE = "spec_source"


def _cached_spec(request: Request) -> bytes:
    """The spec, rendered once per process: the app's own, or on a replica the full app's
    (``SPEC_SOURCE``: a function returning it), so every server of a deployment serves the
    one contract, the committed one, whichever server a client or a CDN reaches."""
    state = request.app.state
    if "openapi_bytes" not in state:
        source = state.get(SPEC_SOURCE)
        state.openapi_bytes = render_spec(source() if source is not None else request.app).encode()
    return state.openapi_bytes


@get("/v1/openapi.json", include_in_schema=False, sync_to_thread=False)
def serve_spec(request: Request) -> Response[bytes]:
    """The spec, byte for byte what ``actiondir openapi`` commits (rendered once per process)."""
    return Response(content=_cached_spec(request), media_type="application/vnd.oai.openapi+json")
