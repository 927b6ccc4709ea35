"""The reading side of the store on each database backend: migrations, inbox, comment page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crisisdesk import store
from crisisdesk.desk import Desk, InboxFilters
from crisisdesk.ingest.record import CommentRecord

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def _records() -> list[CommentRecord]:
    texts = [
        "Great bread, thanks!",
        "The delivery was late again",
        "Consegna in ritardo, che vergogna",
        "Do you open on Sunday?",
        "100% off_discount \\ weird % text",
    ]
    return [
        CommentRecord(
            platform="facebook",
            platform_id=f"c{i}",
            created_at=T0 + timedelta(minutes=i),
            text=text,
            page="P1" if i % 2 else "P2",
            author_id=f"a{i}",
            author_name=f"Person {i}",
        )
        for i, text in enumerate(texts)
    ]


def test_migrations_reach_head(backend_desk: Desk) -> None:
    assert store.current_revision(backend_desk.engine) == store.head_revision(backend_desk.engine)


def test_inbox_filters_search_and_paging(backend_desk: Desk) -> None:
    desk = backend_desk
    report = desk.ingest(_records())
    assert report.inserted == 5
    assert desk.stats()["comments"] == 5 and desk.stats()["pages"] == 2

    newest = desk.inbox(InboxFilters())
    assert [r["comment"].platform_id for r in newest.rows] == ["c4", "c3", "c2", "c1", "c0"]

    first = desk.inbox(InboxFilters(), limit=2)
    second = desk.inbox(InboxFilters(), cursor=first.next_cursor, limit=2)
    third = desk.inbox(InboxFilters(), cursor=second.next_cursor, limit=2)
    paged = [r["comment"].platform_id for p in (first, second, third) for r in p.rows]
    assert paged == ["c4", "c3", "c2", "c1", "c0"] and third.next_cursor is None

    complaints = desk.inbox(InboxFilters(kind="complaint"))
    assert {r["comment"].platform_id for r in complaints.rows} == {"c1", "c2"}
    italian = desk.inbox(InboxFilters(language="it"))
    assert [r["comment"].platform_id for r in italian.rows] == ["c2"]

    # Search is case-insensitive and treats LIKE wildcards in the query literally.
    assert [r["comment"].platform_id for r in desk.inbox(InboxFilters(q="LATE")).rows] == ["c1"]
    assert [r["comment"].platform_id for r in desk.inbox(InboxFilters(q="100%")).rows] == ["c4"]
    assert desk.inbox(InboxFilters(q="of_")).rows == []
    assert [r["comment"].platform_id for r in desk.inbox(InboxFilters(q="person 3")).rows] == ["c3"]

    urgent = desk.inbox(InboxFilters(sort="urgent"), limit=2)
    more = desk.inbox(InboxFilters(sort="urgent"), cursor=urgent.next_cursor, limit=10)
    ids = [r["comment"].platform_id for r in urgent.rows + more.rows]
    assert sorted(ids) == ["c0", "c1", "c2", "c3", "c4"]


def test_comment_view(backend_desk: Desk) -> None:
    desk = backend_desk
    desk.ingest(_records())
    found = desk.find_comment("c1")
    assert found is not None
    view = desk.comment_view(found.id)
    assert view is not None
    assert view["comment"].text == "The delivery was late again"
    assert view["analysis"].kind == "complaint"


def test_search_follows_edits(backend_desk: Desk) -> None:
    """The search index (FTS5 trigram on SQLite, pg_trgm on PostgreSQL) stays in step with edits,
    and gives the same answers as a scan."""
    desk = backend_desk
    records = _records()
    desk.ingest(records)
    if desk.engine.dialect.name == "sqlite":
        assert desk._has_search_table()
    edited = records[1]
    desk.ingest(
        [
            CommentRecord(
                platform="facebook",
                platform_id=edited.platform_id,
                created_at=edited.created_at + timedelta(minutes=30),  # the edit's event time
                text="Refund still missing after weeks",
                page=edited.page,
                author_id=edited.author_id,
                verb="edited",
            )
        ]
    )
    assert desk.inbox(InboxFilters(q="late again")).rows == []
    assert [r["comment"].platform_id for r in desk.inbox(InboxFilters(q="REFUND")).rows] == ["c1"]
    # Short queries and queries with wildcard characters take the scanning path: same semantics.
    assert {r["comment"].platform_id for r in desk.inbox(InboxFilters(q="in")).rows} >= {"c1"}
    assert [r["comment"].platform_id for r in desk.inbox(InboxFilters(q="off_d")).rows] == ["c4"]


def test_saved_states_are_written_over_the_version_read_only(backend_desk: Desk) -> None:
    """Compare-and-set on ``signal_state``: a writer names the seq it last read (0 for none);
    a writer that is behind writes nothing and is told so, on either database."""
    with backend_desk.session() as s, s.begin():
        assert store.write_signal_state(s, "flame/page/1", "v", b"first", 0)
        assert not store.write_signal_state(s, "flame/page/1", "v", b"also first", 0)
        assert store.write_signal_state(s, "flame/page/1", "v", b"second", 1)
        assert not store.write_signal_state(s, "flame/page/1", "v", b"behind", 1)
        assert store.write_signal_state(s, "flame", "v", b"settings", 0)
        assert store.write_signal_state(s, "flames", "v", b"another signal", 0)
        assert store.write_signal_state(s, "flame_page", "v", b"and another", 0)
    with backend_desk.session() as s:
        assert store.signal_state_seqs(s, "flame") == {"flame": 1, "flame/page/1": 2}
        (row,) = store.signal_states(s, ["flame/page/1"])
        assert (row.name, row.seq, bytes(row.state)) == ("flame/page/1", 2, b"second")
        assert store.signal_states(s, ["nothing"]) == []


def test_a_mark_kept_fresh_is_not_taken_for_abandoned(backend_desk: Desk) -> None:
    """The rows of open imports: their time is read with the seqs, touched without a new seq,
    and deleted as abandoned only if nobody touched them since, on either database."""
    from crisisdesk.models import SignalState, utcnow

    with backend_desk.session() as s, s.begin():
        assert store.write_signal_state(s, "flame/import/a", "v", b"pages", 0)
        assert store.write_signal_state(s, "flame/import/b", "v", b"pages", 0)
        s.query(SignalState).update({SignalState.updated_at: T0})
    with backend_desk.session() as s, s.begin():
        assert store.touch_signal_state(s, "flame/import/a")
        assert not store.touch_signal_state(s, "flame/import/none")
    with backend_desk.session() as s:
        times = store.signal_state_times(s, "flame")
    assert {name: seq for name, (seq, _) in times.items()} == {
        "flame/import/a": 1,
        "flame/import/b": 1,
    }
    assert times["flame/import/b"][1] == T0
    assert times["flame/import/a"][1] > utcnow() - timedelta(minutes=5)
    cutoff = utcnow() - timedelta(minutes=10)
    with backend_desk.session() as s, s.begin():
        assert not store.drop_signal_state(s, "flame/import/a", untouched_since=cutoff)
        assert store.drop_signal_state(s, "flame/import/b", untouched_since=cutoff)
        assert store.drop_signal_state(s, "flame/import/a")
    with backend_desk.session() as s:
        assert store.signal_state_times(s, "flame") == {}
