"""Reports: anyone reports a problem with a listing; reviewers list and resolve them.

Two controllers, because the two sides differ in who may call them: reporting is public (and
rate limited per client, api/http/guards.py), the rest needs a reviewer's token.
"""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Response, get, post
from litestar.params import JSONBody, Parameter

from api.http.guards import requires
from api.http.openapi import SECURITY
from api.http.params import IdPath, ItemCursorParam, LimitParam, ListingIdPath
from api.http.problems import problem_responses
from api.models import Report, ReportCreate, ReportPage, ReportReceipt, ReportResolution
from api.routes.common import NO_STORE, IdentityDep, StoreDep, WriterDep, decode_item_cursor, next_item_cursor
from api.services import reports
from api.services.reports import report_view

__all__ = ["ListingReportsController", "ReportsController"]


class ListingReportsController(Controller):
    """Reporting a listing: public."""

    path = "/v1/listings/{listing_id:str}/reports"
    tags = ["reports"]

    @post(
        "/",
        summary="Report a problem with a listing",
        description="Anyone can report a broken, outdated or suspicious listing; reviewers see the reports. "
        "Rate limited per client address (429 when exceeded).",
        status_code=202,
        responses=problem_responses(400, 404, 429),
    )
    async def create_report(
        self, writer: WriterDep, listing_id: ListingIdPath, data: JSONBody[ReportCreate]
    ) -> Response[ReportReceipt]:
        report_id = await writer.run(
            lambda store: reports.add_report(store, listing_id=listing_id, reason=data.reason, details=data.details)
        )
        return Response(ReportReceipt(id=report_id, status="open"), status_code=202, headers=NO_STORE)


class ReportsController(Controller):
    """The reviewers' side of reports."""

    path = "/v1/reports"
    tags = ["reports"]
    guards = [requires("reviewer")]
    security = SECURITY

    @get(
        "/",
        summary="List reports",
        description="Oldest first; `status=open` is what still needs a look.",
        responses=problem_responses(400, 401, 403),
    )
    async def list_reports(
        self,
        store: StoreDep,
        status: Annotated[Literal["open", "resolved"] | None, Parameter(description="Only this status.")] = None,
        limit: LimitParam = 20,
        cursor: ItemCursorParam = None,
    ) -> Response[ReportPage]:
        rows = store.reports.page(status=status, after_id=decode_item_cursor(cursor), limit=limit + 1)
        page = ReportPage(data=[report_view(r) for r in rows[:limit]], next_cursor=next_item_cursor(rows, limit))
        return Response(page, headers=NO_STORE)

    @post(
        "/{report_id:int}/resolution",
        summary="Resolve a report",
        description="Close an open report with a note saying what was done.",
        status_code=200,
        responses=problem_responses(400, 401, 403, 404, 409),
    )
    async def resolve_report(
        self, writer: WriterDep, identity: IdentityDep, report_id: IdPath, data: JSONBody[ReportResolution]
    ) -> Response[Report]:
        row = await writer.run(lambda store: reports.resolve_report(store, identity, report_id, data.resolution))
        return Response(report_view(row), headers=NO_STORE)
