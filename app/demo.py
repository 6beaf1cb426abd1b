"""Demo data for `aftersales demo`: a small catalogue, customers, orders, a contract, a service desk with its
agents, and a first ticket, loaded idempotently."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app.domain.contracts import ContractData, SlaLevel
from app.domain.customers import ContactChannel, ContactKind, CustomerData, CustomerLevel
from app.domain.errors import NotFound
from app.domain.orders import Fulfilment, FulfilmentStatus, OrderData, OrderLine, PaymentStatus
from app.domain.pagination import PageRequest
from app.domain.people import AgentData, GroupData
from app.domain.preconditions import NO_PRECONDITION
from app.domain.principal import Principal, Role
from app.domain.products import ProductData
from app.domain.tickets import Channel, Priority, TicketFilter, TicketSort, TicketType
from app.services.tickets import TicketDraft
from app.web.wiring import Services

LOADER = Principal("demo-loader", frozenset({Role.ADMIN}))

PRODUCTS = {
    "AP-X3-WHITE": ProductData("Air purifier X3 (white)", "AP-X3", 24, "home-appliance"),
    "FLT-X3": ProductData("HEPA filter for X3", "FLT-X3", 6, "home-appliance"),
    "WM-8KG": ProductData("Washing machine 8 kg", "WM-800", 36, "large-appliance"),
}

CUSTOMERS = {
    "C-10001": CustomerData(
        "张伟",
        "+86 138 0013 8000",
        CustomerLevel.VIP,
        "CN-31",
        (ContactChannel(ContactKind.WECHAT, "zhangwei_88", preferred=True),),
    ),
    "C-10002": CustomerData(
        "Li Na",
        "+86 139 0000 0002",
        CustomerLevel.REGULAR,
        "CN-11",
        (ContactChannel(ContactKind.EMAIL, "li.na@example.com"),),
    ),
}


GROUPS = {
    "east-repair": GroupData("华东维修组", "Repairs in Shanghai, Jiangsu and Zhejiang", "home-appliance"),
    "after-sales-review": GroupData("售后审单组", "Reviews refunds, returns and compensation"),
}

AGENTS = {
    "agent-wang": AgentData(
        "王工",
        frozenset({Role.AGENT}),
        ("east-repair",),
        ("purifier",),
        ("CN-31",),
        ("home-appliance",),
        supervisor="manager-liu",
        max_open_tickets=30,
    ),
    "reviewer-chen": AgentData("陈审核", frozenset({Role.REVIEWER}), ("after-sales-review",), supervisor="manager-liu"),
    "manager-liu": AgentData("刘经理", frozenset({Role.MANAGER}), ("east-repair", "after-sales-review")),
}

FIRST_TICKET = TicketDraft(
    customer_no="C-10001",
    channel=Channel.PHONE_400,
    type=TicketType.REPAIR,
    priority=Priority.HIGH,
    title="净化器运行时异响",
    description="客户来电：X3 净化器开机后有明显异响，已持续两天。",
    order_no="SO-2026-0001",
    sku="AP-X3-WHITE",
    fault_description="风机异响",
    tags=("noise",),
    group_key="east-repair",
)


def _orders(now: datetime) -> dict[str, OrderData]:
    day = timedelta(days=1)
    signed = Fulfilment(
        FulfilmentStatus.SIGNED,
        paid_at=now - 5 * day,
        picking_at=now - 5 * day + timedelta(hours=2),
        picked_at=now - 5 * day + timedelta(hours=4),
        shipped_at=now - 4 * day,
        signed_at=now - 3 * day,
    )
    return {
        "SO-2026-0001": OrderData(
            "C-10001",
            (OrderLine("AP-X3-WHITE", 1, 129900), OrderLine("FLT-X3", 2, 19900)),
            "CNY",
            1000,
            5000,
            165700,
            PaymentStatus.PAID,
            signed,
            "CN-31",
            now - 5 * day - timedelta(minutes=5),
        ),
        "SO-2026-0002": OrderData(
            "C-10001",
            (OrderLine("FLT-X3", 1, 19900),),
            "CNY",
            0,
            0,
            19900,
            PaymentStatus.PAID,
            Fulfilment(FulfilmentStatus.PAID, paid_at=now - timedelta(hours=1)),
            "CN-31",
            now - timedelta(hours=2),
        ),
        "SO-2026-0003": OrderData(
            "C-10002",
            (OrderLine("WM-8KG", 1, 329900),),
            "CNY",
            0,
            0,
            329900,
            PaymentStatus.PAID,
            signed,
            "CN-11",
            now - 5 * day - timedelta(minutes=5),
        ),
    }


async def load_demo(services: Services, now: datetime) -> None:
    """Upserts are idempotent, so loading twice changes nothing. Orders keep the times of the first load."""
    for sku, product in PRODUCTS.items():
        await services.products.upsert(sku, product, NO_PRECONDITION)
    for customer_no, customer in CUSTOMERS.items():
        await services.customers.upsert(customer_no, customer, NO_PRECONDITION)
    for order_no, order in _orders(now).items():
        try:
            await services.orders.get(LOADER, order_no)
        except NotFound:
            await services.orders.upsert(order_no, order, NO_PRECONDITION)
    await services.contracts.upsert(
        "SC-2026-0001",
        ContractData("C-10001", ("AP-X3-WHITE",), date(now.year, 1, 1), date(now.year + 1, 12, 31), SlaLevel.PREMIUM),
        NO_PRECONDITION,
    )
    for key, group in GROUPS.items():
        await services.people.upsert_group(key, group, NO_PRECONDITION)
    for user_id, agent in AGENTS.items():
        await services.people.upsert_agent(user_id, agent, NO_PRECONDITION)
    mine = TicketFilter(customer_no=FIRST_TICKET.customer_no)
    if not (await services.tickets.list(LOADER, mine, TicketSort.CREATED, PageRequest(limit=1))).items:
        await services.tickets.create(Principal("hotline-400", frozenset({Role.AGENT})), FIRST_TICKET)
