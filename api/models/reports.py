"""Reader reports: what anyone can flag about a listing, and how a reviewer resolves it.

Why a module of its own: reports are the one write open to the public (no token), so their
shapes are kept apart from the curators' ones.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from api.models.common import Base, Note, Timestamp

__all__ = [
    "Report",
    "ReportCreate",
    "ReportPage",
    "ReportReceipt",
    "ReportResolution",
]


class ReportCreate(Base, kw_only=True):
    reason: Literal["broken_link", "outdated", "suspicious", "other"]
    details: Annotated[str, Meta(max_length=2000, description="Plain text.")] | None = None


class ReportReceipt(msgspec.Struct, kw_only=True):
    id: int
    status: Literal["open"]


class Report(msgspec.Struct, kw_only=True):
    id: int
    listing_id: str
    reason: Literal["broken_link", "outdated", "suspicious", "other"]
    details: str | None
    status: Literal["open", "resolved"]
    created_at: Timestamp
    resolved_at: Timestamp | None = None
    resolution: str | None = None


class ReportPage(msgspec.Struct, kw_only=True):
    data: list[Report]
    next_cursor: str | None


class ReportResolution(Base, kw_only=True):
    resolution: Note
