"""/v1/settings/churn: the churn warning's formula, threshold and window (流失预警)."""

from __future__ import annotations

from fastapi import Response

from app.schemas.churn import ChurnSettingsIn, ChurnSettingsOut
from app.schemas.common import problems
from app.web.auth import SettingsWriter, Staff
from app.web.preconditions import Guarded, set_etag
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(prefix="/v1/settings/churn", tags=["settings"])


@router.get("", responses=problems(422))
async def get_churn_settings(_: Staff, response: Response, svc: Svc) -> ChurnSettingsOut:
    """流失预警设置 in force: points and cap per kind of fact, the warning threshold, the window and the currency
    refund amounts are summed in. The defaults until first saved (ETag "0")."""
    settings = await svc.churn.settings()
    set_etag(response, settings.version)
    return ChurnSettingsOut.of(settings)


@router.put("", responses=problems(412, 422, 428))
async def put_churn_settings(
    body: ChurnSettingsIn, principal: SettingsWriter, precondition: Guarded, response: Response, svc: Svc
) -> ChurnSettingsOut:
    """Replace the churn settings (managers and admins). Send If-Match with the ETag last read. Each customer is
    scored with them at their next re-score: a new fact, or the daily refresh of scores above 0."""
    settings = await svc.churn.set_settings(principal, body.to_domain(), precondition)
    set_etag(response, settings.version)
    return ChurnSettingsOut.of(settings)
