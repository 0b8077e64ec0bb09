"""Reports: anyone may flag a listing; reviewers resolve the reports.

Each write runs in one transaction with its audit record.
"""

from __future__ import annotations

from typing import get_args, get_type_hints

from api.credentials import Identity
from api.errors import Conflict, Invalid, NotFound
from api.models import Report, ReportCreate
from api.services.curation import check_free_text
from api.store import ReportRow, Store
from api.vetting import check_text

__all__ = ["add_report", "report_view", "resolve_report"]

#: What a report may say is wrong (the API's ``ReportCreate.reason``; the CLI and tests call the service directly).
_REASONS: tuple[str, ...] = get_args(get_type_hints(ReportCreate)["reason"])


def report_view(row: ReportRow) -> Report:
    return Report(
        id=row.id,
        listing_id=row.listing_id,
        reason=row.reason,
        details=row.details,
        status=row.status,
        created_at=row.created_at,
        resolved_at=row.resolved_at,
        resolution=row.resolution,
    )


def add_report(store: Store, *, listing_id: str, reason: str, details: str | None) -> int:
    """Record a public report on a current (not retired) listing; the details are plain text."""
    # Clients often add a final newline (and stray spaces); str.strip() would also drop control
    # characters Python counts as white space (tab, CR, FS-US, NEL), which are refused instead.
    details = details.strip(" \n") if details else None
    problems = [] if reason in _REASONS else [("reason", f"expected one of {', '.join(_REASONS)}, got {reason!r}")]
    if details:
        problems += check_text("details", details)
    if problems:
        raise Invalid(problems)
    row = store.listings.get(listing_id)
    if row is None or row.status == "retired":
        raise NotFound(f"no listing with id {listing_id!r}")
    with store.transaction():
        report_id = store.reports.add(listing_id=listing_id, reason=reason, details=details or None)
        store.audit.add(actor="public", action="report.create", target=f"report:{report_id}",
                        details={"listing_id": listing_id, "reason": reason})
    return report_id


def resolve_report(store: Store, identity: Identity, report_id: int, resolution: str) -> ReportRow:
    """Close an open report with a note saying what was done (once: a second time is a conflict)."""
    check_free_text("resolution", resolution)
    with store.transaction():
        if store.reports.get(report_id) is None:
            raise NotFound(f"no report {report_id}")
        if not store.reports.resolve(report_id, resolved_by=identity.token_id, resolution=resolution):
            raise Conflict(f"report {report_id} is already resolved")
        store.audit.add(actor=identity.name, action="report.resolve", target=f"report:{report_id}",
                        details={"resolution": resolution})
    row = store.reports.get(report_id)
    assert row is not None
    return row
