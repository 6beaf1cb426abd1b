"""The catalogue of every problem `code` the service answers with: its HTTP status, a short title and what it means.

Raise sites keep writing their code as a string; `tests/unit/test_problem_codes.py` reads every one of them in `app/`
and fails when one is missing here, answers another status, or is listed here but no longer answered. The README's
"Problem codes" table is generated from this list: `python -m app.domain.error_codes README.md` rewrites it."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ProblemCode:
    code: str
    status: int
    title: str
    meaning: str


PROBLEM_CODES: tuple[ProblemCode, ...] = (
    # 400: the request itself is malformed
    ProblemCode("bad_request", 400, "Bad request", "The request is malformed at the HTTP level."),
    ProblemCode(
        "malformed_precondition",
        400,
        "Malformed precondition",
        "`If-Match` / `If-None-Match` is not `*` or a list of quoted entity tags.",
    ),
    ProblemCode(
        "malformed_upload",
        400,
        "Malformed upload",
        "The multipart upload is malformed, has too many parts, a field too long, or a field after the file.",
    ),
    ProblemCode(
        "body_length_mismatch",
        400,
        "Body length mismatch",
        "The body is longer or shorter than its `Content-Length`; nothing was stored.",
    ),
    ProblemCode("body_incomplete", 400, "Body incomplete", "The body was cut off before its end; nothing was stored."),
    # 401: who is calling is not established
    ProblemCode("unauthenticated", 401, "Authentication required", "No bearer token or API key was sent."),
    ProblemCode(
        "invalid_token", 401, "Invalid token", "The bearer token is malformed, badly signed or has bad claims."
    ),
    ProblemCode("token_expired", 401, "Token expired", "The bearer token is past its `exp`."),
    ProblemCode("invalid_api_key", 401, "Invalid API key", "The API key is malformed or unknown."),
    ProblemCode("api_key_revoked", 401, "API key revoked", "The API key has been revoked."),
    ProblemCode(
        "invalid_signature", 401, "Invalid signature", "An inbound event's Standard Webhooks signature does not hold."
    ),
    ProblemCode(
        "stale_timestamp", 401, "Stale timestamp", "An inbound event's `webhook-timestamp` is too far from now."
    ),
    # 403: known caller, not allowed
    ProblemCode("forbidden", 403, "Not allowed", "The caller may not do this."),
    ProblemCode("role_not_allowed", 403, "Role not allowed", "None of the caller's roles may call this operation."),
    ProblemCode(
        "action_forbidden", 403, "Action forbidden", "The caller's roles may not perform this workflow action."
    ),
    ProblemCode(
        "not_an_active_agent",
        403,
        "Not an active agent",
        "The caller is not a registered, active agent who takes work.",
    ),
    ProblemCode(
        "not_coordinator",
        403,
        "Not the coordinator",
        "Only the ticket's assignee or a manager gives out its tasks.",
    ),
    ProblemCode("not_a_member", 403, "Not a member", "Only members of the task's group claim its tasks."),
    ProblemCode("self_approval", 403, "Self-approval", "Nobody approves their own request."),
    ProblemCode("not_an_approver", 403, "Not an approver", "The caller is not an approver at the current level."),
    ProblemCode(
        "survey_staff_credentials",
        403,
        "Staff cannot answer surveys",
        "A survey link is answered by the customer alone: the request carried Authorization or X-API-Key.",
    ),
    ProblemCode("link_invalid", 403, "Link invalid", "The download link's signature does not hold (it was altered)."),
    ProblemCode("link_expired", 403, "Link expired", "The download link has expired; ask for a new one."),
    ProblemCode(
        "upload_token_invalid",
        403,
        "Upload token invalid",
        "The direct upload's token was altered or was given to another caller.",
    ),
    ProblemCode("upload_token_expired", 403, "Upload token expired", "The direct upload's token has expired."),
    # 404: nothing there (or not the caller's)
    ProblemCode("not_found", 404, "Not found", "No such resource."),
    ProblemCode("route_not_found", 404, "No such path", "No operation exists at this path."),
    ProblemCode("customer_not_found", 404, "Customer not found", "No customer with this `customer_no` (or not yours)."),
    ProblemCode("product_not_found", 404, "Product not found", "No product with this SKU."),
    ProblemCode("order_not_found", 404, "Order not found", "No sales order with this `order_no` (or not yours)."),
    ProblemCode("contract_not_found", 404, "Contract not found", "No service contract with this number."),
    ProblemCode("ticket_not_found", 404, "Ticket not found", "No ticket with this id or number (or not visible)."),
    ProblemCode("export_not_found", 404, "Export not found", "No export with this name."),
    ProblemCode("report_not_found", 404, "Report not found", "No report with this name: `GET /v1/reports` lists them."),
    ProblemCode("task_not_found", 404, "Task not found", "No task with this id or number (or not visible)."),
    ProblemCode(
        "article_not_found",
        404,
        "Article not found",
        "No knowledge base article with this id (customers: none published and public).",
    ),
    ProblemCode(
        "synonym_group_not_found", 404, "Synonym group not found", "No knowledge base synonym group with this id."
    ),
    ProblemCode(
        "after_sales_not_found",
        404,
        "After-sales order not found",
        "No after-sales order with this id or number (or not visible).",
    ),
    ProblemCode("approval_not_found", 404, "Approval not found", "No approval with this id (or not visible)."),
    ProblemCode("agent_not_found", 404, "Agent not found", "No agent with this user id."),
    ProblemCode("group_not_found", 404, "Group not found", "No group with this key."),
    ProblemCode("dispatch_rule_not_found", 404, "Dispatch rule not found", "No dispatch rule with this key."),
    ProblemCode(
        "business_calendar_not_found", 404, "Business calendar not found", "No business calendar with this key."
    ),
    ProblemCode("sla_policy_not_found", 404, "SLA policy not found", "No SLA policy with this key."),
    ProblemCode("review_queue_not_found", 404, "Review queue not found", "No review queue with this key."),
    ProblemCode("notification_not_found", 404, "Notification not found", "No notification of yours with this id."),
    ProblemCode("api_key_not_found", 404, "API key not found", "No API key with this id."),
    ProblemCode(
        "webhook_endpoint_not_found", 404, "Webhook endpoint not found", "No webhook endpoint of yours with this id."
    ),
    ProblemCode(
        "webhook_delivery_not_found", 404, "Webhook delivery not found", "No webhook delivery of yours with this id."
    ),
    ProblemCode("inbound_event_not_found", 404, "Inbound event not found", "No stored inbound event with this id."),
    ProblemCode(
        "inbound_source_not_found",
        404,
        "Inbound source not found",
        "No inbound source of this name, or it has no signing secret.",
    ),
    ProblemCode("attachment_not_found", 404, "Attachment not found", "No attachment with this id (or not yours)."),
    ProblemCode(
        "direct_upload_not_found",
        404,
        "Direct upload not found",
        "Nothing was uploaded for the token, or it was confirmed already.",
    ),
    ProblemCode("workflow_not_found", 404, "Workflow not found", "No workflow of this name."),
    ProblemCode(
        "survey_not_found",
        404,
        "Survey not found",
        "No survey at this link: the token is unknown or the link has expired (the same answer for both).",
    ),
    # 405, 406, 408: the method, the representation, the time
    ProblemCode("method_not_allowed", 405, "Method not allowed", "The path does not accept this method; see `Allow`."),
    ProblemCode("not_acceptable", 406, "Not acceptable", "No representation matches `Accept`."),
    ProblemCode(
        "request_timeout", 408, "Request timeout", "The request's headers or body did not arrive in the time allowed."
    ),
    # 409: conflicts with the current state
    ProblemCode(
        "action_not_allowed",
        409,
        "Action not allowed now",
        "The workflow action is not possible in the current state; `allowed_actions` lists what is.",
    ),
    ProblemCode(
        "ticket_not_resolved",
        409,
        "Ticket not resolved",
        "A knowledge base article is drafted from a resolved ticket with a solution; `current_state` says where it is.",
    ),
    ProblemCode(
        "article_not_live",
        409,
        "Article not published",
        "Only a published (live) article takes votes; a draft or archived one does not.",
    ),
    ProblemCode(
        "concurrent_modification", 409, "Concurrent modification", "A concurrent request changed the data; retry."
    ),
    ProblemCode(
        "idempotency_key_in_flight",
        409,
        "Idempotency key in flight",
        "A request with this `Idempotency-Key` is still running.",
    ),
    ProblemCode("duplicate", 409, "Duplicate", "A record with the same key already exists; `fields` names the key."),
    ProblemCode("order_customer_changed", 409, "Order customer changed", "An order's customer never changes."),
    ProblemCode("order_currency_changed", 409, "Order currency changed", "An order's currency never changes."),
    ProblemCode("fulfilment_regressed", 409, "Fulfilment went back", "An order's fulfilment only moves forward."),
    ProblemCode(
        "order_below_held",
        409,
        "Order below what is held",
        "The re-upserted order would be smaller than what after-sales reserved or settled against it.",
    ),
    ProblemCode(
        "contract_customer_changed", 409, "Contract customer changed", "A service contract's customer never changes."
    ),
    ProblemCode(
        "refund_exceeds_refundable",
        409,
        "Refund exceeds refundable",
        "The amount is more than is still refundable on the order or the line.",
    ),
    ProblemCode("ticket_finished", 409, "Ticket finished", "The ticket is resolved, closed or cancelled."),
    ProblemCode("tasks_unfinished", 409, "Tasks unfinished", "The ticket still has open tasks."),
    ProblemCode(
        "agent_at_capacity", 409, "Agent at capacity", "The agent already holds the most open tickets allowed."
    ),
    ProblemCode(
        "agent_available",
        409,
        "Agent available",
        "The agent takes work now: set them away or offline before their work is rebalanced to others.",
    ),
    ProblemCode("approval_closed", 409, "Approval closed", "There is no pending approval to decide."),
    ProblemCode("already_decided", 409, "Already decided", "The caller has already decided this approval."),
    ProblemCode(
        "survey_already_answered",
        409,
        "Survey already answered",
        "The survey has its answer, and no edit window is open.",
    ),
    ProblemCode(
        "sla_default_required",
        409,
        "SLA default required",
        "The change would leave a subject's last SLA policy with conditions: the last one must be the default.",
    ),
    ProblemCode(
        "synonym_term_taken",
        409,
        "Synonym term taken",
        "A term of the group is in another synonym group (the problem's `term`, `group_id`): a term is in one group.",
    ),
    ProblemCode(
        "review_queue_in_use", 409, "Review queue in use", "Orders wait unclaimed in the review queue: it stays."
    ),
    ProblemCode(
        "too_many_review_queues", 409, "Too many review queues", "The most review queues allowed exist already."
    ),
    ProblemCode(
        "attachment_pending_scan",
        409,
        "Attachment not scanned yet",
        "The file waits for its virus scan; it is served once found clean.",
    ),
    ProblemCode("attachment_infected", 409, "Attachment infected", "The virus scanner found the file infected."),
    ProblemCode(
        "evidence_missing",
        409,
        "Evidence missing",
        "The order's reason needs more clean evidence photos before it can be approved; add them with add_evidence.",
    ),
    ProblemCode(
        "direct_upload_unavailable",
        409,
        "Direct upload unavailable",
        "The attachment store takes files through `POST /v1/attachments` only (the local store).",
    ),
    # 412, 428: preconditions
    ProblemCode(
        "etag_mismatch", 412, "ETag mismatch", "`If-Match` does not match the current `ETag`: read again and retry."
    ),
    ProblemCode("already_exists", 412, "Already exists", "`If-None-Match: *` but the resource exists."),
    ProblemCode("if_match_required", 428, "If-Match required", "This change needs `If-Match` with the ETag last read."),
    # 413, 415: the body as transported
    ProblemCode("payload_too_large", 413, "Payload too large", "The body exceeds the configured limit."),
    ProblemCode("unsupported_media_type", 415, "Unsupported media type", "The body's `Content-Type` is not accepted."),
    ProblemCode(
        "unsupported_charset", 415, "Unsupported charset", "JSON bodies are UTF-8: the declared `charset` is another."
    ),
    ProblemCode(
        "unsupported_encoding", 415, "Unsupported encoding", "JSON bodies are UTF-8: this one is UTF-16 or UTF-32."
    ),
    ProblemCode(
        "file_type_not_allowed",
        415,
        "File type not allowed",
        "The file name's extension is not on the allow-list (jpg, jpeg, png, gif, webp, heic, mp4, mov, pdf).",
    ),
    ProblemCode(
        "content_type_mismatch",
        415,
        "Content type mismatch",
        "The declared or sniffed type is not the one the file's extension stands for.",
    ),
    ProblemCode(
        "unrecognised_content", 415, "Unrecognised content", "The file's bytes are of no type the service knows."
    ),
    ProblemCode(
        "executable_content", 415, "Executable content", "The file is an executable or a script, whatever its name."
    ),
    ProblemCode(
        "markup_content",
        415,
        "Markup content",
        "The file holds HTML, SVG, script or server-page markup a browser or server would run.",
    ),
    ProblemCode(
        "polyglot_content", 415, "Polyglot content", "The file hides a second format (a PDF or a ZIP archive)."
    ),
    ProblemCode(
        "active_content", 415, "Active content", "The PDF carries JavaScript, launch actions or embedded files."
    ),
    # 422: fields that are wrong
    ProblemCode(
        "validation_failed",
        422,
        "Validation failed",
        "Fields, parameters or headers do not match the schema; `errors` names each.",
    ),
    ProblemCode("invalid_input", 422, "Invalid input", "Well-formed input breaks a business rule; `errors` names it."),
    ProblemCode(
        "unknown_reference",
        422,
        "Unknown reference",
        "The record names a customer, product or group that does not exist.",
    ),
    ProblemCode("invalid_file_name", 422, "Invalid file name", "The file name is empty, too long or unsafe."),
    ProblemCode("empty_file", 422, "Empty file", "The uploaded file has no bytes."),
    ProblemCode(
        "purpose_not_allowed",
        422,
        "Purpose not allowed",
        "This kind of file cannot serve the purpose given (a document is an image or a PDF).",
    ),
    ProblemCode(
        "too_many_attachments",
        422,
        "Too many attachments",
        "The record would hold more files than AFTERSALES_ATTACHMENTS_PER_RECORD allows.",
    ),
    ProblemCode(
        "direct_upload_mismatch",
        422,
        "Direct upload mismatch",
        "The file sent directly has another size or SHA-256 than the upload was granted for.",
    ),
    ProblemCode("constraint_violated", 422, "Constraint violated", "The change breaks a rule of the stored data."),
    ProblemCode("invalid_cursor", 422, "Invalid cursor", "The `cursor` is not one this list handed out."),
    ProblemCode(
        "idempotency_key_reused",
        422,
        "Idempotency key reused",
        "The `Idempotency-Key` was used before for a different request.",
    ),
    ProblemCode("invalid_ticket", 422, "Invalid ticket", "The ticket cannot be taken in as sent."),
    ProblemCode("invalid_assignee", 422, "Invalid assignee", "The named assignee cannot take this work."),
    ProblemCode("invalid_task", 422, "Invalid task", "The task cannot be created as sent."),
    ProblemCode("invalid_report", 422, "Invalid report", "The task's completion report cannot be accepted as sent."),
    ProblemCode("invalid_hours", 422, "Invalid hours", "The approved hours cannot have been worked."),
    ProblemCode("invalid_chain", 422, "Invalid approval chain", "The approval chain cannot be used as sent."),
    ProblemCode("no_approver", 422, "No approver", "No active approver matches a level of the approval chain."),
    ProblemCode(
        "invalid_after_sales", 422, "Invalid after-sales request", "The order or ticket does not fit the request."
    ),
    ProblemCode("not_eligible", 422, "Not eligible", "The order or lines are not eligible for this after-sales type."),
    ProblemCode(
        "invalid_review_queue",
        422,
        "Invalid review queue",
        "The review queue's reviewers or amount range cannot be used as sent.",
    ),
    ProblemCode("invalid_endpoint", 422, "Invalid webhook endpoint", "The URL or event types cannot be used."),
    ProblemCode(
        "invalid_survey_answer",
        422,
        "Invalid survey answer",
        "Reasons missing for a low score or given for a good one, or NPS where it was not asked; `errors` names each.",
    ),
    ProblemCode(
        "invalid_survey_settings",
        422,
        "Invalid survey settings",
        "The survey settings name a business calendar that does not exist.",
    ),
    ProblemCode(
        "invalid_spike_settings",
        422,
        "Invalid complaint spike settings",
        "An hours setting is not whole or out of range, or the warm-up is shorter than a season; `errors` names each.",
    ),
    ProblemCode(
        "invalid_churn_settings",
        422,
        "Invalid churn settings",
        "The churn warning's currency is not an ISO 4217 code, or a number is out of range; `errors` names each.",
    ),
    ProblemCode(
        "invalid_risk_settings",
        422,
        "Invalid risk settings",
        "A keyword or exception is empty, too long, repeated or (an exception) a keyword once normalised; `errors` "
        "names each.",
    ),
    ProblemCode(
        "invalid_calendar",
        422,
        "Invalid business calendar",
        "The calendar, or the holidays or ICS file seeding it, cannot be used as sent; `errors` names each field.",
    ),
    ProblemCode(
        "no_business_time",
        422,
        "No business time",
        "The calendar's working time runs out (or lies past 2100) before the duration does: nothing would fall due.",
    ),
    ProblemCode(
        "invalid_dispatch_rule",
        422,
        "Invalid dispatch rule",
        "The rule names unknown groups or skills, or values its fields never hold; `errors` names each field.",
    ),
    ProblemCode(
        "invalid_sla_policy",
        422,
        "Invalid SLA policy",
        "The SLA policy, or the order given, would leave a subject's policies unusable; `errors` names each field.",
    ),
    # 429, 5xx
    ProblemCode(
        "rate_limited", 429, "Too many requests", "Too many requests (or urges) in the window; see `Retry-After`."
    ),
    ProblemCode(
        "database_unavailable",
        503,
        "Service unavailable",
        "The database could not be reached; nothing was changed, retry after `Retry-After`.",
    ),
    ProblemCode(
        "internal_error", 500, "Internal error", "An unexpected error; quote the request id when reporting it."
    ),
)

BY_CODE = {problem.code: problem for problem in PROBLEM_CODES}

README_START = "<!-- problem-codes:start (generated by `python -m app.domain.error_codes README.md`) -->"
README_END = "<!-- problem-codes:end -->"


def readme_table() -> str:
    """The README table: one row per code, by status, in catalogue order."""
    rows = sorted(PROBLEM_CODES, key=lambda problem: problem.status)
    lines = ["| code | status | title | meaning |", "|---|---|---|---|"]
    lines += [f"| `{p.code}` | {p.status} | {p.title} | {p.meaning} |" for p in rows]
    return "\n".join(lines)


def with_readme_table(readme: str) -> str:
    """`readme` with the text between the markers replaced by the current table."""
    head, start, rest = readme.partition(README_START)
    _, end, tail = rest.partition(README_END)
    if not start or not end:
        raise ValueError(f"the README has no {README_START} … {README_END} section")
    return f"{head}{start}\n{readme_table()}\n{end}{tail}"


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    path.write_text(with_readme_table(path.read_text(encoding="utf-8")), encoding="utf-8")
