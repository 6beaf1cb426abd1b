"""Customer contract: what ERP/CRM systems send and what callers read."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import ConfigDict, Field

from app.domain.customers import ContactChannel, ContactKind, Customer, CustomerData, CustomerLevel
from app.schemas.after_sales import AfterSalesSummaryOut
from app.schemas.churn import ChurnOut
from app.schemas.common import Input, Line, Output, Phone
from app.schemas.contracts import ContractOut
from app.schemas.orders import OrderOut
from app.schemas.tickets import TicketSummaryOut


class ContactChannelIn(Input):
    kind: ContactKind
    value: Line = Field(min_length=1, max_length=200)
    preferred: bool = False


class CustomerIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "张伟",
                    "phone": "+86 138 0013 8000",
                    "level": "vip",
                    "region": "CN-31",
                    "contact_channels": [{"kind": "wechat", "value": "zhangwei_88", "preferred": True}],
                }
            ]
        }
    )

    name: Line = Field(min_length=1, max_length=200)
    phone: Phone | None = None
    level: CustomerLevel = CustomerLevel.REGULAR
    region: Line | None = Field(None, min_length=1, max_length=64, description="Region code, e.g. CN-31.")
    contact_channels: list[ContactChannelIn] = Field(default_factory=list, max_length=20)

    def to_data(self) -> CustomerData:
        return CustomerData(
            name=self.name,
            phone=self.phone,
            level=self.level,
            region=self.region,
            contact_channels=tuple(ContactChannel(c.kind, c.value, c.preferred) for c in self.contact_channels),
        )


class ContactChannelOut(Output):
    kind: ContactKind
    value: str
    preferred: bool


class CustomerOut(Output):
    id: UUID
    customer_no: str
    name: str
    phone: str | None
    level: CustomerLevel
    region: str | None
    contact_channels: list[ContactChannelOut]
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, customer: Customer) -> CustomerOut:
        data = customer.data
        return cls(
            id=customer.id,
            customer_no=customer.customer_no,
            name=data.name,
            phone=data.phone,
            level=data.level,
            region=data.region,
            contact_channels=[ContactChannelOut.model_validate(c) for c in data.contact_channels],
            version=customer.version,
            created_at=customer.created_at,
            updated_at=customer.updated_at,
        )


class CustomerListItemOut(CustomerOut):
    churn: ChurnOut = Field(description="流失预警: the customer's churn score (staff and integrations only).")

    @classmethod
    def listed(cls, customer: Customer, threshold: int) -> CustomerListItemOut:
        return cls(**CustomerOut.of(customer).model_dump(), churn=ChurnOut.of(customer.churn, threshold))


class CustomerOverviewOut(Output):
    """客户统一视图: one read for an agent's screen or a chatbot's context."""

    customer: CustomerOut
    recent_orders: list[OrderOut] = Field(description="Newest first, up to 20.")
    more_orders_cursor: str | None = Field(description="Continue with GET /v1/orders?customer_no=…&cursor=….")
    recent_tickets: list[TicketSummaryOut] = Field(description="Newest first, up to 20.")
    more_tickets_cursor: str | None = Field(description="Continue with GET /v1/tickets?customer_no=…&cursor=….")
    recent_after_sales: list[AfterSalesSummaryOut] = Field(description="Newest first, up to 20.")
    more_after_sales_cursor: str | None = Field(description="Continue with GET /v1/after-sales?customer_no=…&cursor=….")
    contracts: list[ContractOut]
    churn: ChurnOut | None = Field(
        description="流失预警: the churn score, for staff and integrations; null when the customer reads their own."
    )
