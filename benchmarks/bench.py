"""Throughput, latency and memory of the real server (`actiondir serve`, granian) on 127.0.0.1.

Builds a database from the data folder with `actiondir import` (and, with --listings N, a
second one from N generated listings), starts servers as subprocesses bound to 127.0.0.1
only, drives each scenario with wrk (or, without wrk, a bounded asyncio httpx loop), and
prints one table of figures: no thresholds, nothing passes or fails.

Every server it starts runs in its own process group and is killed on exit, error or Ctrl-C.

    .venv/bin/python benchmarks/bench.py --db /tmp/bench.db
    .venv/bin/python benchmarks/bench.py --listings 5000     # also a large synthetic dataset
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import os
import platform
import random
import re
import resource
import shlex
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

REPO = Path(__file__).resolve().parent.parent
ACTIONDIR = Path(sys.executable).parent / "actiondir"
HOST = "127.0.0.1"  # the only address any server started here binds to
HOT_PATH = "/v1/countries/RU/listings?lang=ru"

#: Full-text queries for the search scenario, rotated per request (seed and synthetic words).
SEARCH_QUERIES = [
    "help", "legal aid", "refugee", "trans", "lgbt", "emergency", "asylum", "rights", "shelter",
    "donat", "psycho", "hotline", "evacuation", "health", "помощь", "права", "юрид", "беженц",
    "human rights", "support", "relocation", "hiv", "petition", "network", "crisis line",
    "организация", "безопас", "lawyers", "safe housing", "defenders",
]


# --- processes -------------------------------------------------------------------------------

_servers: list[subprocess.Popen] = []


def _kill_group(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (granian and its workers), SIGKILL if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    # Workers may outlive their parent for a moment: the group id is still the server's pid.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def _kill_all_servers() -> None:
    while _servers:
        _kill_group(_servers.pop())


def _on_signal(signum: int, _frame: object) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    print(f"\nstopped by signal {signum}; stopping every server started", file=sys.stderr)
    raise SystemExit(128 + signum)  # unwinds through every `finally`, which kills the servers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _tree(root: int) -> list[int]:
    """``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_mib(root: int) -> float:
    """Resident memory of a process tree (VmRSS summed), in MiB."""
    total_kib = 0
    for pid in _tree(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
                    break
        except OSError:
            continue
    return total_kib / 1024


_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU time of a live process tree, from /proc/<pid>/stat."""
    total = 0
    for pid in _tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def busy_cpu_seconds() -> float:
    """CPU time spent by the whole machine (all cores, not idle), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / _TICK


def own_cpu_seconds() -> float:
    """CPU time of this process and its finished children (the load generator)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class Server:
    label: str
    process: subprocess.Popen
    base: str
    workers: int
    cache: bool
    rss_start: float = 0.0


@contextlib.contextmanager
def serve(db: Path, *, workers: int, cache: bool, log_dir: Path, label: str) -> Iterator[Server]:
    """`actiondir serve` on 127.0.0.1 and a free port; waits for /healthz; always killed after."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTIONDIR_")}
    env["ACTIONDIR_HOST"] = HOST
    if not cache:
        env["ACTIONDIR_RESPONSE_CACHE_SIZE"] = "0"
    log_path = log_dir / f"server-{label}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(ACTIONDIR), "serve", "--host", HOST, "--port", str(port), "--db", str(db), "--workers", str(workers)],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed as one, spared our Ctrl-C
        )
    _servers.append(process)
    try:
        base = f"http://{HOST}:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start; its output:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        # All workers up: granian reports each; wait until the tree has them (best effort).
        deadline = time.monotonic() + 10
        while len(_tree(process.pid)) < workers + 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        server = Server(label, process, base, workers, cache, rss_start=rss_mib(process.pid))
        yield server
    finally:
        _kill_group(process)
        if process in _servers:
            _servers.remove(process)


# --- load ------------------------------------------------------------------------------------

