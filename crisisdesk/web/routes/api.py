"""The JSON API (``/api/v1``): what the web app does, for scripts and other tools.

Clients authenticate with a bearer token made by ``crisisdesk token create NAME``; only its hash
is stored. Comments are addressed by the platform id they were ingested with, the id the caller
knows. Handlers are plain functions (FastAPI runs them in its thread pool, since the Desk's store
calls block) that translate JSON to Desk calls. A :class:`WorkflowError` they let through becomes
an HTTP status with ``{"error": code, "message": ..., ...detail}`` in one place, the app's handler
(:func:`crisisdesk.web.app.workflow_error_response`): 409 for a conflict with the state of things
(the cool-down, a second redemption), 404 for what does not exist, 422 for a bad request, 502
when the platform refused.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from crisisdesk.desk import Desk
from crisisdesk.models import AuditEntry, Case, Comment, ReplyDraft, Voucher
from crisisdesk.web.app import LoginRequired, get_desk
from crisisdesk.workflow.cases import STATES, WorkflowError
from crisisdesk.workflow.moderation import ACTIONS, GUIDANCE

_bearer = HTTPBearer(auto_error=False, description="A token from `crisisdesk token create NAME`")


class Caller:
    """Who is calling: the token's name is the actor in the audit log."""

    def __init__(self, name: str, user_id: int | None) -> None:
        self.actor = f"token:{name}"
        self.user_id = user_id


def api_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise LoginRequired()
    token = credentials.credentials.strip()
    if not token or len(token) > 200:
        raise LoginRequired()
    row = get_desk(request).check_token(token)
    if row is None:
        raise LoginRequired()
    return Caller(row.name, row.user_id)


router = APIRouter(prefix="/api/v1", dependencies=[Depends(api_caller)])

CallerDep = Annotated[Caller, Depends(api_caller)]
DeskDep = Annotated[Desk, Depends(get_desk)]


# -- models ------------------------------------------------------------------------------------


class ErrorOut(BaseModel):
    error: str = Field(description="A stable code: cooldown, already_redeemed, not_found, ...")
    message: str = ""
    not_before: str | None = Field(None, description="With `cooldown`: when publishing opens.")


class CommentIn(BaseModel):
    """A comment in the canonical fields (the same as a CSV import)."""

    id: str = Field(description="The comment's id on its platform; the key for idempotency.")
    created_at: str | float = Field(description="ISO 8601 (UTC if no offset) or epoch seconds.")
    text: str
    platform: str = "api"
    page: str | None = None
    page_name: str | None = None
    post_id: str | None = None
    parent_id: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    permalink: str | None = Field(
        None, description="The comment's web address; kept only if it is http or https."
    )
    post_permalink: str | None = Field(
        None, description="Its post's web address; kept only if it is http or https."
    )
    post_message: str | None = Field(
        None,
        description="Its post's text, so the desk names the post by what it says; the first "
        "2,000 characters are kept.",
    )


class AnalysisOut(BaseModel):
    language: str
    sentiment: str
    sentiment_scores: dict[str, float]
    offensive: float
    irony: float
    question: bool
    spam: float
    kind: str
    reasons: list[Any]
    model_version: str


class AuthorCard(BaseModel):
    id: str
    name: str | None
    first_seen: datetime | None
    last_seen: datetime | None
    comment_count: int
    banned: bool


class ClocksOut(BaseModel):
    cooldown_until: datetime | None
    respond_by: datetime | None
    cooling: bool
    late_warning: bool = Field(description="The cool-down would push the reply past the target.")
    overdue: bool


class CaseOut(BaseModel):
    id: int
    comment_id: str
    state: str
    owner: str | None
    responsible: str | None
    opened_at: datetime
    cooldown_started_at: datetime | None
    closed_at: datetime | None
    cause: str | None
    clocks: ClocksOut


