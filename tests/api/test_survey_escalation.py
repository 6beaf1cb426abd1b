"""The low-score loop end to end (差评 → 客诉升级 → 回访任务 → 再次调查): a low CSAT or an NPS detractor escalates the
completed ticket, tells the handler's supervisor and gives them a follow-up task due in the settings' hours; the
task's report sends a second survey, and a satisfied second answer counts as recovered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from app.domain.principal import Role
from app.services.survey_invitations import SETTLE
from tests.api.test_surveys import (
    LOW,
    desk,
    events,
    invitations,
    invite,
    invited_link,
    put_settings,
    refunded,
    token_of,
)
from tests.conftest import MovableClock
from tests.factories import iso

__all__ = ["desk"]


async def inbox(http: httpx.AsyncClient, auth, user: str, role: Role = Role.MANAGER) -> list[dict[str, Any]]:
    response = await http.get("/v1/me/notifications", headers=auth(role, sub=user))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def follow_up_task(http: httpx.AsyncClient, auth, ticket_id: str) -> dict[str, Any]:
    response = await http.get("/v1/tasks", params={"ticket_id": ticket_id}, headers=auth(Role.MANAGER))
    assert response.status_code == 200, response.text
    [task] = response.json()["items"]
    return task


async def report(http: httpx.AsyncClient, auth, clock: MovableClock, task: dict[str, Any], user: str) -> None:
    handler = auth(Role.MANAGER, sub=user)
    started = await http.post(f"/v1/tasks/{task['id']}/actions/start", json={}, headers=handler)
    assert started.status_code == 200, started.text
    clock.advance(timedelta(minutes=30))
    body = {"result": "已致电客户致歉并安排复检", "completed_at": iso(clock.now()), "hours_worked": "0.5"}
    reported = await http.post(f"/v1/tasks/{task['id']}/actions/report", json=body, headers=handler)
    assert reported.status_code == 200, reported.text


async def low_scored(app: FastAPI, http: httpx.AsyncClient, auth, clock: MovableClock, **answer: Any) -> dict:
    """A completed ticket of agent-1's, its survey answered low; answers the ticket as staff read it now."""
    token = await invited_link(app, http, auth, clock)
    [sent] = await invitations(app)
    response = await http.post(f"/v1/surveys/{token}", json=answer or LOW)
    assert response.status_code == 200, response.text
    ticket = await http.get(f"/v1/tickets/{sent['subject_id']}", headers=auth(Role.MANAGER))
    return ticket.json()


async def test_a_low_score_escalates_the_ticket_notifies_the_supervisor_and_gives_them_a_follow_up_task(
    desk,
    auth,
    clock,
):
    app, http = desk

    ticket = await low_scored(app, http, auth, clock)

    assert (ticket["status"], ticket["escalation_level"]) == ("completed", 1)
    timeline = await http.get(f"/v1/tickets/{ticket['id']}/timeline", headers=auth(Role.MANAGER))
    [entry] = [e for e in timeline.json()["items"] if e["action"] == "escalate"]
    assert (entry["actor"], entry["visibility"], entry["payload"]["reason"]) == (
        "system",
        "internal",
        "survey_low_score",
    )
    assert entry["payload"]["csat"] == 2 and entry["payload"]["reasons"] == ["not_resolved", "slow_response"]
    customer_view = await http.get(f"/v1/tickets/{ticket['id']}/timeline", headers=auth(Role.CUSTOMER))
    assert "escalate" not in [e["action"] for e in customer_view.json()["items"]]
    task = await follow_up_task(http, auth, ticket["id"])
    assert (task["assignee"], task["status"], task["title"]) == ("manager-1", "open", f"差评回访：{ticket['number']}")
    assert task["due_at"] == iso(clock.now() + timedelta(hours=24))
    [note] = [n for n in await inbox(http, auth, "manager-1") if n["kind"] == "escalation"]
    assert note["subject"]["ref"] == ticket["number"] and note["data"]["follow_up_task"]["id"] == task["id"]
    assert [e["ticket_id"] for e in await events(app, "ticket.escalate")] == [ticket["id"]]
    [answered] = await events(app, "survey.answered")
    assert answered["low_score"] is True and answered["follow_up_task_id"] == task["id"]


async def test_an_nps_detractor_is_a_low_score_though_its_csat_is_good(desk, auth, clock):
    app, http = desk

    ticket = await low_scored(app, http, auth, clock, csat=4, nps=5)

    assert ticket["escalation_level"] == 1
    assert (await follow_up_task(http, auth, ticket["id"]))["assignee"] == "manager-1"


async def test_a_good_score_escalates_nothing(desk, auth, clock):
    app, http = desk

    ticket = await low_scored(app, http, auth, clock, csat=3, nps=7)

    assert ticket["escalation_level"] == 0
    assert await events(app, "ticket.escalate") == [] and await events(app, "task.created") == []
    assert [n for n in await inbox(http, auth, "manager-1") if n["kind"] == "escalation"] == []


async def test_without_a_supervisor_the_managers_are_told_and_the_task_waits_in_the_groups_pool(
    desk,
    auth,
    clock,
):
    app, http = desk
    token = await invited_link(app, http, auth, clock, agent="agent-2", group_key="east")  # agent-2: no supervisor

    await http.post(f"/v1/surveys/{token}", json=LOW)

    [sent] = await invitations(app)
    task = await follow_up_task(http, auth, sent["subject_id"])
    assert (task["assignee"], task["group_key"]) == (None, "east")
    # The managers hear of the escalation; the group's members (manager-1 is one) of the task, as of any task given out
    # to a group.
    assert [n["kind"] for n in await inbox(http, auth, "manager-1")] == ["escalation", "assignment"]
    assert [n["kind"] for n in await inbox(http, auth, "agent-1", Role.AGENT)] == ["assignment"]