@dataclass
class Result:
    requests_per_s: float
    p50_ms: float | None
    p99_ms: float | None
    errors: int
    requests: int
    server_cpu: float = 0.0  # percent of one core, over the measured run
    other_cpu: float = 0.0  # the same for everything but the server and the load generator


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match[1]) * _UNIT_MS[match[2]]


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Wrk:
    name = "wrk"

    def __init__(self, threads: int, connections: int, work_dir: Path) -> None:
        self.threads, self.connections, self.work_dir = threads, connections, work_dir

    def describe(self, duration: int) -> str:
        return f"wrk -t{self.threads} -c{self.connections} -d{duration}s --latency"

    def run(self, base: str, paths: list[str], headers: dict[str, str], duration: int) -> Result:
        command = [
            "wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{duration}s", "--latency",
            "--timeout", "10s",
        ]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        if len(paths) > 1:  # rotate the paths, one per request
            script = self.work_dir / "paths.lua"
            script.write_text(
                "local paths = {" + ", ".join(_lua_string(p) for p in paths) + "}\n"
                "local i = 0\n"
                "request = function()\n"
                "  i = i + 1\n"
                "  return wrk.format(nil, paths[(i % #paths) + 1])\n"
                "end\n"
            )
            command += ["-s", str(script)]
        command.append(base + paths[0])
        out = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + 60, stdin=subprocess.DEVNULL,
        )
        if out.returncode != 0:
            raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr or out.stdout}")
        text = out.stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text)[1])  # type: ignore[index]
        total = int(re.search(r"(\d+) requests in", text)[1])  # type: ignore[index]
        p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
        p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
        errors = 0
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        if bad:
            errors += int(bad[1])
        socket_errors = re.search(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
        )
        if socket_errors:
            errors += sum(int(n) for n in socket_errors.groups())
        return Result(rps, _ms(p50[1]) if p50 else None, _ms(p99[1]) if p99 else None, errors, total)


class HttpxLoad:
    """A bounded asyncio loop: ``connections`` tasks, each sending requests until the deadline.

    Each task has its own client and connection: one pool shared by 64 tasks spends most of
    its time on pool bookkeeping (a few dozen req/s). The figures are still bound by the
    client's own CPU, far below wrk's: compare them with each other, not with wrk's.
    """

    name = "httpx"

    def __init__(self, connections: int) -> None:
        self.connections = connections

    def describe(self, duration: int) -> str:
        return f"asyncio httpx loop, {self.connections} connections, {duration}s (wrk not found; client-bound figures)"

    def run(self, base: str, paths: list[str], headers: dict[str, str], duration: int) -> Result:
        return asyncio.run(self._run(base, paths, headers, duration))

    async def _run(self, base: str, paths: list[str], headers: dict[str, str], duration: int) -> Result:
        latencies: list[float] = []
        errors = 0
        tls = ssl.create_default_context()  # unused over http, but built once rather than per client
        clients = [
            httpx.AsyncClient(
                base_url=base, headers=headers, timeout=10, verify=tls,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            )
            for _ in range(self.connections)
        ]
        loop = asyncio.get_running_loop()
        start = loop.time()
        deadline = start + duration

        async def worker(client: httpx.AsyncClient, offset: int) -> None:
            nonlocal errors
            i = offset
            while loop.time() < deadline:
                path = paths[i % len(paths)]
                i += self.connections
                began = time.perf_counter()
                try:
                    response = await client.get(path)
                    if response.status_code >= 400:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - began)

        tasks = [asyncio.create_task(worker(client, n)) for n, client in enumerate(clients)]
        try:
            # Stops by itself: each task checks the deadline; this also bounds a stuck request.
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration + 15)
        except TimeoutError:
            pass
        finally:
            elapsed = loop.time() - start
            for client in clients:
                await client.aclose()
        if not latencies:
            return Result(0.0, None, None, errors, 0)
        cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
        return Result(len(latencies) / elapsed, cuts[49] * 1000, cuts[98] * 1000, errors, len(latencies))


# --- datasets --------------------------------------------------------------------------------

_WORDS_EN = (
    "help legal aid refugees asylum shelter hotline evacuation health clinic rights defenders "
    "support network crisis line lawyers safe housing relocation emergency donations trans "
    "community counselling psychological grants advocacy petition campaign documentation"
).split()
_WORDS_RU = (
    "помощь юридическая беженцы убежище приют горячая линия эвакуация здоровье права "
    "правозащитники поддержка сеть кризис юристы безопасное жильё переезд экстренная "
    "пожертвования сообщество консультации психологическая адвокация петиция"
).split()
_COUNTRIES = ["RU"] * 6 + ["XX"] * 2 + ["UA", "BY", "KZ", "GE", "AM", "TR", "UG", "KE", "BR", "ID", "PL", "HU"]
_KINDS = ("organization", "donation", "petition")


