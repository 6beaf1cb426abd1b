"""/v1/attachments/{id}/legal-hold: 法律保全, which keeps a file from every retention deletion until it is cleared."""

from __future__ import annotations

from uuid import UUID

from app.schemas.attachment_retention import LegalHoldIn
from app.schemas.common import problems
from app.schemas.stored_attachments import StoredAttachmentOut
from app.web.auth import Admin
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(tags=["attachments"])


@router.put("/v1/attachments/{attachment_id}/legal-hold", responses=problems(404, 422))
async def set_legal_hold(attachment_id: UUID, body: LegalHoldIn, _: Admin, svc: Svc) -> StoredAttachmentOut:
    """Hold a file (admins): the retention job never deletes it, attached or not, until the hold is cleared. A deleted
    file is 404."""
    return StoredAttachmentOut.of(await svc.attachment_retention.set_legal_hold(attachment_id, body.legal_hold))
