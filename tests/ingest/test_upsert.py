"""The one write path: idempotent, ordered by event time, never deleting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.models import Analysis, Author, Comment, CommentRevision, Post

# Every test here runs on SQLite and, where a server is available, on PostgreSQL: the write path is
# where dialect differences would bite.


@pytest.fixture
def desk(backend_desk: Desk) -> Desk:
    return backend_desk


T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def rec(cid: str, text: str = "hello", minutes: float = 0, **kw: object) -> CommentRecord:
    base: dict[str, object] = {
        "platform": "facebook",
        "platform_id": cid,
        "created_at": T0 + timedelta(minutes=minutes),
        "text": text,
        "page": "P1",
        "post_id": "P1_post",
        "author_id": "a1",
        "author_name": "Ann",
    }
    base.update(kw)
    return CommentRecord(**base)  # type: ignore[arg-type]


def comment(desk: Desk, cid: str) -> Comment:
    with desk.session() as s:
        row = s.scalars(select(Comment).where(Comment.platform_id == cid)).one()
        return row


def count(desk: Desk, model: type) -> int:
    with desk.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_same_comment_twice_is_one_row(desk: Desk) -> None:
    first = desk.ingest([rec("c1")])
    second = desk.ingest([rec("c1")])
    assert (first.inserted, second.inserted, second.unchanged) == (1, 0, 1)
    assert count(desk, Comment) == 1
    assert count(desk, Analysis) == 1  # an unchanged text is not analysed again


def test_duplicates_inside_one_batch(desk: Desk) -> None:
    report = desk.ingest([rec("c1"), rec("c1"), rec("c2")])
    assert report.inserted == 2 and count(desk, Comment) == 2


def test_edit_keeps_history_and_reanalyses(desk: Desk) -> None:
    desk.ingest([rec("c1", "the order is fine")])
    desk.ingest([rec("c1", "the order is late", minutes=5, verb="edited")])
    c = comment(desk, "c1")
    assert c.text == "the order is late" and c.kind == "complaint"
    with desk.session() as s:
        revisions = s.scalars(select(CommentRevision.text)).all()
    assert revisions == ["the order is fine"]
    assert count(desk, Analysis) == 2


def test_out_of_order_edit_does_not_overwrite_newer_text(desk: Desk) -> None:
    desk.ingest([rec("c1", "newest", minutes=10, verb="edited")])
    desk.ingest([rec("c1", "older", minutes=5, verb="edited")])
    desk.ingest([rec("c1", "older", minutes=5, verb="edited")])  # repeated late delivery
    assert comment(desk, "c1").text == "newest"
    with desk.session() as s:
        assert s.scalars(select(CommentRevision.text)).all() == ["older"]


def test_removal_marks_and_keeps_text(desk: Desk) -> None:
    desk.ingest([rec("c1", "something")])
    desk.ingest([rec("c1", "", minutes=3, verb="remove")])
    c = comment(desk, "c1")
    assert c.status == "removed" and c.text == "something" and c.removed_at is not None
    # A stale 'add' replayed later does not bring it back.
    desk.ingest([rec("c1", "something")])
    assert comment(desk, "c1").status == "removed"


def test_remove_before_add(desk: Desk) -> None:
    desk.ingest([rec("c1", "", minutes=3, verb="remove")])
    desk.ingest([rec("c1", "the original text")])
    c = comment(desk, "c1")
    assert c.status == "removed" and c.text == "the original text"


def test_hide_unhide_in_event_time(desk: Desk) -> None:
    desk.ingest([rec("c1")])
    desk.ingest([rec("c1", "", minutes=2, verb="hide")])
    assert comment(desk, "c1").status == "hidden"
    desk.ingest([rec("c1", "", minutes=1, verb="unhide")])  # older than the hide: ignored
    assert comment(desk, "c1").status == "hidden"
    desk.ingest([rec("c1", "", minutes=4, verb="unhide")])
    assert comment(desk, "c1").status == "visible"


def test_threads_link_whichever_arrives_first(desk: Desk) -> None:
    desk.ingest([rec("reply", "me too", minutes=2, parent_id="root", author_id="a2")])
    assert comment(desk, "reply").parent_id is None
    desk.ingest([rec("root", "late order")])
    assert comment(desk, "reply").parent_id == comment(desk, "root").id


def test_author_counts_and_first_time(desk: Desk) -> None:
    seen: list[bool] = []
    desk.listeners.append(lambda items: seen.extend(i.first_time_author for i in items))
    desk.ingest([rec("c1"), rec("c2", minutes=1)])
    desk.ingest([rec("c3", minutes=2)])
    assert seen == [True, False, False]
    with desk.session() as s:
        author = s.scalars(select(Author)).one()
    assert author.comment_count == 3 and author.first_seen == T0


def test_same_id_on_two_platforms_is_two_comments(desk: Desk) -> None:
    desk.ingest([rec("c1"), rec("c1", platform="instagram")])
    assert count(desk, Comment) == 2


def test_a_failing_listener_loses_nothing(desk: Desk) -> None:
    def broken(_items: object) -> None:
        raise RuntimeError("boom")

    desk.listeners.append(broken)
    desk.ingest([rec("c1")])
    assert count(desk, Comment) == 1


def test_batches_commit_independently(desk: Desk) -> None:
    records = [rec(f"c{i}", minutes=i) for i in range(25)]
    report = desk.ingest(records, batch_size=10)
    assert report.inserted == 25 and count(desk, Comment) == 25


def post_link(desk: Desk, platform_id: str) -> str | None:
    with desk.session() as s:
        return s.scalars(select(Post.permalink).where(Post.platform_id == platform_id)).one()


def test_a_known_permalink_survives_deliveries_without_one(desk: Desk) -> None:
    link = "https://www.facebook.com/100/posts/1?comment_id=c1"
    post = "https://www.facebook.com/100/posts/1"
    desk.ingest([rec("c1", permalink=link, post_permalink=post)])
    assert comment(desk, "c1").permalink == link and post_link(desk, "P1_post") == post

    # a webhook after the backfill: the same comment edited, no link to the comment or its post
    report = desk.ingest([rec("c1", "hello again", minutes=5, verb="edited")])
    assert report.updated == 1
    assert comment(desk, "c1").text == "hello again"
    assert comment(desk, "c1").permalink == link and post_link(desk, "P1_post") == post
    # a later comment on the same post, without the post's link, keeps it too
    desk.ingest([rec("c2", minutes=6)])
    assert post_link(desk, "P1_post") == post and comment(desk, "c2").permalink is None


def test_a_permalink_fills_in_later_and_a_new_one_replaces_it(desk: Desk) -> None:
    desk.ingest([rec("c1")])
    assert comment(desk, "c1").permalink is None and post_link(desk, "P1_post") is None
    first = desk.ingest([rec("c1", permalink="https://example.social/@ann/1")])
    assert first.updated == 1 and comment(desk, "c1").permalink == "https://example.social/@ann/1"
    assert desk.ingest([rec("c1", permalink="https://example.social/@ann/1")]).unchanged == 1

    desk.ingest(
        [rec("c1", permalink="https://example.social/@ann/1b", post_permalink="https://p/2")]
    )
    assert comment(desk, "c1").permalink == "https://example.social/@ann/1b"
    assert post_link(desk, "P1_post") == "https://p/2"


def test_a_post_link_is_stored_once_for_a_batch_of_its_comments(desk: Desk) -> None:
    post = "https://www.instagram.com/p/C6abc/"
    report = desk.ingest([rec(f"c{i}", minutes=i, post_permalink=post) for i in range(5)])
    assert report.inserted == 5 and count(desk, Post) == 1
    assert post_link(desk, "P1_post") == post
    assert {comment(desk, f"c{i}").permalink for i in range(5)} == {None}


def post_text(desk: Desk, platform_id: str) -> str | None:
    with desk.session() as s:
        return s.scalars(select(Post.message).where(Post.platform_id == platform_id)).one()


def test_a_known_post_text_survives_deliveries_without_one(desk: Desk) -> None:
    hours = "From Monday we open at 7: the new opening hours"
    desk.ingest([rec("c1", post_message=hours)])
    assert post_text(desk, "P1_post") == hours

    # a webhook after the backfill: the comment edited, nothing said about its post's text
    report = desk.ingest([rec("c1", "hello again", minutes=5, verb="edited")])
    assert report.updated == 1 and post_text(desk, "P1_post") == hours
    # another comment on the same post, without the text, keeps it too
    desk.ingest([rec("c2", minutes=6)])
    assert post_text(desk, "P1_post") == hours
    # the post edited on the platform: the next delivery that carries its text brings the new one
    desk.ingest([rec("c3", minutes=7, post_message=hours + " (and 6 on Saturdays)")])
    assert post_text(desk, "P1_post") == hours + " (and 6 on Saturdays)"


def test_a_post_text_fills_in_for_a_post_known_without_one(desk: Desk) -> None:
    desk.ingest([rec("c1")])
    assert post_text(desk, "P1_post") is None
    desk.ingest([rec(f"c{i}", minutes=i, post_message="Our new menu") for i in range(2, 6)])
    assert post_text(desk, "P1_post") == "Our new menu" and count(desk, Post) == 1
