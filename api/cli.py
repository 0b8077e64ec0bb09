"""The ``actiondir`` command: serve the API, import the dataset, write the OpenAPI spec.

Each command is a thin shell over a service (tokens, dataset, link checks) or a module
(``api.listen`` for where ``serve`` listens); the rules live there.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import sqlite3
import sys
from pathlib import Path

import click

from api.listen import CannotListen, host_port, listen_address
from api.settings import SETTINGS, load_settings

__all__ = [
    "DEFAULTS",
    "LINK_CHECKER_TEST_OPTIONS",
    "MAX_HEADER_BYTES",
    "check_links",
    "cli",
    "db_option",
    "export",
    "import_",
    "main",
    "migrate",
    "openapi",
    "serve",
    "token",
    "token_create",
    "token_list",
    "token_revoke",
]

DEFAULTS = {s.name: s for s in SETTINGS}


def _help(name: str) -> str:
    setting = DEFAULTS[name]
    return f"{setting.help} [env ACTIONDIR_{name.upper()}; default: {setting.default}]"


class _Commands(click.Group):
    """Every command: a database that another process holds locked is a clear error, not a
    traceback (the command's own transaction rolled back, so nothing was changed)."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except sqlite3.OperationalError as exc:
            raise click.ClickException(_database_busy(load_settings().db, exc)) from None


@click.group(cls=_Commands)
@click.version_option(package_name="action-directory")
def cli() -> None:
    """Action Directory: vetted ways to help, by country and topic, over a JSON API.

    Settings come from ACTIONDIR_* environment variables; options override them.
    """


@cli.command(name="import")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), help=_help("data"))
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help=_help("db"))
@click.option("--quiet", is_flag=True, help="Print only errors and the summary line.")
@click.option(
    "--force", is_flag=True,
    help="Undo approved changes that were never exported (they stay in each listing's history).",
)
def import_(data: Path | None, db: Path | None, quiet: bool, force: bool) -> None:
    """Validate directory_data/ and load it into the database, all or nothing.

    Every problem in every file is reported (file, field, message); if there is any, nothing
    is imported and the database is left as it was.

    Once curators approve changes, the database is the source of truth: import refuses to
    undo an approved change that is newer than the last import or export (run `actiondir
    export` first to write it into the files), unless --force.

    \b
    Example:
        actiondir import --data directory_data --db actiondir.db
    """
    from api.dataset import LISTING_SUFFIXES, DatasetInvalid, load_dataset, read_manifest  # noqa: PLC0415
    from api.store import CurationWouldBeLost, DatabaseNotReady, Store  # noqa: PLC0415

    settings = load_settings(data=data, db=db)
    listings_dir = settings.data / "listings"
    if not settings.data.is_dir():
        raise click.ClickException(
            f"data folder {settings.data} not found: pass --data DIR or set ACTIONDIR_DATA"
        )
    total = sum(1 for p in listings_dir.glob("*") if p.suffix in LISTING_SUFFIXES) if listings_dir.is_dir() else 0
    show = not quiet and total > 0
    try:
        with click.progressbar(length=total, label="Validating", file=sys.stderr, hidden=not show) as bar:
            folder = load_dataset(settings.data, on_file=lambda: bar.update(1))
    except DatasetInvalid as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        raise click.ClickException(
            f"{len(exc.problems)} problem(s) found; nothing was imported. Fix the files named above and run again."
        ) from None
    manifest, warning = read_manifest(settings.data)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    try:
        store = Store(settings.db, create=True, busy_timeout_ms=settings.write_wait_ms)
    except DatabaseNotReady as exc:
        raise click.ClickException(str(exc)) from None
    except sqlite3.OperationalError as exc:
        raise click.ClickException(_database_busy(settings.db, exc)) from None
    try:
        with click.progressbar(length=len(folder.listings), label="Importing ", file=sys.stderr, hidden=not show) as bar:
            summary = store.dataset.replace(
                folder.listings, folder.topics, progress=bar.update, written_from=manifest, force=force,
                countries=folder.countries,
            )
    except CurationWouldBeLost as exc:
        for change in exc.changes:
            click.echo(f"would be undone: {change}", err=True)
        where = f"--data {shlex.quote(str(settings.data))} --db {shlex.quote(str(settings.db))}"
        raise click.ClickException(
            f"{len(exc.changes)} approved change(s) in {settings.db} are not in the files in {settings.data} "
            "(they were not exported there) and this import would undo them; nothing was imported. To keep them: "
            f"`actiondir export {where}` writes the database's listings over those files (commit or stash "
            "your own edits first, then re-apply them), review and commit, then import. To discard them: "
            f"`actiondir import --force {where}` (they stay in each listing's history)."
        ) from None
    except sqlite3.OperationalError as exc:
        raise click.ClickException(_database_busy(settings.db, exc)) from None
    finally:
        store.close()
    click.echo(
        f"{settings.db}: revision {summary.revision}; {summary.created} created, {summary.updated} updated, "
        f"{summary.retired} retired, {summary.unchanged} unchanged"
        + (", topics updated" if summary.topics_changed else "")
        + (f", {summary.countries_changed} country document(s) changed" if summary.countries_changed else "")
    )


