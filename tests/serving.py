"""The real server (`actiondir serve`, granian) as a subprocess on 127.0.0.1, for tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import REPO

ACTIONDIR = Path(sys.executable).parent / "actiondir"


def start_server(db: Path, port: int, *, host: str = "127.0.0.1", **env: str) -> subprocess.Popen[bytes]:
    """``actiondir serve`` on ``host:port``; ``env``: ACTIONDIR_* settings for it."""
    return subprocess.Popen(
        [str(ACTIONDIR), "serve", "--db", str(db), "--host", host, "--port", str(port)],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_up(base: str, process: subprocess.Popen[bytes]) -> None:
    """Return once ``base``/healthz answers 200; fail the test with the server's output if it died."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"server did not start:\n{process.stdout.read().decode() if process.stdout else ''}")
        time.sleep(0.05)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