def write_synthetic(data_dir: Path, source: Path, count: int) -> None:
    """``count`` valid listings as TOML (tests/factory.py's shape), with the source's topics."""
    sys.path.insert(0, str(REPO / "tests"))
    try:
        import factory  # noqa: PLC0415
        import msgspec  # noqa: PLC0415

        from api.models import TopicFile  # noqa: PLC0415
    finally:
        sys.path.pop(0)
    (data_dir / "listings").mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "topics.toml", data_dir / "topics.toml")
    topic_ids = [t.id for t in msgspec.toml.decode((source / "topics.toml").read_bytes(), type=TopicFile).topic]
    rng = random.Random(20261120)
    for n in range(count):
        kind = _KINDS[n % 3]
        country = rng.choice(_COUNTRIES)
        countries = [country] if country == "XX" else sorted({country, *rng.sample(_COUNTRIES[8:], rng.randint(0, 2))})
        listing_id = f"synthetic-{n:06d}-{country.lower()}"
        en = " ".join(rng.choices(_WORDS_EN, k=4)).capitalize()
        ru = " ".join(rng.choices(_WORDS_RU, k=4)).capitalize()
        extra = {
            "organization": {"organization": {"services": ["legal-aid", "hotline"]}},
            "donation": {"donation": {"currency": "EUR", "purpose": f"{en}."}},
            "petition": {"petition": {"target": "Parliament"}},
        }[kind]
        doc = factory.listing(
            listing_id,
            kind=kind,
            countries=countries,
            topics=rng.sample(topic_ids, rng.randint(1, 3)),
            translations={
                "en": {"title": f"{en} {n}", "summary": " ".join(rng.choices(_WORDS_EN, k=30)).capitalize() + "."},
                "ru": {"title": f"{ru} {n}", "summary": " ".join(rng.choices(_WORDS_RU, k=30)).capitalize() + "."},
            },
            **extra,
        )
        factory.write_listing(data_dir, doc)


def run_import(data: Path, db: Path) -> tuple[float, str]:
    """`actiondir import`; returns (seconds, its summary line)."""
    began = time.perf_counter()
    out = subprocess.run(
        [str(ACTIONDIR), "import", "--data", str(data), "--db", str(db), "--quiet"],
        cwd=REPO, capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - began
    if out.returncode != 0:
        raise RuntimeError(f"actiondir import failed:\n{out.stderr[-3000:]}")
    return elapsed, out.stdout.strip()


# --- scenarios -------------------------------------------------------------------------------

@dataclass
class Row:
    dataset: str
    scenario: str
    workers: int
    cache: str
    result: Result
    rss_after: float
    rss_start: float


@dataclass
class Bench:
    load: Wrk | HttpxLoad
    duration: int
    warmup: int
    log_dir: Path
    rows: list[Row] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)  # active listings per dataset

    def measure(
        self, server: Server, dataset: str, scenario: str, paths: list[str], headers: dict[str, str] | None = None,
        *, expect: int = 200,
    ) -> Row:
        # Uncompressed unless the scenario asks: httpx would otherwise send gzip, wrk nothing.
        headers = {"Accept-Encoding": "identity", **(headers or {})}
        # One probe per path: the scenario must be answering what it claims to measure.
        for path in paths[:3]:
            status = httpx.get(server.base + path, headers=headers, timeout=10).status_code
            if status != expect:
                raise RuntimeError(f"{scenario}: GET {path} answered {status}, expected {expect}")
        if self.warmup > 0:
            self.load.run(server.base, paths, headers, self.warmup)
        print(f"  {dataset:>9} | {scenario} ({server.workers} worker(s)) ...", end="", file=sys.stderr, flush=True)
        before = (time.monotonic(), tree_cpu_seconds(server.process.pid), own_cpu_seconds(), busy_cpu_seconds())
        result = self.load.run(server.base, paths, headers, self.duration)
        after = (time.monotonic(), tree_cpu_seconds(server.process.pid), own_cpu_seconds(), busy_cpu_seconds())
        wall = after[0] - before[0]
        server_cpu, client_cpu, busy = (after[i] - before[i] for i in (1, 2, 3))
        result.server_cpu = 100 * server_cpu / wall
        result.other_cpu = 100 * max(0.0, busy - server_cpu - client_cpu) / wall
        row = Row(
            dataset, scenario, server.workers, "on" if server.cache else "off", result,
            rss_mib(server.process.pid), server.rss_start,
        )
        print(f" {result.requests_per_s:,.0f} req/s", file=sys.stderr)
        self.rows.append(row)
        return row

    def suite(self, db: Path, dataset: str) -> None:
        search = [f"/v1/listings?q={quote(q)}" for q in SEARCH_QUERIES]
        with serve(db, workers=1, cache=True, log_dir=self.log_dir, label=f"{dataset}-cached") as server:
            health = httpx.get(server.base + "/healthz", timeout=10).json()
            self.sizes[dataset] = health["listings"]
            self.measure(server, dataset, "hot path", [HOT_PATH])
            self.measure(server, dataset, "hot path, gzip", [HOT_PATH], {"Accept-Encoding": "gzip"})
            etag = httpx.get(server.base + HOT_PATH, timeout=10).headers["etag"]
            self.measure(server, dataset, "304 If-None-Match", [HOT_PATH], {"If-None-Match": etag}, expect=304)
            self.measure(server, dataset, "healthz (floor)", ["/healthz"])
        with serve(db, workers=1, cache=False, log_dir=self.log_dir, label=f"{dataset}-uncached") as server:
            self.measure(server, dataset, "hot path", [HOT_PATH])
            self.measure(server, dataset, f"search, {len(search)} queries", search)
        with serve(db, workers=2, cache=True, log_dir=self.log_dir, label=f"{dataset}-2w") as server:
            self.measure(server, dataset, "hot path", [HOT_PATH])


