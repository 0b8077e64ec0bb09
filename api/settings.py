"""Settings: one declarative table, each overridable by an ``ACTIONDIR_<NAME>`` variable.

The table drives the environment lookup, ``actiondir serve --help`` and the README's
settings section (a test checks that every setting is documented there).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["SETTINGS", "Setting", "Settings", "load_settings"]


class Setting(NamedTuple):
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "actiondir.db", "Path of the SQLite database file."),
    Setting("data", "directory_data", "Folder of the seed dataset that `actiondir import` reads."),
    Setting("host", "127.0.0.1", "Address the server binds to."),
    Setting("port", 8000, "Port the server listens on."),
    Setting("workers", 1, "Server worker processes (each reads the same database)."),
    Setting("max_age", 60, "Seconds shared caches and browsers may reuse a GET response."),
    Setting("stale_while_revalidate", 600, "Seconds a cache may serve a stale response while it revalidates."),
    Setting(
        "write_wait_ms",
        2000,
        "Milliseconds a write may wait, from when it arrives (queue included), for another "
        "process's write lock before giving up (the API answers 503 with Retry-After; the CLI "
        "says to try again).",
    ),
    Setting("response_cache_size", 4096, "Responses kept per process (LRU) by the front cache (whole answers), and gzip bodies (by ETag)."),
    Setting(
        "revision_poll_ms",
        1000,
        "Milliseconds between checks of the dataset revision by the front response cache: a "
        "write by another process (worker, import) is served within this long; one made by "
        "the same process at once.",
    ),
    Setting("reports_per_minute", 5, "Public reports accepted per client address per minute (per process)."),
    Setting(
        "trusted_proxies",
        "",
        "Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is believed.",
    ),
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """Resolved settings; build with :func:`load_settings`."""

    db: Path
    data: Path
    host: str
    port: int
    workers: int
    max_age: int
    stale_while_revalidate: int
    write_wait_ms: int
    response_cache_size: int
    revision_poll_ms: int
    reports_per_minute: int
    trusted_proxies: str


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then ``ACTIONDIR_*`` variables, then explicit overrides (e.g. CLI options)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = env.get(f"ACTIONDIR_{setting.name.upper()}")
        value = setting.default if raw is None else raw
        if overrides.get(setting.name) is not None:
            value = overrides[setting.name]
        kind = type(setting.default)
        try:
            values[setting.name] = Path(value) if setting.name in {"db", "data"} else kind(value)
        except ValueError:
            raise ValueError(
                f"ACTIONDIR_{setting.name.upper()}={value!r} is not a valid {kind.__name__}"
            ) from None
    return Settings(**values)
