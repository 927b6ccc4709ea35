"""Reading stored comments again after a model change: new rows beside the old, batch by batch."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from crisisdesk.analysis.base import Analysis
from crisisdesk.desk import Desk
from crisisdesk.ingest.reanalyze import ReanalysisReport
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.ingest.upsert import Ingestor
from crisisdesk.models import Analysis as AnalysisRow
from crisisdesk.models import AuditEntry, Case, Comment
from crisisdesk.settings import Settings
from tests.conftest import KeywordAnalyzer

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


class TwoModels(KeywordAnalyzer):
    """``model-a`` reads like the keyword analyser; ``model-b`` also takes a refund request for a
    complaint. ``fail_on_batch`` makes the n-th non-empty batch raise, as a crashing model would;
    ``during`` runs once inside the next non-empty batch (something happening meanwhile)."""

    def __init__(self) -> None:
        super().__init__()
        self.version = "model-a"
        self.batches = 0
        self.fail_on_batch: int | None = None
        self.during: Callable[[], None] | None = None

    def analyze_many(
        self, texts: Sequence[str], lang_hints: Iterable[str | None] | None = None
    ) -> list[Analysis]:
        if texts:
            self.batches += 1
            if self.batches == self.fail_on_batch:
                raise RuntimeError("the model crashed")
            if self.during is not None:
                during, self.during = self.during, None
                during()
        out = super().analyze_many(texts, lang_hints)
        if self.version != "model-b":
            return out
        scores = {"negative": 0.8, "neutral": 0.1, "positive": 0.1}
        return [
            replace(a, kind="complaint", sentiment="negative", sentiment_scores=scores)
            if "refund" in text.lower()
            else a
            for text, a in zip(texts, out, strict=True)
        ]


@pytest.fixture
def analyzer() -> TwoModels:
    return TwoModels()


@pytest.fixture
def desk(backend_desk: Desk) -> Desk:
    # SQLite always, PostgreSQL where a server is available (see tests/conftest.py).
    return backend_desk


def rec(cid: str, text: str, page: str = "P1", minutes: float = 0, **kw: object) -> CommentRecord:
    values: dict[str, object] = {
        "platform": "facebook",
        "platform_id": cid,
        "created_at": T0 + timedelta(minutes=minutes),
        "text": text,
        "page": page,
        "author_id": f"author-{cid}",
    }
    values.update(kw)
    return CommentRecord(**values)  # type: ignore[arg-type]


COMMENTS = [
    rec("c1", "I want my refund now"),  # other, neutral -> complaint, negative
    rec("c2", "thanks, great pizza"),  # praise either way
    rec("c3", "the delivery was late"),  # complaint either way
    rec("c4", "refund me please, thanks"),  # praise, positive -> complaint, negative
]


def comment(desk: Desk, cid: str) -> Comment:
    with desk.session() as s:
        return s.scalars(select(Comment).where(Comment.platform_id == cid)).one()


def versions(desk: Desk) -> dict[str, int]:
    with desk.session() as s:
        rows = s.execute(
            select(AnalysisRow.model_version, func.count()).group_by(AnalysisRow.model_version)
        )
        return {version: n for version, n in rows}


def latest_versions(desk: Desk) -> dict[str, str]:
    """Each comment's platform id and the version of its latest analysis."""
    with desk.session() as s:
        latest = select(func.max(AnalysisRow.id)).group_by(AnalysisRow.comment_id)
        rows = s.execute(
            select(Comment.platform_id, AnalysisRow.model_version)
            .join(AnalysisRow, AnalysisRow.comment_id == Comment.id)
            .where(AnalysisRow.id.in_(latest))
        )
        return {cid: version for cid, version in rows}