async def test_the_follow_up_tasks_report_sends_a_second_survey_and_a_satisfied_answer_recovers_the_detractor(
    desk,
    auth,
    clock,
):
    app, http = desk
    await put_settings(http, auth, follow_up_due_minutes=480)
    ticket = await low_scored(app, http, auth, clock)
    task = await follow_up_task(http, auth, ticket["id"])
    assert task["due_at"] == iso(clock.now() + timedelta(hours=8))
    first = (await http.get("/v1/surveys", headers=auth(Role.MANAGER))).json()["items"][0]
    assert (first["low_score"], first["recovered"], first["second_survey"]) == (True, False, None)

    await report(http, auth, clock, task, "manager-1")
    clock.advance(SETTLE + timedelta(minutes=1))
    await app.state.services.surveys.run()

    first_sent, second_sent = await invitations(app)
    assert second_sent["round"] == 2 and second_sent["nps_asked"] is False
    assert second_sent["subject_id"] == first_sent["subject_id"] == ticket["id"]
    second = await http.get(f"/v1/surveys/{token_of(second_sent)}")
    assert [q["key"] for q in second.json()["questions"]] == ["csat", "reasons", "comment"]
    assert (await http.post(f"/v1/surveys/{token_of(second_sent)}", json={"csat": 4})).status_code == 200

    listed = (await http.get("/v1/surveys", headers=auth(Role.MANAGER))).json()["items"]
    assert [s["round"] for s in listed] == [2, 1]
    assert listed[1]["follow_up_done_at"] is not None and listed[1]["recovered"] is True
    assert listed[1]["second_survey"]["csat"] == 4 and listed[1]["second_survey"]["state"] == "answered"
    window = {"sent_from": iso(clock.now() - timedelta(days=1)), "sent_to": iso(clock.now() + timedelta(days=1))}
    stats = (await http.get("/v1/survey-stats", params=window, headers=auth(Role.MANAGER))).json()
    assert (stats["sent"], stats["low_scores"], stats["follow_ups_done"], stats["recovered"]) == (1, 1, 1, 1)
    assert stats["recovery_rate"] == 1.0
    assert (await app.state.services.surveys.run()) == 0  # one second survey, however often the job runs


async def test_a_second_survey_answered_low_escalates_again_without_a_third_round(desk, auth, clock):
    app, http = desk
    ticket = await low_scored(app, http, auth, clock)
    await report(http, auth, clock, await follow_up_task(http, auth, ticket["id"]), "manager-1")
    [_, second] = await invite(app, clock)

    answered = await http.post(f"/v1/surveys/{token_of(second)}", json={"csat": 1, "reasons": ["not_resolved"]})

    assert answered.status_code == 200, answered.text
    shown = await http.get(f"/v1/tickets/{ticket['id']}", headers=auth(Role.MANAGER))
    assert shown.json()["escalation_level"] == 2
    tasks = await http.get("/v1/tasks", params={"ticket_id": ticket["id"]}, headers=auth(Role.MANAGER))
    assert len(tasks.json()["items"]) == 1
    stats_window = {"sent_from": iso(clock.now() - timedelta(days=1)), "sent_to": iso(clock.now() + timedelta(1))}
    stats = (await http.get("/v1/survey-stats", params=stats_window, headers=auth(Role.MANAGER))).json()
    assert (stats["low_scores"], stats["follow_ups_done"], stats["recovered"], stats["recovery_rate"]) == (
        1,
        1,
        0,
        0.0,
    )


async def test_a_low_scored_after_sales_order_is_escalated_and_followed_up_on_a_ticket_of_its_own(desk, auth, clock):
    """The refund came from no ticket: the loop opens one (差评回访, not a complaint) for the follow-up task."""
    app, http = desk
    refund = await refunded(http, auth)
    [sent] = await invite(app, clock)

    answered = await http.post(f"/v1/surveys/{token_of(sent)}", json={"csat": 1, "reasons": ["refund_or_compensation"]})

    assert answered.status_code == 200, answered.text
    order = await http.get(f"/v1/after-sales/{refund['id']}", headers=auth(Role.MANAGER))
    assert order.json()["escalation_level"] == 1
    [escalated] = await events(app, "after_sales.escalate")
    assert escalated["after_sales_id"] == refund["id"] and escalated["actor"] == "system"
    [note] = await inbox(http, auth, "manager-1")
    assert (note["kind"], note["subject"]["type"]) == ("escalation", "after_sales")
    task = (await http.get(f"/v1/tasks/{note['data']['follow_up_task']['id']}", headers=auth(Role.MANAGER))).json()
    ticket = (await http.get(f"/v1/tickets/{task['ticket_id']}", headers=auth(Role.MANAGER))).json()
    assert (ticket["title"], ticket["type"], ticket["priority"], ticket["category"], ticket["customer_no"]) == (
        f"差评回访：{refund['number']}",
        "other",
        "high",
        "survey_follow_up",
        refund["customer_no"],
    )
    assert task["title"] == f"差评回访：{refund['number']}"
