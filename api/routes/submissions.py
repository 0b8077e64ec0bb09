"""Submissions: curators propose changes, a second person (a reviewer) decides.

Thin adapters: validate the request, call the service (api/services/curation.py) in the
writer, encode. Every handler needs at least a curator's token; deciding needs a reviewer's.
"""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.params import JSONBody, Parameter

from api.http.guards import requires
from api.http.openapi import SECURITY
from api.http.params import IdPath, ItemCursorParam, LimitParam
from api.http.problems import problem_responses
from api.models import DecisionCreate, Submission, SubmissionCreate, SubmissionPage
from api.routes.common import NO_STORE, IdentityDep, StoreDep, WriterDep, decode_item_cursor, item_cursor_after
from api.services import curation
from api.store import Store

__all__ = ["SubmissionsController"]


class SubmissionsController(Controller):
    """Proposed changes and their decisions."""

    path = "/v1/submissions"
    tags = ["curation"]
    guards = [requires("curator")]
    security = SECURITY

    @post(
        "/",
        summary="Propose a change",
        description="Propose creating, updating or retiring a listing, re-verifying one (`verify`), or a "
        "country's whole document with its advisories (`country`). Documents are validated exactly as "
        "`actiondir import` validates files. Nothing goes live until a second person, a reviewer, "
        "approves it.",
        responses=problem_responses(400, 401, 403, 404, 409),
        response_headers=[
            ResponseHeader(
                name="Location", documentation_only=True, required=True, description="The new submission's URL."
            )
        ],
    )
    async def create_submission(
        self, writer: WriterDep, identity: IdentityDep, data: JSONBody[SubmissionCreate]
    ) -> Response[Submission]:
        def write(store: Store) -> tuple[int, Submission]:
            submission_id = curation.submit(store, identity, data)
            row = store.submissions.get(submission_id)
            assert row is not None
            return submission_id, curation.submission_view(store, row, identity)

        submission_id, view = await writer.run(write)
        return Response(view, status_code=201, headers={**NO_STORE, "Location": f"/v1/submissions/{submission_id}"})

    @get(
        "/",
        summary="List submissions",
        description="Oldest first, so `status=pending` is the review queue. A curator sees their own "
        "submissions; reviewers see everyone's. A country document's submissions name it "
        "`countries/<CC>` in `listing_id`.",
        responses=problem_responses(400, 401, 403),
    )
    async def list_submissions(
        self,
        store: StoreDep,
        identity: IdentityDep,
        status: Annotated[Literal["pending", "approved", "rejected"] | None, Parameter(description="Only this status.")] = None,
        limit: LimitParam = 20,
        cursor: ItemCursorParam = None,
    ) -> Response[SubmissionPage]:
        views, last_id = curation.submission_page(
            store, identity, status=status, after_id=decode_item_cursor(cursor), limit=limit
        )
        return Response(SubmissionPage(data=views, next_cursor=item_cursor_after(last_id)), headers=NO_STORE)

    @get(
        "/{submission_id:int}",
        summary="Get one submission, with its diff",
        description="The submission with a field-by-field `diff` against the listing's (or country "
        "document's) current revision.",
        responses=problem_responses(400, 401, 403, 404),
    )
    async def get_submission(self, store: StoreDep, identity: IdentityDep, submission_id: IdPath) -> Response[Submission]:
        row = curation.visible_submission(store, submission_id, identity)
        return Response(curation.submission_view(store, row, identity, with_diff=True), headers=NO_STORE)

    @post(
        "/{submission_id:int}/decision",
        guards=[requires("reviewer")],
        summary="Approve or reject a submission",
        description="A reviewer decides on someone else's submission (never their own). Approving applies "
        "the change, writes a new listing (or country document) revision and moves the dataset revision in "
        "one transaction; "
        "a stale `base_revision` answers 409 with `current_revision` and changes nothing. Decisions are final.",
        status_code=200,
        responses=problem_responses(400, 401, 403, 404, 409),
    )
    async def decide_submission(
        self, writer: WriterDep, identity: IdentityDep, submission_id: IdPath, data: JSONBody[DecisionCreate],
    ) -> Response[Submission]:
        def write(store: Store) -> Submission:
            row = curation.decide(store, identity, submission_id, data.decision, data.reason)
            return curation.submission_view(store, row, identity)

        return Response(await writer.run(write), headers=NO_STORE)
