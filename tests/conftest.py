"""Shared fixtures: real data folders, real SQLite files, the real app over HTTP (httpx)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from factory import default_listings, write_dataset
from litestar.testing import TestClient

from api.app import ActionDirectory, create_app
from api.dataset import import_directory
from api.settings import load_settings
from api.store import ImportSummary, Store

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (tests only ever use loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppClient(TestClient):
    """litestar's TestClient that keeps the app it serves as ``served``.

    TestClient wraps any ASGI app that is not a ``Litestar`` (ours is the stack in front of
    one: api/app.py), so its ``app`` is that wrapper, not ours.
    """

    def __init__(self, app: ActionDirectory, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.served = app


@dataclass
class Deployment:
    """A data folder, its database, and a way to change the data and re-import it."""

    data: Path
    db: Path

    def reimport(
        self,
        listings: list[dict[str, Any]] | None = None,
        topics: list[dict[str, Any]] | None = None,
        countries: list[dict[str, Any]] | None = None,
    ) -> ImportSummary:
        """Rewrite the folder (its country documents only when ``countries`` is given) and import it."""
        write_dataset(self.data, listings, topics, countries)
        store = Store(self.db, create=True)
        try:
            return import_directory(self.data, store)
        finally:
            store.close()

    def client(self, **settings: Any) -> AppClient:
        return AppClient(create_app(load_settings(db=self.db, **settings)))


def schema_for_python(app: Any, path: str = "/v1/openapi.json"):
    r"""The app's spec as a schemathesis schema whose patterns mean in Python what they mean in
    the spec.

    JSON Schema patterns are ECMA-262, where ``$`` is the end of the input. Python's ``$`` also
    matches before a final newline, so data generated from ``^…$`` in Python can end in ``\n``,
    which the API rightly refuses; ``\Z`` is the Python spelling of ECMA's ``$``.
    """
    import schemathesis  # noqa: PLC0415 - test-only dependency, for the two schemathesis modules

    with TestClient(app) as client:
        spec = client.get(path).json()

    def python_patterns(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: (re.sub(r"(?<!\\)\$$", r"\\Z", value) if key == "pattern" and isinstance(value, str) else python_patterns(value))
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [python_patterns(item) for item in node]
        return node

    schema = schemathesis.openapi.from_dict(python_patterns(spec))
    schema.app = app
    schema.location = path
    return schema


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    """A fresh data folder with the default test listings, imported into a fresh SQLite file."""
    dep = Deployment(data=tmp_path / "data", db=tmp_path / "test.db")
    dep.reimport(default_listings())
    return dep


@pytest.fixture
def client(deployment: Deployment) -> Iterator[TestClient]:
    with deployment.client() as test_client:
        yield test_client


@pytest.fixture(scope="session")
def seed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real seed dataset in directory_data/, imported once for the session."""
    db = tmp_path_factory.mktemp("seed") / "seed.db"
    store = Store(db, create=True)
    try:
        import_directory(REPO / "directory_data", store)
    finally:
        store.close()
    return db


@pytest.fixture(scope="session")
def seed_client(seed_db: Path) -> Iterator[TestClient]:
    with AppClient(create_app(load_settings(db=seed_db))) as test_client:
        yield test_client
