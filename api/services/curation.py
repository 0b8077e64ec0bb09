"""Curation rules: who may propose and decide what, and how a decision changes the dataset.

Plain Python over the store (no HTTP here); each rule that fails raises an ``api.errors``
domain error, which the web layer turns into a problem. Every write runs in one transaction
with its audit record, so a failure changes nothing.
"""

from __future__ import annotations

from typing import Any

import msgspec

from api.credentials import Identity
from api.errors import Conflict, FourEyesViolation, Invalid, NotFound
from api.models import (
    CountryDocument,
    CountrySubmission,
    CreateSubmission,
    Decision,
    FieldChange,
    Listing,
    PetitionBlock,
    RetireSubmission,
    Submission,
    SubmissionCreate,
    SubmissionPage,
    UpdateSubmission,
    VerifySubmission,
)
from api.store import Store, SubmissionRow
from api.validation import (
    check_country_document,
    check_designated_siblings,
    check_designated_site,
    check_listing,
    country_domains,
    listing_domains,
    other_listings_domains,
)
from api.vetting import check_text, check_url

__all__ = [
    "COUNTRY_TARGET_PREFIX",
    "check_free_text",
    "country_code_of",
    "decide",
    "diff_documents",
    "submission_page",
    "submission_view",
    "submit",
    "visible_submission",
]

#: A country document's submissions name it ``countries/<CC>`` where a listing's name its id:
#: no listing id can look like that (ids are lower-case slugs without ``/``).
COUNTRY_TARGET_PREFIX = "countries/"


def country_code_of(target: str) -> str | None:
    """The country code a submission is about, or None when it is about a listing."""
    return target[len(COUNTRY_TARGET_PREFIX) :] if target.startswith(COUNTRY_TARGET_PREFIX) else None


def _listing_id(data: SubmissionCreate) -> str:
    """The listing a submission is about; an update cannot rename it."""
    if isinstance(data, CreateSubmission):
        return data.listing.id
    if isinstance(data, UpdateSubmission) and data.listing.id != data.listing_id:
        raise Invalid([("listing.id", "an update cannot change a listing's id")])
    return data.listing_id


def _check_document(store: Store, listing: Listing) -> None:
    """The proposed document against every rule, at submission and again at approval.

    Known domains (for look-alikes): every other listing's, and every domain this listing has
    had in any stored revision, so an update cannot swap ``good.org`` for ``g0od.org``, nor
    first move to a neutral domain and then to the look-alike (``check_listing`` adds the
    document's own).
    """
    topic_ids = {t.id for t in store.topics.all()}
    others = (row.document for row in store.listings.each(statuses=("active", "closed", "retired")))
    stored = frozenset(d for revision in store.listings.revisions(listing.id) for d in listing_domains(revision.document))
    known = other_listings_domains(others, listing.id) | stored
    problems = check_listing(listing, topic_ids, known_domains=known, today=store.now().date())
    # Designations that hold today: those of the listings readers are served (not retired ones).
    served = [row.document for row in store.listings.each()]
    problems += check_designated_site(listing, served)
    problems += check_designated_siblings(listing, served)
    if problems:
        raise Invalid([(f"listing.{f}", m) for f, m in problems])


def _check_base(store: Store, action: str, listing_id: str, base_revision: int | None) -> None:
    """The listing must be in the state the action expects (409 with the current revision if not)."""
    current = store.listings.get(listing_id)
    if action == "create":
        if current is not None:
            raise Conflict(
                f"listing {listing_id!r} already exists (revision {current.revision}); submit an update instead",
                current_revision=current.revision,
            )
        return
    if current is None:
        raise NotFound(f"no listing with id {listing_id!r}")
    if current.status == "retired" and action == "retire":
        raise Conflict(f"listing {listing_id!r} is already retired", current_revision=current.revision)
    if current.status == "retired" and action == "verify":
        raise Conflict(
            f"listing {listing_id!r} is retired: to bring it back, submit an update", current_revision=current.revision
        )
    if current.revision != base_revision:
        raise Conflict(
            f"listing {listing_id!r} is at revision {current.revision}, not {base_revision}: "
            "rebase your change on the current revision and submit it again",
            current_revision=current.revision,
        )


#: Where a re-check's problems are named: the fields of the ``verify`` body that set them.
_VERIFY_FIELDS = {"listing.verification.next_review_at": "next_review_at", "listing.petition.review_by": "review_by"}


def _verified_document(store: Store, data: VerifySubmission) -> Listing:
    """The listing as a re-check leaves it: ``verified_at`` the day of the submission (the
    server's, never the client's, date), the review dates given, nothing else changed."""
    _check_base(store, "verify", data.listing_id, data.base_revision)
    current = store.listings.get(data.listing_id)
    assert current is not None
    doc, today = current.document, store.now().date()
    if data.next_review_at < today:
        raise Invalid([("next_review_at", f"must not be before today ({today.isoformat()}), the day of this re-check")])
    open_ended = doc.kind == "petition" and (doc.petition is None or doc.petition.closes_at is None)
    if data.review_by is not None and not open_ended:
        raise Invalid([("review_by", "only for a petition without closes_at")])
    if data.review_by is None and open_ended:
        raise Invalid([("review_by", "required for a petition without closes_at: the new last day it stays listed")])
    petition = doc.petition
    if open_ended:
        petition = msgspec.structs.replace(petition or PetitionBlock(), review_by=data.review_by)
    verification = msgspec.structs.replace(doc.verification, verified_at=today, next_review_at=data.next_review_at)
    document = msgspec.structs.replace(doc, verification=verification, petition=petition)
    try:
        _check_document(store, document)
    except Invalid as exc:
        raise Invalid([(_VERIFY_FIELDS.get(f, f), m) for f, m in exc.problems]) from None
    return document


