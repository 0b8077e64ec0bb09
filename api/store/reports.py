"""Reports: anyone may say a listing's link is broken, outdated or suspicious; a reviewer resolves it.

Why a module of its own: reports are the one thing an anonymous reader writes, so they are
their own aggregate, small and separate from curation (no token behind them).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from api.store.db import Database

__all__ = ["ReportReason", "ReportRepository", "ReportRow", "ReportStatus"]

ReportReason = Literal["broken_link", "outdated", "suspicious", "other"]
ReportStatus = Literal["open", "resolved"]


class ReportRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    listing_id: str
    reason: ReportReason
    details: str | None
    status: ReportStatus
    created_at: dt.datetime
    resolved_at: dt.datetime | None
    resolution: str | None


_REPORT_COLUMNS = "select id, listing_id, reason, details, status, created_at, resolved_at, resolution from reports"


class ReportRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, *, listing_id: str, reason: str, details: str | None) -> int:
        cursor = self._db.execute(
            "insert into reports (listing_id, reason, details, status, created_at) values (?, ?, ?, 'open', ?)",
            (listing_id, reason, details, self._db.now().isoformat()),
        )
        return int(cursor.lastrowid or 0)

    def get(self, report_id: int) -> ReportRow | None:
        return self._db.fetch_one(_REPORT_COLUMNS + " where id = ?", (report_id,), ReportRow)

    def page(self, *, status: str | None, after_id: int | None, limit: int | None) -> list[ReportRow]:
        """Oldest first, keyset on id; every one after ``after_id`` when ``limit`` is None."""
        where, params = ["1 = 1"], []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if after_id is not None:
            where.append("id > ?")
            params.append(after_id)
        sql = f"{_REPORT_COLUMNS} where {' and '.join(where)} order by id"
        if limit is not None:
            sql += " limit ?"
            params.append(limit)
        return self._db.fetch_all(sql, params, ReportRow)

    def resolve(self, report_id: int, *, resolved_by: int, resolution: str) -> bool:
        """False when it was no longer open."""
        cursor = self._db.execute(
            "update reports set status = 'resolved', resolved_at = ?, resolved_by = ?, resolution = ? "
            "where id = ? and status = 'open'",
            (self._db.now().isoformat(), resolved_by, resolution, report_id),
        )
        return cursor.rowcount == 1