@cli.command()
@click.option("--host", help=_help("host"))
@click.option("--port", type=int, help=_help("port"))
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help=_help("db"))
@click.option("--workers", type=int, help=_help("workers"))
def serve(host: str | None, port: int | None, db: Path | None, workers: int | None) -> None:
    """Serve the API with granian, a production ASGI server.

    \b
    Example:
        actiondir serve --host 0.0.0.0 --port 8000 --workers 2
    """
    from granian import Granian  # noqa: PLC0415
    from granian.constants import Interfaces  # noqa: PLC0415
    from granian.http import HTTP1Settings, HTTP2Settings  # noqa: PLC0415

    from api.store import DatabaseNotReady, Store  # noqa: PLC0415

    settings = load_settings(host=host, port=port, db=db, workers=workers)
    try:
        Store(settings.db, read_only=settings.read_only).close()  # fail here, clearly, not in every worker
    except DatabaseNotReady as exc:
        raise click.ClickException(str(exc)) from None
    try:
        address = listen_address(settings.host, settings.port)
    except CannotListen as exc:
        raise click.ClickException(str(exc)) from None
    # Workers are separate processes: they read their settings from the environment.
    os.environ["ACTIONDIR_DB"] = str(settings.db.resolve())
    click.echo(f"Serving {settings.db} on http://{host_port(address, settings.port)}/v1/docs", err=True)
    Granian(
        "api.asgi:app",
        address=address,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        log_access=False,
        http1_settings=HTTP1Settings(max_buffer_size=MAX_HEADER_BYTES),
        http2_settings=HTTP2Settings(max_headers_size=MAX_HEADER_BYTES),
    ).serve()


#: The most header bytes a request may send. granian's own bounds are 408 KiB (HTTP/1, its read
#: buffer) and 16 MiB (HTTP/2); no client of this API needs more than a few KiB (nginx reads
#: 8 KiB per header line by default), and every request's headers are held in memory.
#: Past it granian answers 431 (HTTP/1) or resets the stream (HTTP/2) before the app sees it.
MAX_HEADER_BYTES = 64 * 1024


def _database_busy(db: Path, exc: sqlite3.OperationalError) -> str:
    """What to do when SQLite refuses: the usual cause is another process writing."""
    if "locked" in str(exc) or "busy" in str(exc):
        return (
            f"{db} is locked by another process that is writing to it (a server, an import or a link "
            "check); nothing was changed. Try again in a moment."
        )
    return f"{db}: {exc}; nothing was changed"


def _open_store(db: Path | None, *, create: bool = False):
    from api.store import DatabaseNotReady, Store  # noqa: PLC0415

    settings = load_settings(db=db)
    try:
        return Store(settings.db, create=create, busy_timeout_ms=settings.write_wait_ms)
    except DatabaseNotReady as exc:
        raise click.ClickException(str(exc)) from None
    except sqlite3.OperationalError as exc:
        raise click.ClickException(_database_busy(settings.db, exc)) from None


db_option = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help=_help("db"))


@cli.group()
def token() -> None:
    """Manage curators', reviewers' and admins' bearer tokens (stored hashed)."""