def _known_domains(store: Store) -> frozenset[str]:
    """Every domain the directory vouches for: all listings' (retired ones too) and all
    country documents'."""
    listings = (row.document for row in store.listings.each(statuses=("active", "closed", "retired")))
    return frozenset(d for doc in listings for d in listing_domains(doc)) | frozenset(
        d for row in store.countries.all() for d in country_domains(row.document)
    )


def _check_country_document(store: Store, document: CountryDocument) -> None:
    """The proposed country document against every rule an import applies, at submission and
    again at approval. Known domains: every listing's, every other country's, and every domain
    this country's stored revisions had (``check_country_document`` adds the document's own)."""
    listings = (row.document for row in store.listings.each(statuses=("active", "closed", "retired")))
    known = frozenset(d for doc in listings for d in listing_domains(doc))
    known |= frozenset(d for row in store.countries.all() if row.code != document.code for d in country_domains(row.document))
    known |= frozenset(d for revision in store.countries.revisions(document.code) for d in country_domains(revision.document))
    problems = check_country_document(document, known_domains=known, today=store.now().date())
    if problems:
        raise Invalid([(f"country.{f}", m) for f, m in problems])


def _check_country_base(store: Store, code: str, base_revision: int | None) -> None:
    """The country document must be where the proposal was made from (409 with the current
    revision if not): absent for a first document, at ``base_revision`` otherwise."""
    current = store.countries.get(code)
    if current is None:
        if base_revision is not None:
            raise NotFound(f"country {code!r} has no document yet: leave out base_revision")
        return
    if base_revision is None:
        raise Conflict(
            f"country {code!r} already has a document (revision {current.revision}): "
            "submit your change with base_revision",
            current_revision=current.revision,
        )
    if current.revision != base_revision:
        raise Conflict(
            f"country {code!r} is at revision {current.revision}, not {base_revision}: "
            "rebase your change on the current revision and submit it again",
            current_revision=current.revision,
        )


def _submit_country(store: Store, identity: Identity, data: CountrySubmission) -> int:
    """A proposed country document: the same rules, four-eyes and stale-base checks as a listing's."""
    document = data.country
    _check_country_document(store, document)
    with store.transaction():
        _check_country_base(store, document.code, data.base_revision)
        known = _known_domains(store) | country_domains(document)
        bad_sources = [
            problem for i, url in enumerate(data.sources) for problem in check_url(f"sources[{i}]", url, known_domains=known)
        ]
        if bad_sources:
            raise Invalid(bad_sources)
        target = f"{COUNTRY_TARGET_PREFIX}{document.code}"
        submission_id = store.submissions.add(
            action="country",
            listing_id=target,
            base_revision=data.base_revision,
            document=None,
            country=document,
            note=data.note,
            sources=data.sources,
            submitted_by=identity.token_id,
        )
        store.audit.add(
            actor=identity.name,
            action="submission.create",
            target=f"submission:{submission_id}",
            details={"action": "country", "listing_id": target, "base_revision": data.base_revision},
        )
    return submission_id


def _apply_country(store: Store, submission: SubmissionRow) -> int:
    """Approve a country document: the base and the rules once more, then a new revision."""
    document = submission.country
    assert document is not None
    _check_country_base(store, document.code, submission.base_revision)
    try:
        _check_country_document(store, document)
    except Invalid as exc:  # the rules or the other documents moved since it was submitted
        raise Conflict(f"the proposed country document is no longer valid: {exc.detail}") from None
    return store.countries.apply(document)


def check_free_text(field: str, text: str) -> None:
    """Notes, reasons and resolutions are shown to reviewers: plain text only."""
    problems = check_text(field, text)
    if problems:
        raise Invalid(problems)


