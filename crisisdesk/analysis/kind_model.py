"""The learned kind: what a comment is when no rule of :func:`~crisisdesk.analysis.rules.decide_kind`
has a cue for it.

The rules decide a kind from cues a person can see (a claim pattern, an insult, a concrete problem,
praise words). On comments they were not written for they find a cue less often than they should:
on sets of comments written blind to them they read 60-73% macro-F1, and most of their misses are
"other", the kind they fall back to. This model fills that gap. It is a multinomial logistic
regression over the comment's word unigrams and bigrams (the hashed word features of
:func:`~crisisdesk.analysis.features.featurise`) and seven signals of the analysis (the three
sentiment probabilities, offence, irony, spam and the question flag), trained by ``python -m
training`` on the project's own labelled comments (``tests/analysis/fixtures/kinds*.csv``).

It is asked only when the rules fall back to "other" without a cue of their own (a greeting or a
friend tagged is "other" by a rule, and stays so). Praise, a question and a complaint are taken at
the model's word; a rant or spam, which the desk handles apart, only when the model is sure of it
(:data:`SURE`); a troll or a false claim never (:data:`NEVER`): nobody should be treated as one
without a cue a person can see.

What ships is ``kinds.npz``: a weight table of ``2**bits`` rows by kind, the signals' weights, a
bias and the kinds' names. The word part of the logits is summed for a whole batch with the other
models (see :class:`~crisisdesk.analysis.linear.ModelScorer`); the rest is seven multiplications
per comment.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from numpy.lib.npyio import NpzFile

from crisisdesk.analysis import features
from crisisdesk.analysis.base import KINDS

F32 = npt.NDArray[np.float32]
IDX = npt.NDArray[np.intp]

#: The analysis signals the model reads beside the words, in the order of its signal weights.
SIGNALS = ("negative", "neutral", "positive", "offensive", "irony", "spam", "question")


def signal_row(
    sentiment_scores: Mapping[str, float],
    offensive: float,
    irony: float,
    spam: float,
    question: bool,
) -> tuple[float, ...]:
    """A comment's analysis signals in the order of :data:`SIGNALS`."""
    return (
        sentiment_scores["negative"],
        sentiment_scores["neutral"],
        sentiment_scores["positive"],
        offensive,
        irony,
        spam,
        float(question),
    )


#: Kinds the model may give whatever its confidence: a wrong one costs a reply that was not needed.
GENTLE = frozenset({"praise", "question", "complaint"})
#: Kinds it may give only when it is this sure of them: a rant or spam is hidden or handled apart.
#: Spam needs more: in the labelled sets much spam is a link beside a handle, and at 0.7 the
#: model called 66 of the 14,640 airline tweets spam where the rules found none, many of them
#: customers sharing a photo or a link; at 0.9, 33, for about one comment fewer right of the 480
#: in the leave-one-set-out check of the newest sets.
SURE = {"rager": 0.7, "spam": 0.9}
#: Kinds it never gives: calling a customer a troll or a spreader of false claims needs a cue a
#: person can see. On the 14,640 airline tweets nearly all of its trolls and false claims at 0.5
#: to 0.7 were complaints.
NEVER = frozenset({"troll", "misguided", "other"})

#: The file ``python -m training`` writes beside the other models.
FILE_NAME = "kinds.npz"


@dataclass(frozen=True)
class LearnedKind:
    kind: str
    probability: float


@dataclass(frozen=True)
class KindModel:
    """Logistic regression over word n-grams and analysis signals (see the module docstring)."""

    classes: tuple[str, ...]
    bits: int
    word_weights: F32  # 2**bits rows by class
    signal_weights: F32  # one row per SIGNALS entry, by class
    bias: F32

    @functools.cached_property
    def _columns(self) -> list[tuple[float, tuple[float, ...]]]:
        # :meth:`decide` runs once per comment on a few numbers: plain floats cost a fraction of
        # what numpy's per-call overhead does there. One (bias, signal weights) pair per class.
        return list(
            zip(self.bias.tolist(), map(tuple, self.signal_weights.T.tolist()), strict=True)
        )

    @classmethod
    def read(cls, path: Path) -> KindModel:
        """The model in ``path``. What the file system, the zip reader and numpy raise for a file
        that is missing or damaged passes through, and a ValueError says what does not match:
        :func:`crisisdesk.analysis.linear.load_scorer` turns both into a ``ModelFileError``."""
        with path.open("rb") as raw, NpzFile(raw, allow_pickle=False) as data:
            model = cls(
                classes=tuple(str(c) for c in data["classes"].tolist()),
                bits=int(data["bits"]),
                word_weights=data["word_weights"].astype(np.float32),
                signal_weights=data["signal_weights"].astype(np.float32),
                bias=data["bias"].astype(np.float32),
            )
        k = len(model.classes)
        if (
            sorted(model.classes) != sorted(KINDS)
            or model.word_weights.shape != (1 << model.bits, k)
            or model.signal_weights.shape != (len(SIGNALS), k)
            or model.bias.shape != (k,)
        ):
            raise ValueError("the kinds model's tables do not match its kinds and signals")
        return model

    def word_logits(self, batch: features.Batch, words: IDX) -> F32:
        """Each text's logits from its word n-grams (``words``: the batch's word entries)."""
        cols = (batch.hashes[words] & np.uint64((1 << self.bits) - 1)).astype(np.intp)
        contrib = np.take(self.word_weights, cols, axis=0) * batch.values[words, None]
        rows = batch.rows[words]
        out = np.empty((batch.n, len(self.classes)), dtype=np.float32)
        for j in range(len(self.classes)):
            out[:, j] = np.bincount(rows, weights=contrib[:, j], minlength=batch.n)
        return out

    def decide(self, word_logits: Sequence[float], signals: Sequence[float]) -> LearnedKind | None:
        """The kind the model gives a comment, if it is one it may give (see :data:`SURE`)."""
        z = [
            w + b + sum(map(operator.mul, signals, column))
            for w, (b, column) in zip(word_logits, self._columns, strict=True)
        ]
        top = max(z)
        e = [math.exp(zj - top) for zj in z]
        best = e.index(1.0)
        kind, prob = self.classes[best], 1.0 / sum(e)
        if kind in NEVER or (kind not in GENTLE and prob < SURE[kind]):
            return None
        return LearnedKind(kind, round(prob, 2))
