"""A policy edit reaches the tickets already running on it: the `sla_rederive` walk re-targets their clocks from
their start (time spent stays spent), and a deleted or reordered policy hands its tickets to the policy that now
matches them. A policy that measures nothing at a ticket's priority is still the one it runs on."""

from __future__ import annotations

from datetime import timedelta

from app.domain.principal import Role
from tests.api.test_sla_clock import (
    HOUR,
    SH,
    at,
    business,
    desk,
    friday_clock,
    metric,
    open_ticket,
    policy_body,
    put_policy,
    read,
    sh,
)

__all__ = ["desk", "friday_clock"]  # fixtures


async def test_an_edited_target_moves_the_deadline_of_a_running_ticket(desk, auth, friday_clock):
    app, http = desk
    await put_policy(http, auth)  # first reply in 2 business hours
    created = await open_ticket(http, auth)  # Friday 17:00: due Monday 10:00
    monday = friday_clock.now().astimezone(SH).date() + timedelta(days=3)

    edited = policy_body(targets={"first_reply": {"normal": business(4)}, "resolution": {"normal": business(16)}})
    response = await http.put(
        "/v1/sla-policies/standard", json=edited, headers=auth(Role.MANAGER) | {"If-Match": '"1"'}
    )
    assert response.status_code == 200, response.text
    assert await app.state.services.sla.rederive() >= 1

    first = metric((await read(http, auth(Role.MANAGER), created))["sla"], "first_reply")
    assert (first["target_seconds"], at(first["due_at"])) == (4 * HOUR, sh(monday, 12))  # Fri 17-18, Mon 9-12
    assert await app.state.services.sla.rederive() == 0  # the request is done: a second pass walks nothing


async def test_deleting_a_policy_hands_its_tickets_to_the_next_match(desk, auth):
    app, http = desk
    await put_policy(http, auth, key="standard")
    urgent_targets = {"first_reply": {"normal": business(1)}}
    await put_policy(http, auth, key="fast", conditions={"channel": ["web"]}, targets=urgent_targets)  # goes first
    created = await open_ticket(http, auth, channel="web")
    assert created["sla"]["policy"] == "fast"

    deleted = await http.delete("/v1/sla-policies/fast", headers=auth(Role.MANAGER) | {"If-Match": '"1"'})
    assert deleted.status_code == 204, deleted.text
    await app.state.services.sla.rederive()

    sla = (await read(http, auth(Role.MANAGER), created))["sla"]
    assert sla["policy"] == "standard"
    assert metric(sla, "first_reply")["target_seconds"] == 2 * HOUR


async def test_a_policy_without_a_target_at_the_tickets_priority_is_still_its_policy(desk, auth):
    _, http = desk
    await put_policy(http, auth)  # targets at normal only

    created = await open_ticket(http, auth, priority="urgent")

    assert created["sla"] == {"policy": "standard", "metrics": [], "none_reason": None, "promise": None}


async def test_a_breach_that_raises_the_priority_names_the_policy_it_rematched_on_the_timeline(
    desk, auth, friday_clock
):
    app, http = desk
    hour = {"seconds": HOUR, "business": False}
    raising = {"raise_level": True, "raise_priority": True}
    await put_policy(http, auth, key="standard", targets={"first_reply": {"normal": hour}}, escalation=raising)
    high = {"first_reply": {"high": {"seconds": 2 * HOUR, "business": False}}}
    await put_policy(http, auth, key="high", conditions={"priority": ["high"]}, targets=high)  # goes first
    created = await open_ticket(http, auth)
    friday_clock.advance(timedelta(hours=1, minutes=5))

    assert await app.state.services.sla.scan() == 1

    ticket = await read(http, auth(Role.MANAGER), created)
    assert (ticket["priority"], ticket["sla"]["policy"]) == ("high", "high")
    history = (await http.get(f"/v1/tickets/{created['id']}/timeline", headers=auth(Role.MANAGER))).json()["items"]
    [escalation] = [e for e in history if e["action"] == "escalate"]
    assert escalation["payload"]["priority"] == {"from": "normal", "to": "high"}
    assert escalation["payload"]["sla_policy"] == {"from": "standard", "to": "high"}
