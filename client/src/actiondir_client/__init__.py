"""A typed Python client for the Action Directory API.

    from actiondir_client import Client

    with Client("https://actiondir.example.org") as api:
        for item in api.listings(country="RU", kind="donation", lang="ru"):
            print(item.title, item.url)

See ``Client`` for what every request does (conditional requests, ``Retry-After``,
``ProblemError``) and ``actiondir_client.models`` for the response shapes.
"""

from actiondir_client._version import __version__
from actiondir_client.client import AsyncChangeFeed, AsyncClient, ChangeFeed, Client
from actiondir_client.errors import ProblemError
from actiondir_client.models import (
    Advisory,
    AdvisoryView,
    Change,
    ChangePage,
    Contact,
    Country,
    CountryCounts,
    CountryDocument,
    CountryPage,
    CountryRevision,
    CountryRevisionPage,
    DatasetInfo,
    DatasetItem,
    DonationBlock,
    FieldError,
    Health,
    LinkCheck,
    Listing,
    ListingLabels,
    ListingPage,
    ListingRevision,
    ListingRevisionPage,
    ListingView,
    OrganizationBlock,
    PetitionBlock,
    Problem,
    Topic,
    TopicPage,
    TopicView,
    Translation,
    Verification,
)

__all__ = [
    "Advisory",
    "AdvisoryView",
    "AsyncChangeFeed",
    "AsyncClient",
    "Change",
    "ChangeFeed",
    "ChangePage",
    "Client",
    "Contact",
    "Country",
    "CountryCounts",
    "CountryDocument",
    "CountryPage",
    "CountryRevision",
    "CountryRevisionPage",
    "DatasetInfo",
    "DatasetItem",
    "DonationBlock",
    "FieldError",
    "Health",
    "LinkCheck",
    "Listing",
    "ListingLabels",
    "ListingPage",
    "ListingRevision",
    "ListingRevisionPage",
    "ListingView",
    "OrganizationBlock",
    "PetitionBlock",
    "Problem",
    "ProblemError",
    "Topic",
    "TopicPage",
    "TopicView",
    "Translation",
    "Verification",
    "__version__",
]
