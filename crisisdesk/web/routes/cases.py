"""The case panel on a comment's page, and the list of cases.

The panel is an HTMX fragment loaded by the comment page, and a page of its own at the same address
for a browser without JavaScript. Rendering it for a signed-in person is "opening the comment", so
it starts the cool-down (once: later views leave the clock alone). Every form in it posts to a
small route that calls the Desk and re-renders the panel in place; without JavaScript the same
forms post normally: a refusal is shown at once with what the person typed, a success redirects
(303) to the panel's page, which shows the outcome.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from crisisdesk.desk import Desk
from crisisdesk.numbers import decimal_text
from crisisdesk.web import i18n
from crisisdesk.web.app import check_csrf, current_user, get_desk, language, render
from crisisdesk.web.routes import is_htmx, pop_flash, render_panel, set_flash
from crisisdesk.workflow.cases import CLOSED_STATES, STATES, WorkflowError
from crisisdesk.workflow.moderation import CRITICISM_KINDS
from crisisdesk.workflow.voucher_book import CURRENCIES
from crisisdesk.workflow.vouchers import normalise_code

router = APIRouter(include_in_schema=False)

NAV = [("nav.cases", "/cases")]
COMMENT_PANELS = [("case", "/comments/{id}/case")]

User = Annotated[Any, Depends(current_user)]
Text = Annotated[str, Form(max_length=8000)]
Optional = Annotated[str, Form(max_length=4000)]

PANEL_ACTIONS = ("hide", "unhide", "delete", "ban", "resolve")
# An out-of-band swap that removes the panel's error banner, if one is shown.
CLEAR_ERROR = b'<p id="case-error" hx-swap-oob="delete"></p>'


def panel_context(
    desk: Desk, comment_id: int, *, result: dict[str, Any] | None = None,
    error: WorkflowError | None = None, text: str | None = None,
    checks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Everything the panel shows; ``text`` keeps what the person typed across a refusal."""
    view = desk.comment_view(comment_id)
    if view is None:
        raise HTTPException(404, "no such comment")
    case = view["case"]
    page = view["page"]
    drafts = desk.workflow.drafts_for(comment_id) if case else []
    clocks = (
        desk.workflow.clocks(case, pending_cooldown=desk.workflow.pending_cooldown(case))
        if case
        else None
    )
    # the draft being written: the newest one, unless it went out; a draft saved before the last
    # published reply was superseded by it, and its checks would only confuse
    latest = drafts[0] if drafts and drafts[0].published_at is None else None
    if text is None:
        text = latest.text if latest else desk.workflow.suggest(comment_id)
    if checks is None and latest is not None and latest.text == text:
        checks = latest.checks
    vouchers = [
        (v, status)
        for v, status in desk.vouchers.for_page(page.id)
        if case and v.case_id == case.id
    ]
    owner = desk.get_user(case.owner_id) if case and case.owner_id else None
    approval = (
        desk.workflow.approval_request(case.id)
        if case and case.state == "awaiting approval"
        else None
    )
    contacts = (page.config or {}).get("contacts") or {}
    from crisisdesk.signals.competitors import comment_flags

    # a comment that sends people to a competitor may be the competitor: check before apologising
    pushes = [f for f in comment_flags(desk, comment_id) if f.kind != "mentions_competitor"]
    return {
        "comment": view["comment"],
        "competitor_flags": pushes,
        "currencies": CURRENCIES,
        "page": page,
        "author": view["author"],
        "case": case,
        "owner": owner,
        "approval": approval,
        "clocks": clocks,
        # the clocks' first reading comes from the server, so they read right without JavaScript
        "now": desk.clock(),
        "drafts": [d for d in drafts if d.published_at is not None],
        "text": text,
        "checks": checks,
        "vouchers": vouchers,
        "causes": desk.workflow.causes(page),
        "topics": sorted(k for k in contacts if isinstance(k, str))
        if isinstance(contacts, dict)
        else [],
        "criticism": view["comment"].kind in CRITICISM_KINDS,
        "actions": PANEL_ACTIONS,
        "states": STATES,
        "result": result,
        "saved": False,
        "error": error,
        "audit": desk.audit_entries(comment_id, limit=30),
    }


