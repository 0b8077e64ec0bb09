"""Topics: the curated taxonomy, each topic labelled in the negotiated language."""

from __future__ import annotations

from litestar import Controller, Response, get

from api.services.read_model import build_topics
from api.http.params import AcceptLanguage, LangParam
from api.http.problems import problem_responses
from api.i18n import language_preferences
from api.models import TopicPage
from api.routes.common import READ_HEADERS, TEXT_HEADERS, ReaderDep

__all__ = ["TopicsController"]


class TopicsController(Controller):
    """The taxonomy."""

    path = "/v1/topics"
    tags = ["topics"]
    response_headers = [*READ_HEADERS, *TEXT_HEADERS]

    @get(
        "/",
        summary="List topics",
        description="The curated taxonomy in its curated order, each with its label in the negotiated language.",
        responses=problem_responses(400),
    )
    async def list_topics(
        self, reader: ReaderDep, lang: LangParam = None, accept_language: AcceptLanguage = None
    ) -> Response[TopicPage]:
        preferences = language_preferences(lang, accept_language)
        return reader.respond(lambda: build_topics(reader.store, preferences, reader.visibility()))
