"""The dataset for mirrors: everything at once (JSON or NDJSON), and the changes feed."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Response, get
from litestar.params import HeaderParameter, Parameter

from api.services.read_model import CursorInvalid, build_changes, build_dataset, dataset_items
from api.http.params import NDJSON, dataset_media_type
from api.http.problems import FieldError, InvalidRequest, problem_responses
from api.models import ChangePage, DatasetInfo
from api.routes.common import READ_HEADERS, ReaderDep

__all__ = ["DatasetController"]

_encoder = msgspec.json.Encoder()


class DatasetController(Controller):
    """The whole public dataset, and every change to it in order."""

    path = "/v1"
    tags = ["dataset"]
    response_headers = READ_HEADERS

    @get(
        "/dataset",
        summary="The whole public dataset",
        description="Every listing that is not retired (closed and unverified ones included, with their "
        "`status`) as its listing document plus server-owned fields, "
        "with the taxonomy, every country document (`countries`: advisories in every language), the "
        "dataset revision and the data licence. Send "
        "`Accept: application/x-ndjson` for one listing per line instead (listings only, no envelope; "
        "the revision is in the `X-Dataset-Revision` header). `Accept` is negotiated with q-values (RFC 9110); "
        "when it names neither type, the answer is JSON.",
        responses=problem_responses(400),
    )
    async def get_dataset(
        self,
        reader: ReaderDep,
        accept: Annotated[str | None, HeaderParameter(name="Accept", description="`application/x-ndjson` for one listing per line.")] = None,
    ) -> Response[DatasetInfo]:
        revision = reader.revision()
        if dataset_media_type(accept) == NDJSON:
            lines = b"".join(_encoder.encode(item) + b"\n" for item in dataset_items(reader.store, reader.today()))
            return reader.send(lines, revision, vary="Accept", media_type=NDJSON)
        return reader.json(build_dataset(reader.store, revision, reader.today()), revision, vary="Accept")

    @get(
        "/changes",
        summary="The changes feed",
        description="Every listing revision in the order it was accepted, for keeping a mirror in sync: "
        "start without `since`, apply each change (create and update put `listing`, retire removes it), "
        "then poll with `next_cursor` as `since`. Following it from the start reproduces `/v1/dataset`.",
        responses=problem_responses(400),
    )
    async def list_changes(
        self,
        reader: ReaderDep,
        since: Annotated[
            str | None, Parameter(pattern=r"^s1\.[0-9]{1,18}\Z", description="`next_cursor` of the previous page.")
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=500, description="Page size.")] = 100,
    ) -> Response[ChangePage]:
        def build() -> ChangePage:
            try:
                return build_changes(reader.store, since=since, limit=limit)
            except CursorInvalid as exc:
                raise InvalidRequest([FieldError(in_="query", field="since", detail=str(exc))]) from None

        return reader.respond(build, vary="Accept-Encoding")
