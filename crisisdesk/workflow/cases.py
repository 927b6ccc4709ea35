"""Cases and the two clocks: the heart of the playbook.

A comment that needs handling (a complaint, a misguided claim, a rager, a troll, or anything a rule
or a person flags) opens a case. Two clocks run on it:

- the **cool-down** (default 15 minutes, per page and per kind, none for praise and plain
  questions) starts when a person first opens the comment, or when a draft is created through the
  API. Publishing before it ends is refused unless the person gives a reason, which is logged: the
  point is to stop the impulsive answer, not to block an informed decision;
- the **response target** (default 60 minutes from arrival) runs beside it. A cool-down never
  costs the target: opened late, it is cut short to end ten minutes before the target (the audit
  trail says so), and the desk warns early when the reply risks missing it.

Drafts are never sent automatically: a person writes or edits each one, the checks run on every
version, and publishing is a separate, audited act.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, aliased

from crisisdesk.models import (
    AuditEntry,
    Author,
    Case,
    Comment,
    Lesson,
    Page,
    ReplyDraft,
    User,
    Voucher,
    utcnow,
)
from crisisdesk.workflow.reply_index import ReplyIndexes

#: Kinds whose words say what the criticism is about (trolls mostly name-call).
CRITICAL_KINDS = ("complaint", "rager", "misguided")
#: Critical comments read at most for the topics of two periods, newest first (counting the
#: words of 11,000 comments took 0.4 s on the benchmark machine).
TOPIC_COMMENTS = 20_000
#: Answered cases read at most for what worked: the latest first.
OUTCOME_CASES = 5_000

if TYPE_CHECKING:
    from crisisdesk.analysis.topics import Topic
    from crisisdesk.desk import Desk
    from crisisdesk.ingest.upsert import Ingested
    from crisisdesk.workflow.outcomes import ApproachRow

log = logging.getLogger(__name__)

STATES = ("new", "cooling", "drafting", "awaiting approval", "replied", "resolved", "dismissed")
OPEN_STATES = ("new", "cooling", "drafting", "awaiting approval")
# Kinds that open a case on arrival. Questions too: the person waits for an answer, and the hour
# they expect should be on the clock (they get no cool-down). Praise, spam and the rest can still
# get one when a rule or a person flags them.
CASE_KINDS = ("complaint", "misguided", "rager", "troll", "question")
# No cool-down for these: a thank-you or a plain answer is not an impulsive reaction.
NO_COOLDOWN_KINDS = ("praise", "question")
# No reply is owed to these: the playbook says monitor trolls, don't feed them, and spam gets
# hidden, not answered. A countdown (and later an "overdue" mark) would push people to reply.
NO_REPLY_KINDS = ("troll", "spam")
CLOSED_STATES = ("resolved", "dismissed")


DEFAULT_CAUSES = (
    "product",
    "delivery",
    "billing",
    "staff",
    "communication",
    "misunderstanding",
    "attack",
    "other",
)
# Causes where the brand is not at fault, so a complaint needs no apology (Coombs' victim cluster).
NO_FAULT_CAUSES = ("attack", "misunderstanding")
# Warn this long before the response target when the cool-down would eat into it.
TARGET_MARGIN = timedelta(minutes=10)
# A second public reply to one comment is usually a slip (a double click, two people at once).
ALREADY_REPLIED = "this comment already has a published reply; ask explicitly to publish another"
AWAITING_APPROVAL = (
    "this reply awaits approval: someone other than the person who asked, or an admin, must "
    "approve it before it is published"
)
CHANGED_SINCE_APPROVAL = (
    "the reply was changed after it was approved: publish the approved text, or ask for "
    "approval again"
)


class WorkflowError(Exception):
    """A request the workflow refuses, with a message for the person."""

    def __init__(self, code: str, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail


@dataclass
class Clocks:
    cooldown_until: datetime | None
    respond_by: datetime | None
    cooling: bool
    late_warning: bool
    overdue: bool
    # False for a troll or spam: the response target is no duty there (see NO_REPLY_KINDS).
    reply_expected: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "cooldown_until": self.cooldown_until.isoformat() if self.cooldown_until else None,
            "respond_by": self.respond_by.isoformat() if self.respond_by else None,
            "cooling": self.cooling,
            "late_warning": self.late_warning,
            "overdue": self.overdue,
            "reply_expected": self.reply_expected,
        }


@dataclass
class ApprovalRequest:
    """Who asked for approval of a case's reply, and when (read back from the audit trail)."""

    user_id: int | None
    actor: str
    at: datetime


