"""``directory_data/`` <-> the store: read and validate every file, then load all or nothing.

Layout of a data folder::

    topics.toml                 the taxonomy with translated labels
    listings/<id>.toml          one listing per file (or <id>.json with the same fields)
    countries/<CC>.toml         optional: one country document (its advisories) per file

Every file is read and checked before anything is written, and every problem of the run is
reported together (file, field, message), so one pass of fixes is enough. Loading is one
transaction: a bad file imports nothing and leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from api.messages import ecma_message
from api.clock import SystemClock
from api.models import LANGUAGE_TAG_PATTERN, CountryDocument, Listing, Note, Topic, TopicFile, Translation
from api.store import ExportManifest, ImportSummary, Store
from api.validation import (
    check_country_document,
    check_designated_site,
    check_listing,
    check_topics,
    country_domains,
    known_domains_by_listing,
    listing_domains,
)

__all__ = [
    "MANIFEST_NAME",
    "DataFolder",
    "DataProblem",
    "DatasetInvalid",
    "export_directory",
    "import_directory",
    "load_dataset",
    "load_directory",
    "read_manifest",
    "LISTING_SUFFIXES",
    "MANIFEST_HEADER",
    "MAX_FILE_BYTES",
    "ExportSummary",
    "name_dict_paths",
    "split_validation_error",
]

LISTING_SUFFIXES = (".toml", ".json")
_AT_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_AT_KEY = re.compile(r"^(?P<message>.*?) - at `key` in `\$(?P<path>[^`]*)`$", re.S)
_UNKNOWN_FIELD = re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`$")
_LANGUAGE_TAG = re.compile(LANGUAGE_TAG_PATTERN)
_MISSING_FIELD = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")
_RISK_NOTE = re.compile(r"legal_risks\[(?P<index>[0-9]+)\]\.note")


@dataclass(frozen=True, slots=True)
class DataProblem:
    """One problem in one file: which file, which field (dotted path; empty for the file)."""

    path: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field or '(file)'}: {self.message}"


class DatasetInvalid(Exception):
    """The data folder has problems; nothing was imported."""

    def __init__(self, problems: list[DataProblem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the data; nothing was imported")


def split_validation_error(error: msgspec.ValidationError, document: str = "listing") -> tuple[str, str]:
    """msgspec says ``Expected `int`, got `str` - at `$.a[0]```: return (``a[0]``, message).

    A quoted pattern reads as the published spec writes it (``$``, not Python's ``\\Z``);
    ``document`` names what the file holds in the message about an unknown field."""
    text = str(error)
    key_match = _AT_KEY.match(text)
    if key_match:  # a bad dict key, e.g. a translation keyed by "english"
        return key_match["path"].lstrip("."), f"invalid key: {ecma_message(key_match['message'])}"
    match = _AT_PATH.match(text)
    assert match is not None
    message, path = ecma_message(match["message"]), (match["path"] or "").lstrip(".")
    unknown = _UNKNOWN_FIELD.match(message)
    if unknown:
        path = f"{path}.{unknown['name']}" if path else unknown["name"]
        message = f"unknown field (not part of the {document} document)"
    missing = _MISSING_FIELD.match(message)
    if missing:
        path = f"{path}.{missing['name']}" if path else missing["name"]
        message = "required field is missing"
    return path, message


_PATH_STEP = re.compile(r"([^.\[\]]+)|\[([0-9]+)\]")


def _at(untyped: object, path: str) -> object:
    """The value at a dotted path (``advisories[0].translations``) of a raw document, or None."""
    value = untyped
    for name, index in _PATH_STEP.findall(path):
        if name and isinstance(value, dict):
            value = value.get(name)
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return None
    return value


def _language_keyed(path: str, untyped: object) -> tuple[object, type] | None:
    """The raw dict at ``path`` when it is one keyed by language, with its values' type:
    ``translations`` (a listing's, or nested: ``advisories[0].translations``), or a legal
    risk's ``note`` (``legal_risks[0].note``)."""
    if path.rsplit(".", 1)[-1] == "translations":
        return _at(untyped, path), Translation
    if _RISK_NOTE.fullmatch(path):
        return _at(untyped, path), Note
    return None


def _name_dict_entry(path: str, message: str, untyped: object) -> tuple[str, str]:
    """msgspec writes a dict value's position as ``[...]``; find which key it was.

    Each entry of the dict named before ``[...]`` is validated on its own, and the first that
    fails names the key (``translations[...].title`` -> ``translations.pt-BR.title``, also
    nested: ``advisories[0].translations[...].title``; ``legal_risks[0].note[...]`` ->
    ``legal_risks[0].note.ru``).
    """
    head, _, rest = path.partition("[...]")
    if not rest and not path.endswith("[...]"):
        return path, message
    found = _language_keyed(head, untyped)
    if found is None or not isinstance(found[0], dict):
        return path, message
    entries, entry_type = found
    for key, value in entries.items():
        try:
            msgspec.convert(value, entry_type, from_attributes=False)
        except msgspec.ValidationError as exc:
            inner_path, inner_message = split_validation_error(exc)
            return ".".join(p for p in (head, str(key), inner_path) if p), inner_message
    return path, message


def _name_bad_key(path: str, message: str, untyped: object) -> tuple[str, str]:
    """Say which key of a dict keyed by language (a translation's, a note's) is malformed."""
    found = _language_keyed(path, untyped)
    entries = found[0] if found is not None else None
    if isinstance(entries, dict):
        for key in entries:
            if not (isinstance(key, str) and _LANGUAGE_TAG.match(key)):
                return f"{path}.{key}", (
                    f"invalid language tag {key!r}: use a BCP 47 tag in canonical case (en, pt-BR, zh-Hant)"
                )
    return path, message


def name_dict_paths(field: str, message: str, untyped: object) -> tuple[str, str]:
    """Resolve msgspec's anonymous dict positions against the raw document.

    ``translations[...].title`` becomes ``translations.pt-BR.title``, and a malformed key
    is named (``translations.english``, ``legal_risks[0].note.english``), so every write
    path says which entry is wrong.
    """
    if "[...]" in field:
        return _name_dict_entry(field, message, untyped)
    if message.startswith("invalid key") or field.endswith("translations") or _RISK_NOTE.fullmatch(field):
        return _name_bad_key(field, message, untyped)
    return field, message


#: No listing or taxonomy file comes near this; a bigger one is a mistake or an attack.
MAX_FILE_BYTES = 1024 * 1024


def _decode(path: Path, kind: type, document: str = "listing") -> tuple[object | None, list[DataProblem]]:
    where = str(path)
    decode = msgspec.json.decode if path.suffix == ".json" else msgspec.toml.decode
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):  # could point anywhere the importer can read
            return None, [DataProblem(where, "", "a symbolic link: data files must be regular files in the folder")]
        if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
            return None, [DataProblem(where, "", "not a regular file")]
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            return None, [DataProblem(where, "", f"the file is larger than {MAX_FILE_BYTES // 1024} KiB; a {document} is far smaller")]
        return decode(raw, type=kind), []
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        return None, [DataProblem(where, "", "cannot parse the file: values are nested too deeply")]
    except msgspec.ValidationError as exc:
        field, message = split_validation_error(exc, document)
        if "[...]" in field or message.startswith("invalid key"):
            try:
                field, message = name_dict_paths(field, message, decode(raw))
            except RecursionError:  # untyped, the same document nests past the parser's limit
                return None, [DataProblem(where, "", "cannot parse the file: values are nested too deeply")]
        return None, [DataProblem(where, field, message)]
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        return None, [DataProblem(where, "", f"cannot parse the file: {exc}")]
    except OSError as exc:
        return None, [DataProblem(where, "", f"cannot read the file: {exc.strerror}")]


@dataclass(frozen=True, slots=True)
class DataFolder:
    """Everything a data folder holds, validated."""

    listings: list[Listing]
    topics: list[Topic]
    countries: list[CountryDocument]


def load_directory(
    data_dir: Path, *, on_file: Callable[[], None] | None = None, today: dt.date | None = None
) -> tuple[list[Listing], list[Topic]]:
    """Read and validate a whole data folder (country documents too); raise DatasetInvalid
    listing every problem. Returns the listings and topics; ``load_dataset`` returns it all.
    ``today``: as for ``load_dataset``."""
    folder = load_dataset(data_dir, on_file=on_file, today=today)
    return folder.listings, folder.topics


def _load_countries(
    data_dir: Path, listings: list[Listing], today: dt.date | None = None
) -> tuple[list[CountryDocument], list[DataProblem]]:
    """Read ``countries/<CC>.toml`` (the folder is optional) and check each document; each
    one's sources are compared with every listing's and every other country's domains, and no
    advisory may start after ``today`` (as no legal risk may)."""
    countries_dir = data_dir / "countries"
    if not countries_dir.is_dir():
        return [], []
    problems: list[DataProblem] = []
    names = sorted(p for p in countries_dir.glob("*") if not p.name.startswith("."))
    for stray in names:
        if stray.suffix not in LISTING_SUFFIXES:
            problems.append(DataProblem(str(stray), "", "not a country file: use <CC>.toml or <CC>.json"))
    documents: list[CountryDocument] = []
    where_of: list[str] = []
    first_file: dict[str, Path] = {}
    for path in (p for p in names if p.suffix in LISTING_SUFFIXES):
        parsed, found = _decode(path, CountryDocument, "country")
        problems += found
        if parsed is None:
            continue
        document: CountryDocument = parsed  # type: ignore[assignment]
        where = str(path)
        if document.code != path.stem:
            problems.append(DataProblem(where, "code", f"code {document.code!r} differs from the file name {path.stem!r}"))
        if document.code in first_file:
            problems.append(DataProblem(where, "code", f"duplicate code {document.code!r}, also in {first_file[document.code]}"))
            continue
        first_file[document.code] = path
        documents.append(document)
        where_of.append(where)
    vouched = frozenset(d for listing in listings for d in listing_domains(listing))
    own = [country_domains(document) for document in documents]
    for i, (where, document) in enumerate(zip(where_of, documents, strict=True)):
        others = frozenset(d for j, domains in enumerate(own) if j != i for d in domains)
        checks = check_country_document(document, known_domains=vouched | others, today=today)
        problems += [DataProblem(where, f, m) for f, m in checks]
    return documents, problems


def load_dataset(
    data_dir: Path, *, on_file: Callable[[], None] | None = None, today: dt.date | None = None
) -> DataFolder:
    """Read and validate a whole data folder; raise DatasetInvalid listing every problem.

    ``today`` (UTC) is the date no legal risk may start after: the store's clock's, or the
    system clock's when not given (the CLI validates before it opens the store).
    """
    today = today if today is not None else SystemClock().now().date()
    problems: list[DataProblem] = []
    topics: list[Topic] = []
    topics_path = data_dir / "topics.toml"
    if not topics_path.is_file():
        problems.append(DataProblem(str(topics_path), "", "missing: the topic taxonomy is required"))
    else:
        parsed, found = _decode(topics_path, TopicFile)
        problems += found
        if parsed is not None:
            topics = parsed.topic  # type: ignore[attr-defined]
            problems += [DataProblem(str(topics_path), f, m) for f, m in check_topics(topics)]
    topic_ids = {t.id for t in topics}

    listings_dir = data_dir / "listings"
    files = (
        sorted(p for p in listings_dir.glob("*") if p.suffix in LISTING_SUFFIXES and not p.name.startswith("."))
        if listings_dir.is_dir()
        else []
    )
    if not files:
        problems.append(DataProblem(str(listings_dir), "", "no listing files (*.toml or *.json) found"))
    for stray in sorted(listings_dir.glob("*")) if listings_dir.is_dir() else []:
        if stray.suffix not in LISTING_SUFFIXES and not stray.name.startswith("."):
            problems.append(DataProblem(str(stray), "", "not a listing file: use <id>.toml or <id>.json"))

    listings: list[Listing] = []
    where_of: list[str] = []
    first_file: dict[str, Path] = {}
    for path in files:
        parsed, found = _decode(path, Listing)
        problems += found
        if on_file is not None:
            on_file()
        if parsed is None:
            continue
        listing: Listing = parsed  # type: ignore[assignment]
        where = str(path)
        if listing.id != path.stem:
            problems.append(DataProblem(where, "id", f"id {listing.id!r} differs from the file name {path.stem!r}"))
        if listing.id in first_file:
            problems.append(DataProblem(where, "id", f"duplicate id {listing.id!r}, also in {first_file[listing.id]}"))
            continue
        first_file[listing.id] = path
        listings.append(listing)
        where_of.append(where)
    # Checked once all are read: each listing's URLs are compared with the OTHER listings' domains.
    for where, listing, known in zip(where_of, listings, known_domains_by_listing(listings), strict=True):
        # Without a readable taxonomy, every other rule still runs: one pass of fixes is enough.
        checks = check_listing(listing, topic_ids if topics else None, known_domains=known, today=today)
        checks += check_designated_site(listing, listings)
        problems += [DataProblem(where, f, m) for f, m in checks]
    countries, found = _load_countries(data_dir, listings, today)
    problems += found
    if problems:
        raise DatasetInvalid(problems)
    return DataFolder(listings, topics, countries)


def import_directory(
    data_dir: Path,
    store: Store,
    *,
    on_file: Callable[[], None] | None = None,
    on_listing: Callable[[int], None] | None = None,
    force: bool = False,
) -> ImportSummary:
    """Validate ``data_dir`` completely, then make the store equal to it in one transaction
    (never undoing an approved change the files were not written from, unless ``force``)."""
    folder = load_dataset(data_dir, on_file=on_file, today=store.now().date())
    manifest, _ = read_manifest(data_dir)
    return store.dataset.replace(
        folder.listings, folder.topics, progress=on_listing, written_from=manifest, force=force, countries=folder.countries
    )


@dataclass(frozen=True, slots=True)
class ExportSummary:
    written: int
    unchanged: int
    removed: int


def _write_if_changed(path: Path, content: bytes) -> bool:
    """Write atomically (temp file, then rename), and only when the bytes differ."""
    if path.exists() and path.read_bytes() == content:
        return False
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    temporary.replace(path)
    return True


def export_directory(store: Store, data_dir: Path) -> ExportSummary:
    """Write the store's current dataset as ``topics.toml``, ``listings/<id>.toml`` and
    ``countries/<CC>.toml``.

    Canonical form: msgspec's TOML encoding of the same structs import reads, so export is
    deterministic and import -> export -> import -> export gives identical bytes. Files of
    listings and country documents that are not current (retired, or never imported) are
    removed, ``.json`` ones too.
    """
    with store.read_snapshot():  # the manifest must name exactly the revisions written
        rows = list(store.listings.each())
        topics = TopicFile(topic=store.topics.all())
        countries = [row.document for row in store.countries.all()]
        manifest = store.dataset.export_manifest()
    # The same policy as every other write path: never write a file that import would refuse
    # (the rules may have grown stricter since a listing was accepted).
    documents = [row.document for row in rows]
    topic_ids = {t.id for t in topics.topic}
    problems = [
        DataProblem(str(data_dir / "listings" / f"{doc.id}.toml"), field, message)
        for doc, known in zip(documents, known_domains_by_listing(documents), strict=True)
        for field, message in [
            *check_listing(doc, topic_ids, known_domains=known, today=store.now().date()),
            *check_designated_site(doc, documents),
        ]
    ]
    vouched = frozenset(d for doc in documents for d in listing_domains(doc))
    own = [country_domains(country) for country in countries]
    for i, country in enumerate(countries):
        others = frozenset(d for j, domains in enumerate(own) if j != i for d in domains)
        problems += [
            DataProblem(str(data_dir / "countries" / f"{country.code}.toml"), field, message)
            for field, message in check_country_document(country, known_domains=vouched | others, today=store.now().date())
        ]
    if problems:
        raise DatasetInvalid(problems)
    listings_dir = data_dir / "listings"
    listings_dir.mkdir(parents=True, exist_ok=True)
    written = unchanged = removed = 0
    if _write_if_changed(data_dir / "topics.toml", msgspec.toml.encode(topics)):
        written += 1
    else:
        unchanged += 1
    keep: set[str] = set()
    for row in rows:
        name = f"{row.id}.toml"
        keep.add(name)
        if _write_if_changed(listings_dir / name, msgspec.toml.encode(row.document)):
            written += 1
        else:
            unchanged += 1
    for path in listings_dir.iterdir():
        if path.suffix in LISTING_SUFFIXES and path.name not in keep:
            path.unlink()
            removed += 1
    countries_dir = data_dir / "countries"
    if countries or countries_dir.is_dir():
        countries_dir.mkdir(exist_ok=True)
        keep = set()
        for country in countries:
            name = f"{country.code}.toml"
            keep.add(name)
            if _write_if_changed(countries_dir / name, msgspec.toml.encode(country)):
                written += 1
            else:
                unchanged += 1
        for path in countries_dir.iterdir():
            if path.suffix in LISTING_SUFFIXES and path.name not in keep:
                path.unlink()
                removed += 1
    # Last: the manifest vouches for the files only once they are all written.
    _write_if_changed(data_dir / MANIFEST_NAME, MANIFEST_HEADER + msgspec.toml.encode(manifest))
    return ExportSummary(written, unchanged, removed)


#: Beside topics.toml: which database and revisions an export wrote the folder from.
MANIFEST_NAME = "exported-from.toml"
MANIFEST_HEADER = b"""\
# Written by `actiondir export`; read by `actiondir import`. Do not edit it by hand.
# The database and the revision of each listing that the files here were written from. An
# import into that database trusts a file that differs from an approved change only when the
# file was written from that change (so it is a newer, reviewed edit, not an old copy).

"""


def read_manifest(data_dir: Path) -> tuple[ExportManifest | None, str | None]:
    """The folder's export manifest, or None; with a warning when it exists but is unusable
    (then no file is trusted over an approved change)."""
    path = data_dir / MANIFEST_NAME
    if not path.is_file() or path.is_symlink():
        return None, None
    try:
        return msgspec.toml.decode(path.read_bytes()[: MAX_FILE_BYTES + 1], type=ExportManifest), None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError, OSError) as exc:
        return None, f"{path}: ignored, it is not a manifest written by `actiondir export` ({exc})"
