"""The lessons page: what the criticism is about, why cases happened, how often, whether it is
getting better, and what worked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from crisisdesk.web.app import current_user, get_desk, render
from crisisdesk.workflow.outcomes import REACTIONS

router = APIRouter(include_in_schema=False)

NAV = [("nav.lessons", "/lessons")]

User = Annotated[Any, Depends(current_user)]
WEEKS = 8
TOPIC_DAYS = 28


@router.get("/lessons")
def lessons_page(request: Request, user: User, page: str = "") -> Response:
    desk = get_desk(request)
    page_id = int(page) if page.isdigit() else None
    summary = desk.workflow.lessons_summary(page_id, weeks=WEEKS)
    topics = desk.workflow.criticism_topics(page_id, days=TOPIC_DAYS)
    worked = desk.workflow.what_worked(page_id, weeks=WEEKS)
    peak = max((n for series in summary["trend"].values() for n in series), default=0)
    pages = desk.pages()
    return render(
        request,
        "lessons/list.html",
        {
            "user": user,
            "summary": summary,
            "topics": topics,
            "topic_days": TOPIC_DAYS,
            "worked": worked,
            "reactions": REACTIONS,
            # Bar heights as classes h0..h8: the CSP forbids inline styles.
            "levels": {
                cause: [0 if not peak else round(8 * n / peak) for n in series]
                for cause, series in summary["trend"].items()
            },
            "weeks": WEEKS,
            "pages": pages,
            "page_names": {p.id: p.name for p in pages},
            "selected": page_id,
        },
    )