@token.command(name="create")
@click.option("--name", required=True, help="Who the token is for (one person; their tokens share it).")
@click.option("--role", required=True, type=click.Choice(["curator", "reviewer", "admin"]), help="What it may do.")
@click.option("--expires-in-days", type=click.IntRange(1, 3650), help="Expire after this many days (default: never).")
@db_option
def token_create(name: str, role: str, expires_in_days: int | None, db: Path | None) -> None:
    """Create a token and print it once; the last line of output is the token alone.

    \b
    Example:
        actiondir token create --name "Ana Souza" --role reviewer --expires-in-days 180
    """
    from api.errors import DomainError  # noqa: PLC0415
    from api.messages import ecma_message  # noqa: PLC0415
    from api.services.tokens import create_token  # noqa: PLC0415

    store = _open_store(db)
    try:
        secret, row = create_token(store, name=name, role=role, expires_in_days=expires_in_days, actor="cli")
    except DomainError as exc:
        raise click.ClickException(
            f"invalid --name {name!r}: {ecma_message(exc.detail).removeprefix('name: ')} "
            "(a name is ASCII letters, digits, spaces and ._@-, without leading or trailing space)"
        ) from None
    finally:
        store.close()
    expiry = row.expires_at.isoformat() if row.expires_at else "never"
    click.echo(f"token {row.id} for {row.name!r}, role {row.role}, expires {expiry}.", err=True)
    click.echo("Store it now: it is shown only once (only its hash is kept).", err=True)
    click.echo(secret)


@token.command(name="list")
@db_option
def token_list(db: Path | None) -> None:
    """List tokens (never their secrets).

    \b
    Example:
        actiondir token list
    """
    from api.services.tokens import list_tokens, token_state  # noqa: PLC0415

    store = _open_store(db)
    try:
        rows = list_tokens(store)
        now = store.clock.now()  # the clock the API's expiry check uses
    finally:
        store.close()
    click.echo(f"{'id':>4}  {'role':<8}  {'state':<8}  {'last used':<20}  name")
    for row in rows:
        state = token_state(row, now)
        used = row.last_used_at.isoformat() if row.last_used_at else "never"
        click.echo(f"{row.id:>4}  {row.role:<8}  {state:<8}  {used:<20}  {row.name}")


@token.command(name="revoke")
@click.argument("token_id", type=int)
@db_option
def token_revoke(token_id: int, db: Path | None) -> None:
    """Revoke a token by its id (see `token list`); it answers 401 from then on.

    \b
    Example:
        actiondir token revoke 3
    """
    from api.errors import DomainError  # noqa: PLC0415
    from api.services.tokens import revoke_token  # noqa: PLC0415

    store = _open_store(db)
    try:
        row = revoke_token(store, token_id, actor="cli")
    except DomainError as exc:
        raise click.ClickException(exc.detail) from None
    finally:
        store.close()
    click.echo(f"revoked token {row.id} ({row.name})")


@cli.command()
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), help=_help("data"))
@db_option
def export(data: Path | None, db: Path | None) -> None:
    """Write the current dataset back to directory_data/ in the format import reads.

    Beside the files it writes exported-from.toml: which database and revisions they come
    from, so that a later import into this database can tell a reviewed edit of these files
    from an old copy that would undo approved changes.

    Listings that are no longer current (retired) lose their file; import then export then
    import gives a byte-identical folder and the same dataset.

    \b
    Example:
        actiondir export --data directory_data
    """
    from api.dataset import DatasetInvalid, export_directory  # noqa: PLC0415

    settings = load_settings(data=data, db=db)
    store = _open_store(db)
    try:
        summary = export_directory(store, settings.data)
    except DatasetInvalid as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        raise click.ClickException(
            f"{len(exc.problems)} stored listing(s) fail today's vetting rules; nothing was written. "
            "Correct them through submissions, then export again."
        ) from None
    finally:
        store.close()
    click.echo(f"{settings.data}: {summary.written} written, {summary.unchanged} unchanged, {summary.removed} removed")


@cli.command()
@db_option
def migrate(db: Path | None) -> None:
    """Upgrade the database's schema to this release's, and change nothing else.

    Every command that writes does this on its way; a read-only server (a replica) never
    does, and refuses a database whose schema is older: run this where the database is
    written (the primary).

    \b
    Example:
        actiondir migrate --db actiondir.db
    """
    store = _open_store(db)
    try:
        version = store.schema_version
    finally:
        store.close()
    click.echo(f"{store.path}: schema version {version}")


