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
RUN groupadd --system aftersales && useradd --system --gid aftersales --home /srv aftersales
WORKDIR /srv
COPY --from=build /opt/venv /opt/venv
# `aftersales migrate` finds the migrations in the working directory.
COPY --chown=aftersales:aftersales alembic.ini ./
COPY --chown=aftersales:aftersales migrations ./migrations
USER aftersales
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
CMD ["aftersales", "serve"]
