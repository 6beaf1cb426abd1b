"""/v1/attachments: the streamed upload, the metadata read, the signed download link and the content behind it."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import Query, Request, Response
from fastapi.responses import StreamingResponse

from app.domain.attachments import Purpose, StoredAttachment
from app.domain.file_types import MAX_FILE_NAME
from app.schemas.common import PROBLEM_DESCRIPTIONS, CustomerNo, Problem, problems
from app.schemas.stored_attachments import (
    AttachmentLinkOut,
    DirectUploadConfirmIn,
    DirectUploadIn,
    DirectUploadOut,
    StoredAttachmentOut,
    upload_request_body,
)
from app.web.auth import Anyone, LinkHolder
from app.web.routes import api_router
from app.web.uploads import read_upload
from app.web.wiring import Svc

UPLOAD_PATH = "/v1/attachments"
router = api_router(tags=["attachments"])
CONTENT_SECURITY_POLICY = "default-src 'none'; sandbox"
"""A served file runs nothing and loads nothing, even if a browser were to take it for a page."""


@router.post(
    UPLOAD_PATH,
    status_code=201,
    responses={
        **problems(400, 404, 409, 422),
        413: {"model": Problem, "description": "The file is larger than its kind's limit (or declares so)."},
        415: {"model": Problem, "description": "The file type is not allowed, or its bytes are not what it claims."},
    },
    openapi_extra=upload_request_body(),
)
async def upload_attachment(
    request: Request,
    principal: Anyone,
    response: Response,
    svc: Svc,
    filename: Annotated[
        str | None, Query(description=f"Raw uploads: the file's name (UTF-8, ≤ {MAX_FILE_NAME} characters).")
    ] = None,
    purpose: Annotated[Purpose | None, Query(description="Raw uploads: what the file is for (evidence).")] = None,
    customer_no: Annotated[
        CustomerNo | None, Query(description="Raw uploads, staff: the customer the file is for.")
    ] = None,
) -> StoredAttachmentOut:
    """Upload a file, streamed: as `multipart/form-data` (text fields, then one `file` part) or as the raw body with
    its own Content-Type and `?filename=`. The type is sniffed from the bytes and must agree with the extension
    (jpg/jpeg, png, gif, webp, heic up to the image limit; mp4, mov up to the video limit; pdf up to the document
    limit); renamed executables, markup posing as an image and polyglots are refused (415, naming why). A declared
    Content-Length above the limit is refused before a byte is read (413). The file is `pending` until scanned."""
    form, incoming = await read_upload(request, filename=filename, purpose=purpose, customer_no=customer_no)
    attachment = await svc.attachments.upload(principal, form, incoming)
    response.headers["Location"] = f"{UPLOAD_PATH}/{attachment.id}"
    return StoredAttachmentOut.of(attachment)


@router.post(f"{UPLOAD_PATH}/direct-uploads", status_code=201, responses=problems(409, 413, 415, 422))
async def start_direct_upload(body: DirectUploadIn, principal: Anyone, svc: Svc) -> DirectUploadOut:
    """大文件直传: a presigned upload straight to the object store (S3) for a file of this exact size and SHA-256,
    after the checks an upload's name, type, purpose, owner and limit get. Send it, then confirm it with the token
    before `expires_at`. A store that takes files only through `POST /v1/attachments` answers 409
    `direct_upload_unavailable`."""
    return DirectUploadOut.of(await svc.direct_uploads.start(principal, body.to_domain()))


@router.post(f"{UPLOAD_PATH}/direct-uploads/confirm", status_code=201, responses=problems(404, 413, 415, 422))
async def confirm_direct_upload(
    body: DirectUploadConfirmIn, principal: Anyone, response: Response, svc: Svc
) -> StoredAttachmentOut:
    """Turn a direct upload into an attachment, `pending` its scan: by the caller it was granted to, once; the file
    must have the size and SHA-256 it was granted for (422 `direct_upload_mismatch`) and pass the checks of an
    upload's bytes (415). A refused file is deleted."""
    attachment = await svc.direct_uploads.confirm(principal, body.token)
    response.headers["Location"] = f"{UPLOAD_PATH}/{attachment.id}"
    return StoredAttachmentOut.of(attachment)


@router.get(f"{UPLOAD_PATH}/{{attachment_id}}", responses=problems(404, 422))
async def get_attachment(attachment_id: UUID, principal: Anyone, svc: Svc) -> StoredAttachmentOut:
    """An attachment's metadata and scan status; a customer reaches only their own uploads (another's is 404)."""
    return StoredAttachmentOut.of(await svc.attachments.get(principal, attachment_id))


@router.post(f"{UPLOAD_PATH}/{{attachment_id}}/link", responses=problems(404, 409, 422))
async def link_attachment(attachment_id: UUID, principal: Anyone, request: Request, svc: Svc) -> AttachmentLinkOut:
    """A short-lived download link (AFTERSALES_ATTACHMENT_LINK_TTL_SECONDS, 5 minutes by default) that needs no
    credentials: signed by the service, or presigned by the object store. Only a clean file gets one: a pending file
    is 409 `attachment_pending_scan`, an infected one 409 `attachment_infected`."""
    link = await svc.attachments.link(principal, attachment_id)
    if link.store_url is not None:
        return AttachmentLinkOut(url=link.store_url, expires_at=link.expires_at)
    content = request.url_for("get_attachment_content", attachment_id=str(attachment_id))
    url = content.include_query_params(expires=link.expires, signature=link.signature)
    return AttachmentLinkOut(url=str(url), expires_at=link.expires_at)


def _link_problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A signed link's problems: no credentials are read, so no 401."""
    return {status: {"model": Problem, "description": PROBLEM_DESCRIPTIONS[status]} for status in statuses}


@router.get(
    f"{UPLOAD_PATH}/{{attachment_id}}/content",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file's bytes, as an attachment (inline for jpeg, png, gif and webp).",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        },
        **_link_problems(403, 404, 409, 422),
    },
)
async def get_attachment_content(
    attachment_id: UUID,
    _: LinkHolder,
    svc: Svc,
    expires: Annotated[int, Query(ge=0, description="When the link expires, in seconds since 1970.")],
    signature: Annotated[str, Query(max_length=128, description="The link's signature, as it was given.")],
) -> StreamingResponse:
    """The file behind a signed link from `POST …/link`, without credentials. A tampered link is 403
    `link_invalid`, an expired one 403 `link_expired`; a file found infected meanwhile is 409."""
    attachment, chunks = await svc.attachments.content(attachment_id, expires, signature)
    return StreamingResponse(chunks, media_type=attachment.file_type.content_type, headers=_served_headers(attachment))


def _served_headers(attachment: StoredAttachment) -> dict[str, str]:
    disposition = "inline" if attachment.file_type.inline else "attachment"
    # An ASCII name for old clients, the real one (RFC 6266 / RFC 8187) for every current browser.
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\%' else "_" for c in attachment.file_name)
    encoded = quote(attachment.file_name, safe="")
    return {
        "Content-Length": str(attachment.size),
        "Content-Disposition": f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
    }