class CommentOut(BaseModel):
    id: str
    platform: str
    page: str
    post_id: str | None = None
    parent_id: str | None
    created_at: datetime
    text: str
    status: str
    permalink: str | None = Field(None, description="The comment on its platform, if known.")
    post_permalink: str | None = Field(None, description="Its post on the platform, if known.")
    post_message: str | None = Field(None, description="Its post's text, if known.")
    language: str | None
    kind: str | None
    sentiment: str | None
    urgency: float
    analysis: AnalysisOut | None
    author: AuthorCard | None
    case: CaseOut | None


class CommentAccepted(BaseModel):
    result: str = Field(description="inserted, updated or unchanged")
    comment: CommentOut


class TextIn(BaseModel):
    text: str = Field(max_length=8000)


class CheckOut(BaseModel):
    name: str
    ok: bool
    message: str


class DraftOut(BaseModel):
    id: int
    comment_id: str
    text: str
    checks: list[CheckOut]
    created_at: datetime
    not_before: datetime | None = Field(description="When the cool-down ends; publish before it "
                                        "needs an override reason.")  # fmt: skip
    published_at: datetime | None
    override_reason: str | None


class SuggestionOut(BaseModel):
    text: str = Field(description="A starting point: edit it before publishing.")


class PublishIn(BaseModel):
    override_reason: str | None = Field(None, max_length=2000)
    again: bool = Field(
        False,
        description="Publish even though the comment already has a published reply (otherwise "
        "409 `already_replied`).",
    )


class PublishOut(BaseModel):
    draft_id: int
    published_at: datetime
    override: bool
    action: str
    status: str = Field(description="published (through the connector) or manual")
    guidance: str
    instructions: str | None = None
    copy_text: str | None = Field(None, alias="copy")
    platform: Any = None


class ActionIn(BaseModel):
    action: str = Field(description=", ".join(ACTIONS))
    reason: str | None = Field(None, max_length=2000)
    text: str | None = Field(None, max_length=8000)
    confirm: bool = False


class ActionOut(BaseModel):
    action: str
    status: str
    guidance: str
    instructions: str | None = None
    copy_text: str | None = Field(None, alias="copy")
    platform: Any = None


class StateIn(BaseModel):
    state: str = Field(description=", ".join(STATES))
    reason: str | None = Field(None, max_length=2000)


class ReasonIn(BaseModel):
    reason: str | None = Field(None, max_length=2000)


class EscalateIn(BaseModel):
    owner: str | None = Field(None, description="User name of the new owner.")
    topic: str | None = Field(None, description="Key of Page.config contacts; guessed if absent.")
    note: str = Field("", max_length=2000)


class CloseIn(BaseModel):
    cause: str
    change: str = Field(min_length=1, max_length=4000, description="What will change.")


class LessonOut(BaseModel):
    id: int
    case_id: int | None
    cause: str
    change: str
    created_at: datetime


class ApproachOut(BaseModel):
    approach: str = Field(
        description="all, on time, late, cool-down kept, cool-down overridden, voucher, no voucher"
    )
    cases: int
    happy: int = Field(description="Authors whose first comment after the reply was positive.")
    unhappy: int
    neutral: int
    silent: int = Field(description="Authors who wrote nothing on the page within 14 days.")
    waiting: int = Field(
        description="Authors who have written nothing since, less than 14 days after the reply."
    )
    median_minutes: float | None = Field(description="From the comment to the reply.")


class LessonsOut(BaseModel):
    counts: dict[str, int]
    trend: dict[str, list[int]] = Field(description="Per cause, lessons per week, oldest first.")
    lessons: list[LessonOut]
    what_worked: list[ApproachOut] = Field(
        description="Cases answered in the period, by how they were answered, and how their "
        "authors reacted."
    )


class TopicOut(BaseModel):
    term: str = Field(description="A word, or a phrase of words that recur together.")
    count: int = Field(description="Critical comments of the period that name it.")
    before: int = Field(description="The same, in the period of the same length before.")
    rising: bool
    examples: list[int] = Field(description="Internal ids of a few comments that name it.")


