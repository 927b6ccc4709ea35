"""The demo: a fresh desk, a demo user, and a crisis replayed in accelerated time."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crisisdesk.demo.scenario import (
    FLAME,
    HISTORY,
    PAGES,
    PAST_CASES,
    POSTS,
    PastCase,
    Scripted,
)
from crisisdesk.desk import Desk
from crisisdesk.ingest.readers import ReadOptions, read_stream
from crisisdesk.ingest.record import CommentRecord

log = logging.getLogger(__name__)

__all__ = ["DemoRunner", "scenario_records"]


def _record(item: Scripted, at: datetime) -> CommentRecord:
    key = f"{item.page}:{item.author_id}:{item.minute}"
    return CommentRecord(
        platform="demo",
        platform_id=_stable_id(key),
        created_at=at,
        text=item.text,
        page=item.page,
        page_name=str(PAGES[item.page]["name"]),
        post_id=item.post,
        post_message=POSTS.get(item.post or ""),
        parent_id=item.parent,
        author_id=item.author_id,
        author_name=item.author_name,
        source="demo",
    )


def _past_record(past: PastCase, text: str, at: datetime, suffix: str) -> CommentRecord:
    return CommentRecord(
        platform="demo",
        platform_id=_stable_id(f"past:{past.page}:{past.author_id}{suffix}"),
        created_at=at,
        text=text,
        page=past.page,
        page_name=str(PAGES[past.page]["name"]),
        post_id=past.post,
        post_message=POSTS.get(past.post or ""),
        author_id=past.author_id,
        author_name=past.author_name,
        source="demo",
    )


def _stable_id(key: str) -> str:
    import hashlib

    return "c-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def scenario_records(
    start: datetime,
) -> tuple[list[CommentRecord], list[tuple[float, CommentRecord]]]:
    """The history (times before ``start``) and the flame as (minute offset, record) pairs."""
    history = [_record(i, start + timedelta(minutes=i.minute)) for i in HISTORY]
    flame = sorted(
        ((i.minute, _record(i, start + timedelta(minutes=i.minute))) for i in FLAME),
        key=lambda pair: pair[0],
    )
    return history, flame


class DemoRunner:
    """Prepares the demo desk and replays the scenario (or the user's export) in a thread."""

    demo_username = "demo"

    def __init__(
        self,
        desk: Desk,
        *,
        replay: Path | None = None,
        speed: float = 60.0,
        column_map: dict[str, str] | None = None,
    ) -> None:
        self.desk = desk
        self.replay = replay
        self.speed = max(speed, 0.01)
        self.column_map = column_map or {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.replayed = 0

    def prepare(self) -> None:
        # A sandbox on the user's own machine: every screen can be tried, page settings included.
        self.desk.add_user(
            self.demo_username, secrets.token_urlsafe(24), display_name="Demo", role="admin"
        )
        for key, page in PAGES.items():
            self.desk.configure_page(
                "demo",
                key,
                name=str(page["name"]),
                language=str(page["language"]),
                config={
                    "competitors": list(page["competitors"]),
                    "contacts": dict(page["contacts"]),
                    "currency": str(page["currency"]),
                },
            )
        if self.replay is None:
            now = datetime.now(UTC)
            history, _ = scenario_records(now)
            self.desk.ingest(history)
            self._play_past_cases(now)

    def _play_past_cases(self, now: datetime) -> None:
        """Answer and close the complaints of the weeks before, each at its own time, so the
        lessons page has causes, what worked and earlier topics to compare with."""
        moment = [now]
        real_clock = self.desk.clock
        self.desk.clock = lambda: moment[0]
        try:
            for past in PAST_CASES:
                self._play(past, now - timedelta(days=past.days_ago), moment)
        finally:
            self.desk.clock = real_clock

    def _play(self, past: PastCase, at: datetime, moment: list[datetime]) -> None:
        workflow, vouchers = self.desk.workflow, self.desk.vouchers
        moment[0] = at
        record = _past_record(past, past.text, at, "")
        self.desk.ingest([record])
        comment = self.desk.find_comment(record.platform_id)
        assert comment is not None
        draft = workflow.create_draft(comment.id, past.reply, actor=self.demo_username)
        moment[0] = at + timedelta(minutes=past.reply_after_minutes)
        overridden = past.reply_after_minutes < 15
        workflow.publish(
            draft.id,
            actor=self.demo_username,
            override_reason="Answered at once: the customer was waiting" if overridden else None,
        )
        if past.voucher is not None:
            voucher = vouchers.create(comment.id, value=past.voucher, actor=self.demo_username)
            vouchers.send(voucher.code, actor=self.demo_username)
        if past.follow_up is not None:
            moment[0] += timedelta(days=1)
            self.desk.ingest([_past_record(past, past.follow_up, moment[0], "-after")])
        moment[0] += timedelta(hours=1)
        case = workflow.case_for(comment.id)
        assert case is not None
        workflow.close(case.id, cause=past.cause, change=past.change, actor=self.demo_username)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="demo-replay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            if self.replay is None:
                self._run_scenario()
            else:
                self._run_replay(self.replay)
        except Exception:
            log.exception("demo replay failed")

    def _run_scenario(self) -> None:
        # The flame happens now: each comment's event time is the wall-clock time it is replayed,
        # so the cool-down and response clocks in the desk read true.
        begun = time.monotonic()
        for minute, record in scenario_records(datetime.now(UTC))[1]:
            delay = begun + minute * 60.0 / self.speed - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return
            record.created_at = datetime.now(UTC)
            self.desk.ingest([record])
            self.replayed += 1

    def _run_replay(self, path: Path) -> None:
        options = ReadOptions(column_map=self.column_map)
        with path.open("rb") as raw:
            records = [
                r
                for r in read_stream(raw, str(path), None, options)
                if isinstance(r, CommentRecord)
            ]
        records.sort(key=lambda r: r.created_at)
        if not records:
            log.warning("nothing to replay in %s", path)
            return
        first = records[0].created_at
        begun = time.monotonic()
        batch: list[CommentRecord] = []
        for record in records:
            due = begun + (record.created_at - first).total_seconds() / self.speed
            if due > time.monotonic() and batch:
                self.desk.ingest(batch)
                self.replayed += len(batch)
                batch = []
            delay = due - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return
            batch.append(record)
        if batch:
            self.desk.ingest(batch)
            self.replayed += len(batch)
