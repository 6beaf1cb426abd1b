# syntax=docker/dockerfile:1
# Build: make docker. Run: docker run -p 8000:8000 -e AFTERSALES_ENV=production \
#   -e AFTERSALES_DATABASE_URL=postgresql+asyncpg://… -e AFTERSALES_JWT_SECRET=… aftersales

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml constraints.txt README.md ./
COPY app ./app
RUN /opt/venv/bin/pip install -c constraints.txt .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AFTERSALES_HOST=0.0.0.0 \
    AFTERSALES_PORT=8000
RUN groupadd --system aftersales && useradd --system --gid aftersales --home /srv aftersales \
    && install -d -o aftersales -g aftersales /srv /srv/data
WORKDIR /srv
# The embedded SQLite default (and its -wal/-shm files) and the local attachment store go in a directory the
# non-root user owns; mount a volume there to keep them. Production sets AFTERSALES_DATABASE_URL to PostgreSQL
# (and usually AFTERSALES_STORAGE_BACKEND=s3) instead.
ENV AFTERSALES_DATABASE_URL=sqlite+aiosqlite:////srv/data/aftersales.db \
    AFTERSALES_STORAGE_DIR=/srv/data/attachments
VOLUME ["/srv/data"]
COPY --from=build /opt/venv /opt/venv
# `aftersales migrate` finds the migrations in the working directory.
COPY --chown=aftersales:aftersales alembic.ini ./
COPY --chown=aftersales:aftersales migrations ./migrations
USER aftersales
EXPOSE 8000
# The port the server listens on is AFTERSALES_PORT at run time (`docker run -e AFTERSALES_PORT=9000`), so the check
# reads it then rather than naming 8000.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os,sys,urllib.request; port = os.environ.get('AFTERSALES_PORT', '8000'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=2).status != 200)"]
CMD ["aftersales", "serve"]