class TopicsOut(BaseModel):
    days: int
    topics: list[TopicOut]


class VoucherIn(BaseModel):
    value: Decimal = Field(gt=0, le=10000)
    currency: str = "EUR"
    valid_days: int = Field(90, ge=1, le=3650)


class VoucherOut(BaseModel):
    code: str
    value: Decimal
    currency: str
    expires_at: datetime | None
    created_at: datetime
    sent_via: str | None
    redeemed_at: datetime | None
    status: str


class SendIn(BaseModel):
    message: str = Field("", max_length=2000)


class AuditOut(BaseModel):
    at: datetime
    actor: str
    action: str
    comment_id: str | None
    object_type: str | None
    object_id: str | None
    reason: str | None
    detail: dict[str, Any]


# -- helpers -----------------------------------------------------------------------------------

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Not found"},
    409: {"model": ErrorOut, "description": "Conflicts with the current state"},
    422: {"model": ErrorOut, "description": "Bad request"},
}


def _not_found(what: str) -> JSONResponse:
    return JSONResponse({"error": "not_found", "message": f"no such {what}"}, 404)


def _comment(desk: Desk, platform_id: str, platform: str | None) -> Comment:
    comment = desk.find_comment(platform_id, platform)
    if comment is None:
        raise WorkflowError("not_found", "no such comment")
    return comment


def _platform_ids(desk: Desk, ids: set[int]) -> dict[int, str]:
    from sqlalchemy import select

    if not ids:
        return {}
    with desk.session() as s:
        rows = s.execute(select(Comment.id, Comment.platform_id).where(Comment.id.in_(ids)))
        return {r.id: r.platform_id for r in rows}


def case_out(desk: Desk, case: Case, platform_id: str | None = None) -> CaseOut:
    owner = None
    if case.owner_id is not None:
        user = desk.get_user(case.owner_id)
        owner = user.username if user else None
    if platform_id is None:
        platform_id = _platform_ids(desk, {case.comment_id}).get(case.comment_id, "")
    clocks = desk.workflow.clocks(case, pending_cooldown=desk.workflow.pending_cooldown(case))
    return CaseOut(
        id=case.id,
        comment_id=platform_id,
        state=case.state,
        owner=owner,
        responsible=case.responsible,
        opened_at=case.opened_at,
        cooldown_started_at=case.cooldown_started_at,
        closed_at=case.closed_at,
        cause=case.cause,
        clocks=ClocksOut(**clocks.__dict__),
    )


def comment_out(desk: Desk, comment: Comment) -> CommentOut:
    view = desk.comment_view(comment.id)
    assert view is not None
    analysis = view["analysis"]
    author = view["author"]
    post = view["post"]
    return CommentOut(
        id=comment.platform_id,
        platform=comment.platform,
        page=view["page"].platform_id,
        post_id=post.platform_id if post else None,
        parent_id=comment.parent_platform_id,
        created_at=comment.created_at,
        text=comment.text,
        status=comment.status,
        permalink=comment.permalink,
        post_permalink=post.permalink if post else None,
        post_message=post.message if post else None,
        language=comment.language,
        kind=comment.kind,
        sentiment=comment.sentiment,
        urgency=comment.urgency,
        analysis=AnalysisOut(
            language=analysis.language,
            sentiment=analysis.sentiment,
            sentiment_scores=analysis.sentiment_scores,
            offensive=analysis.offensive,
            irony=analysis.irony,
            question=analysis.question,
            spam=analysis.spam,
            kind=analysis.kind,
            reasons=analysis.reasons,
            model_version=analysis.model_version,
        )
        if analysis
        else None,
        author=AuthorCard(
            id=author.platform_id,
            name=author.name,
            first_seen=author.first_seen,
            last_seen=author.last_seen,
            comment_count=author.comment_count,
            banned=author.banned,
        )
        if author
        else None,
        case=case_out(desk, view["case"], comment.platform_id) if view["case"] else None,
    )