def _panel(
    request: Request,
    user: Any,
    comment_id: int,
    status_code: int = 200,
    *,
    result: dict[str, Any] | None = None,
    error: WorkflowError | None = None,
    text: str | None = None,
    checks: list[dict[str, Any]] | None = None,
) -> Response:
    desk = get_desk(request)
    if not is_htmx(request) and error is None and checks is None:
        # A plain form post that went through: back to the panel's page (so a reload does not
        # post again), which shows the outcome once.
        set_flash(request, "case", comment_id, result=_flash_result(result))
        return RedirectResponse(f"/comments/{comment_id}/case", status_code=303)
    context = panel_context(desk, comment_id, result=result, error=error, text=text, checks=checks)
    if result and result.get("status") == "escalated":
        context["result"] = _shown_result(result, context["audit"], desk)
    # HTMX does not swap 4xx responses in, so for HTMX a refusal comes back as 200 with the reason
    # shown in the panel (``data-error`` carries its code); the status is kept in a header. A
    # plain post gets the real status, with the page and the text as typed.
    response = render_panel(
        request, "case", "cases/panel.html", {"user": user, **context}, title="case.title",
        status_code=200 if is_htmx(request) else status_code,
    )  # fmt: skip
    response.headers["X-Crisisdesk-Status"] = str(status_code)
    return response


def _flash_result(result: dict[str, Any] | None) -> dict[str, str] | None:
    """What the panel shows of an outcome, small enough for the session cookie: the text to copy
    (up to a whole reply) is read back from the audit log instead (``_shown_result``)."""
    if not result:
        return None
    return {"status": str(result.get("status", "")), "action": str(result.get("action", ""))}


def _shown_result(result: Any, audit: list[Any], desk: Desk) -> dict[str, Any] | None:
    """A flashed outcome made whole again from the newest audit entry of that action on this
    comment, the one the post just wrote: a manual one gets its text to copy, an escalation the
    topic, the contact and who was notified."""
    if not isinstance(result, dict) or not result.get("status"):
        return None
    shown: dict[str, Any] = dict(result)
    if shown["status"] == "manual":
        entry = next((e for e in audit if e.action == f"moderation.{shown['action']}"), None)
        shown["copy"] = str((entry.detail or {}).get("text", "")) if entry else ""
    elif shown["status"] == "escalated":
        entry = next((e for e in audit if e.action == "case.escalate"), None)
        detail = (entry.detail or {}) if entry else {}
        shown["topic"] = detail.get("topic") or ""
        shown["responsible"] = detail.get("responsible") or ""
        # the trail records whether the notifier took it; the channels are the desk's own
        channels = getattr(desk.notifier, "channels", None) or {}
        shown["notified"] = (
            sorted({"email" if name == "email" else "webhook" for name in channels})
            if detail.get("notified")
            else []
        )
    return shown


@router.get("/comments/{comment_id}/case")
def case_panel(request: Request, comment_id: int, user: User) -> Response:
    desk = get_desk(request)
    # Opening the comment is what starts the cool-down (no-op without a case or once started).
    desk.workflow.start_cooldown(comment_id, actor=user.username, user_id=user.id)
    flashed = pop_flash(request, "case", comment_id)
    context = panel_context(desk, comment_id)
    context["result"] = _shown_result(flashed.get("result"), context["audit"], desk)
    # A change with nothing more to report (a case opened, escalated, closed) still says so.
    context["saved"] = bool(flashed) and context["result"] is None
    return render_panel(
        request, "case", "cases/panel.html", {"user": user, **context}, title="case.title"
    )


@router.post("/comments/{comment_id}/case/open", dependencies=[Depends(check_csrf)])
def open_case(request: Request, comment_id: int, user: User, reason: Optional = "") -> Response:
    desk = get_desk(request)
    try:
        desk.workflow.open_case(comment_id, actor=user.username, user_id=user.id, reason=reason)
        desk.workflow.start_cooldown(comment_id, actor=user.username, user_id=user.id)
    except WorkflowError as exc:
        return _panel(request, user, comment_id, error=exc, status_code=422)
    return _panel(request, user, comment_id)


@router.post("/comments/{comment_id}/case/check", dependencies=[Depends(check_csrf)])
def check(request: Request, comment_id: int, user: User, text: Text = "") -> Response:
    desk = get_desk(request)
    try:
        checks = desk.workflow.check(comment_id, text)
    except WorkflowError as exc:
        raise HTTPException(404, exc.message) from None
    if not is_htmx(request):
        # The check button without JavaScript: the whole panel, the text as typed and its checks.
        return _panel(request, user, comment_id, text=text, checks=checks)
    # HTMX swaps only the checks; the red banner of an earlier refusal (say, instructions left
    # in the draft) is about a version the person has since changed, so it goes too.
    fragment = render(request, "cases/_checks.html", {"checks": checks})
    return HTMLResponse(bytes(fragment.body) + CLEAR_ERROR)


