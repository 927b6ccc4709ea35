"""Large imports analyse the next batch in a forked worker: same store, and nothing lost if the
worker fails."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.models import Analysis, Comment
from crisisdesk.settings import Settings
from tests.conftest import KeywordAnalyzer

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
TEXTS = ["great bread, thanks", "delivery late again", "is it open?", "che schifo, ritardo"]


def records() -> list[CommentRecord]:
    out = [
        CommentRecord(
            platform="facebook",
            platform_id=f"c{i}",
            created_at=T0 + timedelta(minutes=i),
            text=f"{TEXTS[i % 4]} #{i % 7}",
            page="P1",
            author_id=f"a{i % 13}",
        )
        for i in range(120)
    ]
    # An edit inside the same batch: the final text was never sent to the worker.
    out.append(
        CommentRecord(
            platform="facebook",
            platform_id="c3",
            created_at=T0 + timedelta(hours=5),
            text="now it is broken",
            verb="edited",
        )
    )
    return out


def stored(desk: Desk) -> list[tuple[str, str, str | None, str | None, str]]:
    with desk.session() as s:
        rows = s.execute(
            select(Comment.platform_id, Comment.text, Comment.kind, Comment.sentiment).order_by(
                Comment.platform_id
            )
        ).all()
        versions = set(s.scalars(select(Analysis.model_version)))
    assert versions == {KeywordAnalyzer.version}
    return [(*r, "") for r in rows]


def make(tmp_path: object, name: str) -> Desk:
    desk = Desk(
        Settings({"data_dir": f"{tmp_path}/{name}"}, environ={}), analyzer=KeywordAnalyzer()
    )
    desk.upgrade()
    return desk


def test_prefetched_import_stores_what_in_process_analysis_stores(tmp_path: object) -> None:
    """Run in a fresh interpreter: the desk forks its worker only when it is single-threaded,
    and the test process has threads left by other tests."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "from tests.ingest.test_prefetch import compare_in_this_process; "
        f"compare_in_this_process({str(tmp_path)!r})"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "same store, 5 batches through the worker"


def compare_in_this_process(tmp_path: str) -> None:
    assert threading.active_count() == 1
    plain, fast = make(tmp_path, "plain"), make(tmp_path, "fast")
    try:
        plain.ingest(records(), batch_size=25)
        used = []
        write_prefetched = fast._write_prefetched
        fast._write_prefetched = lambda *a: (used.append(1), write_prefetched(*a))  # type: ignore[method-assign]
        report = fast.ingest(records(), batch_size=25, prefetch=True)
        assert len(used) == 5  # every batch went through the worker
        assert report.inserted == 120 and report.updated == 1
        assert stored(fast) == stored(plain)
        c3 = [r for r in stored(fast) if r[0] == "c3"][0]
        assert c3[1] == "now it is broken" and c3[2] == "complaint"
        print("same store, 5 batches through the worker")
    finally:
        plain.close()
        fast.close()


def test_a_failing_worker_loses_nothing(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from crisisdesk.ingest import prefetch

    class Broken:
        def __init__(self, analyzer: object) -> None:
            self.calls = 0

        def submit(self, texts: list[str]) -> object:
            self.calls += 1
            if self.calls > 1:
                raise RuntimeError("worker died")
            from concurrent.futures import Future

            future: Future[object] = Future()
            future.set_exception(RuntimeError("worker died mid-batch"))
            return future

        def close(self) -> None:
            pass

    monkeypatch.setattr(prefetch, "AnalysisPrefetcher", Broken)
    monkeypatch.setattr("crisisdesk.desk.threading.active_count", lambda: 1)
    desk = make(tmp_path, "broken")
    try:
        report = desk.ingest(records(), batch_size=25, prefetch=True)
        assert report.inserted == 120
        assert len(stored(desk)) == 120
    finally:
        desk.close()
