"""A replay's live tail on each database (see ``FlameMonitor._write_replay``): the comments another
process stores while a page is replayed are taken once each, whatever order their ids commit in.

SQLite numbers rows in the order they are written; PostgreSQL hands an id out at the insert, so a
transaction that inserted first and commits last leaves a smaller id visible after a larger one.
That is made to happen here, on a real server: an ingest is held on a thread of its own just
before its commit (an engine event waits there), while another process commits after it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

import pytest
from sqlalchemy import event, select

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.models import Comment
from crisisdesk.signals import flame as flame_module
from crisisdesk.signals.flame import LEVELS
from tests.conftest import KeywordAnalyzer
from tests.signals.test_flame import _alerts_as_read, alerts_in_store, feed, history, page_id
from tests.signals.test_shared_store import _as_json, _stored_page

#: Long enough for any step of these tests on a slow machine; only reached when one is stuck.
WAIT = 20.0


@contextmanager
def processes(desk: Desk, n: int) -> Iterator[list[Desk]]:
    """``n`` desks on ``desk``'s database, as ``n`` processes would have."""
    made = [Desk(desk.settings, analyzer=KeywordAnalyzer()) for _ in range(n)]
    try:
        yield made
    finally:
        for d in made:
            d.close()


class HeldIngest:
    """``desk.ingest(records)`` on a thread of its own, stopped just before the transaction that
    inserts the comments commits: they have their ids, and no other connection sees them, until
    :meth:`release`, which lets the ingest finish (the desk's signals learn the comments and
    save) and waits for it. PostgreSQL only: SQLite would make every other writer wait."""

    def __init__(self, desk: Desk, records: Sequence[CommentRecord]) -> None:
        self.desk = desk
        self.records = list(records)
        self.inserted = threading.Event()
        self.go = threading.Event()
        self.released_in_time = False
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="held-ingest")

    def _run(self) -> None:
        try:
            self.desk.ingest(self.records)
        except BaseException as exc:  # handed to the test by release()
            self.error = exc
            self.inserted.set()

    def _mine(self) -> bool:
        return threading.get_ident() == self.thread.ident

    def _after_execute(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self._mine() and statement.lstrip().upper().startswith("INSERT INTO COMMENTS "):
            conn.info["held-ingest"] = True

    def _commit(self, conn: Any) -> None:
        if self._mine() and conn.info.pop("held-ingest", False):
            self.inserted.set()
            # Never hangs the run: a stuck test fails on released_in_time instead.
            self.released_in_time = self.go.wait(WAIT)

    def __enter__(self) -> HeldIngest:
        event.listen(self.desk.engine, "after_cursor_execute", self._after_execute)
        event.listen(self.desk.engine, "commit", self._commit)
        self.thread.start()
        assert self.inserted.wait(WAIT), "the held ingest never inserted its comments"
        assert self.error is None, self.error
        return self

    def release(self) -> None:
        self.go.set()
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the held ingest did not finish"
        if self.error is not None:
            raise self.error
        assert self.released_in_time, "the held ingest committed before it was released"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.go.set()
        self.thread.join(WAIT)
        event.remove(self.desk.engine, "after_cursor_execute", self._after_execute)
        event.remove(self.desk.engine, "commit", self._commit)


def newcomer(tag: str, at: datetime) -> CommentRecord:
    """An angry comment by someone never seen before (so it is among the page's samples), under
    a post already stored: a second transaction inserting the same new post would wait for the
    held one."""
    return CommentRecord(
        platform="facebook", platform_id=tag, created_at=at, text=f"{tag}: late again, vergogna",
        page="P1", page_name="Forno", post_id="post1", author_id=f"new-{tag}",
        author_name=f"Newcomer {tag}",
    )  # fmt: skip


def _bucket_after(records: Sequence[CommentRecord], minutes: int = 10) -> datetime:
    """The start of a five-minute bucket ``minutes`` or so after the last of ``records``."""
    at = records[-1].created_at + timedelta(minutes=minutes)
    return at - timedelta(minutes=at.minute % 5, seconds=at.second, microseconds=at.microsecond)


def _ids(desk: Desk, records: Sequence[CommentRecord]) -> dict[str, int]:
    """The stored comments' ids, by platform id."""
    with desk.session() as s:
        rows = s.execute(
            select(Comment.platform_id, Comment.id).where(
                Comment.platform_id.in_([r.platform_id for r in records])
            )
        ).all()
    return {platform_id: id_ for platform_id, id_ in rows}


def _fresh_replay(desk: Desk, pid: int) -> dict[str, Any]:
    """The page's state as a replay of all its stored comments gives it, with nobody else
    writing; the replay raises no alert that is not stored already."""
    with processes(desk, 1) as (fresh,):
        assert fresh.flame.rebuild([pid]) == 0
        assert pid not in fresh.flame.pending
        state: dict[str, Any] = _as_json(fresh.flame.detector.page_state(pid))
        return state


def _samples_of(state: dict[str, Any], comment_id: int) -> int:
    """How many times a comment is among the page's samples (its first-time authors are)."""
    return [sample[0] for sample in state["samples"]].count(comment_id)


def _replaying_with(monkeypatch: pytest.MonkeyPatch, desk: Desk, meanwhile: list[Any]) -> list[int]:
    """Before each write of a replay on ``desk`` (its rounds), run the next of ``meanwhile``,
    if any: what other processes do after the replay read and before it writes. Returns the
    list of the writes tried, which grows as they are."""
    replace = desk.flame._replace
    writes: list[int] = []

    def after_the_read(*args: Any, **kwargs: Any) -> Any:
        writes.append(len(writes))
        if meanwhile:
            meanwhile.pop(0)()
        return replace(*args, **kwargs)

    monkeypatch.setattr(desk.flame, "_replace", after_the_read)
    return writes


def _tails(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[int], list[int]]]:
    """Each tail a replay reads: the ids its query found, and those it kept as not learnt."""
    taken = flame_module._Replay.taken
    seen: list[tuple[list[int], list[int]]] = []

    def recording(replay: Any, rows: Sequence[Any]) -> list[Any]:
        kept = taken(replay, rows)
        seen.append(([r.id for r in rows], [r.id for r in kept]))
        return kept

    monkeypatch.setattr(flame_module._Replay, "taken", recording)
    return seen


