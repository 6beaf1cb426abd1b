"""Liveness, readiness and metrics: open, for load balancers and Prometheus."""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.schemas.ops import HealthOut, ReadinessOut
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(tags=["ops"])


@router.get("/healthz")
async def healthz() -> HealthOut:
    """The process is up. Touches nothing else."""
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    response_model=ReadinessOut,
    responses={200: {"description": "Ready."}, 503: {"model": ReadinessOut, "description": "Not ready."}},
)
async def readyz(svc: Svc) -> Response:
    """Ready for traffic: the database answers and its schema is at the migrations' head (503 otherwise)."""
    readiness = await svc.health.readiness()
    body = ReadinessOut(
        status="ready" if readiness.ready else "not_ready",
        database=readiness.database,  # type: ignore[arg-type]
        schema_revision=readiness.schema_revision,
        expected_revision=readiness.expected_revision,
    )
    return JSONResponse(body.model_dump(), status_code=200 if readiness.ready else 503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(svc: Svc) -> Response:
    """Prometheus metrics: request counts and latencies by route and status."""
    return Response(generate_latest(svc.registry), media_type=CONTENT_TYPE_LATEST)