def draft_out(desk: Desk, draft: ReplyDraft, platform_id: str | None = None) -> DraftOut:
    case = desk.workflow.case_for(draft.comment_id)
    if platform_id is None:
        platform_id = _platform_ids(desk, {draft.comment_id}).get(draft.comment_id, "")
    return DraftOut(
        id=draft.id,
        comment_id=platform_id,
        text=draft.text,
        checks=[CheckOut(**c) for c in draft.checks],
        created_at=draft.created_at,
        not_before=case.cooldown_until if case else None,
        published_at=draft.published_at,
        override_reason=draft.override_reason,
    )


def voucher_out(voucher: Voucher, status: str) -> VoucherOut:
    return VoucherOut(
        code=voucher.code,
        value=voucher.value,
        currency=voucher.currency,
        expires_at=voucher.expires_at,
        created_at=voucher.created_at,
        sent_via=voucher.sent_via,
        redeemed_at=voucher.redeemed_at,
        status=status,
    )


def audit_out(entries: list[AuditEntry], ids: dict[int, str]) -> list[AuditOut]:
    return [
        AuditOut(
            at=e.at,
            actor=e.actor,
            action=e.action,
            comment_id=ids.get(e.comment_id) if e.comment_id else None,
            object_type=e.object_type,
            object_id=e.object_id,
            reason=e.reason,
            detail=e.detail or {},
        )
        for e in entries
    ]


Platform = Annotated[
    str | None, Query(description="Only needed when two platforms share a comment id.")
]


# -- comments ----------------------------------------------------------------------------------


@router.post(
    "/comments",
    tags=["comments"],
    response_model=CommentAccepted,
    status_code=201,
    responses={200: {"model": CommentAccepted, "description": "Already known"}, **ERRORS},
)
def post_comment(body: CommentIn, desk: DeskDep) -> Any:
    """Ingest one comment. Idempotent: the same id again changes nothing (200); a newer text is
    an edit, kept with its history."""
    from crisisdesk.ingest.normalise import RowError, from_canonical

    try:
        record = from_canonical(body.model_dump(), platform=body.platform, source="api")
    except RowError as exc:
        return JSONResponse({"error": "bad_comment", "message": str(exc)}, 422)
    report = desk.ingest([record])
    if report.errors or report.accepted == 0:
        return JSONResponse(
            {"error": "bad_comment", "message": "; ".join(report.errors) or "not stored"}, 422
        )
    comment = _comment(desk, record.platform_id, record.platform)
    result = "inserted" if report.inserted else "updated" if report.updated else "unchanged"
    out = CommentAccepted(result=result, comment=comment_out(desk, comment))
    return JSONResponse(out.model_dump(mode="json"), 201 if report.inserted else 200)


@router.get(
    "/comments/{comment_id}", tags=["comments"], response_model=CommentOut, responses=ERRORS
)
def get_comment(comment_id: str, desk: DeskDep, platform: Platform = None) -> Any:
    """A comment with its analysis, its author's card and its case."""
    return comment_out(desk, _comment(desk, comment_id, platform))


@router.post(
    "/comments/{comment_id}/actions",
    tags=["moderation"],
    response_model=ActionOut,
    responses={**ERRORS, 502: {"model": ErrorOut, "description": "The platform refused"}},
)
def moderate(
    comment_id: str, body: ActionIn, desk: DeskDep, caller: CallerDep, platform: Platform = None
) -> Any:
    """Hide, unhide, delete (needs `confirm`; discouraged for criticism), ban or resolve: through
    the platform's connector, or as instructions to do by hand. Replies are not actions here:
    they go through drafts, so the checks and the cool-down apply."""
    if body.action in ("reply", "private_reply"):
        # A reply outside a draft would skip the checks and the cool-down.
        return JSONResponse(
            {
                "error": "use_drafts",
                "message": "replies go through POST /api/v1/comments/{id}/drafts and "
                "POST /api/v1/drafts/{id}/publish; private messages through vouchers/send",
            },
            422,
        )
    comment = _comment(desk, comment_id, platform)
    result = desk.moderation.perform(
        comment.id,
        body.action,
        actor=caller.actor,
        user_id=caller.user_id,
        text=body.text,
        reason=body.reason,
        confirm=body.confirm,
    )
    return ActionOut.model_validate(result)


