"""The OpenAPI document: what litestar generates, completed, and rendered stably for diffs.

litestar builds the spec from the handlers' signatures; ``openapi_config`` gives it what no
signature says (the description, tags, the bearer scheme, operations named after their
handlers), ``customize_schema`` what litestar cannot infer: what the layers around the handlers
do to every answer (ETag, ``Cache-Control`` and 304 on every GET; 413 and 415 on every body;
503 and ``Retry-After``), that public operations need no token, that optional parameters are
absent, not null, the NDJSON answer and links. ``render_spec`` the exact JSON committed as openapi/v1.json
(``actiondir openapi``), which /v1/openapi.json serves byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import msgspec
from litestar import Litestar, Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import (
    Components,
    Contact,
    License,
    Link,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
    SecurityScheme,
    Tag,
)

from api import __version__, models
from api.http import problems
from api.http.docs import DocsPlugin, docs_router
from api.http.problems import PROBLEM_MEDIA_TYPE, problem_responses
from api.messages import ecma_pattern

__all__ = [
    "API_DESCRIPTION",
    "SECURITY",
    "SPEC_SOURCE",
    "SpecRenderPlugin",
    "customize_schema",
    "handler_operation_id",
    "openapi_config",
    "openapi_schema",
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


def handler_operation_id(handler: HTTPRouteHandler, method: object, path_components: object) -> str:  # noqa: ARG001
    """An operation's id is its handler's name, a verb phrase (``list_listings``, ``get_listing``,
    ``create_submission``): what a generated client names its functions after."""
    return handler.handler_name


def openapi_config() -> OpenAPIConfig:
    """What the spec says that no handler's signature does."""
    return OpenAPIConfig(
        title="Action Directory API",
        version=__version__,
        description=API_DESCRIPTION,
        # The docs UI lives under /v1/docs (api/http/docs.py; its router adds a catch-all below
        # its path); /v1/openapi.json is served by serve_spec, byte-identical to openapi/v1.json.
        openapi_router=docs_router(),
        render_plugins=[DocsPlugin(), SpecRenderPlugin(path="/openapi.json")],
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
        operation_id_creator=handler_operation_id,
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
        "GetSubmission": ("get_submission", {"submission_id": "$response.body#/id"}),
        "DecideSubmission": ("decide_submission", {"submission_id": "$response.body#/id"}),
    },
    ("/v1/submissions/{submission_id}/decision", "post", "200"): {
        "GetDecidedListing": ("get_listing", {"listing_id": "$response.body#/listing_id"}),
        "GetListingHistory": ("list_listing_revisions", {"listing_id": "$response.body#/listing_id"}),
    },
    ("/v1/listings/{listing_id}/reports", "post", "202"): {
        "ResolveReport": ("resolve_report", {"report_id": "$response.body#/id"}),
    },
    ("/v1/tokens", "post", "201"): {
        "RevokeToken": ("revoke_token", {"token_id": "$response.body#/id"}),
    },
    ("/v1/listings/{listing_id}", "get", "200"): {
        "GetListingHistory": ("list_listing_revisions", {"listing_id": "$response.body#/id"}),
        "ReportListing": ("create_report", {"listing_id": "$response.body#/id"}),
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


def _operations(schema: OpenAPI) -> Iterator[tuple[str, Operation]]:
    """(method, operation) of every operation of the spec."""
    for path_item in (schema.paths or {}).values():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(path_item, method)
            if operation is not None:
                yield method, operation


def _header(description: str, *, required: bool = False, schema: Schema | None = None) -> OpenAPIHeader:
    return OpenAPIHeader(
        schema=schema or Schema(type=OpenAPIType.STRING), description=description, required=required
    )


_ETAG = _header(
    "The answer's validator, a digest of its body (the same on every server of a deployment): send it "
    "back in `If-None-Match` and the answer is 304 while it is current.",
    required=True,
    schema=Schema(type=OpenAPIType.STRING, pattern=r'^(W/)?"[^"]*"$'),
)
_CACHE_CONTROL = _header(
    "How long a cache may keep the answer: `public, max-age=…, stale-while-revalidate=…` on public reads, "
    "`no-cache` on the health check, `no-store` on the curation side (its answers depend on who asks).",
    required=True,
)
_VARY_ENCODING = _header("`Accept-Encoding` when the answer is large enough to be sent gzip (1 KiB and more).")
_IF_NONE_MATCH = Parameter(
    name="If-None-Match",
    param_in="header",  # type: ignore[arg-type]
    required=False,
    description="The `ETag` of a copy you have: the answer is 304, with no body, while it is current.",
    schema=Schema(type=OpenAPIType.STRING),
)
_RETRY_AFTER_SECONDS = Schema(type=OpenAPIType.INTEGER, minimum=0, description="Seconds.")

#: The schema of each header a route declares by name only (litestar documents its description).
_HEADER_SCHEMAS = {
    "X-Dataset-Revision": Schema(type=OpenAPIType.INTEGER, minimum=0),
    "Location": Schema(type=OpenAPIType.STRING, format="uri-reference"),  # type: ignore[arg-type]
}


def _document_conditional_gets(schema: OpenAPI) -> None:
    """Every GET answers with an ETag and ``Cache-Control`` and honours ``If-None-Match`` with a
    304 (``ConditionalGetMiddleware`` and the front cache, api/http/cache.py)."""
    for method, operation in _operations(schema):
        if method != "get":
            continue
        responses = operation.responses or {}
        ok = responses["200"]
        assert isinstance(ok, OpenAPIResponse)
        ok.headers = {"ETag": _ETAG, "Cache-Control": _CACHE_CONTROL, "Vary": _VARY_ENCODING, **(ok.headers or {})}
        kept = {name: ok.headers[name] for name in ("Vary", "Content-Language") if name in ok.headers}
        responses["304"] = OpenAPIResponse(
            description="Not Modified: the `ETag` sent in `If-None-Match` is current; no body (keep using your copy).",
            headers={"ETag": _ETAG, "Cache-Control": _CACHE_CONTROL, **kept},
        )
        operation.parameters = [*(operation.parameters or []), _IF_NONE_MATCH]


def _document_retry_after(schema: OpenAPI) -> None:
    """503 on every operation (a busy database: api/http/problems.py; a read-only replica:
    api/http/edge.py), and ``Retry-After`` wherever the API sends it: 429 and a busy 503."""
    unavailable = problem_responses(503)[503]
    for _, operation in _operations(schema):
        responses = operation.responses or {}
        responses.setdefault(
            "503",
            OpenAPIResponse(
                description=unavailable.description or "",
                content={PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))},
            ),
        )
        for status, required, description in (
            ("429", True, "Seconds until this address may report again."),
            ("503", False, "Seconds until the database should take the request (retrying is safe: nothing "
             "was changed); absent on a read-only replica, where waiting does not help."),
        ):
            response = responses.get(status)
            if isinstance(response, OpenAPIResponse):
                response.headers = {
                    **(response.headers or {}),
                    "Retry-After": _header(description, required=required, schema=_RETRY_AFTER_SECONDS),
                }