@pytest.mark.parametrize("backend_desk", ["postgresql"], indirect=True)
@pytest.mark.parametrize("rounds", [1, 2])
def test_a_comment_with_a_smaller_id_committed_after_the_replay_read_is_taken_once(
    backend_desk: Desk, monkeypatch: pytest.MonkeyPatch, rounds: int
) -> None:
    """An import's transaction has inserted a comment and not committed yet when the webhook
    worker commits one with a larger id; a replay reads the page (the worker's comment, not the
    import's); the import commits and saves the page. The replay loses its first write to that
    save, takes the import's comment from the tail although its id is below the largest it
    read, and writes the state a replay of all the page's comments gives. With a second save
    before that write, the second tail finds the import's comment again, among those it has
    learnt, and does not count it twice."""
    past = history(days=1)
    start = _bucket_after(past)
    worker = [newcomer("w", start)]
    imported = [newcomer("i", start + timedelta(seconds=30))]
    more = [newcomer("m", start + timedelta(seconds=60))]
    with processes(backend_desk, 3) as (a, b, importer):
        feed(b, past)
        pid = page_id(a)
        assert a.flame.level_of(pid) == importer.flame.level_of(pid) == "calm"  # both have read
        with HeldIngest(importer, imported) as held:
            b.ingest(worker)
            ids = _ids(b, worker)
            assert _ids(b, imported) == {}  # not committed
            meanwhile = [held.release] + [lambda: b.ingest(more)] * (rounds - 1)
            writes = _replaying_with(monkeypatch, a, meanwhile)
            tails = _tails(monkeypatch)
            a.flame.rebuild([pid])
        ids |= _ids(a, imported + more)
        assert ids["i"] < ids["w"]  # the premise: the smaller id committed after the larger

        assert len(writes) == rounds + 1  # each save meanwhile cost the replay one write
        assert pid not in a.flame.pending
        assert ids["i"] in tails[0][1]  # the first tail took it ...
        if rounds == 2:
            assert ids["i"] in tails[1][0] and ids["i"] not in tails[1][1]  # ... once
            assert tails[1][1] == [ids["m"]]
        stored = _stored_page(a, pid)
        assert _samples_of(stored, ids["i"]) == 1
        assert stored["current"][1] == 1 + rounds  # the open bucket: worker, import (, more)
        assert stored == _fresh_replay(backend_desk, pid)


