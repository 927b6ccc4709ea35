"""Train the kinds model (:mod:`crisisdesk.analysis.kind_model`) on the project's own comments.

No public set labels the playbook's kinds, so the project wrote its own: realistic comments under
the pages of some hundred kinds of business and public body, in Italian and English, in
``tests/analysis/fixtures/kinds*.csv``. All but four train the model; those,
:data:`BLIND_SETS`, were written blind to how the analysis reads them, and are never trained on
and their misses never read: the tests and the model card measure the analysis on them.

The model reads what the analysis of a comment says (its sentiment, offence, irony, spam and
question signals), so it is fitted after the other models, with them: run without ``--only``, or
with ``--only kinds`` once they exist.

The regularisation is chosen by leave-one-set-out on the sets written blind to the rules
(:data:`SELECT_ON`): trained on every other set, scored on each in turn. Those are the figures
``metrics.json`` reports; the shipped model is then fitted on every training set.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from crisisdesk.analysis import KINDS, features, kind_model, linear
from crisisdesk.analysis.fast import FastAnalyzer

log = logging.getLogger("training")

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "analysis" / "fixtures"
#: Sets written blind to the rules, 96 comments each (12 per kind): the regularisation is chosen
#: by leaving each out in turn. The rules were changed while looking at the misses of the second
#: to the fifth, and later at a few families of misses of the sixth and the eighth to the
#: eleventh (spam, rumours' sources, insults shouted); those have no rule-blind set left among
#: them: the blind sets below measure.
SELECT_ON = tuple(f"kinds_holdout{n}.csv" for n in (2, 3, 4, 5, 6, 8, 9, 10, 11))
TRAIN_SETS = ("kinds.csv", "kinds_holdout.csv", *SELECT_ON)
#: Never trained on (see the module docstring); their misses are never looked at either.
BLIND_SETS = (
    "kinds_holdout7.csv",
    "kinds_holdout12.csv",
    "kinds_holdout13.csv",
    "kinds_holdout14.csv",
)
#: Word features folded into 2**16 rows: 1 MB on disk for some 700 training comments.
BITS = 16
#: The signals' columns are scaled up against the word group, which has unit length: with the
#: same penalty they can then carry more weight than any single n-gram.
SIGNAL_SCALE = 2.0
#: The regularisation tried. With four sets to leave out, C = 3, 10 and 30 read 76.0, 79.2 and
#: 81.6 (means of the leave-one-set-out figures); with nine, the analysis with the model asked
#: where the rules find no cue read 64.3, 64.7 and 65.4 on the five sets the rules never saw for
#: C = 10, 30 and 100, and C = 100 called 185 airline tweets spam against 66. Each point costs a
#: fit per set, so only the one kept is tried.
GRID = (30.0,)


def read_set(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def matrix(analyzer: FastAnalyzer, texts: Sequence[str], bits: int) -> sparse.csr_matrix:
    """The word n-grams of ``texts`` (as :meth:`KindModel.word_logits` reads them) beside their
    analysis signals (as :meth:`KindModel.decide` reads them), scaled by :data:`SIGNAL_SCALE`."""
    analyses = analyzer.analyze_many(texts)
    signals = np.asarray(
        [
            kind_model.signal_row(a.sentiment_scores, a.offensive, a.irony, a.spam, a.question)
            for a in analyses
        ],
        dtype=np.float32,
    ).reshape(len(texts), len(kind_model.SIGNALS))
    batch = features.featurise(list(texts))
    words = np.nonzero(batch.is_word)[0]
    cols = (batch.hashes[words] & np.uint64((1 << bits) - 1)).astype(np.int64)
    grams = sparse.csr_matrix(
        (batch.values[words], (batch.rows[words], cols)), shape=(batch.n, 1 << bits)
    )
    grams.sum_duplicates()
    out: sparse.csr_matrix = sparse.hstack(
        [grams, sparse.csr_matrix(signals * SIGNAL_SCALE)], format="csr"
    )
    return out


def _fit(x: sparse.csr_matrix, y: Sequence[str], c: float, seed: int) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=3000, random_state=seed).fit(x, y)


def _macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    return round(100 * float(f1_score(gold, pred, labels=list(KINDS), average="macro")), 2)


def fit_kinds(
    models_dir: Path, seed: int, bits: int = BITS, grid: Sequence[float] = GRID
) -> dict[str, object]:
    """Fit the kinds model over the other models in ``models_dir``, write it there, and return
    what ``metrics.json`` reports of it."""
    models = {
        name: linear.LinearModel.load(models_dir / f"{name}.npz") for name in linear.MODEL_NAMES
    }
    # without a kinds model: the signals are the analysis's own, whatever kinds file is there
    analyzer = FastAnalyzer(linear.ModelScorer(models, "training"))
    sets = {name: read_set(FIXTURES / name) for name in TRAIN_SETS}
    xs = {name: matrix(analyzer, [r["text"] for r in rows], bits) for name, rows in sets.items()}
    ys = {name: [r["kind"] for r in rows] for name, rows in sets.items()}

    def stacked(names: Sequence[str]) -> tuple[sparse.csr_matrix, list[str]]:
        return sparse.vstack([xs[n] for n in names], format="csr"), [
            k for n in names for k in ys[n]
        ]

    scores: dict[float, dict[str, float]] = {}
    for c in grid:
        scores[c] = {}
        for held in SELECT_ON:
            x, y = stacked([n for n in TRAIN_SETS if n != held])
            model = _fit(x, y, c, seed)
            scores[c][held] = _macro_f1(ys[held], list(model.predict(xs[held])))
        log.info("kinds: C=%s leave-one-set-out %s", c, scores[c])
    best = max(grid, key=lambda c: float(np.mean(list(scores[c].values()))))
    x, y = stacked(TRAIN_SETS)
    model = _fit(x, y, best, seed)
    classes = [str(c) for c in model.classes_]
    coef = model.coef_.astype(np.float32)  # classes by columns
    np.savez_compressed(
        models_dir / kind_model.FILE_NAME,
        classes=np.asarray(classes),
        bits=np.asarray(bits),
        word_weights=coef[:, : 1 << bits].T.astype(np.float16),
        signal_weights=(coef[:, 1 << bits :].T * SIGNAL_SCALE).astype(np.float32),
        bias=model.intercept_.astype(np.float32),
    )
    return {
        "classes": classes,
        "bits": bits,
        "params": {"C": best},
        "train_sets": list(TRAIN_SETS),
        "train_rows": len(y),
        "blind_sets": list(BLIND_SETS),
        "leave_one_set_out": scores[best],
        "grid": [[{"C": c}, float(np.mean(list(scores[c].values())))] for c in grid],
    }
