"""The risk settings document (风险识别设置), stored as JSON under one key."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.customers import CustomerLevel
from app.domain.risk import RiskSettings
from app.domain.risk_reasons import RiskReasonCode
from app.domain.tickets import Priority
from app.persistence.settings_store import load_setting, save_setting

KEY = "risk"


class SqlRiskSettingsRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def settings(self, *, for_update: bool = False) -> RiskSettings:
        stored = await load_setting(self._conn, KEY, for_update=for_update)
        if stored is None:
            return RiskSettings()
        value, version = stored
        return RiskSettings(
            enabled=value["enabled"],
            keywords=tuple(value["keywords"]),
            exceptions=tuple(value["exceptions"]),
            vip_levels=tuple(CustomerLevel(level) for level in value["vip_levels"]),
            repeat_complaints=value["repeat_complaints"],
            repeat_window_days=value["repeat_window_days"],
            priorities={RiskReasonCode(code): Priority(p) for code, p in value["priorities"].items()},
            version=version,
        )

    async def save_settings(self, settings: RiskSettings, by: str, at: datetime) -> RiskSettings:
        value = {
            "enabled": settings.enabled,
            "keywords": list(settings.keywords),
            "exceptions": list(settings.exceptions),
            "vip_levels": [level.value for level in settings.vip_levels],
            "repeat_complaints": settings.repeat_complaints,
            "repeat_window_days": settings.repeat_window_days,
            "priorities": {code.value: p.value for code, p in settings.priorities.items()},
        }
        version = await save_setting(self._conn, KEY, value, settings.version, by, at)
        return replace(settings, version=version)
