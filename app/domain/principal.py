"""Who is calling: roles and the data scope they grant."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    REVIEWER = "reviewer"
    MANAGER = "manager"
    ADMIN = "admin"
    INTEGRATION = "integration"


# Every set of roles that means something is defined here, once, named for what it means; modules import these
# instead of spelling members out (two sets of one name meaning different things hid permission bugs).
STAFF_ROLES = frozenset({Role.AGENT, Role.REVIEWER, Role.MANAGER, Role.ADMIN})
"""People who work for us, whatever their job: internal notes, tasks, approvals and the staff inbox."""
CASE_HANDLERS = frozenset({Role.AGENT, Role.MANAGER, Role.ADMIN})
"""Staff who work tickets, tasks and after-sales steps from the queues (admins may stand in)."""
ASSIGNEE_ROLES = frozenset({Role.AGENT, Role.MANAGER})
"""Roles a ticket or task may be given to or claimed by: people who carry a queue of their own."""
REVIEWER_ROLES = frozenset({Role.REVIEWER, Role.MANAGER, Role.ADMIN})
"""Who reviews after-sales requests (审核)."""
MANAGERS = frozenset({Role.MANAGER, Role.ADMIN})
"""Who may act over anyone's work: assign it, decide for others, see everyone's figures."""
ON_BEHALF_OF_CUSTOMER = frozenset({Role.AGENT, Role.MANAGER, Role.INTEGRATION})
"""Who may act for a customer: agents on the phone and chatbots (integrations) in a chat."""
RETURN_INSPECTORS = frozenset({Role.AGENT, Role.MANAGER, Role.INTEGRATION})
"""Who records a return's arrival and inspection (质检): staff at the returns desk, or the WMS."""
SYSTEMS = frozenset({Role.INTEGRATION})
"""Other systems (payment centre, WMS, ERP/CRM) reporting steps only they can know."""


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. A customer principal always has a `customer_no` and no other role."""

    subject: str
    roles: frozenset[Role]
    customer_no: str | None = None
    business_lines: frozenset[str] = field(default_factory=frozenset)
    api_key_id: str | None = None

    def __post_init__(self) -> None:
        if Role.CUSTOMER in self.roles and (self.customer_no is None or len(self.roles) > 1):
            raise ValueError("a customer principal needs customer_no and no other role")

    @property
    def is_customer(self) -> bool:
        return Role.CUSTOMER in self.roles

    def has_any(self, roles: frozenset[Role]) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def is_manager(self) -> bool:
        return self.has_any(MANAGERS)

    @property
    def business_line_scope(self) -> frozenset[str] | None:
        """Staff scoped by the JWT `business_lines` claim see only those lines; None (no claim, or a customer,
        who is scoped by customer instead) means every line."""
        return None if self.is_customer else (self.business_lines or None)

    def can_see_business_line(self, business_line: str | None) -> bool:
        """Records of no business line are visible to every staff member."""
        scope = self.business_line_scope
        return scope is None or business_line is None or business_line in scope

    def can_see_customer(self, customer_no: str) -> bool:
        """A customer sees only their own records; every other role sees all of them."""
        return not self.is_customer or self.customer_no == customer_no