@router.get("/moderation/guidance", tags=["moderation"], response_model=dict[str, str])
def guidance() -> Any:
    """What each moderation action does to a flame, in a sentence."""
    return GUIDANCE


# -- cases -------------------------------------------------------------------------------------


@router.get("/cases", tags=["cases"], response_model=list[CaseOut], responses=ERRORS)
def list_cases(
    desk: DeskDep,
    state: str | None = None,
    page: Annotated[int | None, Query(description="Internal page id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Any:
    """Cases, the nearest response target first."""
    rows = desk.workflow.cases(state=state, page_id=page, limit=limit)
    return [case_out(desk, r["case"], r["comment"].platform_id) for r in rows]


@router.get("/comments/{comment_id}/case", tags=["cases"], response_model=CaseOut, responses=ERRORS)
def get_case(comment_id: str, desk: DeskDep, platform: Platform = None) -> Any:
    comment = _comment(desk, comment_id, platform)
    case = desk.workflow.case_for(comment.id)
    if case is None:
        return _not_found("case")
    return case_out(desk, case, comment.platform_id)


@router.post(
    "/comments/{comment_id}/case",
    tags=["cases"],
    response_model=CaseOut,
    status_code=201,
    responses=ERRORS,
)
def open_case(
    comment_id: str, desk: DeskDep, caller: CallerDep, body: ReasonIn | None = None,
    platform: Platform = None,
) -> Any:  # fmt: skip
    """Open a case on a comment (flag it); returns the existing case if there is one."""
    comment = _comment(desk, comment_id, platform)
    case = desk.workflow.open_case(
        comment.id, actor=caller.actor, user_id=caller.user_id,
        reason=(body.reason if body else None) or "flagged through the API",
    )  # fmt: skip
    return case_out(desk, case, comment.platform_id)


def _case_by_id(desk: Desk, case_id: int) -> Case:
    with desk.session() as s:
        case = s.get(Case, case_id)
    if case is None:
        raise WorkflowError("not_found", "no such case")
    return case


@router.post("/cases/{case_id}/state", tags=["cases"], response_model=CaseOut, responses=ERRORS)
def set_state(case_id: int, body: StateIn, desk: DeskDep, caller: CallerDep) -> Any:
    desk.workflow.set_state(
        case_id, body.state, actor=caller.actor, user_id=caller.user_id, reason=body.reason
    )
    return case_out(desk, _case_by_id(desk, case_id))


@router.post("/cases/{case_id}/approve", tags=["cases"], response_model=CaseOut, responses=ERRORS)
def approve_case(case_id: int, desk: DeskDep, caller: CallerDep) -> Any:
    """Approve the reply of a case awaiting approval. The token must belong to a person (a
    token made with a user), other than the one who asked unless that person is an admin."""
    case = desk.workflow.approve(case_id, actor=caller.actor, user_id=caller.user_id)
    return case_out(desk, case)


@router.post("/cases/{case_id}/reopen", tags=["cases"], response_model=CaseOut, responses=ERRORS)
def reopen_case(
    case_id: int, desk: DeskDep, caller: CallerDep, body: ReasonIn | None = None
) -> Any:
    """Reopen a resolved or dismissed case."""
    case = desk.workflow.reopen(
        case_id, actor=caller.actor, user_id=caller.user_id, reason=body.reason if body else None
    )
    return case_out(desk, case)


@router.post("/cases/{case_id}/escalate", tags=["cases"], response_model=CaseOut, responses=ERRORS)
def escalate(case_id: int, body: EscalateIn, desk: DeskDep, caller: CallerDep) -> Any:
    """Assign an owner, name the person responsible for the topic (Page.config contacts),
    notify, and log it."""
    owner_id = None
    if body.owner:
        from sqlalchemy import select

        from crisisdesk.models import User

        with desk.session() as s:
            owner_id = s.scalar(select(User.id).where(User.username == body.owner))
        if owner_id is None:
            return JSONResponse({"error": "bad_owner", "message": "no such user"}, 422)
    case = desk.workflow.escalate(
        case_id, actor=caller.actor, user_id=caller.user_id, owner_id=owner_id,
        topic=body.topic, note=body.note,
    )  # fmt: skip
    return case_out(desk, case)


@router.post("/cases/{case_id}/close", tags=["lessons"], response_model=LessonOut, responses=ERRORS)
def close_case(case_id: int, body: CloseIn, desk: DeskDep, caller: CallerDep) -> Any:
    """Resolve a case with its cause (from the page's list) and what will change."""
    lesson = desk.workflow.close(
        case_id, cause=body.cause, change=body.change, actor=caller.actor,
        user_id=caller.user_id,
    )  # fmt: skip
    return LessonOut.model_validate(lesson, from_attributes=True)


@router.get("/lessons", tags=["lessons"], response_model=LessonsOut)
def lessons(
    desk: DeskDep,
    page: Annotated[int | None, Query(description="Internal page id")] = None,
    weeks: Annotated[int, Query(ge=1, le=104)] = 8,
) -> Any:
    """Counts per cause and the weekly trend, and what worked."""
    summary = desk.workflow.lessons_summary(page, weeks=weeks)
    return LessonsOut(
        counts=summary["counts"],
        trend=summary["trend"],
        lessons=[LessonOut.model_validate(x, from_attributes=True) for x in summary["lessons"]],
        what_worked=[
            ApproachOut.model_validate(row, from_attributes=True)
            for row in desk.workflow.what_worked(page, weeks=weeks)
        ],
    )


@router.get("/topics", tags=["lessons"], response_model=TopicsOut)
def criticism_topics(
    desk: DeskDep,
    page: Annotated[int | None, Query(description="Internal page id")] = None,
    days: Annotated[int, Query(ge=1, le=365)] = 28,
) -> Any:
    """What the complaints, rants and wrong claims of the last ``days`` are about: the words and
    phrases most of them name, beside their count in the ``days`` before."""
    found = desk.workflow.criticism_topics(page, days=days)
    return TopicsOut(
        days=days, topics=[TopicOut.model_validate(t, from_attributes=True) for t in found]
    )


# -- drafts ------------------------------------------------------------------------------------


@router.get(
    "/comments/{comment_id}/suggestion",
    tags=["drafts"],
    response_model=SuggestionOut,
    responses=ERRORS,
)
def suggestion(comment_id: str, desk: DeskDep, platform: Platform = None) -> Any:
    """A starting point from the playbook for the comment's kind and language. Never published
    as it is: post it as a draft after editing."""
    return SuggestionOut(text=desk.workflow.suggest(_comment(desk, comment_id, platform).id))


@router.post(
    "/comments/{comment_id}/drafts",
    tags=["drafts"],
    response_model=DraftOut,
    status_code=201,
    responses=ERRORS,
)
def create_draft(
    comment_id: str, body: TextIn, desk: DeskDep, caller: CallerDep, platform: Platform = None
) -> Any:
    """Save a draft reply and run every check on it. Starts the cool-down if nobody has opened
    the comment yet; `not_before` says when it ends."""
    comment = _comment(desk, comment_id, platform)
    draft = desk.workflow.create_draft(
        comment.id, body.text, actor=caller.actor, user_id=caller.user_id, via="api"
    )
    return draft_out(desk, draft, comment.platform_id)


@router.post(
    "/comments/{comment_id}/checks",
    tags=["drafts"],
    response_model=list[CheckOut],
    responses=ERRORS,
)
def run_checks(comment_id: str, body: TextIn, desk: DeskDep, platform: Platform = None) -> Any:
    """Run the checks on a text without saving it."""
    return desk.workflow.check(_comment(desk, comment_id, platform).id, body.text)


@router.get("/drafts/{draft_id}", tags=["drafts"], response_model=DraftOut, responses=ERRORS)
def get_draft(draft_id: int, desk: DeskDep) -> Any:
    return draft_out(desk, desk.workflow.draft(draft_id))


@router.post(
    "/drafts/{draft_id}/publish",
    tags=["drafts"],
    response_model=PublishOut,
    responses={**ERRORS, 502: {"model": ErrorOut, "description": "The platform refused"}},
)
def publish(draft_id: int, desk: DeskDep, caller: CallerDep, body: PublishIn | None = None) -> Any:
    """Publish a draft. During the cool-down: 409 `{"error": "cooldown", "not_before": ...}`
    unless `override_reason` is given, which is logged. When the comment already has a
    published reply: 409 `already_replied` unless `again` is true. A draft still holding a
    suggestion's bracketed instructions: 422 `unfinished` with the `placeholders`, whatever the
    reason."""
    result = desk.workflow.publish(
        draft_id,
        actor=caller.actor,
        user_id=caller.user_id,
        override_reason=body.override_reason if body else None,
        again=body.again if body else False,
    )
    return PublishOut.model_validate(result)


# -- vouchers ----------------------------------------------------------------------------------


@router.post(
    "/comments/{comment_id}/vouchers",
    tags=["vouchers"],
    response_model=VoucherOut,
    status_code=201,
    responses=ERRORS,
)
def create_voucher(
    comment_id: str, body: VoucherIn, desk: DeskDep, caller: CallerDep, platform: Platform = None
) -> Any:
    """A single-use voucher tied to the comment's case. Send it privately, never in public."""
    comment = _comment(desk, comment_id, platform)
    voucher = desk.vouchers.create(
        comment.id, value=body.value, currency=body.currency, valid_days=body.valid_days,
        actor=caller.actor, user_id=caller.user_id,
    )  # fmt: skip
    return voucher_out(voucher, "active")


@router.get("/vouchers", tags=["vouchers"], response_model=list[VoucherOut])
def list_vouchers(
    desk: DeskDep, page: Annotated[int | None, Query(description="Internal page id")] = None
) -> Any:
    return [voucher_out(v, status) for v, status in desk.vouchers.for_page(page)]


@router.post(
    "/vouchers/{code}/send",
    tags=["vouchers"],
    response_model=ActionOut,
    responses={**ERRORS, 502: {"model": ErrorOut, "description": "The platform refused"}},
)
def send_voucher(code: str, desk: DeskDep, caller: CallerDep, body: SendIn | None = None) -> Any:
    """Send the code by private message through the connector, or get it back to copy."""
    result = desk.vouchers.send(
        code, actor=caller.actor, user_id=caller.user_id, message=body.message if body else ""
    )
    return ActionOut.model_validate(result)


@router.post(
    "/vouchers/{code}/redeem", tags=["vouchers"], response_model=VoucherOut, responses=ERRORS
)
def redeem_voucher(code: str, desk: DeskDep, caller: CallerDep) -> Any:
    """Record the single use of a voucher; a second redemption is refused with 409."""
    voucher = desk.vouchers.redeem(code, actor=caller.actor, user_id=caller.user_id)
    return voucher_out(voucher, "redeemed")


# -- audit -------------------------------------------------------------------------------------


@router.get("/audit", tags=["audit"], response_model=list[AuditOut], responses=ERRORS)
def audit(
    desk: DeskDep,
    comment_id: Annotated[str | None, Query(description="A comment's platform id")] = None,
    platform: Platform = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> Any:
    """Who did what, when and why, newest first."""
    internal = None
    if comment_id is not None:
        internal = _comment(desk, comment_id, platform).id
    entries = desk.audit_entries(internal, limit=limit)
    ids = _platform_ids(desk, {e.comment_id for e in entries if e.comment_id})
    return audit_out(entries, ids)
