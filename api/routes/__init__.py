"""The API's routes: one litestar ``Controller`` per resource, thin adapters over the services.

Each controller declares once what all its handlers share (path, tag, guard, security); each
handler validates (litestar does, from its signature), calls the read model or a service, and
encodes. A read-only replica registers only ``PUBLIC_READS`` (api/app.py).
"""

from __future__ import annotations

from litestar import Controller

from api.routes.countries import CountriesController
from api.routes.dataset import DatasetController
from api.routes.embed import EmbedController
from api.routes.listings import ListingsController
from api.routes.operations import OperationsController
from api.routes.reports import ListingReportsController, ReportsController
from api.routes.submissions import SubmissionsController
from api.routes.tokens import TokensController
from api.routes.topics import TopicsController
from api.routes.vetting import VettingController

__all__ = ["PRIMARY_ONLY", "PUBLIC_READS"]

PUBLIC_READS: tuple[type[Controller], ...] = (
    ListingsController,
    CountriesController,
    TopicsController,
    DatasetController,
    OperationsController,
    EmbedController,
)
"""Public GETs: what every server answers, a read-only replica included."""

PRIMARY_ONLY: tuple[type[Controller], ...] = (
    SubmissionsController,
    ListingReportsController,
    ReportsController,
    TokensController,
    VettingController,
)
"""Writes, and the curation side: only a server with a writable database answers them."""
