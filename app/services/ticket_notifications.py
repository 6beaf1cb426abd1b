"""Who hears of what happens to a ticket (派单后提醒处理人): assignment, transfer, escalation and customer replies,
written to the inbox in the action's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.notifications import NotificationKind, Subject
from app.domain.principal import Principal, Role
from app.domain.tickets import Ticket
from app.domain.unit_of_work import UnitOfWork
from app.services.notifications import notify


async def notify_of_action(
    uow: UnitOfWork, before: Ticket, after: Ticket, action: str, principal: Principal, now: datetime
) -> int:
    """派单后提醒处理人: the people an action concerns hear of it in their inbox, in the action's transaction; its
    actor never does. Answers how many were notified."""
    number = after.number
    data: dict[str, Any] = {"action": action, "actor": principal.subject, "status": after.status}
    recipients: list[str | None]
    if action == "assign" and after.assignee != before.assignee:
        kind, recipients = NotificationKind.ASSIGNMENT, [after.assignee]
        title = {"zh-CN": f"工单 {number} 已派给您", "en": f"Ticket {number} has been assigned to you"}
    elif action == "transfer" and after.assignee is not None:
        kind, recipients = NotificationKind.TRANSFER, [after.assignee]
        title = {"zh-CN": f"工单 {number} 已转派给您", "en": f"Ticket {number} has been transferred to you"}
    elif action == "transfer" and after.group_key is not None:
        group = await uow.groups.get(after.group_key)
        name = group.data.name if group else after.group_key
        kind, recipients = NotificationKind.TRANSFER, list(await uow.agents.active_members(after.group_key))
        title = {
            "zh-CN": f"工单 {number} 已转入{name}待领取池",
            "en": f"Ticket {number} is waiting in the claim pool of {name}",
        }
        data["group"] = after.group_key
    elif action in ("escalate", "urge") and after.escalation_level > before.escalation_level:
        level = after.escalation_level
        kind, recipients = NotificationKind.ESCALATION, await _escalation_recipients(uow, after)
        title = (
            {"zh-CN": f"工单 {number} 已升级至 {level} 级", "en": f"Ticket {number} was escalated to level {level}"}
            if action == "escalate"
            else {
                "zh-CN": f"客户多次催单，工单 {number} 已升级至 {level} 级",
                "en": f"The customer keeps urging ticket {number}; it was escalated to level {level}",
            }
        )
        data["escalation_level"] = level
    elif action == "customer_reply":
        kind, recipients = NotificationKind.CUSTOMER_REPLY, [after.assignee]
        title = {"zh-CN": f"客户已回复工单 {number}", "en": f"The customer replied on ticket {number}"}
    else:
        return 0
    return await notify(
        uow,
        recipients=recipients,
        kind=kind,
        subject=Subject("ticket", after.id, number),
        title=title,
        now=now,
        actor=principal.subject,
        data=data,
    )


async def _escalation_recipients(uow: UnitOfWork, ticket: Ticket) -> list[str | None]:
    """The assignee and their supervisor; for an unassigned ticket its group's active members, or the active
    managers when there are none, so that an escalation always reaches someone."""
    if ticket.assignee is not None:
        agent = await uow.agents.get(ticket.assignee)
        return [ticket.assignee, agent.data.supervisor if agent else None]
    members = await uow.agents.active_members(ticket.group_key) if ticket.group_key is not None else []
    return list(members or await uow.agents.active_with_role(Role.MANAGER))
