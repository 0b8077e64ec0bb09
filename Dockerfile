# Action Directory: the read API on SQLite, seeded from directory_data/ at build time.
#   docker build -t action-directory .
#   docker run -p 8000:8000 -v actiondir-data:/app/data action-directory
# /app/data is a volume: curators' approved changes live in the database there, so a new image
# or a new container must not replace it (a new named volume starts as a copy of the seed).

FROM python:3.11-slim AS build
ENV UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
WORKDIR /app
RUN pip install --no-cache-dir uv==0.13.8
# Dependencies exactly as locked; the project itself installed as a regular (non-editable) package.
COPY pyproject.toml uv.lock README.md ./
COPY api ./api
# Not installed here: the lock names the client package (a test dependency), so `--locked`
# needs its pyproject to check the lock is current.
COPY client ./client
RUN uv sync --locked --no-default-groups --no-editable
COPY directory_data ./directory_data
RUN /app/.venv/bin/actiondir import --data directory_data --db /app/data/actiondir.db --quiet

FROM python:3.11-slim
RUN groupadd --system --gid 10001 actiondir && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin actiondir
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY --from=build --chown=actiondir:actiondir /app/data /app/data
ENV PATH=/app/.venv/bin:$PATH \
    ACTIONDIR_DB=/app/data/actiondir.db \
    ACTIONDIR_HOST=0.0.0.0 \
    ACTIONDIR_PORT=8000 \
    ACTIONDIR_WORKERS=2
USER 10001:10001
VOLUME ["/app/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('ACTIONDIR_PORT', '8000'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=2).status == 200 else 1)"]
CMD ["actiondir", "serve"]
