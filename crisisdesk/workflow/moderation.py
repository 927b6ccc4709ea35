"""Moderation actions with guidance: reply, hide, unhide, delete, ban, resolve.

Each action goes through the page's platform connector when one is configured; otherwise it is
recorded as "do this on the platform" with the text to copy, so the desk stays useful for pages it
cannot act on. Either way the store reflects it and the audit log says who, when, what and why.
Deleting criticism is discouraged (it feeds a flame: hide instead), so a delete needs an explicit
confirmation and a reason.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import update

from crisisdesk.models import Author, Comment, Page
from crisisdesk.workflow.cases import WorkflowError

if TYPE_CHECKING:
    from crisisdesk.desk import Desk

log = logging.getLogger(__name__)

ACTIONS = ("reply", "hide", "unhide", "delete", "ban", "resolve", "private_reply")
CRITICISM_KINDS = ("complaint", "misguided", "rager")

GUIDANCE = {
    "reply": "Answer as a person: empathy, the facts, the next step, who follows up.",
    "hide": "Hiding keeps the author and their friends seeing the comment: it calms, it does not provoke.",
    "unhide": "Bring the comment back if it was hidden by mistake.",
    "delete": "Deleting criticism usually makes it louder (screenshots, 'they censor us'). Hide instead.",
    "ban": "Ban only repeat offenders and spam accounts; note why.",
    "resolve": "Close the case once the person has what they needed.",
    "private_reply": "Offer compensation privately, never in the public thread.",
}

MANUAL = {
    "reply": "Post this reply under the comment on the platform.",
    "hide": "Hide the comment on the platform (… menu → Hide comment).",
    "unhide": "Unhide the comment on the platform.",
    "delete": "Delete the comment on the platform.",
    "ban": "Ban the author from the page on the platform.",
    "private_reply": "Send this as a private message to the author.",
}


class Moderation:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def perform(
        self,
        comment_id: int,
        action: str,
        *,
        actor: str,
        user_id: int | None = None,
        text: str | None = None,
        reason: str | None = None,
        confirm: bool = False,
    ) -> dict[str, Any]:
        if action not in ACTIONS:
            raise WorkflowError("bad_action", f"action must be one of {', '.join(ACTIONS)}")
        with self.desk.session() as s:
            comment = s.get(Comment, comment_id)
            if comment is None:
                raise WorkflowError("not_found", "no such comment")
            page = s.get(Page, comment.page_id)
            author = s.get(Author, comment.author_id) if comment.author_id else None
        assert page is not None
        if action == "delete":
            if not confirm:
                raise WorkflowError("confirm", "deleting needs confirmation; " + GUIDANCE["delete"])
            if comment.kind in CRITICISM_KINDS and not (reason or "").strip():
                raise WorkflowError(
                    "reason", "deleting criticism needs a reason; " + GUIDANCE["delete"]
                )
        if action in ("reply", "private_reply") and not (text or "").strip():
            raise WorkflowError("empty", "nothing to send")

        connector = self.desk.connector_for(page)
        outcome: dict[str, Any]
        if action == "resolve":
            outcome = {"status": "done"}
        elif connector is not None:
            platform_result = self._through(connector, action, comment, author, text)
            outcome = {
                "status": "published" if action in ("reply", "private_reply") else "done",
                "platform": platform_result,
            }
        else:
            outcome = {"status": "manual", "instructions": MANUAL[action], "copy": text or ""}

        with self.desk.session() as s, s.begin():
            now = self.desk.clock()
            if action == "hide":
                s.execute(
                    update(Comment)
                    .where(Comment.id == comment_id, Comment.status != "removed")
                    .values(status="hidden", status_changed_at=now)
                )
            elif action == "unhide":
                s.execute(
                    update(Comment)
                    .where(Comment.id == comment_id, Comment.status == "hidden")
                    .values(status="visible", status_changed_at=now)
                )
            elif action == "delete":
                # Removed on the platform; the desk keeps the row and its text.
                s.execute(
                    update(Comment)
                    .where(Comment.id == comment_id)
                    .values(status="removed", removed_at=now, status_changed_at=now)
                )
            elif action == "ban" and author is not None:
                s.execute(update(Author).where(Author.id == author.id).values(banned=True))
            if action in ("reply", "resolve", "hide", "delete"):
                s.execute(update(Comment).where(Comment.id == comment_id).values(triage="handled"))
        self.desk.audit(
            f"moderation.{action}",
            actor=actor,
            user_id=user_id,
            comment_id=comment_id,
            object_type="comment",
            object_id=comment.platform_id,
            reason=reason,
            detail={"outcome": outcome["status"], **({"text": text} if text else {})},
        )
        return {"action": action, "guidance": GUIDANCE[action], **outcome}

    def _through(
        self, connector: Any, action: str, comment: Comment, author: Author | None, text: str | None
    ) -> Any:
        try:
            if action == "reply":
                return connector.reply(comment.platform_id, text)
            if action == "private_reply":
                return connector.private_reply(comment.platform_id, text)
            if action == "hide":
                return connector.hide(comment.platform_id)
            if action == "unhide":
                return connector.unhide(comment.platform_id)
            if action == "delete":
                return connector.delete(comment.platform_id)
            if action == "ban":
                if author is None:
                    raise WorkflowError("no_author", "this comment has no known author to ban")
                ban = getattr(connector, "ban", None)
                if ban is None:
                    raise WorkflowError(
                        "unsupported", "this platform's connector cannot ban; do it on the platform"
                    )
                return ban(author.platform_id)
        except WorkflowError:
            raise
        except Exception as exc:  # the platform said no: tell the person, change nothing here
            log.warning("connector %s failed for %s: %s", action, comment.platform_id, exc)
            raise WorkflowError("platform", f"the platform refused: {exc}") from exc
        return None
