"""For load balancers and monitors: is this process up, and which revision does it serve."""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, get

from api.http.params import JSON
from api.http.problems import problem_responses
from api.models import Health
from api.routes.common import StoreDep

__all__ = ["OperationsController"]

_encoder = msgspec.json.Encoder()


class OperationsController(Controller):
    """Liveness."""

    path = "/"
    tags = ["operations"]

    @get(
        "/healthz",
        summary="Liveness",
        description="Answers 200 while the process can read its database, with the dataset revision it serves.",
        responses=problem_responses(400),
    )
    async def get_health(self, store: StoreDep) -> Response[Health]:
        revision, listings = store.listings.count_active()  # counted once per revision, not per request
        health = Health(status="ok", revision=revision, listings=listings)
        return Response(content=_encoder.encode(health), media_type=JSON, headers={"Cache-Control": "no-cache"})