def submit(store: Store, identity: Identity, data: SubmissionCreate) -> int:
    """Record a proposed change; nothing goes live until a second person approves it."""
    check_free_text("note", data.note)
    if isinstance(data, CountrySubmission):
        return _submit_country(store, identity, data)
    action = data.__struct_config__.tag  # "create" | "update" | "retire" | "verify"
    listing_id = _listing_id(data)
    base_revision = None if isinstance(data, CreateSubmission) else data.base_revision
    if isinstance(data, VerifySubmission):
        document: Listing | None = _verified_document(store, data)
    else:
        document = None if isinstance(data, RetireSubmission) else data.listing
        if document is not None:
            _check_document(store, document)
    with store.transaction():
        _check_base(store, action, listing_id, base_revision)
        # The evidence passes the URL policy too (after the state checks: a 404/409 comes first).
        # Known domains: every listing's, this one's stored revisions and the proposed document's,
        # so evidence on a look-alike of any of them is refused like a listing URL would be.
        known = frozenset(
            d for row in store.listings.each(statuses=("active", "closed", "retired")) for d in listing_domains(row.document)
        ) | frozenset(d for revision in store.listings.revisions(listing_id) for d in listing_domains(revision.document))
        if document is not None:
            known |= listing_domains(document)
        bad_sources = [
            problem for i, url in enumerate(data.sources) for problem in check_url(f"sources[{i}]", url, known_domains=known)
        ]
        if bad_sources:
            raise Invalid(bad_sources)
        submission_id = store.submissions.add(
            action=action,
            listing_id=listing_id,
            base_revision=base_revision,
            document=document,
            note=data.note,
            sources=data.sources,
            submitted_by=identity.token_id,
        )
        store.audit.add(
            actor=identity.name,
            action="submission.create",
            target=f"submission:{submission_id}",
            details={"action": action, "listing_id": listing_id, "base_revision": base_revision},
        )
    return submission_id


def decide(store: Store, identity: Identity, submission_id: int, decision: str, reason: str) -> SubmissionRow:
    """Approve (apply the change, atomically) or reject a pending submission."""
    check_free_text("reason", reason)
    with store.transaction():
        submission = store.submissions.get(submission_id)
        if submission is None:
            raise NotFound(f"no submission {submission_id}")
        if submission.status != "pending":
            raise Conflict(f"submission {submission_id} was already {submission.status}; decisions are final")
        if submission.submitter_person == identity.person:
            raise FourEyesViolation("you submitted this change: a second reviewer must decide on it (four-eyes rule)")
        applied = None
        if decision == "approve" and submission.action == "country":
            applied = _apply_country(store, submission)
        elif decision == "approve":
            _check_base(store, submission.action, submission.listing_id, submission.base_revision)
            if submission.document is not None:
                try:
                    _check_document(store, submission.document)
                except Invalid as exc:  # the taxonomy moved since it was submitted
                    raise Conflict(f"the proposed listing is no longer valid: {exc.detail}") from None
                applied = store.listings.apply(submission.document)
            else:
                applied = store.listings.retire(submission.listing_id)
        status = "approved" if decision == "approve" else "rejected"
        store.submissions.decide(
            submission_id, status=status, decided_by=identity.token_id, reason=reason, applied_revision=applied
        )
        store.audit.add(
            actor=identity.name,
            action=f"submission.{decision}",
            target=f"submission:{submission_id}",
            details={"listing_id": submission.listing_id, "applied_revision": applied, "reason": reason},
        )
    decided = store.submissions.get(submission_id)
    assert decided is not None
    return decided


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def diff_documents(before: msgspec.Struct | None, after: msgspec.Struct | None) -> list[FieldChange]:
    """Field-by-field changes of two listing (or two country) documents as dotted paths
    (lists compared whole), in document order."""
    old = _flatten(msgspec.to_builtins(before)) if before is not None else {}
    new = _flatten(msgspec.to_builtins(after)) if after is not None else {}
    changes = []
    for field in [*new, *(k for k in old if k not in new)]:
        if old.get(field) != new.get(field):
            changes.append(FieldChange(field=field, before=old.get(field), after=new.get(field)))
    return changes


# --- what each person sees of submissions ------------------------------------------------------------


def submission_view(store: Store, row: SubmissionRow, identity: Identity, *, with_diff: bool = False) -> Submission:
    """A submission as ``identity`` may see it: names (who submitted, who decided) only for
    reviewers; ``mine`` for everyone; with ``with_diff``, its changes against the current revision."""
    reviewer = identity.at_least("reviewer")
    code = country_code_of(row.listing_id)
    current = store.countries.get(code) if code is not None else store.listings.get(row.listing_id)
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
        after = None if row.action == "retire" else row.country if code is not None else row.document
        diff = diff_documents(before, after)
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
        country=row.country,
        decision=decision,
        current_revision=current.revision if current is not None else None,
        diff=diff,
    )


def visible_submission(store: Store, submission_id: int, identity: Identity) -> SubmissionRow:
    """The submission, if ``identity`` may see it: a curator sees only their own; others' are
    NotFound, as if they did not exist."""
    row = store.submissions.get(submission_id)
    if row is None or (not identity.at_least("reviewer") and row.submitter_person != identity.person):
        raise NotFound(f"no submission {submission_id}")
    return row


def submission_page(
    store: Store, identity: Identity, *, status: str | None, after_id: int | None, limit: int
) -> tuple[list[Submission], int | None]:
    """One page of the submissions ``identity`` may see, oldest first, and the last id on it
    when there are more (the next page's start)."""
    rows = store.submissions.page(
        status=status,
        submitter_person=None if identity.at_least("reviewer") else identity.person,
        after_id=after_id,
        limit=limit + 1,
    )
    more = rows[limit - 1].id if len(rows) > limit else None
    return [submission_view(store, row, identity) for row in rows[:limit]], more