# --- report ----------------------------------------------------------------------------------

def _fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(rows: list[Row]) -> str:
    head = [
        "dataset", "scenario", "workers", "cache", "req/s", "p50 ms", "p99 ms", "errors",
        "server CPU", "other CPU", "RSS MiB (start→after)",
    ]
    body = [
        [
            r.dataset, r.scenario, str(r.workers), r.cache, f"{r.result.requests_per_s:,.0f}",
            _fmt_ms(r.result.p50_ms), _fmt_ms(r.result.p99_ms), str(r.result.errors),
            f"{r.result.server_cpu:.0f}%", f"{r.result.other_cpu:.0f}%",
            f"{r.rss_start:.0f} → {r.rss_after:.0f}",
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    right = {2, 4, 5, 6, 7, 8, 9}

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    sep = "|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2)) for i, w in enumerate(widths)) + "|"
    return "\n".join([line(head), sep, *(line(b) for b in body)])


def ratios(rows: list[Row]) -> list[str]:
    out = []
    for dataset in dict.fromkeys(r.dataset for r in rows):
        def rps(scenario: str, workers: int, cache: str) -> float | None:
            for r in rows:
                if (r.dataset, r.scenario, r.workers, r.cache) == (dataset, scenario, workers, cache):
                    return r.result.requests_per_s
            return None

        on, off, two = rps("hot path", 1, "on"), rps("hot path", 1, "off"), rps("hot path", 2, "on")
        gzip = rps("hot path, gzip", 1, "on")
        floor = rps("healthz (floor)", 1, "on")
        parts = []
        if on and off:
            parts.append(f"cache on/off {on / off:.2f}x")
        if on and gzip:
            parts.append(f"gzip/identity {gzip / on:.2f}x")
        if on and two:
            parts.append(f"2 workers/1 worker {two / on:.2f}x")
        if on and floor:
            parts.append(f"hot path at {on / floor:.0%} of the healthz floor")
        out.append(f"{dataset}: " + "; ".join(parts))
    return out


def machine() -> str:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("granian", "litestar", "msgspec")
    )
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"nproc {nproc} ({cpu or platform.machine()}), Python {platform.python_version()}, {versions}"


def reproduce() -> str:
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(REPO)
    return f"cd {REPO} && " + shlex.join([str(python), "benchmarks/bench.py", *sys.argv[1:]])


# --- main ------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Throughput, latency and memory of `actiondir serve` on 127.0.0.1: the cached hot "
        "path, the same uncached, a 304 revalidation, full-text search and /healthz, with 1 and 2 "
        "workers. Prints figures only.",
        epilog="Example: .venv/bin/python benchmarks/bench.py --db /tmp/bench.db --listings 5000",
    )
    parser.add_argument(
        "--db", type=Path,
        help="database to build from --data with `actiondir import` and serve (an import of unchanged "
        "data leaves it as it is); default: a temporary file, removed afterwards",
    )
    parser.add_argument("--data", type=Path, default=REPO / "directory_data", help="data folder (default: directory_data/)")
    parser.add_argument(
        "--listings", type=int, default=0, metavar="N",
        help="also generate N synthetic listings into a temporary data folder and database, time their "
        "import, and run every scenario on it too (e.g. 5000)",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per scenario (default: 10)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of unmeasured load before each (default: 1)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (default: 64)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default: 1)")
    parser.add_argument(
        "--load", choices=("auto", "wrk", "httpx"), default="auto",
        help="load generator: wrk when installed (auto), or the bounded asyncio httpx loop",
    )
    args = parser.parse_args(argv)
    if args.listings < 0 or args.duration <= 0 or args.warmup < 0 or args.connections < 1 or args.threads < 1:
        parser.error("--listings, --warmup must be >= 0; --duration, --connections, --threads must be positive")
    if args.load == "wrk" and shutil.which("wrk") is None:
        parser.error("--load wrk: wrk is not installed (apt-get install wrk)")
    if not args.data.is_dir():
        parser.error(f"--data {args.data}: no such folder")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGINT too: a shell starting us in the background would otherwise have it ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="actiondir-bench-") as tmp_name:
        tmp = Path(tmp_name)
        use_wrk = args.load == "wrk" or (args.load == "auto" and shutil.which("wrk") is not None)
        load: Wrk | HttpxLoad = Wrk(args.threads, args.connections, tmp) if use_wrk else HttpxLoad(args.connections)
        bench = Bench(load, args.duration, args.warmup, tmp)
        notes: list[str] = []
        try:
            db = args.db or tmp / "seed.db"
            seconds, summary = run_import(args.data, db)
            notes.append(f"import of {args.data.name}/: {seconds:.1f}s ({summary})")
            bench.suite(db, "seed")
            if args.listings:
                data = tmp / "synthetic_data"
                began = time.perf_counter()
                write_synthetic(data, args.data, args.listings)
                written = time.perf_counter() - began
                seconds, summary = run_import(data, tmp / "synthetic.db")
                notes.append(
                    f"import of {args.listings} synthetic listings: {seconds:.1f}s = "
                    f"{args.listings / seconds:,.0f} listings/s, whole `actiondir import` process "
                    f"(TOML files written in {written:.1f}s; {summary.split(': ', 1)[-1]})"
                )
                bench.suite(tmp / "synthetic.db", "synthetic")
        finally:
            _kill_all_servers()

        print()
        print(f"Action Directory benchmark, {dt.date.today().isoformat()}")
        print(f"machine: {machine()}")
        print(f"load:    {load.describe(args.duration)}, after {args.warmup}s warm-up, from the same machine")
        print(f"hot path: GET {HOT_PATH}; search: GET /v1/listings?q=... rotating {len(SEARCH_QUERIES)} queries (cache off: every one a miss)")
        print("datasets: " + ", ".join(f"{name} = {n:,} active listings" for name, n in bench.sizes.items()))
        for note in notes:
            print(note)
        print()
        print(table(bench.rows))
        print()
        for line in ratios(bench.rows):
            print(line)
        print(
            "CPU: percent of one core during the measured run; server = the granian process tree, other = "
            "every process but the server and the load generator (above ~10%, something else competed)"
        )
        print("RSS: resident memory summed over the server's process tree (granian main + workers), at start and after that load")
        print(f"total bench time {time.monotonic() - started:.0f}s; reproduce with:")
        print(f"  {reproduce()}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        _kill_all_servers()
        print("\ninterrupted; every server started was stopped", file=sys.stderr)
        sys.exit(130)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        _kill_all_servers()
        print(f"bench: error: {exc}", file=sys.stderr)
        sys.exit(1)