@router.post("/comments/{comment_id}/case/publish", dependencies=[Depends(check_csrf)])
def publish(
    request: Request,
    comment_id: int,
    user: User,
    text: Text = "",
    override_reason: Optional = "",
    again: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Save the text as a draft (checks included), then publish it unless the cool-down says no
    or the comment already has a public reply and ``again`` was not ticked; a refused draft
    stays saved with what the person wrote."""
    desk = get_desk(request)
    try:
        draft = desk.workflow.create_draft(comment_id, text, actor=user.username, user_id=user.id)
    except WorkflowError as exc:
        return _panel(request, user, comment_id, error=exc, text=text, status_code=422)
    try:
        result = desk.workflow.publish(
            draft.id, actor=user.username, user_id=user.id, override_reason=override_reason,
            again=again == "yes",
        )  # fmt: skip
    except WorkflowError as exc:
        conflicts = ("cooldown", "already_published", "already_replied", "awaiting_approval")
        status = 409 if exc.code in conflicts else 422
        return _panel(
            request, user, comment_id, error=exc, text=text, checks=draft.checks,
            status_code=status,
        )  # fmt: skip
    return _panel(request, user, comment_id, result=result, text="")


@router.post("/comments/{comment_id}/case/action", dependencies=[Depends(check_csrf)])
def moderate(
    request: Request,
    comment_id: int,
    user: User,
    action: Annotated[str, Form(max_length=32)],
    reason: Optional = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    desk = get_desk(request)
    if action not in PANEL_ACTIONS:
        return _panel(request, user, comment_id, status_code=422,
                      error=WorkflowError("bad_action", "unknown action"))  # fmt: skip
    try:
        result = desk.moderation.perform(
            comment_id, action, actor=user.username, user_id=user.id, reason=reason.strip() or None,
            confirm=confirm == "yes",
        )  # fmt: skip
    except WorkflowError as exc:
        return _panel(request, user, comment_id, error=exc, status_code=422)
    response = _panel(request, user, comment_id, result=result)
    view = desk.comment_view(comment_id) if is_htmx(request) else None
    if view is None:
        return response
    comment = view["comment"]
    # The comment's status at the top of the page is outside the panel: HTMX swaps it too, so
    # "hidden" does not keep saying "visible" until a reload.
    _ = i18n.translator(language(request))
    status = Markup(
        '<span id="comment-status" hx-swap-oob="true" class="tag status-{}">{}: {}</span>'
    ).format(comment.status, _("field.status"), _("status." + comment.status))
    return HTMLResponse(
        bytes(response.body) + str(status).encode(),
        status_code=response.status_code,
        headers={"X-Crisisdesk-Status": response.headers.get("X-Crisisdesk-Status", "200")},
    )


def _case_id(desk: Desk, comment_id: int) -> int:
    case = desk.workflow.case_for(comment_id)
    if case is None:
        raise WorkflowError("no_case", "open a case first")
    return case.id


@router.post("/comments/{comment_id}/case/escalate", dependencies=[Depends(check_csrf)])
def escalate(
    request: Request,
    comment_id: int,
    user: User,
    topic: Annotated[str, Form(max_length=64)] = "",
    note: Optional = "",
    assign_me: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    desk = get_desk(request)
    try:
        desk.workflow.escalate(
            _case_id(desk, comment_id), actor=user.username, user_id=user.id,
            owner_id=user.id if assign_me == "yes" else None, topic=topic or None, note=note,
        )  # fmt: skip
    except WorkflowError as exc:
        return _panel(request, user, comment_id, error=exc, status_code=422)
    return _panel(request, user, comment_id, result={"status": "escalated", "action": "escalate"})


@router.post("/comments/{comment_id}/case/state", dependencies=[Depends(check_csrf)])
def set_state(
    request: Request,
    comment_id: int,
    user: User,
    state: Annotated[str, Form(max_length=32)],
    reason: Optional = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    desk = get_desk(request)
    try:
        # Archiving takes the case off everyone's list: one stray click must not do it.
        if state == "dismissed" and confirm != "yes":
            raise WorkflowError("confirm_dismiss", "archiving a case needs confirmation")
        desk.workflow.set_state(
            _case_id(desk, comment_id), state, actor=user.username, user_id=user.id,
            reason=reason.strip() or None,
        )  # fmt: skip
    except WorkflowError as exc:
        return _panel(request, user, comment_id, error=exc, status_code=422)
    return _panel(request, user, comment_id, result={"status": "done", "action": "state"})


@router.post("/comments/{comment_id}/case/ask-approval", dependencies=[Depends(check_csrf)])
def ask_approval(request: Request, comment_id: int, user: User, text: Text = "") -> Response:
    """Save the reply as written (the approver reads it in the panel) and ask for approval."""
    desk = get_desk(request)
    try:
        if text.strip():
            desk.workflow.create_draft(comment_id, text, actor=user.username, user_id=user.id)
        desk.workflow.set_state(
            _case_id(desk, comment_id), "awaiting approval", actor=user.username, user_id=user.id
        )
    except WorkflowError as exc:
        return _panel(request, user, comment_id, error=exc, text=text, status_code=422)
    return _panel(request, user, comment_id, result={"status": "done", "action": "ask_approval"})


@router.post("/comments/{comment_id}/case/approve", dependencies=[Depends(check_csrf)])
def approve(request: Request, comment_id: int, user: User) -> Response:
    desk = get_desk(request)
    try:
        desk.workflow.approve(_case_id(desk, comment_id), actor=user.username, user_id=user.id)
    except WorkflowError as exc:
        status = 403 if exc.code == "own_request" else 409
        return _panel(request, user, comment_id, error=exc, status_code=status)
    return _panel(request, user, comment_id, result={"status": "done", "action": "approve"})


@router.post("/comments/{comment_id}/case/reopen", dependencies=[Depends(check_csrf)])
def reopen(request: Request, comment_id: int, user: User, reason: Optional = "") -> Response:
    desk = get_desk(request)
    try:
        desk.workflow.reopen(
            _case_id(desk, comment_id), actor=user.username, user_id=user.id,
            reason=reason.strip() or None,
        )  # fmt: skip
    except WorkflowError as exc:
        return _panel(request, user, comment_id, error=exc, status_code=409)
    return _panel(request, user, comment_id, result={"status": "done", "action": "reopen"})


@router.post("/comments/{comment_id}/case/close", dependencies=[Depends(check_csrf)])
def close(
    request: Request,
    comment_id: int,
    user: User,
    cause: Annotated[str, Form(max_length=64)],
    change: Optional = "",
) -> Response:
    desk = get_desk(request)
    try:
        if not change.strip():
            raise WorkflowError("change", "say what will change, so the lesson is kept")
        desk.workflow.close(
            _case_id(desk, comment_id), cause=cause, change=change, actor=user.username,
            user_id=user.id,
        )  # fmt: skip
        desk.moderation.perform(comment_id, "resolve", actor=user.username, user_id=user.id)
    except WorkflowError as exc:
        return _panel(request, user, comment_id, error=exc, status_code=422)
    return _panel(request, user, comment_id, result={"status": "done", "action": "close"})


@router.post("/comments/{comment_id}/case/vouchers", dependencies=[Depends(check_csrf)])
def create_voucher(
    request: Request,
    comment_id: int,
    user: User,
    value: Annotated[str, Form(max_length=20)],
    currency: Annotated[str, Form(max_length=3)] = "EUR",
    valid_days: Annotated[int, Form(ge=1, le=3650)] = 90,
) -> Response:
    desk = get_desk(request)
    try:
        desk.vouchers.create(
            comment_id, value=decimal_text(value), currency=currency, valid_days=valid_days,
            actor=user.username, user_id=user.id,
        )  # fmt: skip
    except WorkflowError as exc:
        return _panel(request, user, comment_id, error=exc, status_code=422)
    return _panel(request, user, comment_id, result={"status": "done", "action": "voucher"})


@router.post("/comments/{comment_id}/case/vouchers/send", dependencies=[Depends(check_csrf)])
def send_voucher(
    request: Request,
    comment_id: int,
    user: User,
    code: Annotated[str, Form(max_length=64)],
    message: Optional = "",
) -> Response:
    desk = get_desk(request)
    try:
        result = desk.vouchers.send(
            normalise_code(code), actor=user.username, user_id=user.id, message=message
        )
    except WorkflowError as exc:
        return _panel(request, user, comment_id, error=exc, status_code=422)
    return _panel(request, user, comment_id, result=result)


@router.get("/cases")
def cases_page(request: Request, user: User, state: str = "", page: str = "") -> Response:
    """The cases to work on first: open ones by default (``state=all`` for every case), the
    nearest response target first, optionally of one page."""
    desk = get_desk(request)
    chosen = state if state in STATES else None
    every = state == "all"
    pages = desk.pages()
    page_id = int(page) if page.isdigit() and any(p.id == int(page) for p in pages) else None
    rows = desk.workflow.cases(
        state=chosen, page_id=page_id, limit=500, open_only=chosen is None and not every
    )
    counts = desk.workflow.case_counts()
    return render(
        request,
        "cases/list.html",
        {
            "user": user,
            "rows": rows,
            "state": chosen or ("all" if every else None),
            "states": STATES,
            "counts": counts,
            "open_count": sum(n for s, n in counts.items() if s not in CLOSED_STATES),
            "pages": pages,
            "page_id": page_id,
            "now": desk.clock(),
        },
    )
