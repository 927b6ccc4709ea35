"""Re-reading stored comments with the current analyser, after a model or backend change.

Every analysis is stored with the ``model_version`` that produced it. After an upgrade ships new
models, or after the ``analyzer`` settings change, the comments already in the store keep the old
reading, and the inbox, the kinds and the lessons would mix two models. :func:`reanalyze` brings
them up to the current analyser.

It walks the comments by id (keyset pagination, so memory stays flat however large the store) and
commits one batch at a time: a crash keeps every finished batch, and because a finished comment
now carries the current version, the next run continues where this one stopped. Each comment read
again gets a *new* ``analyses`` row (the history stays; readers take the latest by id) and its
denormalised columns are rewritten exactly as import writes them.

Re-reading history is not new activity: no case is opened, no moderation rule runs and nobody is
notified. A run leaves one audit entry with its figures.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update

from crisisdesk.analysis.base import Analysis
from crisisdesk.ingest.upsert import analysis_columns, analysis_row
from crisisdesk.models import Analysis as AnalysisRow
from crisisdesk.models import Comment, Page
from crisisdesk.reasons import Reason

if TYPE_CHECKING:
    from crisisdesk.desk import Desk

log = logging.getLogger(__name__)

_comments: Table = Comment.__table__  # type: ignore[assignment]
_analyses: Table = AnalysisRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class ReanalysisReport:
    """What a run did (or has done so far, when passed to a progress callback).

    ``examined`` counts the comments in scope that have a text to read (removed and empty comments
    are left alone, as import leaves them); ``replaced`` counts the earlier readings replaced, by
    the version that made them (comments never analysed before are in ``reanalysed`` only).

    >>> r = ReanalysisReport(version="fast-b", examined=3, reanalysed=2, replaced={"fast-a": 2})
    >>> r.up_to_date
    False
    """

    version: str
    examined: int = 0
    reanalysed: int = 0
    kind_changed: int = 0
    sentiment_changed: int = 0
    replaced: dict[str, int] = field(default_factory=dict)

    @property
    def up_to_date(self) -> bool:
        """Nothing needed reading again."""
        return self.reanalysed == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "examined": self.examined,
            "reanalysed": self.reanalysed,
            "kind_changed": self.kind_changed,
            "sentiment_changed": self.sentiment_changed,
            "replaced": dict(self.replaced),
        }


ProgressCallback = Callable[[ReanalysisReport], None]


@dataclass
class _Tally:
    version: str
    examined: int = 0
    reanalysed: int = 0
    kind_changed: int = 0
    sentiment_changed: int = 0
    replaced: Counter[str] = field(default_factory=Counter)

    def report(self) -> ReanalysisReport:
        return ReanalysisReport(
            version=self.version,
            examined=self.examined,
            reanalysed=self.reanalysed,
            kind_changed=self.kind_changed,
            sentiment_changed=self.sentiment_changed,
            replaced=dict(self.replaced.most_common()),
        )


def reanalyze(
    desk: Desk,
    page: str | None = None,
    *,
    everything: bool = False,
    batch_size: int = 1000,
    on_progress: ProgressCallback | None = None,
    actor: str = "cli",
) -> ReanalysisReport:
    """Read the stored comments again with ``desk.analyzer``.

    ``page`` is a page's platform id (every platform's page with that id), None for all pages.
    By default only comments whose latest analysis comes from another model version, or that
    have none, are read; ``everything`` reads them all. ``on_progress`` receives the running
    figures after each committed batch. Raises LookupError for an unknown page.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    page_ids = _page_ids(desk, page) if page is not None else None
    analyzer = desk.analyzer
    # An analyser may settle its version only once its models load (the transformers backend
    # does so lazily): an empty batch loads them before the version is compared with the store.
    analyzer.analyze_many([])
    version = analyzer.version[:64]  # as stored (see analysis_row)
    tally = _Tally(version=version)
    finished = False
    try:
        after = 0
        while True:
            with desk.engine.connect() as conn:
                rows = _next_batch(conn, after, page_ids, batch_size)
                if not rows:
                    break
                latest = _latest_versions(conn, rows[0].id, rows[-1].id)
            after = rows[-1].id
            tally.examined += len(rows)
            todo = [r for r in rows if everything or latest.get(r.id) != version]
            if todo:
                # Analysed outside any transaction: a slow model must not hold the write lock
                # that the webhook worker and the web app need meanwhile.
                results = analyzer.analyze_many([r.text for r in todo])
                with desk.engine.begin() as conn:
                    _store(conn, todo, results, latest, tally)
            if on_progress is not None:
                on_progress(tally.report())
        finished = True
    finally:
        _audit(desk, tally, page, everything, finished, actor)
    return tally.report()


