"""The v1 contract's shapes as msgspec Structs, one module per resource.

One struct, ``Listing``, validates every write path: a file in ``directory_data/listings/``,
(later) the ``listing`` of a curator submission, and an item of ``/v1/dataset``. Constraints
live in the types so they show up in the OpenAPI schema too; rules a type cannot express
(known country codes, known topics, id matching its file name) live in ``api.validation``.

Policy for every struct (see msgspec's ``docs/structs.rst``):

- ``forbid_unknown_fields=True``: a misspelt field is an error, never silently dropped;
- ``kw_only=True``: required and optional fields can be declared in any order (msgspec does
  not inherit this option, so every subclass repeats it);
- ``omit_defaults=True``: optional blocks that are absent stay absent when encoded, so an
  export writes back what the curator wrote.

Every ``pattern`` ends in ``\\Z``, never ``$``: msgspec applies patterns with ``re.search``,
and Python's ``$`` also matches before a final newline, so ``"ru\\n"`` would pass ``^[a-z]+$``.
The published spec shows ``\\Z`` as ECMA-262's ``$`` (see ``api.messages.ecma_pattern``).

Modules: ``common`` (shared field types and ``Base``), ``listings`` (the listing document and
the topic taxonomy), ``risks`` (states' designations of a listing's organization, and the
``safety`` they mean per country), ``public`` (what the read API serves), ``curation``,
``reports``, ``tokens``, ``vetting``, ``countries`` (the country document and its advisories).
Import from ``api.models``: every public name is re-exported here.
OpenAPI component names are the class names, so a struct keeps its name wherever it lives.
"""

from __future__ import annotations

from api.models.common import (
    COUNTRY_WORLDWIDE,
    LANGUAGE_TAG_PATTERN,
    Base,
    ContactChannel,
    CountryCode,
    HttpsUrl,
    Kind,
    LanguageTag,
    Note,
    Service,
    ShortText,
    Slug,
    Summary,
    Timestamp,
    Title,
)
from api.models.countries import MAX_ADVISORIES, Advisory, CountryDocument
from api.models.curation import (
    BaseRevision,
    Change,
    ChangePage,
    CountryRevision,
    CountryRevisionPage,
    CountrySubmission,
    CreateSubmission,
    Decision,
    DecisionCreate,
    FieldChange,
    ListingRevision,
    ListingRevisionPage,
    RetireSubmission,
    Sources,
    Submission,
    SubmissionCreate,
    SubmissionPage,
    UpdateSubmission,
    VerifySubmission,
)
from api.models.listings import (
    Contact,
    DonationBlock,
    Listing,
    OrganizationBlock,
    PetitionBlock,
    Topic,
    TopicFile,
    Translation,
    Verification,
)
from api.models.public import (
    AdvisoryView,
    Country,
    CountryCounts,
    DatasetInfo,
    DatasetItem,
    Health,
    LinkCheck,
    ListingLabels,
    ListingPage,
    ListingView,
    Page,
    TopicPage,
    TopicView,
)
from api.models.risks import (
    DANGER_DESIGNATIONS,
    DESIGNATIONS,
    WITHHELD_KINDS,
    DesignatingCountry,
    Designation,
    LegalRisk,
    Safety,
    SafetyLevel,
    SafetyNote,
)
from api.models.reports import (
    Report,
    ReportCreate,
    ReportPage,
    ReportReceipt,
    ReportResolution,
)
from api.models.tokens import (
    Role,
    TokenCreate,
    TokenCreated,
    TokenInfo,
    TokenPage,
)
from api.models.vetting import (
    ClosingPetition,
    HoldRelease,
    HoldReleased,
    LinkProblem,
    OverdueReview,
    VettingCounts,
    VettingSummary,
)

__all__ = [
    "COUNTRY_WORLDWIDE",
    "DANGER_DESIGNATIONS",
    "DESIGNATIONS",
    "WITHHELD_KINDS",
    "LANGUAGE_TAG_PATTERN",
    "MAX_ADVISORIES",
    "Advisory",
    "AdvisoryView",
    "Base",
    "BaseRevision",
    "Change",
    "ChangePage",
    "ClosingPetition",
    "Contact",
    "ContactChannel",
    "Country",
    "CountryCode",
    "CountryCounts",
    "CountryDocument",
    "CountryRevision",
    "CountryRevisionPage",
    "CountrySubmission",
    "CreateSubmission",
    "DatasetInfo",
    "DatasetItem",
    "Decision",
    "DecisionCreate",
    "DesignatingCountry",
    "Designation",
    "DonationBlock",
    "FieldChange",
    "Health",
    "HoldRelease",
    "HoldReleased",
    "HttpsUrl",
    "Kind",
    "LanguageTag",
    "LegalRisk",
    "LinkCheck",
    "LinkProblem",
    "Listing",
    "ListingLabels",
    "ListingPage",
    "ListingRevision",
    "ListingRevisionPage",
    "ListingView",
    "Note",
    "OrganizationBlock",
    "OverdueReview",
    "Page",
    "PetitionBlock",
    "Report",
    "ReportCreate",
    "ReportPage",
    "ReportReceipt",
    "ReportResolution",
    "RetireSubmission",
    "Role",
    "Safety",
    "SafetyLevel",
    "SafetyNote",
    "Service",
    "ShortText",
    "Slug",
    "Sources",
    "Submission",
    "SubmissionCreate",
    "SubmissionPage",
    "Summary",
    "Timestamp",
    "Title",
    "TokenCreate",
    "TokenCreated",
    "TokenInfo",
    "TokenPage",
    "Topic",
    "TopicFile",
    "TopicPage",
    "TopicView",
    "Translation",
    "UpdateSubmission",
    "Verification",
    "VerifySubmission",
    "VettingCounts",
    "VettingSummary",
]
