"""Analysis of the next batch in a second process while the store writes the current one.

A large import spends about as long analysing texts as writing rows, and both are CPU-bound
Python: in one process they take turns. With a second core, a worker process analyses batch
``k + 1`` while this one writes batch ``k``. The worker is forked, so it starts at once with the
analyser already loaded; forking is only safe while this process runs a single thread (a thread
holding a lock at the fork would leave the child stuck), so the desk asks for a prefetcher only
then, as a command-line import does.

Results are keyed by text. The writer uses a prefetched result only for a comment whose final text
is the one that was analysed (an edit earlier in the same batch changes the text, and such rows
are analysed in-process as before), so the store holds exactly what in-process analysis gives.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from crisisdesk.analysis.base import Analysis, Analyzer

_worker_analyzer: Analyzer | None = None


def _analyse(texts: list[str]) -> list[Analysis]:
    assert _worker_analyzer is not None  # inherited from the parent at the fork
    return _worker_analyzer.analyze_many(texts)


class AnalysisPrefetcher:
    """One forked worker process analysing whole batches; ``submit`` returns at once."""

    def __init__(self, analyzer: Analyzer) -> None:
        if threading.active_count() > 1:
            raise RuntimeError("forking a worker needs a single-threaded process")
        global _worker_analyzer
        _worker_analyzer = analyzer
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("fork")
        )

    def submit(self, texts: Sequence[str]) -> Future[list[Analysis]]:
        return self._pool.submit(_analyse, list(texts))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def by_text(texts: Sequence[str], results: Sequence[Analysis]) -> dict[str, Analysis]:
    return dict(zip(texts, results, strict=True))
