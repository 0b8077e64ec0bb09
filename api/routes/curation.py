"""Curation endpoints: submissions and decisions, reports, and token management.

Thin adapters: validate the request, call the service (api/services) in the writer, encode.

Authentication is a bearer token; guards ask for the least role each endpoint needs. The
answers here are never cached (``Cache-Control: no-store``): they depend on who asks.
"""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody, Parameter

from api.auth import requires
from api.credentials import Identity
from api.models import (
    Decision,
    DecisionCreate,
    Report,
    ReportCreate,
    ReportPage,
    ReportReceipt,
    ReportResolution,
    Submission,
    SubmissionCreate,
    SubmissionPage,
    TokenCreate,
    TokenCreated,
    TokenInfo,
    TokenPage,
)
from api.problems import problem_responses
from api.services import curation, reports, tokens
from api.services.reports import report_view
from api.store import Store, SubmissionRow, TokenRow
from api.writer import Writer

__all__ = [
    "NO_STORE",
    "SECURITY",
    "curation_handlers",
    "CursorParam",
    "IdPath",
    "IdentityDep",
    "LimitParam",
    "StoreDep",
    "WriterDep",
    "add_report",
    "add_submission",
    "add_token",
    "decide_submission",
    "get_submission",
    "list_reports",
    "list_submissions",
    "list_tokens",
    "resolve_report",
    "revoke_token_endpoint",
    "token_info",
]

StoreDep = NamedDependency[Store]
WriterDep = NamedDependency[Writer]
"""Handlers that write take the writer (api.writer), never the event loop's store."""
IdentityDep = NamedDependency[Identity]
NO_STORE = {"Cache-Control": "no-store"}
SECURITY = [{"bearer": []}]
_CURSOR_PREFIX = "i1."

LimitParam = Annotated[int, Parameter(ge=1, le=100, description="Page size.")]
CursorParam = Annotated[
    str | None, Parameter(pattern=r"^i1\.[0-9]{1,18}\Z", description="`next_cursor` of the previous page.")
]
IdPath = Annotated[int, Parameter(ge=1, le=2**31)]


def _encode_cursor(last_id: int) -> str:
    """Opaque to clients; the id of the last item served (every ``i1.<n>`` is a valid position)."""
    return f"{_CURSOR_PREFIX}{last_id}"


def _next_cursor(rows: list, limit: int) -> str | None:
    """Given up to ``limit + 1`` rows by id, the cursor after the page (None on the last)."""
    return _encode_cursor(rows[limit - 1].id) if len(rows) > limit else None


def _decode_cursor(cursor: str | None) -> int | None:
    return None if cursor is None else int(cursor[len(_CURSOR_PREFIX) :])


def _submission_view(store: Store, row: SubmissionRow, identity: Identity, *, with_diff: bool = False) -> Submission:
    reviewer = identity.at_least("reviewer")
    current = store.listings.get(row.listing_id)
    decision = None
    if row.status != "pending":
        decision = Decision(
            decision="approve" if row.status == "approved" else "reject",
            reason=row.reason or "",
            decided_at=row.decided_at,  # type: ignore[arg-type]
            decided_by=row.decider_name if reviewer else None,
            applied_revision=row.applied_revision,
        )
    diff = None
    if with_diff:
        before = current.document if current is not None and current.status != "retired" else None
        after = None if row.action == "retire" else row.document
        diff = curation.diff_documents(before, after)
    return Submission(
        id=row.id,
        action=row.action,  # type: ignore[arg-type]
        listing_id=row.listing_id,
        base_revision=row.base_revision,
        status=row.status,  # type: ignore[arg-type]
        note=row.note,
        sources=row.sources,
        submitted_at=row.submitted_at,
        mine=row.submitter_person == identity.person,
        submitted_by=row.submitter_name if reviewer else None,
        listing=row.document,
        decision=decision,
        current_revision=current.revision if current is not None else None,
        diff=diff,
    )


def _visible_submission(store: Store, submission_id: int, identity: Identity) -> SubmissionRow:
    row = store.submissions.get(submission_id)
    # A curator sees only their own: others' answer 404, as if they did not exist.
    if row is None or (not identity.at_least("reviewer") and row.submitter_person != identity.person):
        raise NotFoundException(detail=f"no submission {submission_id}")
    return row