class Workflow:
    """Cases, drafts, publishing, vouchers and lessons, on top of a Desk's store."""

    def __init__(self, desk: Desk, clock: Callable[[], datetime] = utcnow) -> None:
        self.desk = desk
        self.clock = clock
        # The pages' published replies, for the ``canned`` check.
        self.replies = ReplyIndexes(desk)

    # -- configuration --------------------------------------------------------------------

    def cooldown_for(self, page: Page, kind: str | None) -> timedelta:
        if kind in NO_COOLDOWN_KINDS:
            return timedelta(0)
        per_kind = (page.config or {}).get("cooldown_minutes", {})
        if isinstance(per_kind, dict) and kind in per_kind:
            return timedelta(minutes=float(per_kind[kind]))
        if isinstance(per_kind, int | float):
            return timedelta(minutes=float(per_kind))
        return timedelta(minutes=int(self.desk.settings.cooldown_minutes))

    def cooldown_left(self, case: Case, page: Page, kind: str | None, now: datetime) -> timedelta:
        """The cool-down that starts ``now``: the page's length for the kind, cut short so that it
        ends ``TARGET_MARGIN`` before the response target at the latest.

        The cool-down exists to stop an impulsive answer, the target to keep the customer's
        one-hour expectation; when someone opens a complaint late, a full cool-down would break
        the second to serve the first. Trolls and spam owe no reply, so theirs is never cut.
        """
        full = self.cooldown_for(page, kind)
        if case.respond_by is None or kind in NO_REPLY_KINDS:
            return full
        return max(timedelta(0), min(full, case.respond_by - TARGET_MARGIN - now))

    def response_target(self, page: Page) -> timedelta:
        minutes = (page.config or {}).get("response_target_minutes")
        return timedelta(minutes=float(minutes or self.desk.settings.response_target_minutes))

    def causes(self, page: Page) -> list[str]:
        causes = (page.config or {}).get("causes")
        return list(causes) if causes else list(DEFAULT_CAUSES)

    def responsible_for(self, page: Page, topic: str | None) -> str | None:
        contacts = (page.config or {}).get("contacts", {})
        if not isinstance(contacts, dict):
            return None
        return contacts.get(topic or "") or contacts.get("default")

    # -- opening cases --------------------------------------------------------------------

    def on_ingested(self, items: Sequence[Ingested]) -> None:
        """Ingest listener: open a case for each comment that needs handling, when it arrives or
        when an edit turns it into one (a question edited into a complaint)."""
        wanted = [
            i
            for i in items
            if (i.is_new or i.text_changed)
            and i.analysis is not None
            and i.analysis.kind in CASE_KINDS
        ]
        if not wanted:
            return
        # Three queries per batch, whatever its size: imports open thousands of cases at once.
        ids = [i.comment_id for i in wanted]
        with self.desk.session() as s, s.begin():
            comments = list(s.scalars(select(Comment).where(Comment.id.in_(ids))))
            have = set(s.scalars(select(Case.comment_id).where(Case.comment_id.in_(ids))))
            pages = {
                p.id: p
                for p in s.scalars(select(Page).where(Page.id.in_({c.page_id for c in comments})))
            }
            opened = self.clock()
            s.add_all(
                Case(
                    comment_id=c.id,
                    page_id=c.page_id,
                    state="new",
                    opened_at=opened,
                    respond_by=c.created_at + self.response_target(pages[c.page_id]),
                    responsible=self.responsible_for(pages[c.page_id], c.kind),
                )
                for c in comments
                if c.id not in have
            )

    def _ensure_case(self, s: Session, comment: Comment) -> Case:
        case = s.scalars(select(Case).where(Case.comment_id == comment.id)).first()
        if case is not None:
            return case
        page = s.get(Page, comment.page_id)
        assert page is not None
        case = Case(
            comment_id=comment.id,
            page_id=comment.page_id,
            state="new",
            opened_at=self.clock(),
            respond_by=comment.created_at + self.response_target(page),
            responsible=self.responsible_for(page, comment.kind),
        )
        s.add(case)
        s.flush()
        return case

    def open_case(
        self, comment_id: int, *, actor: str, user_id: int | None = None, reason: str = ""
    ) -> Case:
        """Open a case by hand (a person or a rule flags the comment)."""
        with self.desk.session() as s, s.begin():
            comment = self._comment(s, comment_id)
            existed = s.scalars(select(Case).where(Case.comment_id == comment.id)).first()
            case = self._ensure_case(s, comment)
        if existed is None:
            self.desk.audit(
                "case.open",
                actor=actor,
                user_id=user_id,
                comment_id=comment_id,
                object_type="case",
                object_id=str(case.id),
                reason=reason,
            )
        return case

    def case_for(self, comment_id: int) -> Case | None:
        """The comment's case. A cool-down that has run out moves the case on to ``drafting``
        here, when someone looks: time alone changes that state, and nothing else would."""
        with self.desk.session() as s, s.begin():
            case = s.scalars(select(Case).where(Case.comment_id == comment_id)).first()
            if (
                case is not None
                and case.state == "cooling"
                and case.cooldown_until is not None
                and self.clock() >= case.cooldown_until
            ):
                case.state = "drafting"
            return case

    def _case(self, s: Session, case_id: int) -> Case:
        case = s.get(Case, case_id)
        if case is None:
            raise WorkflowError("not_found", "no such case")
        return case

    def _comment(self, s: Session, comment_id: int) -> Comment:
        comment = s.get(Comment, comment_id)
        if comment is None:
            raise WorkflowError("not_found", "no such comment")
        return comment

    # -- the clocks -----------------------------------------------------------------------

    def start_cooldown(
        self, comment_id: int, *, actor: str, user_id: int | None = None, via: str = "opened"
    ) -> Case | None:
        """Start the cool-down the first time a person opens the comment (idempotent)."""
        with self.desk.session() as s, s.begin():
            case = s.scalars(select(Case).where(Case.comment_id == comment_id)).first()
            if case is None or case.cooldown_started_at is not None:
                return case
            comment = self._comment(s, comment_id)
            page = s.get(Page, case.page_id)
            assert page is not None
            now = self.clock()
            full = self.cooldown_for(page, comment.kind)
            left = self.cooldown_left(case, page, comment.kind, now)
            case.cooldown_started_at = now
            case.cooldown_until = now + left
            if case.state == "new":
                case.state = "cooling" if case.cooldown_until > now else "drafting"
        detail: dict[str, Any] = {"via": via, "until": case.cooldown_until.isoformat()}
        if left < full:
            # said in the trail: the pause was shorter than the page's rule, and why
            detail["shortened_for_target"] = {
                "minutes": round(left.total_seconds() / 60, 1),
                "configured": round(full.total_seconds() / 60, 1),
            }
        self.desk.audit(
            "case.cooldown_started", actor=actor, user_id=user_id, comment_id=comment_id,
            object_type="case", object_id=str(case.id), detail=detail,
        )  # fmt: skip
        return case

    def clocks(
        self,
        case: Case,
        *,
        pending_cooldown: timedelta | None = None,
        kind: str | None = None,
    ) -> Clocks:
        """Both clocks of a case now.

        ``pending_cooldown`` is the cool-down that would start if nobody has opened the comment
        yet: the early warning has to count it, since opening the comment will start it.
        ``kind`` is the comment's kind, read from the store when not given: a troll or spam owes
        no reply, so its case is never late nor overdue.
        """
        if kind is None:
            with self.desk.session() as s:
                kind = s.scalar(select(Comment.kind).where(Comment.id == case.comment_id))
        reply_expected = kind not in NO_REPLY_KINDS
        now = self.clock()
        # The cool-down guards the first answer: once a case is replied to or closed, follow-ups
        # are not held back (and the panel stops offering an override).
        cooling = (
            case.state in OPEN_STATES
            and case.cooldown_until is not None
            and now < case.cooldown_until
        )
        due = reply_expected and case.respond_by is not None and case.state in OPEN_STATES
        late = False
        if due and case.respond_by is not None:
            if case.cooldown_until is not None:
                earliest = max(now, case.cooldown_until)
            else:
                earliest = now + (pending_cooldown or timedelta(0))
            # a cool-down cut short to meet the target ends right at this line: still a warning
            late = earliest >= case.respond_by - TARGET_MARGIN
        overdue = due and case.respond_by is not None and now > case.respond_by
        return Clocks(case.cooldown_until, case.respond_by, cooling, late, overdue, reply_expected)

    # -- drafts ---------------------------------------------------------------------------

    def create_draft(
        self,
        comment_id: int,
        text: str,
        *,
        actor: str,
        user_id: int | None = None,
        via: str = "web",
    ) -> ReplyDraft:
        text = text.strip()
        if not text:
            raise WorkflowError("empty", "a draft needs some text")
        if len(text) > 8000:
            raise WorkflowError("too_long", "a reply can be at most 8,000 characters")
        case = self.case_for(comment_id) or self.open_case(
            comment_id, actor=actor, user_id=user_id, reason="draft started"
        )
        if case.cooldown_started_at is None:
            case = self.start_cooldown(comment_id, actor=actor, user_id=user_id, via=via) or case
        checks = self.check(comment_id, text)
        with self.desk.session() as s, s.begin():
            comment = self._comment(s, comment_id)
            draft = ReplyDraft(
                case_id=case.id,
                comment_id=comment_id,
                page_id=comment.page_id,
                user_id=user_id,
                text=text,
                checks=checks,
                created_at=self.clock(),
            )
            s.add(draft)
            db_case = s.get(Case, case.id)
            if db_case is not None:
                if db_case.state in ("new", "cooling"):
                    db_case.state = "drafting"
                if db_case.owner_id is None and user_id is not None:
                    db_case.owner_id = user_id  # whoever writes the first draft owns the case
            s.flush()
        self.desk.audit(
            "draft.create",
            actor=actor,
            user_id=user_id,
            comment_id=comment_id,
            object_type="draft",
            object_id=str(draft.id),
        )
        return draft

    def check(self, comment_id: int, text: str) -> list[dict[str, Any]]:
        """Run every draft check; each result says why."""
        from crisisdesk.workflow.checks import check_draft

        with self.desk.session() as s:
            comment = self._comment(s, comment_id)
            author = s.get(Author, comment.author_id) if comment.author_id else None
            case = s.scalars(select(Case).where(Case.comment_id == comment_id)).first()
        index = self.replies.get(comment.page_id)
        results = check_draft(
            text,
            comment_text=comment.text,
            comment_language=comment.language or "en",
            comment_kind=comment.kind or "other",
            author_name=author.name if author else None,
            brand_at_fault=None
            if case is None or case.cause is None
            else case.cause not in NO_FAULT_CAUSES,
            history=index,
            analyzer=self.desk.analyzer,
        )
        return [c.as_dict() for c in results]

    def suggest(self, comment_id: int) -> str:
        from crisisdesk.workflow.drafts import suggest_draft

        with self.desk.session() as s:
            comment = self._comment(s, comment_id)
            author = s.get(Author, comment.author_id) if comment.author_id else None
            page = s.get(Page, comment.page_id)
            case = s.scalars(select(Case).where(Case.comment_id == comment_id)).first()
        return suggest_draft(
            comment.kind or "other",
            comment.language or "en",
            author_name=author.name if author else None,
            comment_text=comment.text,
            responsible=case.responsible if case else None,
            page_name=page.name if page else None,
        )

    def draft(self, draft_id: int) -> ReplyDraft:
        with self.desk.session() as s:
            draft = s.get(ReplyDraft, draft_id)
        if draft is None:
            raise WorkflowError("not_found", "no such draft")
        return draft

    def publish(
        self,
        draft_id: int,
        *,
        actor: str,
        user_id: int | None = None,
        override_reason: str | None = None,
        again: bool = False,
    ) -> dict[str, Any]:
        """Publish a draft: refused during the cool-down unless a reason is given (and logged).

        Also refused, whatever the reason, while the draft still holds one of the suggestions'
        bracketed instructions (``unfinished``), and when the comment already has a published
        reply unless ``again`` says another public reply is wanted (``already_replied``).

        The draft is claimed with one conditional UPDATE before anything goes to the platform, so
        two people pressing "publish" at once send one reply; if the platform refuses, the claim
        is released. Returns what happened: ``published`` through a connector, or ``manual`` with
        the text to post by hand on the platform.
        """
        from crisisdesk.workflow.drafts import placeholders_left

        draft = self.draft(draft_id)
        if draft.published_at is not None:
            raise WorkflowError("already_published", "this draft was already published")
        # The override reason is for the cool-down: an instruction meant for the person writing
        # must never reach the customer, however urgent the reply.
        left = placeholders_left(draft.text)
        if left:
            raise WorkflowError(
                "unfinished",
                "the draft still holds the suggestion's instructions in square brackets: "
                "replace them with your own words first",
                placeholders=left,
            )
        if not again and self._replied(draft.comment_id):
            raise WorkflowError("already_replied", ALREADY_REPLIED)
        case = self.case_for(draft.comment_id)
        # Before the cool-down: an override reason must not stand in for somebody's approval.
        if case is not None and case.state == "awaiting approval":
            request = self.approval_request(case.id)
            raise WorkflowError(
                "awaiting_approval", AWAITING_APPROVAL,
                asked_by=request.actor if request else None,
            )  # fmt: skip
        # An approval is for the text the approver read, not for whatever is typed afterwards.
        approved = self._approved_text(case.id) if case is not None else None
        if approved is not None and " ".join(approved.split()) != " ".join(draft.text.split()):
            raise WorkflowError("changed_since_approval", CHANGED_SINCE_APPROVAL)
        reason = (override_reason or "").strip()[:2000]
        cooling = case is not None and self.clocks(case).cooling
        if cooling and not reason:
            assert case is not None and case.cooldown_until is not None
            raise WorkflowError(
                "cooldown",
                "the cool-down is still running; wait, or give a reason to publish now",
                not_before=case.cooldown_until.isoformat(),
            )
        now = self.clock()
        with self.desk.session() as s, s.begin():
            claim = update(ReplyDraft).where(
                ReplyDraft.id == draft_id, ReplyDraft.published_at.is_(None)
            )
            if not again:
                # In the same statement, so two different drafts published at once on one
                # comment still make one public reply.
                claim = claim.where(~self._published_on(draft.comment_id).exists())
            claimed = s.execute(
                claim.values(published_at=now, override_reason=reason if cooling else None)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                if s.scalar(select(ReplyDraft.published_at).where(ReplyDraft.id == draft_id)):
                    raise WorkflowError("already_published", "this draft was already published")
                raise WorkflowError("already_replied", ALREADY_REPLIED)
        try:
            result = self.desk.moderation.perform(
                draft.comment_id,
                "reply",
                actor=actor,
                user_id=user_id,
                text=draft.text,
                reason=reason or None,
            )
        except Exception:
            with self.desk.session() as s, s.begin():
                s.execute(
                    update(ReplyDraft)
                    .where(ReplyDraft.id == draft_id)
                    .values(published_at=None, override_reason=None)
                )
            raise
        if case is not None:
            with self.desk.session() as s, s.begin():
                s.execute(
                    update(Case)
                    .where(Case.id == case.id, Case.state.in_(OPEN_STATES))
                    .values(state="replied")
                )
        self.replies.add(draft.page_id, draft.id, draft.text, now)
        if cooling:
            self.desk.audit(
                "draft.cooldown_override", actor=actor, user_id=user_id, comment_id=draft.comment_id,
                object_type="draft", object_id=str(draft_id), reason=reason,
                detail={"not_before": case.cooldown_until.isoformat() if case and case.cooldown_until else None},
            )  # fmt: skip
        self.desk.audit(
            "draft.publish", actor=actor, user_id=user_id, comment_id=draft.comment_id,
            object_type="draft", object_id=str(draft_id), reason=reason or None,
            detail={"outcome": result.get("status"), "override": cooling, "again": again},
        )  # fmt: skip
        return {
            "draft_id": draft_id,
            "published_at": now.isoformat(),
            "override": cooling,
            **result,
        }

    @staticmethod
    def _published_on(comment_id: int) -> Select[int]:
        """The comment's published drafts, as a query (an alias, so that inside an UPDATE of
        the same table it is not taken for the row being updated)."""
        other = aliased(ReplyDraft)
        return select(other.id).where(
            other.comment_id == comment_id, other.published_at.is_not(None)
        )

    def _replied(self, comment_id: int) -> bool:
        with self.desk.session() as s:
            return s.scalar(self._published_on(comment_id).limit(1)) is not None

    def drafts_for(self, comment_id: int) -> list[ReplyDraft]:
        with self.desk.session() as s:
            return list(
                s.scalars(
                    select(ReplyDraft)
                    .where(ReplyDraft.comment_id == comment_id)
                    .order_by(ReplyDraft.created_at.desc(), ReplyDraft.id.desc())
                    .limit(50)
                )
            )

    # -- listing --------------------------------------------------------------------------

    def cases(
        self,
        *,
        state: str | None = None,
        page_id: int | None = None,
        limit: int = 200,
        open_only: bool = False,
    ) -> list[dict[str, Any]]:
        """Cases with their comment, author and page, most urgent response target first
        (``open_only``: none resolved or dismissed)."""
        if state is not None and state not in STATES:
            raise WorkflowError("bad_state", f"state must be one of {', '.join(STATES)}")
        query = (
            select(Case, Comment, Author.name, Page.name)
            .join(Comment, Comment.id == Case.comment_id)
            .join(Page, Page.id == Case.page_id)
            .outerjoin(Author, Author.id == Comment.author_id)
        )
        if state:
            query = query.where(Case.state == state)
        if open_only:
            query = query.where(Case.state.not_in(CLOSED_STATES))
        if page_id:
            query = query.where(Case.page_id == page_id)
        query = query.order_by(Case.respond_by.asc(), Case.id.asc()).limit(max(1, min(limit, 1000)))
        with self.desk.session() as s:
            rows = s.execute(query).all()
        return [
            {
                "case": case,
                "comment": comment,
                "author_name": author_name,
                "page_name": page_name,
                "clocks": self.clocks(case, kind=comment.kind or ""),
            }
            for case, comment, author_name, page_name in rows
        ]

    def case_counts(self) -> dict[str, int]:
        from sqlalchemy import func

        with self.desk.session() as s:
            rows = s.execute(select(Case.state, func.count()).group_by(Case.state)).all()
        counts = dict.fromkeys(STATES, 0)
        counts.update({state: int(n) for state, n in rows})
        return counts

    def pending_cooldown(self, case: Case) -> timedelta:
        """The cool-down that opening the comment would start (zero once started)."""
        if case.cooldown_started_at is not None:
            return timedelta(0)
        with self.desk.session() as s:
            page = s.get(Page, case.page_id)
            comment = s.get(Comment, case.comment_id)
        if page is None or comment is None:
            return timedelta(0)
        return self.cooldown_left(case, page, comment.kind, self.clock())

    # -- states, escalation and lessons ---------------------------------------------------

    def set_state(
        self,
        case_id: int,
        state: str,
        *,
        actor: str,
        user_id: int | None = None,
        reason: str | None = None,
    ) -> None:
        if state not in STATES:
            raise WorkflowError("bad_state", f"state must be one of {', '.join(STATES)}")
        with self.desk.session() as s, s.begin():
            case = self._case(s, case_id)
            before = case.state
            # Leaving "awaiting approval" for a state that can publish would skip the approval:
            # only approve() does that. Closing the case stays possible.
            if before == "awaiting approval" and state != before and state not in CLOSED_STATES:
                raise WorkflowError("awaiting_approval", AWAITING_APPROVAL)
            case.state = state
            if state in CLOSED_STATES:
                case.closed_at = self.clock()
            comment_id = case.comment_id
        self.desk.audit(
            "case.state",
            actor=actor,
            user_id=user_id,
            comment_id=comment_id,
            object_type="case",
            object_id=str(case_id),
            reason=reason,
            detail={"from": before, "to": state},
        )

    def approval_request(self, case_id: int) -> ApprovalRequest | None:
        """The pending request for approval of the case's reply: the latest "ask for approval"
        with no approval after it. The audit trail is the record, so no column is needed."""
        with self.desk.session() as s:
            entries = s.scalars(_case_audit(case_id, "case.state", "case.approve"))
            for entry in entries:
                if entry.action == "case.approve":
                    return None
                if (entry.detail or {}).get("to") == "awaiting approval":
                    return ApprovalRequest(entry.user_id, entry.actor, entry.at)
        return None

    def _approved_text(self, case_id: int) -> str | None:
        """The text of the case's last approved draft while it is still unpublished (an
        approval is spent once its reply is out); None without such an approval."""
        with self.desk.session() as s:
            entry = s.scalars(_case_audit(case_id, "case.approve").limit(1)).first()
            draft_id = (entry.detail or {}).get("draft_id") if entry is not None else None
            draft = s.get(ReplyDraft, draft_id) if isinstance(draft_id, int) else None
            if draft is None or draft.published_at is not None:
                return None
            return draft.text

    def _resume_state(self, s: Session, case: Case) -> str:
        """The state an open case has from the facts: replied once a reply is public, else
        where its cool-down stands."""
        if s.scalar(self._published_on(case.comment_id).limit(1)) is not None:
            return "replied"
        if case.cooldown_until is not None and self.clock() < case.cooldown_until:
            return "cooling"
        return "drafting" if case.cooldown_started_at is not None else "new"

    def approve(self, case_id: int, *, actor: str, user_id: int | None) -> Case:
        """Approve the reply of a case awaiting approval, so it can be published.

        The approver must be a person other than the one who asked; an admin may approve any
        request, their own included (someone has to be able to unblock a small team).
        """
        request = self.approval_request(case_id)
        with self.desk.session() as s, s.begin():
            case = self._case(s, case_id)
            if case.state != "awaiting approval":
                raise WorkflowError("not_awaiting", "this case does not await approval")
            approver = s.get(User, user_id) if user_id is not None else None
            if approver is None or not approver.active:
                raise WorkflowError("approver", "only a signed-in person can approve a reply")
            asked_by_me = request is not None and request.user_id == approver.id
            if asked_by_me and approver.role != "admin":
                raise WorkflowError(
                    "own_request",
                    "you asked for this approval: someone else, or an admin, must approve it",
                )
            case.state = self._resume_state(s, case)
            draft_id = s.scalar(
                select(ReplyDraft.id)
                .where(ReplyDraft.case_id == case.id, ReplyDraft.published_at.is_(None))
                .order_by(ReplyDraft.created_at.desc(), ReplyDraft.id.desc())
                .limit(1)
            )
            s.flush()
        self.desk.audit(
            "case.approve", actor=actor, user_id=user_id, comment_id=case.comment_id,
            object_type="case", object_id=str(case_id),
            detail={"asked_by": request.actor if request else None, "draft_id": draft_id, "to": case.state},
        )  # fmt: skip
        return case

    def reopen(
        self, case_id: int, *, actor: str, user_id: int | None = None, reason: str | None = None
    ) -> Case:
        """Reopen a resolved or dismissed case, in the state it would have had open: back to
        awaiting approval if a request was never approved, else from its reply and cool-down."""
        request = self.approval_request(case_id)
        with self.desk.session() as s, s.begin():
            case = self._case(s, case_id)
            before = case.state
            if before not in CLOSED_STATES:
                raise WorkflowError("not_closed", "this case is not closed")
            case.state = "awaiting approval" if request else self._resume_state(s, case)
            case.closed_at = None
            s.flush()
        self.desk.audit(
            "case.reopen", actor=actor, user_id=user_id, comment_id=case.comment_id,
            object_type="case", object_id=str(case_id), reason=reason,
            detail={"from": before, "to": case.state},
        )  # fmt: skip
        return case

    def escalate(
        self,
        case_id: int,
        *,
        actor: str,
        user_id: int | None = None,
        owner_id: int | None = None,
        topic: str | None = None,
        note: str = "",
    ) -> Case:
        """Assign the case, name the person responsible for the topic, notify, keep a trail.

        Without a topic the comment's own topic is guessed from its words (delivery, billing,
        product, staff), so "escalate" does the sensible thing in one click.
        """
        from crisisdesk.workflow.drafts import detect_topic

        with self.desk.session() as s, s.begin():
            case = self._case(s, case_id)
            page = s.get(Page, case.page_id)
            assert page is not None
            comment = s.get(Comment, case.comment_id)
            text = comment.text if comment else ""
            topic = (topic or "").strip()[:64] or detect_topic(text) or None
            if owner_id is not None:
                if s.get(User, owner_id) is None:
                    raise WorkflowError("bad_owner", "no such user")
                case.owner_id = owner_id
            responsible = self.responsible_for(page, topic)
            if responsible:
                case.responsible = responsible
            s.flush()
            page_name = page.name
        note = note.strip()[:2000]
        notified = False
        try:
            self.desk.notify_escalation(
                case, page_name=page_name, comment_text=text, note=note, topic=topic
            )
            notified = self.desk.notifier is not None
        except Exception:  # a failing channel must not undo the escalation; the trail says so
            log.exception("escalation notification failed for case %s", case_id)
        self.desk.audit(
            "case.escalate", actor=actor, user_id=user_id, comment_id=case.comment_id, object_type="case",
            object_id=str(case_id), reason=note or None,
            detail={"owner_id": owner_id, "topic": topic, "responsible": case.responsible, "notified": notified},
        )  # fmt: skip
        return case

    def close(
        self,
        case_id: int,
        *,
        cause: str,
        change: str,
        actor: str,
        user_id: int | None = None,
    ) -> Lesson:
        """Resolve a case and record its lesson: the cause and what will change."""
        with self.desk.session() as s, s.begin():
            case = self._case(s, case_id)
            page = s.get(Page, case.page_id)
            assert page is not None
            if cause not in self.causes(page):
                raise WorkflowError(
                    "bad_cause", f"cause must be one of {', '.join(self.causes(page))}"
                )
            case.state = "resolved"
            case.cause = cause
            case.closed_at = self.clock()
            lesson = Lesson(
                page_id=case.page_id,
                case_id=case.id,
                cause=cause,
                change=change.strip(),
                created_at=self.clock(),
            )
            s.add(lesson)
            s.flush()
            comment_id = case.comment_id
        self.desk.audit(
            "case.resolve",
            actor=actor,
            user_id=user_id,
            comment_id=comment_id,
            object_type="case",
            object_id=str(case_id),
            detail={"cause": cause, "change": change},
        )
        return lesson

    def criticism_topics(
        self, page_id: int | None = None, days: int = 28, limit: int = 12
    ) -> list[Topic]:
        """What the complaints, rants and wrong claims of the last ``days`` are about, against
        the ``days`` before (see :mod:`crisisdesk.analysis.topics`)."""
        from crisisdesk.analysis.topics import topics  # its cue lists load on first use

        now = self.clock()
        start, earlier = now - timedelta(days=days), now - timedelta(days=2 * days)
        query = (
            select(Comment.id, Comment.text, Comment.created_at)
            .where(Comment.kind.in_(CRITICAL_KINDS), Comment.created_at >= earlier)
            .order_by(Comment.created_at.desc())
            .limit(TOPIC_COMMENTS)
        )
        names = select(Page.name, Page.platform_id)
        if page_id:
            query = query.where(Comment.page_id == page_id)
            names = names.where(Page.id == page_id)
        with self.desk.session() as s:
            rows = s.execute(query).all()
            exclude = [part for row in s.execute(names) for part in row]
        recent = [(row.id, row.text) for row in rows if row.created_at >= start]
        older = [row.text for row in rows if row.created_at < start]
        return topics(recent, older, limit=limit, exclude=exclude)

    def what_worked(self, page_id: int | None = None, weeks: int = 8) -> list[ApproachRow]:
        """How the authors of the cases answered in the last ``weeks`` reacted, by how they were
        answered (see :mod:`crisisdesk.workflow.outcomes`)."""
        from crisisdesk.workflow.outcomes import FOLLOW_UP_DAYS, ReplyOutcome, reaction, summarise

        since = self.clock() - timedelta(weeks=weeks)
        overridden = func.max(sql_case((ReplyDraft.override_reason.is_not(None), 1), else_=0))
        first = (
            select(
                ReplyDraft.case_id,
                func.min(ReplyDraft.published_at).label("replied_at"),
                overridden.label("overridden"),
            )
            .where(ReplyDraft.case_id.is_not(None), ReplyDraft.published_at.is_not(None))
            .group_by(ReplyDraft.case_id)
            .subquery()
        )
        query = (
            select(
                Case.id,
                Case.page_id,
                Case.respond_by,
                Comment.created_at,
                Comment.author_id,
                first.c.replied_at,
                first.c.overridden,
            )
            .join(first, first.c.case_id == Case.id)
            .join(Comment, Comment.id == Case.comment_id)
            .where(first.c.replied_at >= since)
            .order_by(first.c.replied_at.desc())
            .limit(OUTCOME_CASES)
        )
        if page_id:
            query = query.where(Case.page_id == page_id)
        with self.desk.session() as s:
            cases = s.execute(query).all()
            if not cases:
                return []
            with_voucher = set(
                s.scalars(
                    select(Voucher.case_id).where(
                        Voucher.case_id.in_([c.id for c in cases]), Voucher.sent_via.is_not(None)
                    )
                )
            )
            authors = {c.author_id for c in cases if c.author_id is not None}
            later = s.execute(
                select(
                    Comment.author_id,
                    Comment.page_id,
                    Comment.created_at,
                    Comment.sentiment,
                    Comment.kind,
                )  # fmt: skip
                .where(
                    Comment.author_id.in_(authors),
                    Comment.created_at > min(c.replied_at for c in cases),
                )
                .order_by(Comment.created_at)
            ).all()
        follow_ups: dict[tuple[int, int], list[Any]] = {}
        for row in later:
            follow_ups.setdefault((row.author_id, row.page_id), []).append(row)
        window = timedelta(days=FOLLOW_UP_DAYS)
        now = self.clock()
        outcomes = []
        for c in cases:
            after = [
                r
                for r in follow_ups.get((c.author_id, c.page_id), [])
                if c.replied_at < r.created_at <= c.replied_at + window
            ]
            if after:
                mood = reaction(after[0].sentiment, after[0].kind)
            else:
                mood = "silent" if c.replied_at + window <= now else "waiting"
            outcomes.append(
                ReplyOutcome(
                    commented_at=c.created_at,
                    replied_at=c.replied_at,
                    respond_by=c.respond_by,
                    cooldown_overridden=bool(c.overridden),
                    voucher_sent=c.id in with_voucher,
                    reaction=mood,
                )
            )
        return summarise(outcomes)

    def lessons_summary(self, page_id: int | None = None, weeks: int = 8) -> dict[str, Any]:
        """Counts per cause, and per cause per week for the trend."""
        now = self.clock()
        since = now - timedelta(weeks=weeks)
        with self.desk.session() as s:
            query = select(Lesson).order_by(Lesson.created_at.desc())
            if page_id:
                query = query.where(Lesson.page_id == page_id)
            lessons = list(s.scalars(query.limit(5000)))
        counts: dict[str, int] = {}
        trend: dict[str, list[int]] = {}
        for lesson in lessons:
            counts[lesson.cause] = counts.get(lesson.cause, 0) + 1
            if lesson.created_at >= since:
                week = int((now - lesson.created_at) / timedelta(weeks=1))
                series = trend.setdefault(lesson.cause, [0] * weeks)
                series[weeks - 1 - min(week, weeks - 1)] += 1
        return {
            "counts": dict(sorted(counts.items(), key=lambda kv: -kv[1])),
            "trend": trend,
            "lessons": lessons[:100],
        }


def _case_audit(case_id: int, *actions: str) -> Select[AuditEntry]:
    """The case's audit entries of the given actions, newest first."""
    return (
        select(AuditEntry)
        .where(
            AuditEntry.object_type == "case",
            AuditEntry.object_id == str(case_id),
            AuditEntry.action.in_(actions),
        )
        .order_by(AuditEntry.id.desc())
    )
