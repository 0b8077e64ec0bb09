"""Link checks: each automated check of a listing's url, and the hold two failures in a row put on it.

A listing's link status is server-owned: recording a check writes no listing revision and no
entry in the changes feed (the curated document did not change). It does change what the
public API serves (``link_check`` on every listing view), so the dataset revision must move
or the per-revision response caches and ETags would keep serving the old status. It moves
once per check run (``finish_run``), not once per listing: one run may check hundreds of
links, and each bump empties every process's response cache.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from api.models import Listing
from api.store.db import Database

__all__ = ["LINK_HOLD_AFTER", "CheckStatus", "LatestLinkCheck", "LinkCheckRepository", "LinkCheckRow"]

#: Consecutive failed link checks after which a listing leaves the default public lists.
LINK_HOLD_AFTER = 2

CheckStatus = Literal["ok", "redirected", "broken", "unreachable"]

_listing_decoder = msgspec.json.Decoder(Listing)
_FAILED = "('broken', 'unreachable')"


class LinkCheckRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    listing_id: str
    checked_at: dt.datetime
    status: CheckStatus
    http_status: int | None
    final_url: str | None
    needs_review: bool
    detail: str


class LatestLinkCheck(msgspec.Struct, frozen=True, kw_only=True):
    """A listing's latest check, with how many of its latest checks in a row failed."""

    listing_id: str
    checked_at: dt.datetime
    status: CheckStatus
    http_status: int | None
    final_url: str | None
    needs_review: bool
    detail: str
    consecutive_failures: int


_LINK_CHECK_COLUMNS = (
    "select id, listing_id, checked_at, status, http_status, final_url, needs_review, detail from link_checks"
)
#: How many of a listing's latest checks in a row failed: those after its latest success.
_CONSECUTIVE_FAILURES = (
    f"(select count(*) from link_checks b where b.listing_id = {{listing}} and b.status in {_FAILED} "
    "and b.id > coalesce((select max(g.id) from link_checks g where g.listing_id = {listing} "
    f"and g.status not in {_FAILED}), 0))"
)


def _utc_stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).replace(microsecond=0).isoformat()


class LinkCheckRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def to_check(self, *, country: str | None = None, checked_before: dt.datetime | None = None) -> list[tuple[str, str]]:
        """(id, url) of active listings, by id; optionally only those of one country (worldwide
        ones are not included then), and only those never checked or last checked before
        ``checked_before``."""
        where, params = ["l.status = 'active'"], []
        if country is not None:
            where.append("l.id in (select listing_id from listing_countries where country = ?)")
            params.append(country)
        if checked_before is not None:
            where.append("(l.link_checked_at is null or l.link_checked_at < ?)")
            params.append(_utc_stamp(checked_before))
        sql = f"select l.id, l.document from listings l where {' and '.join(where)} order by l.id"
        return [(r[0], _listing_decoder.decode(r[1]).url) for r in self._db.execute(sql, params)]

    def add(
        self,
        *,
        listing_id: str,
        checked_at: dt.datetime,
        status: str,
        http_status: int | None,
        final_url: str | None,
        needs_review: bool,
        detail: str = "",
    ) -> int:
        """Record one check and make it the listing's current link status, in one transaction
        (the caller's, if one is open). The dataset revision is left to ``finish_run``."""
        stamp = _utc_stamp(checked_at)
        with self._db.joined_transaction():
            cursor = self._db.execute(
                "insert into link_checks (listing_id, checked_at, status, http_status, final_url, needs_review, detail) "
                "values (?, ?, ?, ?, ?, ?, ?)",
                (listing_id, stamp, status, http_status, final_url, int(needs_review), detail),
            )
            self._db.execute(
                "update listings set link_status = ?, link_checked_at = ? where id = ?", (status, stamp, listing_id)
            )
            if self.consecutive_failures(listing_id) >= LINK_HOLD_AFTER:
                # Broken twice in a row: out of the default lists until a reviewer acts.
                self._db.execute("update listings set link_hold = 1 where id = ?", (listing_id,))
        return int(cursor.lastrowid or 0)

    def finish_run(self, recorded: int) -> int:
        """End a run that recorded ``recorded`` checks: move the dataset revision once when it
        recorded any, so caches stop serving the old link statuses. Returns the revision."""
        if recorded:
            with self._db.joined_transaction():
                self._db.bump_revision()
        return self._db.revision()

    def release_hold(self, listing_id: str) -> bool:
        """A reviewer vouches for the listing again; False when it was not held."""
        cursor = self._db.execute("update listings set link_hold = 0 where id = ? and link_hold = 1", (listing_id,))
        if cursor.rowcount:
            self._db.bump_revision()
        return cursor.rowcount == 1

    def held(self) -> list[str]:
        """Ids of the active listings held out of the default lists."""
        rows = self._db.execute("select id from listings where link_hold = 1 and status = 'active' order by id")
        return [r[0] for r in rows]

    def of_listing(self, listing_id: str, limit: int = 20) -> list[LinkCheckRow]:
        """A listing's checks, newest first."""
        return self._db.fetch_all(
            _LINK_CHECK_COLUMNS + " where listing_id = ? order by checked_at desc, id desc limit ?",
            (listing_id, limit), LinkCheckRow, needs_review=bool,
        )

    def consecutive_failures(self, listing_id: str) -> int:
        """How many of the listing's latest checks in a row failed (``broken`` or
        ``unreachable``); 0 when the latest succeeded or there is none."""
        return int(self._db.scalar("select " + _CONSECUTIVE_FAILURES.format(listing="?"), (listing_id, listing_id)))

    def latest(self) -> dict[str, LatestLinkCheck]:
        """Every active listing's latest check (newest ``checked_at``, then newest id), by listing
        id, in one query: listings never checked are not in it."""
        sql = (
            "select c.listing_id, c.checked_at, c.status, c.http_status, c.final_url, c.needs_review, c.detail, "
            f"{_CONSECUTIVE_FAILURES.format(listing='l.id')} as consecutive_failures "
            "from listings l join link_checks c on c.id = (select x.id from link_checks x where x.listing_id = l.id "
            "order by x.checked_at desc, x.id desc limit 1) where l.status = 'active'"
        )
        rows = self._db.each(sql, (), LatestLinkCheck, needs_review=bool)
        return {row.listing_id: row for row in rows}
