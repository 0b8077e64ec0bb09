"""Settings: one declarative table, each overridable by an ``ACTIONDIR_<NAME>`` variable.

The table drives the environment lookup, ``actiondir serve --help`` and the README's
settings section (a test checks that every setting is documented there).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

__all__ = ["SETTINGS", "Setting", "Settings", "load_settings", "parse_flag", "parse_primary_url"]


class Setting(NamedTuple):
    name: str
    default: Any
    help: str
    parse: Callable[[Any], Any] | None = None
    """Reads the variable's text (default: the type of ``default``); a ValueError says what the
    value is not ("not 1 or 0")."""


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def parse_flag(value: Any) -> bool:
    """``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off`` (any case)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError("not 1 or 0 (true or false)")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_primary_url(value: Any) -> str:
    """An https URL, or http to a loopback address (a primary on the same machine), with no
    credentials, query or fragment: it is shown to every client a replica refuses."""
    text = str(value)
    if not text:
        return ""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        parts = None
    host = parts.hostname if parts else None
    if (
        parts is None
        or not host
        or parts.username is not None
        or parts.query
        or parts.fragment
        or not text.isprintable()
        or any(c.isspace() for c in text)
        or not (parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host)))
    ):
        raise ValueError("not an https URL, nor http on a loopback address (such as http://127.0.0.1:8000)")
    return text


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
    Setting(
        "read_only",
        False,
        "`1` to serve as a read-only replica: only the public GET routes (and the spec and docs) "
        "are served; a write, or any request to submissions, reports, tokens or vetting, answers "
        "503 with a problem that names the primary.",
        parse_flag,
    ),
    Setting(
        "primary_url",
        "",
        "Where the primary (the server that takes writes) is, named in a read-only replica's 503 "
        "answers: an https URL, or http on a loopback address (http://127.0.0.1:8000).",
        parse_primary_url,
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
    read_only: bool
    primary_url: str


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
            if setting.parse is not None:
                values[setting.name] = setting.parse(value)
            else:
                values[setting.name] = Path(value) if setting.name in {"db", "data"} else kind(value)
        except ValueError as exc:
            why = str(exc) if setting.parse is not None else f"not a valid {kind.__name__}"
            raise ValueError(f"ACTIONDIR_{setting.name.upper()}={value!r} is {why}") from None
    return Settings(**values)