@post(
    "/v1/submissions",
    guards=[requires("curator")],
    summary="Propose a change",
    description="Propose creating, updating or retiring a listing. The listing document is validated "
    "exactly as `actiondir import` validates files. Nothing goes live until a second person, a "
    "reviewer, approves it.",
    responses=problem_responses(400, 401, 403, 404, 409),
    security=SECURITY,
    tags=["curation"],
)
async def add_submission(writer: WriterDep, identity: IdentityDep, data: JSONBody[SubmissionCreate]) -> Response[Submission]:
    def write(store: Store) -> tuple[int, Submission]:
        submission_id = curation.submit(store, identity, data)
        row = store.submissions.get(submission_id)
        assert row is not None
        return submission_id, _submission_view(store, row, identity)

    submission_id, view = await writer.run(write)
    return Response(view, status_code=201, headers={**NO_STORE, "Location": f"/v1/submissions/{submission_id}"})


@get(
    "/v1/submissions",
    guards=[requires("curator")],
    sync_to_thread=False,
    summary="List submissions",
    description="Oldest first, so `status=pending` is the review queue. A curator sees their own "
    "submissions; reviewers see everyone's.",
    responses=problem_responses(400, 401, 403),
    security=SECURITY,
    tags=["curation"],
)
def list_submissions(
    store: StoreDep,
    identity: IdentityDep,
    status: Annotated[Literal["pending", "approved", "rejected"] | None, Parameter(description="Only this status.")] = None,
    limit: LimitParam = 20,
    cursor: CursorParam = None,
) -> Response[SubmissionPage]:
    rows = store.submissions.page(
        status=status,
        submitter_person=None if identity.at_least("reviewer") else identity.person,
        after_id=_decode_cursor(cursor),
        limit=limit + 1,
    )
    page = SubmissionPage(
        data=[_submission_view(store, r, identity) for r in rows[:limit]],
        next_cursor=_next_cursor(rows, limit),
    )
    return Response(page, headers=NO_STORE)


@get(
    "/v1/submissions/{submission_id:int}",
    guards=[requires("curator")],
    sync_to_thread=False,
    summary="Get one submission, with its diff",
    description="The submission with a field-by-field `diff` against the listing's current revision.",
    responses=problem_responses(400, 401, 403, 404),
    security=SECURITY,
    tags=["curation"],
)
def get_submission(store: StoreDep, identity: IdentityDep, submission_id: IdPath) -> Response[Submission]:
    row = _visible_submission(store, submission_id, identity)
    return Response(_submission_view(store, row, identity, with_diff=True), headers=NO_STORE)


@post(
    "/v1/submissions/{submission_id:int}/decision",
    guards=[requires("reviewer")],
    summary="Approve or reject a submission",
    description="A reviewer decides on someone else's submission (never their own). Approving applies "
    "the change, writes a new listing revision and moves the dataset revision in one transaction; "
    "a stale `base_revision` answers 409 with `current_revision` and changes nothing. Decisions are final.",
    status_code=200,
    responses=problem_responses(400, 401, 403, 404, 409),
    security=SECURITY,
    tags=["curation"],
)
async def decide_submission(
    writer: WriterDep, identity: IdentityDep, submission_id: IdPath, data: JSONBody[DecisionCreate],
) -> Response[Submission]:
    def write(store: Store) -> Submission:
        row = curation.decide(store, identity, submission_id, data.decision, data.reason)
        return _submission_view(store, row, identity)

    return Response(await writer.run(write), headers=NO_STORE)


# --- reports ----------------------------------------------------------------------------------