def _page_ids(desk: Desk, page: str) -> list[int]:
    with desk.session() as s:
        ids = list(s.scalars(select(Page.id).where(Page.platform_id == page)))
    if not ids:
        raise LookupError(
            Reason(
                "page.unknown",
                "no page {page}; see the pages the desk knows with `crisisdesk page list`",
                page=repr(page),
            )
        )
    return ids


def _next_batch(
    conn: Connection, after: int, page_ids: list[int] | None, size: int
) -> Sequence[Any]:
    c = _comments.c
    query = (
        select(c.id, c.text, c.kind, c.sentiment)
        .where(c.id > after, c.status != "removed", c.text != "")
        .order_by(c.id)
        .limit(size)
    )
    if page_ids is not None:
        query = query.where(c.page_id.in_(page_ids))
    return conn.execute(query).all()


def _latest_versions(conn: Connection, first: int, last: int) -> dict[int, str]:
    """The model version of each comment's latest analysis, for comment ids in [first, last]."""
    a = _analyses.c
    latest = select(func.max(a.id)).where(a.comment_id.between(first, last)).group_by(a.comment_id)
    rows = conn.execute(select(a.comment_id, a.model_version).where(a.id.in_(latest)))
    return {row.comment_id: row.model_version for row in rows}


def _store(
    conn: Connection,
    todo: Sequence[Any],
    results: list[Analysis],
    latest: dict[int, str],
    tally: _Tally,
) -> None:
    c = _comments.c
    # Only where the text is still the one analysed: an edit or a removal that arrived while the
    # batch was being analysed has been read (or skipped) by import already and must win. The
    # update comes first so that the transaction takes the write lock before it reads.
    conn.execute(
        update(_comments)
        .where(c.id == bindparam("_id"), c.text == bindparam("_text"), c.status != "removed")
        .values({name: bindparam(name) for name in analysis_columns(results[0])}),
        [
            {"_id": row.id, "_text": row.text, **analysis_columns(result)}
            for row, result in zip(todo, results, strict=True)
        ],
    )
    current = {
        r.id: r.text
        for r in conn.execute(
            select(c.id, c.text).where(c.id.between(todo[0].id, todo[-1].id), c.status != "removed")
        )
    }
    kept = [
        (row, result)
        for row, result in zip(todo, results, strict=True)
        if current.get(row.id) == row.text
    ]
    if not kept:
        return
    conn.execute(insert(_analyses), [analysis_row(row.id, result) for row, result in kept])
    for row, result in kept:
        tally.reanalysed += 1
        previous = latest.get(row.id)
        if previous is not None:
            tally.replaced[previous] += 1
        # A comment never read before has no kind or sentiment to change from.
        if row.kind is not None and row.kind != result.kind:
            tally.kind_changed += 1
        if row.sentiment is not None and row.sentiment != result.sentiment:
            tally.sentiment_changed += 1


def _audit(
    desk: Desk, tally: _Tally, page: str | None, everything: bool, finished: bool, actor: str
) -> None:
    detail = {**tally.report().as_dict(), "page": page, "all": everything, "finished": finished}
    try:
        desk.audit(
            "analysis.reanalyze",
            actor=actor,
            object_type="page" if page is not None else None,
            object_id=page,
            detail=detail,
        )
    except Exception:
        if finished:
            raise
        # Already failing: the original error is the one worth seeing.
        log.exception("could not record the interrupted reanalysis in the audit log")