@cli.command()
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path("openapi/v1.json"),
    show_default=True, help="Where to write the spec ('-' for standard output).",
)
def openapi(output: Path) -> None:
    """Write the OpenAPI document the app serves at /v1/openapi.json.

    \b
    Example:
        actiondir openapi -o openapi/v1.json
    """
    from api.committed_spec import render_spec  # noqa: PLC0415

    text = render_spec()
    if str(output) == "-":
        click.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output} ({len(json.loads(text)['paths'])} paths)")


#: Key of the in-process ``click`` context object that tests use to pass keyword arguments to
#: ``LinkChecker`` (e.g. ``allow_loopback_for_tests``). Deliberately no option and no
#: environment variable: nothing a shell, a container or a deployment sets can reach it.
LINK_CHECKER_TEST_OPTIONS = "link_checker_test_options"


@cli.command(name="check-links")
@click.option("--country", metavar="CC", help="Only listings for this country (ISO 3166-1 alpha-2; worldwide ones are left out).")
@click.option("--stale-days", type=click.IntRange(min=0), metavar="N", help="Only listings not checked in the last N days.")
@db_option
@click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True, help="Requests in flight at once (still one per site).")
@click.pass_context
def check_links(ctx: click.Context, country: str | None, stale_days: int | None, db: Path | None, concurrency: int) -> None:
    """Check each active listing's url and record the result (a report: exits 0 with broken links).

    HEAD (then GET) with redirects followed by hand: a redirect to another site is not followed
    and is marked for review, and nothing is ever sent to a private or internal address. One
    request per site at a time, a second apart. The summary lists every link that is not ok.

    \b
    Example:
        actiondir check-links --country RU --stale-days 7
    """
    import asyncio  # noqa: PLC0415

    from api.vetting.links import LinkChecker, LinkResult  # noqa: PLC0415

    if country is not None:
        # Checked before upper-casing: "ß".upper() is "SS", a real country code.
        if not re.fullmatch(r"[A-Za-z]{2}", country):
            raise click.BadParameter(f"{country!r} is not an ISO 3166-1 alpha-2 code (e.g. RU)", param_hint="--country")
        country = country.upper()
    options = dict((ctx.obj or {}).get(LINK_CHECKER_TEST_OPTIONS, {}))
    store = _open_store(db)
    try:
        options.setdefault("clock", store.clock)  # checked_at and the cut-off on one clock
        cutoff = store.now() - dt.timedelta(days=stale_days) if stale_days is not None else None
        targets = store.link_checks.to_check(country=country, checked_before=cutoff)
        results: dict[str, LinkResult] = {}
        with click.progressbar(length=len(targets), label="Checking links", file=sys.stderr, hidden=not targets) as bar:

            def record(listing_id: str, result: LinkResult) -> None:
                store.link_checks.add(
                    listing_id=listing_id,
                    checked_at=result.checked_at,
                    status=result.status,
                    http_status=result.http_status,
                    final_url=result.final_url,
                    needs_review=result.needs_review,
                    detail=result.detail,
                )
                results[listing_id] = result
                bar.update(1)

            async def run() -> None:
                async with LinkChecker(concurrency=concurrency, **options) as checker:
                    await checker.check_many(targets, on_result=record)

            try:
                asyncio.run(run())
            finally:  # an interrupted run still publishes what it recorded
                revision = store.link_checks.finish_run(len(results))
    finally:
        store.close()
    counts = {status: 0 for status in ("ok", "redirected", "broken", "unreachable")}
    for result in results.values():
        counts[result.status] += 1
    click.echo(
        f"Checked {len(results)} link(s): "
        + ", ".join(f"{n} {status}" for status, n in counts.items())
        + f" (dataset revision {revision})"
    )
    problems = sorted((lid, r) for lid, r in results.items() if r.status != "ok")
    if problems:
        width = max(len(lid) for lid, _ in problems)
        click.echo(f"{'listing':<{width}}  {'status':<11}  code  review  final URL / detail")
        for lid, r in problems:
            code = str(r.http_status) if r.http_status is not None else "-"
            review = "yes" if r.needs_review else "no"
            tail = " ".join(part for part in (r.final_url or "", f"({r.detail})" if r.detail else "") if part)
            click.echo(f"{lid:<{width}}  {r.status:<11}  {code:>4}  {review:<6}  {tail}")


def main() -> None:  # pragma: no cover - console entry point
    cli()