def count(desk: Desk, model: type) -> int:
    with desk.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_new_model_reads_stored_comments_again(desk: Desk, analyzer: TwoModels) -> None:
    desk.ingest(COMMENTS)
    assert comment(desk, "c1").kind == "other" and comment(desk, "c4").kind == "praise"
    cases_after_import = count(desk, Case)
    assert cases_after_import == 1  # the late delivery; import does open cases

    analyzer.version = "model-b"
    seen: list[ReanalysisReport] = []
    report = desk.reanalyze(on_progress=seen.append)

    assert report == ReanalysisReport(
        version="model-b",
        examined=4,
        reanalysed=4,
        kind_changed=2,
        sentiment_changed=2,
        replaced={"model-a": 4},
    )
    assert seen == [report]  # one batch
    # A new row per comment; the old readings stay.
    assert versions(desk) == {"model-a": 4, "model-b": 4}
    assert set(latest_versions(desk).values()) == {"model-b"}
    # The comment's own columns follow the new reading, as import writes them.
    for cid, kind, sentiment in (
        ("c1", "complaint", "negative"),
        ("c2", "praise", "positive"),
        ("c3", "complaint", "negative"),
        ("c4", "complaint", "negative"),
    ):
        c = comment(desk, cid)
        assert (c.kind, c.sentiment, c.language) == (kind, sentiment, "en"), cid
        assert c.urgency == analyzer.analyze(c.text).urgency
    view = desk.comment_view(comment(desk, "c1").id)
    assert view is not None and view["analysis"].model_version == "model-b"
    # Re-reading history is not new activity: the two new complaints get no case.
    assert count(desk, Case) == cases_after_import
    entries = [e for e in desk.audit_entries() if e.action == "analysis.reanalyze"]
    assert len(entries) == 1
    assert entries[0].detail["reanalysed"] == 4 and entries[0].detail["finished"] is True
    assert entries[0].detail["replaced"] == {"model-a": 4}


def test_second_run_has_nothing_to_do_and_all_redoes_everything(
    desk: Desk, analyzer: TwoModels
) -> None:
    desk.ingest(COMMENTS)
    analyzer.version = "model-b"
    desk.reanalyze()

    again = desk.reanalyze()
    assert (again.examined, again.reanalysed, again.replaced) == (4, 0, {})
    assert again.up_to_date
    assert versions(desk) == {"model-a": 4, "model-b": 4}

    everything = desk.reanalyze(everything=True)
    assert (everything.reanalysed, everything.kind_changed, everything.sentiment_changed) == (
        4,
        0,
        0,
    )
    assert everything.replaced == {"model-b": 4}
    assert versions(desk) == {"model-a": 4, "model-b": 8}
    assert count(desk, AuditEntry) == 3


def test_page_limits_the_run(desk: Desk, analyzer: TwoModels) -> None:
    desk.ingest(
        [
            rec("p1-a", "refund please", page="P1"),
            rec("p2-a", "refund please", page="P2"),
            rec("p2-b", "great, thanks", page="P2"),
        ]
    )
    analyzer.version = "model-b"
    report = desk.reanalyze("P2")
    assert (report.examined, report.reanalysed) == (2, 2)
    assert latest_versions(desk) == {"p1-a": "model-a", "p2-a": "model-b", "p2-b": "model-b"}
    assert comment(desk, "p1-a").kind == "other" and comment(desk, "p2-a").kind == "complaint"

    with pytest.raises(LookupError, match="no page 'P9'"):
        desk.reanalyze("P9")
    assert versions(desk) == {"model-a": 3, "model-b": 2}


def test_a_crash_keeps_finished_batches_and_a_rerun_finishes(
    desk: Desk, analyzer: TwoModels
) -> None:
    desk.ingest([rec(f"c{n}", f"refund number {n}", minutes=n) for n in range(5)])
    analyzer.version = "model-b"
    analyzer.batches = 0
    analyzer.fail_on_batch = 2

    with pytest.raises(RuntimeError, match="crashed"):
        desk.reanalyze(batch_size=2)
    # The first batch was committed; the second was never written.
    assert versions(desk) == {"model-a": 5, "model-b": 2}
    assert [comment(desk, f"c{n}").kind for n in range(5)] == ["complaint"] * 2 + ["other"] * 3

    analyzer.fail_on_batch = None
    rest = desk.reanalyze(batch_size=2)
    assert (rest.examined, rest.reanalysed, rest.replaced) == (5, 3, {"model-a": 3})
    assert set(latest_versions(desk).values()) == {"model-b"}
    interrupted, finished = sorted(
        (e for e in desk.audit_entries() if e.action == "analysis.reanalyze"), key=lambda e: e.id
    )
    assert interrupted.detail["finished"] is False and interrupted.detail["reanalysed"] == 2
    assert finished.detail["finished"] is True and finished.detail["reanalysed"] == 3