@post(
    "/v1/listings/{listing_id:str}/reports",
    summary="Report a problem with a listing",
    description="Anyone can report a broken, outdated or suspicious listing; reviewers see the reports. "
    "Rate limited per client address (429 when exceeded).",
    status_code=202,
    responses=problem_responses(400, 404, 429),
    tags=["reports"],
)
async def add_report(
    writer: WriterDep,
    listing_id: Annotated[str, Parameter(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*\Z", max_length=80)],
    data: JSONBody[ReportCreate],
) -> Response[ReportReceipt]:
    report_id = await writer.run(
        lambda store: reports.add_report(store, listing_id=listing_id, reason=data.reason, details=data.details)
    )
    return Response(ReportReceipt(id=report_id, status="open"), status_code=202, headers=NO_STORE)


@get(
    "/v1/reports",
    guards=[requires("reviewer")],
    sync_to_thread=False,
    summary="List reports",
    description="Oldest first; `status=open` is what still needs a look.",
    responses=problem_responses(400, 401, 403),
    security=SECURITY,
    tags=["reports"],
)
def list_reports(
    store: StoreDep,
    status: Annotated[Literal["open", "resolved"] | None, Parameter(description="Only this status.")] = None,
    limit: LimitParam = 20,
    cursor: CursorParam = None,
) -> Response[ReportPage]:
    rows = store.reports.page(status=status, after_id=_decode_cursor(cursor), limit=limit + 1)
    page = ReportPage(
        data=[report_view(r) for r in rows[:limit]],
        next_cursor=_next_cursor(rows, limit),
    )
    return Response(page, headers=NO_STORE)


@post(
    "/v1/reports/{report_id:int}/resolution",
    guards=[requires("reviewer")],
    summary="Resolve a report",
    description="Close an open report with a note saying what was done.",
    status_code=200,
    responses=problem_responses(400, 401, 403, 404, 409),
    security=SECURITY,
    tags=["reports"],
)
async def resolve_report(writer: WriterDep, identity: IdentityDep, report_id: IdPath, data: JSONBody[ReportResolution]) -> Response[Report]:
    row = await writer.run(lambda store: reports.resolve_report(store, identity, report_id, data.resolution))
    return Response(report_view(row), headers=NO_STORE)


# --- tokens -----------------------------------------------------------------------------------


def token_info(row: TokenRow) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        role=row.role,  # type: ignore[arg-type]
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


@post(
    "/v1/tokens",
    guards=[requires("admin")],
    summary="Create a token",
    description="Admins mint tokens for curators and reviewers. The token is in this answer only.",
    status_code=201,
    responses=problem_responses(400, 401, 403),
    security=SECURITY,
    tags=["tokens"],
)
async def add_token(writer: WriterDep, identity: IdentityDep, data: JSONBody[TokenCreate]) -> Response[TokenCreated]:
    token, row = await writer.run(
        lambda store: tokens.create_token(store, name=data.name, role=data.role, expires_in_days=data.expires_in_days, actor=identity.name)
    )
    info = token_info(row)
    created = TokenCreated(token=token, **{f: getattr(info, f) for f in info.__struct_fields__})
    return Response(created, status_code=201, headers=NO_STORE)


@get(
    "/v1/tokens",
    guards=[requires("admin")],
    sync_to_thread=False,
    summary="List tokens",
    description="Every token's record (never the secret).",
    responses=problem_responses(400, 401, 403),
    security=SECURITY,
    tags=["tokens"],
)
def list_tokens(store: StoreDep) -> Response[TokenPage]:
    return Response(TokenPage(data=[token_info(r) for r in tokens.list_tokens(store)]), headers=NO_STORE)


@post(
    "/v1/tokens/{token_id:int}/revocation",
    guards=[requires("admin")],
    summary="Revoke a token",
    description="From now on the token answers 401.",
    status_code=200,
    responses=problem_responses(400, 401, 403, 404, 409),
    security=SECURITY,
    tags=["tokens"],
)
async def revoke_token_endpoint(writer: WriterDep, identity: IdentityDep, token_id: IdPath) -> Response[TokenInfo]:
    row = await writer.run(lambda store: tokens.revoke_token(store, token_id, actor=identity.name))
    return Response(token_info(row), headers=NO_STORE)


curation_handlers = [
    add_submission,
    list_submissions,
    get_submission,
    decide_submission,
    add_report,
    list_reports,
    resolve_report,
    add_token,
    list_tokens,
    revoke_token_endpoint,
]