def _complete_headers(schema: OpenAPI) -> None:
    """Give each response header a route declared by name (``ResponseHeader``) its schema."""
    for _, operation in _operations(schema):
        for response in (operation.responses or {}).values():
            for name, header in ((response.headers or {}).items() if isinstance(response, OpenAPIResponse) else ()):
                if isinstance(header, OpenAPIHeader) and header.schema is None:
                    header.schema = _HEADER_SCHEMAS.get(name, Schema(type=OpenAPIType.STRING))


def customize_schema(schema: OpenAPI) -> None:
    """Say what litestar cannot infer from signatures.

    - optional query and header parameters are plain strings, not ``string | null``;
    - an operation without a token says so (``security: []``): it is public, not undocumented;
    - links from one operation's answer to the next;
    - /v1/dataset also answers NDJSON (when it is served: a read-only replica serves it too);
    - every operation with a body can answer 413 and 415; every one can answer 503;
    - every GET documents its ETag, ``Cache-Control``, ``If-None-Match`` and 304;
      ``Retry-After`` is documented where it is sent;
    - each response header has a schema.
    """
    for _, operation in _operations(schema):
        for parameter in operation.parameters or []:
            if isinstance(parameter, Parameter) and isinstance(parameter.schema, Schema):
                _not_nullable(parameter.schema)
        if operation.security is None:
            operation.security = []
    _add_links(schema)
    _document_body_problems(schema)
    _document_conditional_gets(schema)
    _document_retry_after(schema)
    _complete_headers(schema)
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


#: App-state flag: the app's schema has had ``customize_schema`` applied.
_CUSTOMIZED = "openapi_customized"


def openapi_schema(app: Litestar) -> OpenAPI:
    """The app's spec, completed by ``customize_schema`` the first time it is asked for.

    Why lazily: litestar builds its schema on first access of ``app.openapi_schema``, and
    building it is most of the cost of ``create_app`` (0.3-0.5 s), which every test and every
    worker pays; a server needs it only when ``/v1/openapi.json`` is first asked for."""
    schema = app.openapi_schema
    if not app.state.get(_CUSTOMIZED):
        customize_schema(schema)
        app.state[_CUSTOMIZED] = True
    return schema


def render_spec(app: Litestar) -> str:
    """The app's spec as sorted, indented JSON with a final newline (the committed document:
    ``api.committed_spec.render_spec``)."""
    spec = openapi_schema(app).to_schema()
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
