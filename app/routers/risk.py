"""/v1/settings/risk: what flags a ticket high-risk (高风险客诉) and what the flag does."""

from __future__ import annotations

from fastapi import Response

from app.schemas.common import problems
from app.schemas.risk import RiskSettingsIn, RiskSettingsOut
from app.web.auth import SettingsWriter, Staff
from app.web.preconditions import Guarded, set_etag
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(prefix="/v1/settings/risk", tags=["settings"])


@router.get("", responses=problems(422))
async def get_risk_settings(_: Staff, response: Response, svc: Svc) -> RiskSettingsOut:
    """风险识别设置 in force: the keywords matched on every intake and customer message, the VIP levels, the
    repeat-complaint rule and the priority each reason raises a flagged ticket to. On by default."""
    settings = await svc.risk.settings()
    set_etag(response, settings.version)
    return RiskSettingsOut.of(settings)


@router.put("", responses=problems(412, 422, 428))
async def put_risk_settings(
    body: RiskSettingsIn, principal: SettingsWriter, precondition: Guarded, response: Response, svc: Svc
) -> RiskSettingsOut:
    """Replace the risk settings (managers and admins). Send If-Match with the ETag last read. They apply to the
    next intake and message in this process at once, in other processes within seconds; tickets already flagged
    keep their reasons."""
    settings = await svc.risk.set_settings(principal, body.to_domain(), precondition)
    set_etag(response, settings.version)
    return RiskSettingsOut.of(settings)
