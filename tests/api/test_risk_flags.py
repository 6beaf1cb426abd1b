"""高风险客诉: a ticket is flagged on intake and on every customer message that threatens a regulator, the press, a
lawyer or a chargeback, for a VIP's complaint and for a customer's n-th complaint; the flag names its reasons,
raises the priority, tells the managers, is a `risk.flagged` event and a list filter, and stays internal."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.domain.principal import Role
from app.domain.risk_keywords import DEFAULT_EXCEPTIONS, DEFAULT_KEYWORDS, MAX_KEYWORDS
from app.persistence.tables import outbox, service_settings
from tests.factories import act, open_ticket, seed_service_desk
from tests.problems import problem_fields

SETTINGS = "/v1/settings/risk"
INBOX = "/v1/me/notifications"


@pytest.fixture
async def desk(client, auth):
    await seed_service_desk(client, auth)


async def _flag_events(app) -> list[dict]:
    async with app.state.services.database.engine.connect() as conn:
        rows = await conn.execute(select(outbox.c.payload).where(outbox.c.type == "risk.flagged").order_by(outbox.c.id))
        return list(rows.scalars())


async def _inbox(client, auth, sub: str) -> list[dict]:
    role = Role.MANAGER if sub.startswith("manager") else Role.AGENT
    response = await client.get(INBOX, headers=auth(role, sub=sub))
    return [n for n in response.json()["items"] if n["kind"] == "risk_flagged"]


def _settings(**overrides) -> dict:
    body = {
        "enabled": True,
        "keywords": ["12315", "律师", "曝光", "chargeback"],
        "exceptions": ["曝光补偿"],
        "vip_levels": ["vip"],
        "repeat_complaints": 3,
        "repeat_window_days": 30,
        "priorities": {"keyword": "urgent", "vip": "high", "repeat_complaint": "high"},
    }
    return body | overrides


async def _save(client, auth, body: dict, etag: str = '"0"'):
    return await client.put(SETTINGS, json=body, headers=auth(Role.MANAGER) | {"If-Match": etag})


async def test_a_threat_at_intake_flags_the_ticket_raises_it_and_tells_the_managers(app, client, auth, desk):
    ticket = await open_ticket(client, auth, description="三天没人处理，再不解决我就打１２３１５投诉，还要找媒體曝光！")

    risk = ticket["risk"]
    assert ticket["priority"] == "urgent"
    assert [(r["code"], r["detail"], r["source"]) for r in risk["reasons"]] == [
        ("keyword", "12315", "intake"),
        ("keyword", "媒体", "intake"),
        ("keyword", "曝光", "intake"),
    ]
    [event] = await _flag_events(app)
    assert (event["number"], event["priority"]) == (ticket["number"], "urgent")
    assert [r["detail"] for r in event["new_reasons"]] == ["12315", "媒体", "曝光"]
    [note] = await _inbox(client, auth, "manager-1")
    assert ticket["number"] in note["title"]


async def test_the_flag_is_internal_and_customers_cannot_filter_by_it(client, auth, desk):
    created = await client.post(
        "/v1/tickets",
        json={"channel": "app", "type": "complaint", "title": "退款", "description": "不退款我就找律师"},
        headers=auth(Role.CUSTOMER),
    )
    assert created.status_code == 201, created.text

    assert created.json()["risk"] is None
    staff_view = (await client.get(f"/v1/tickets/{created.json()['id']}", headers=auth(Role.AGENT))).json()
    assert staff_view["risk"]["reasons"][0]["detail"] == "律师"
    refused = await client.get("/v1/tickets", params={"high_risk": "true"}, headers=auth(Role.CUSTOMER))
    assert problem_fields(refused, 422, "validation_failed") == {"high_risk"}


async def test_a_calm_ticket_is_not_flagged_and_the_list_filter_tells_them_apart(app, client, auth, desk):
    calm = await open_ticket(client, auth)
    flagged = await open_ticket(client, auth, description="I will file a chargeback with my bank")

    assert calm["risk"] is None and calm["priority"] == "normal"
    listed = await client.get("/v1/tickets", params={"high_risk": "true"}, headers=auth(Role.AGENT))
    assert [t["number"] for t in listed.json()["items"]] == [flagged["number"]]
    by_state = await client.get("/v1/tickets", params={"high_risk": "true", "status": "new"}, headers=auth(Role.AGENT))
    assert [t["number"] for t in by_state.json()["items"]] == [flagged["number"]]
    unflagged = await client.get(
        "/v1/tickets", params={"high_risk": "false", "customer_no": "C-1"}, headers=auth(Role.AGENT)
    )
    assert [t["number"] for t in unflagged.json()["items"]] == [calm["number"]]
    refused = await client.get("/v1/tickets", params={"high_risk": "false"}, headers=auth(Role.AGENT))
    assert problem_fields(refused, 422, "validation_failed") == {"high_risk"}
    assert len(await _flag_events(app)) == 1


async def test_a_customer_message_flags_once_per_new_keyword(app, client, auth, desk):
    ticket = await open_ticket(client, auth)
    customer = auth(Role.CUSTOMER)
    comments = f"/v1/tickets/{ticket['id']}/comments"

    first = await client.post(comments, json={"body": "再拖下去我就请律 师起诉你们"}, headers=customer)
    again = await client.post(comments, json={"body": "我说了，律师已经在准备了"}, headers=customer)

    assert (first.status_code, again.status_code) == (201, 201), (first.text, again.text)
    after = (await client.get(f"/v1/tickets/{ticket['id']}", headers=auth(Role.AGENT))).json()
    assert after["priority"] == "urgent"
    assert [(r["detail"], r["source"]) for r in after["risk"]["reasons"]] == [("律师", "message"), ("起诉", "message")]
    assert len(await _flag_events(app)) == 1
    staff_timeline = (await client.get(f"/v1/tickets/{ticket['id']}/timeline", headers=auth(Role.AGENT))).json()
    customer_timeline = (await client.get(f"/v1/tickets/{ticket['id']}/timeline", headers=customer)).json()
    flagged_entries = [e for e in staff_timeline["items"] if "risk_reasons" in (e.get("payload") or {})]
    assert len(flagged_entries) == 1 and flagged_entries[0]["payload"]["priority"] == {"from": "normal", "to": "urgent"}
    assert not [e for e in customer_timeline["items"] if "risk_reasons" in (e.get("payload") or {})]


async def test_a_keyword_inside_an_exception_is_no_threat_but_another_occurrence_is(app, client, auth, desk):
    assert (await _save(client, auth, _settings())).status_code == 200

    calm = await open_ticket(client, auth, description="相机的曝光补偿在哪里设置？")
    threat = await open_ticket(client, auth, description="曝光补偿调不了，再不修我就去微博曝光")

    assert calm["risk"] is None
    assert [r["detail"] for r in threat["risk"]["reasons"]] == ["曝光"]


async def test_staff_quoting_a_keyword_flag_nothing_but_an_urge_does(app, client, auth, desk):
    ticket = await open_ticket(client, auth)
    comments = f"/v1/tickets/{ticket['id']}/comments"

    staff = await client.post(comments, json={"body": "已告知客户无需拨打12315"}, headers=auth(Role.AGENT))
    assert staff.status_code == 201 and await _flag_events(app) == []

    urged = await act(client, auth(Role.CUSTOMER), ticket, "urge", remark="还不处理？我去黑猫投诉曝光")

    assert urged.status_code == 200, urged.text
    assert urged.json()["priority"] == "urgent"
    [event] = await _flag_events(app)
    assert "曝光" in [r["detail"] for r in event["new_reasons"]]


async def test_a_vip_complaint_and_the_third_complaint_in_the_window_are_flagged(client, auth, desk):
    complaint = {"type": "complaint", "title": "服务投诉", "description": "上门师傅迟到"}
    first = await open_ticket(client, auth, **complaint)
    repair = await open_ticket(client, auth, customer_no="C-2")  # C-2 is a regular customer, not a complaint
    await client.put(SETTINGS, json=_settings(vip_levels=[]), headers=auth(Role.MANAGER) | {"If-Match": '"0"'})
    second = await open_ticket(client, auth, **complaint)
    third = await open_ticket(client, auth, **complaint)

    assert [(r["code"], r["detail"]) for r in first["risk"]["reasons"]] == [("vip", "vip")]
    assert first["priority"] == "high"
    assert repair["risk"] is None
    assert second["risk"] is None
    assert [(r["code"], r["detail"]) for r in third["risk"]["reasons"]] == [
        ("repeat_complaint", "complaint 3 within 30 days")
    ]


async def test_switched_off_nothing_is_flagged(app, client, auth, desk):
    assert (await _save(client, auth, _settings(enabled=False))).status_code == 200

    ticket = await open_ticket(client, auth, description="律师函已发出")

    assert ticket["risk"] is None and await _flag_events(app) == []


async def test_settings_are_read_and_replaced_under_if_match(client, auth):
    read = await client.get(SETTINGS, headers=auth(Role.AGENT))
    assert read.status_code == 200 and read.headers["ETag"] == '"0"'
    assert read.json()["keywords"] == list(DEFAULT_KEYWORDS)
    assert read.json()["exceptions"] == list(DEFAULT_EXCEPTIONS)

    saved = await _save(client, auth, _settings())
    stale = await _save(client, auth, _settings(repeat_complaints=5))
    by_agent = await client.put(SETTINGS, json=_settings(), headers=auth(Role.AGENT) | {"If-Match": '"1"'})

    assert (saved.status_code, saved.headers["ETag"], saved.json()["keywords"]) == (200, '"1"', _settings()["keywords"])
    assert stale.status_code == 412, stale.text
    assert by_agent.status_code == 403


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        ({"keywords": []}, "#/keywords"),
        ({"keywords": ["律师"] * (MAX_KEYWORDS + 1)}, "#/keywords"),
        ({"keywords": ["律师", "律師"]}, "#/keywords/1"),
        ({"keywords": ["律师", "   "]}, "#/keywords/1"),
        ({"keywords": ["x" * 65]}, "#/keywords/0"),
        ({"keywords": ["律师", 12315]}, "#/keywords/1"),
        ({"exceptions": ["律師"]}, "#/exceptions/0"),
        ({"exceptions": ["多媒体", "多 媒 体"]}, "#/exceptions/1"),
        ({"exceptions": ["x" * 65]}, "#/exceptions/0"),
        ({"repeat_complaints": 1}, "#/repeat_complaints"),
        ({"repeat_window_days": 0}, "#/repeat_window_days"),
        ({"repeat_window_days": 10**30}, "#/repeat_window_days"),
        ({"vip_levels": ["vip", "vip"]}, "#/vip_levels"),
        ({"vip_levels": ["diamond"]}, "#/vip_levels/0"),
        ({"priorities": {"keyword": "critical"}}, "#/priorities/keyword"),
        ({"priorities": {"weather": "high"}}, "#/priorities/weather"),
        ({"enabled": "yes"}, "#/enabled"),
        ({"surprise": True}, "#/surprise"),
    ],
)
async def test_bad_settings_are_refused_naming_the_field_and_nothing_is_written(app, client, auth, overrides, pointer):
    response = await _save(client, auth, _settings(**overrides))

    assert response.status_code == 422, response.text
    assert pointer in {e.get("pointer") for e in response.json()["errors"]}, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    async with app.state.services.database.engine.connect() as conn:
        assert (await conn.execute(select(service_settings.c.key))).scalars().all() == []
