"""One exception for every answer that is not a success, so callers catch one type.

The API answers every error as an RFC 9457 problem (``application/problem+json``); anything
else that is not a success (a proxy's HTML error page, say) is turned into the same shape, as
RFC 9457 suggests for a bare status (``type`` ``about:blank``, ``title`` the status phrase).
"""

from __future__ import annotations

from http import HTTPStatus

import msgspec

from actiondir_client.models import FieldError, Problem

__all__ = ["ProblemError", "problem_from_response"]

PROBLEM_MEDIA_TYPE = "application/problem+json"
_DETAIL_LIMIT = 500  # of a non-problem body quoted as the detail: enough to recognise it
_problem_decoder = msgspec.json.Decoder(Problem)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


class ProblemError(Exception):
    """The API answered with a problem: ``status``, ``title``, ``detail``, ``errors``…

    ``errors`` names each input at fault (``FieldError(in_="query", field="limit", …)``) on
    400s; ``current_revision`` is set on 409 conflicts; ``retry_after`` is the server's
    ``Retry-After`` in seconds when it sent one (the client already waited and retried as far
    as it was allowed to).
    """

    def __init__(self, problem: Problem, *, status: int, retry_after: float | None = None) -> None:
        self.problem = problem
        self.status: int = status  # the HTTP status is authoritative (RFC 9457 §3.1.3)
        self.type: str = problem.type
        self.title: str = problem.title or _phrase(self.status)
        self.detail: str | None = problem.detail
        self.instance: str | None = problem.instance
        self.errors: list[FieldError] = list(problem.errors)
        self.current_revision: int | None = problem.current_revision
        self.retry_after = retry_after
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.status} {self.title}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def __repr__(self) -> str:
        return f"ProblemError(status={self.status!r}, title={self.title!r}, detail={self.detail!r})"


def problem_from_response(
    status: int, content_type: str | None, content: bytes, *, retry_after: float | None = None
) -> ProblemError:
    """The error for a non-success answer, whether or not its body is a problem document."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in (PROBLEM_MEDIA_TYPE, "application/json"):
        try:
            return ProblemError(_problem_decoder.decode(content), status=status, retry_after=retry_after)
        except msgspec.DecodeError:
            pass  # not a problem after all: described below from the status alone
    detail = content[:_DETAIL_LIMIT].decode("utf-8", "replace").strip() or None
    return ProblemError(Problem(status=status, detail=detail), status=status, retry_after=retry_after)