def test_removed_comments_are_left_alone(desk: Desk, analyzer: TwoModels) -> None:
    desk.ingest(COMMENTS[:2])
    desk.ingest([rec("c1", "", minutes=5, verb="remove")])
    assert comment(desk, "c1").status == "removed"
    analyzer.version = "model-b"
    report = desk.reanalyze()
    assert (report.examined, report.reanalysed) == (1, 1)
    assert latest_versions(desk) == {"c1": "model-a", "c2": "model-b"}


def test_comments_never_analysed_are_read(desk: Desk, analyzer: TwoModels) -> None:
    # Written without an analyser: no analysis row, no kind.
    Ingestor(desk.engine, None).write(COMMENTS)
    assert count(desk, AnalysisRow) == 0 and comment(desk, "c1").kind is None
    report = desk.reanalyze()
    assert (report.examined, report.reanalysed, report.replaced) == (4, 4, {})
    # Nothing to change from.
    assert (report.kind_changed, report.sentiment_changed) == (0, 0)
    assert comment(desk, "c1").kind == "other"
    assert versions(desk) == {"model-a": 4}


def test_an_edit_arriving_meanwhile_wins(desk: Desk, analyzer: TwoModels) -> None:
    desk.ingest(COMMENTS[:2])
    analyzer.version = "model-b"
    # While the batch is being analysed, c2 is edited and imported (and read by import).
    analyzer.during = lambda: desk.ingest(
        [rec("c2", "the pizza was late", minutes=5, verb="edited")]
    )
    report = desk.reanalyze()
    assert (report.examined, report.reanalysed) == (2, 1)
    c2 = comment(desk, "c2")
    # The reading of the old text ("thanks, great pizza": praise) did not overwrite the edit's.
    assert (c2.text, c2.kind) == ("the pizza was late", "complaint")
    with desk.session() as s:
        kinds = s.scalars(
            select(AnalysisRow.kind).where(AnalysisRow.comment_id == c2.id).order_by(AnalysisRow.id)
        ).all()
    assert kinds == ["praise", "complaint"]


def test_bad_batch_size(desk: Desk) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        desk.reanalyze(batch_size=0)


def test_with_the_shipped_fast_analyser(tmp_path: Path) -> None:
    """The real models: stored readings from an older version are replaced by theirs."""
    settings = Settings(
        {"data_dir": str(tmp_path / "data"), "secret_key": "test-secret-key-0123456789"},
        environ={},
    )
    desk = Desk(settings)
    desk.upgrade()
    try:
        texts = [
            "Il mio ordine è in ritardo di due settimane, vergogna",
            "Grazie mille, servizio eccellente!",
            "Where can I find the opening hours?",
            "My parcel arrived broken and nobody answers",
        ]
        desk.ingest([rec(f"f{n}", text, minutes=n) for n, text in enumerate(texts)])
        current = desk.analyzer.version
        assert current.startswith("fast-")
        # As if these had been read by the models of an earlier release.
        with desk.engine.begin() as conn:
            conn.execute(update(AnalysisRow).values(model_version="fast-old", kind="other"))
            conn.execute(update(Comment).values(kind="other"))

        report = desk.reanalyze()
        assert (report.version, report.examined, report.reanalysed) == (current, 4, 4)
        assert report.replaced == {"fast-old": 4}
        expected = desk.analyzer.analyze_many(texts)
        assert report.kind_changed == sum(a.kind != "other" for a in expected) > 0
        for n, analysis in enumerate(expected):
            c = comment(desk, f"f{n}")
            assert (c.kind, c.sentiment, c.language) == (
                analysis.kind,
                analysis.sentiment,
                analysis.language,
            )
        assert latest_versions(desk) == {f"f{n}": current for n in range(4)}
        assert desk.reanalyze().reanalysed == 0
    finally:
        desk.close()
