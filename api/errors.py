"""Domain errors: what a business rule says when it refuses, with no web types in sight.

Services (api/services) raise these; the web layer (api/app.py) turns each into a problem
by its ``status``, and the CLI into a message. Nothing here imports litestar.

* ``DomainError``
  * ``Invalid`` (400): the input is wrong; ``problems`` lists each ``(field, detail)``
  * ``NotFound`` (404)
  * ``FourEyesViolation`` (403): a reviewer may not decide on their own submission
  * ``Conflict`` (409): stale ``base_revision``, already decided or revoked, not held…;
    ``current_revision`` says where the listing is now, when that helps the client
"""

from __future__ import annotations

__all__ = ["Conflict", "DomainError", "FourEyesViolation", "Invalid", "NotFound"]


class DomainError(Exception):
    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Invalid(DomainError):
    status = 400

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{field}: {detail}" for field, detail in self.problems))


class NotFound(DomainError):
    status = 404


class FourEyesViolation(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409

    def __init__(self, detail: str, *, current_revision: int | None = None) -> None:
        super().__init__(detail)
        self.current_revision = current_revision