@pytest.mark.parametrize("backend_desk", ["postgresql"], indirect=True)
def test_an_old_comment_with_a_smaller_id_committed_after_the_replay_read_leaves_the_page_waiting(
    backend_desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in the test above, but the import's comment is hours older than the page's newest: too late for the
    stream to count, and outside the time the tail looks at. The importing process drops it and
    settles its page with a replay of its own, which the first replay then loses its write to;
    the first replay cannot take the comment, but it must not write as if it had every comment
    either: the page waits for a replay, as on SQLite, where such a comment has a larger id than
    any the replay read and comes with its tail, too late to count. That replay writes the state
    of all the page's comments."""
    past = history(days=1)
    start = _bucket_after(past)
    worker = [newcomer("w", start)]
    old = [newcomer("o", start - timedelta(hours=3))]
    with processes(backend_desk, 3) as (a, b, importer):
        feed(b, past)
        pid = page_id(a)
        assert a.flame.level_of(pid) == importer.flame.level_of(pid) == "calm"

        def import_ends() -> None:
            held.release()
            assert pid in importer.flame.pending  # it came too late for the stream there
            importer.flame.rebuild_pending()
            assert pid not in importer.flame.pending

        with HeldIngest(importer, old) as held:
            b.ingest(worker)
            writes = _replaying_with(monkeypatch, a, [import_ends])
            a.flame.rebuild([pid])
        ids = _ids(a, worker + old)
        assert ids["o"] < ids["w"]
        assert len(writes) == 2  # lost to the importer's replay

        assert pid in a.flame.pending
        a.flame.rebuild_pending()
        assert not a.flame.pending
        stored = _stored_page(a, pid)
        assert _samples_of(stored, ids["o"]) == 1
        assert stored == _fresh_replay(backend_desk, pid)


def test_comments_the_replay_read_are_not_taken_again_from_its_tail(
    backend_desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tail's query finds the comments recent enough to count whatever their ids (see
    ``_Replay.tail``), so on either database it finds the replay's own newest comments again,
    and those of an earlier tail: they are dropped, and each comment is counted once."""
    past = history(days=1)
    start = _bucket_after(past)
    recent = [newcomer(f"r{k}", start + timedelta(seconds=20 * k)) for k in range(8)]
    live = [newcomer(f"l{k}", start + timedelta(minutes=4, seconds=20 * k)) for k in range(2)]
    with processes(backend_desk, 2) as (a, b):
        feed(b, past + recent)
        pid = page_id(a)
        assert a.flame.level_of(pid) == "crisis"  # read, with alerts the replay must not repeat
        meanwhile = [lambda: b.ingest(live[:1]), lambda: b.ingest(live[1:])]
        writes = _replaying_with(monkeypatch, a, meanwhile)
        tails = _tails(monkeypatch)
        a.flame.rebuild([pid])
        ids = _ids(a, recent + live)

        assert len(writes) == 3
        assert pid not in a.flame.pending
        (found1, kept1), (found2, kept2) = tails
        assert {ids[r.platform_id] for r in recent} <= set(found1)
        assert kept1 == [ids["l0"]]
        assert {ids[r.platform_id] for r in recent} | {ids["l0"]} <= set(found2)
        assert kept2 == [ids["l1"]]
        stored = _stored_page(a, pid)
        assert all(_samples_of(stored, i) == 1 for i in ids.values())
        assert stored == _fresh_replay(backend_desk, pid)


def test_a_level_the_replay_raised_at_its_last_look_keeps_its_alert_through_the_tail(
    backend_desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The burst is all in the page's open bucket, so the replay raises the page's level at its
    last look at it. The tail goes on from the state before that look, and raises the level
    again, in an episode of its own time: the page is written in crisis with the alert of that
    episode, as a replay of all its comments has them (were the state kept for the tail the one
    the look changed, the page would be written in crisis under the look's episode, with no
    alert)."""
    past = history(days=1)
    start = _bucket_after(past)
    recent = [newcomer(f"r{k}", start + timedelta(seconds=20 * k)) for k in range(8)]
    live = [newcomer("l", start + timedelta(minutes=4))]
    with processes(backend_desk, 2) as (a, b):
        feed(b, past + recent)
        pid = page_id(a)
        assert a.flame.level_of(pid) == "crisis"
        writes = _replaying_with(monkeypatch, a, [lambda: b.ingest(live)])
        a.flame.rebuild([pid])
        assert len(writes) == 2

        level = _stored_page(a, pid)["level"]
        assert level["level"] == LEVELS.index("crisis")
        page_alerts = [x for x in alerts_in_store(a) if x.post_id is None]
        assert [(x.level, x.episode) for x in page_alerts] == [("crisis", level["episode"])]
        alerts = _alerts_as_read(a)
        assert _stored_page(a, pid) == _fresh_replay(backend_desk, pid)
        assert _alerts_as_read(a) == alerts
