"""The urgent order puts comments of closed cases after the open ones; rows show the case state."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from crisisdesk.desk import Desk, InboxFilters
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.models import Comment
from crisisdesk.web.app import create_app

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)

#: platform id -> (urgency, case state or None for no case)
COMMENTS = {
    "colomba": (0.95, "resolved"),  # the most urgent reading, settled weeks ago
    "answered": (0.9, "replied"),
    "ignored": (0.85, "dismissed"),
    "flame1": (0.8, None),
    "flame2": (0.7, "drafting"),  # a case still being worked on stays with the open ones
    "flame3": (0.6, None),
    "calm": (0.1, None),
}


def seed(desk: Desk) -> dict[str, int]:
    desk.ingest(
        [
            CommentRecord(
                platform="facebook",
                platform_id=pid,
                created_at=T0 + timedelta(minutes=n),
                text=f"comment {pid}",
                page="P1",
                page_name="Forno",
                author_id=f"a{n}",
                author_name=f"Person {n}",
            )
            for n, pid in enumerate(COMMENTS)
        ]
    )
    ids: dict[str, int] = {}
    with desk.session() as s, s.begin():
        for pid, (urgency, _state) in COMMENTS.items():
            s.execute(update(Comment).where(Comment.platform_id == pid).values(urgency=urgency))
            ids[pid] = s.scalars(select(Comment.id).where(Comment.platform_id == pid)).one()
    for pid, (_urgency, state) in COMMENTS.items():
        if state is not None:
            case = desk.workflow.open_case(ids[pid], actor="test")
            desk.workflow.set_state(case.id, state, actor="test")
    return ids


def urgent_order(desk: Desk, limit: int) -> list[str]:
    """The urgent order followed page by page through the cursors."""
    seen: list[str] = []
    cursor = None
    while True:
        page = desk.inbox(InboxFilters(sort="urgent"), cursor=cursor, limit=limit)
        seen += [row["comment"].platform_id for row in page.rows]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_closed_cases_sort_after_open_comments(desk: Desk) -> None:
    seed(desk)
    expected = ["flame1", "flame2", "flame3", "calm", "colomba", "answered", "ignored"]
    # one page, and pages that end inside the open part, on its last row and in the closed part
    for limit in (50, 1, 2, 4, 5):
        assert urgent_order(desk, limit) == expected, limit
    rows = desk.inbox(InboxFilters(sort="urgent")).rows
    assert {r["comment"].platform_id: r["case_state"] for r in rows} == {
        pid: state for pid, (_u, state) in COMMENTS.items()
    }


def test_newest_order_is_unchanged(desk: Desk) -> None:
    seed(desk)
    newest = [r["comment"].platform_id for r in desk.inbox(InboxFilters()).rows]
    assert newest == list(reversed(COMMENTS))


def test_a_cursor_from_before_keeps_working(desk: Desk) -> None:
    seed(desk)
    first = desk.inbox(InboxFilters(sort="urgent"), limit=1).rows[0]["comment"]
    old_cursor = f"{first.urgency}|{first.created_at.isoformat()}|{first.id}"
    page = desk.inbox(InboxFilters(sort="urgent"), cursor=old_cursor, limit=2)
    assert [r["comment"].platform_id for r in page.rows] == ["flame2", "flame3"]


def test_open_walk_keeps_the_urgency_index(desk: Desk) -> None:
    """The first page of the urgent order walks the urgency index: no sort of every comment."""
    seed(desk)
    statements: list[tuple[str, object]] = []

    from sqlalchemy import event

    def record(_conn, _cursor, statement, params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        statements.append((statement, params))

    event.listen(desk.engine, "before_cursor_execute", record)
    try:
        desk.inbox(InboxFilters(sort="urgent"), limit=2)
    finally:
        event.remove(desk.engine, "before_cursor_execute", record)
    ((statement, params),) = [s for s in statements if "ORDER BY comments.urgency" in s[0]]
    with desk.engine.connect() as conn:
        plan = " ".join(
            str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        )
    assert "ix_comments_urgency" in plan
    assert "TEMP B-TREE" not in plan


def test_inbox_rows_show_the_case_state_in_the_readers_language(desk: Desk) -> None:
    ids = seed(desk)
    desk.add_user("ann", "correct-horse-battery", language="it")
    with TestClient(create_app(desk, demo_user="ann")) as client:
        client.headers["accept-language"] = "it"
        html = client.get("/?sort=urgent").text
    rows = re.findall(r'<tr class="row [^"]*">.*?</tr>', html, re.S)
    assert len(rows) == len(COMMENTS)
    by_id = {int(m): row for row in rows for m in re.findall(r'href="/comments/(\d+)"', row)}
    assert ">risolto</span>" in by_id[ids["colomba"]]
    assert ">risposto</span>" in by_id[ids["answered"]]
    assert ">archiviato</span>" in by_id[ids["ignored"]]
    assert ">in scrittura</span>" in by_id[ids["flame2"]]
    assert "case-state" not in by_id[ids["flame1"]]
    # the page's order is the desk's: open comments first
    order = [int(m) for m in re.findall(r'<td class="text"><a href="/comments/(\d+)"', html)]
    assert order.index(ids["calm"]) < order.index(ids["colomba"])
