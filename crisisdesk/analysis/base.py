"""The analysis contract: what the desk needs to know about one comment.

Every analyser (the shipped fast models, the optional transformers backend, a test double) returns an
:class:`Analysis` per text, so the store, the signals and the web app never depend on which one ran.
``model_version`` travels with every result and is stored beside it: when the models change, old
analyses stay explainable and can be recomputed selectively.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

SENTIMENTS = ("negative", "neutral", "positive")
KINDS = ("praise", "question", "complaint", "misguided", "rager", "troll", "spam", "other")


@dataclass(frozen=True)
class Analysis:
    """The understanding of one comment.

    ``sentiment_scores`` are the sentiment model's probabilities. ``sentiment`` is their most
    likely label, except that a complaint, a rant or a false claim is always negative (where the
    model disagreed, the reasons say so): see :mod:`crisisdesk.analysis.fast`. ``language`` is
    ``und`` where there is nothing to detect it from (emoji, digits, an empty comment).

    >>> a = Analysis(language="it", sentiment="negative",
    ...              sentiment_scores={"negative": 0.8, "neutral": 0.15, "positive": 0.05},
    ...              offensive=0.1, irony=0.2, question=False, spam=0.0, kind="complaint",
    ...              reasons=["'rimborso'"], model_version="test-1")
    >>> a.to_dict()["kind"]
    'complaint'
    """

    language: str
    sentiment: str
    sentiment_scores: dict[str, float]
    offensive: float
    irony: float
    question: bool
    spam: float
    kind: str
    reasons: list[str] = field(default_factory=list)
    model_version: str = "unknown"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def urgency(self) -> float:
        """How soon a person should look at this comment, in [0, 1].

        Complaints and misguided claims need an answer inside the hour; ragers and trolls need a
        look (they may be the start of a flame) but not necessarily a reply; praise can wait.
        """
        base = {
            "complaint": 0.7,
            "misguided": 0.65,
            "rager": 0.55,
            "troll": 0.45,
            "question": 0.5,
            "spam": 0.15,
            "other": 0.25,
            "praise": 0.1,
        }.get(self.kind, 0.25)
        negative = self.sentiment_scores.get("negative", 0.0)
        score = base + 0.2 * negative + 0.1 * self.offensive
        return round(min(1.0, max(0.0, score)), 4)


@runtime_checkable
class Analyzer(Protocol):
    """Anything that turns comment texts into :class:`Analysis` results.

    ``analyze_many`` exists because vectorised models are far faster on batches; importers call it
    with a whole batch, the API with one text.
    """

    version: str

    def analyze(self, text: str, lang_hint: str | None = None) -> Analysis: ...

    def analyze_many(
        self, texts: Sequence[str], lang_hints: Iterable[str | None] | None = None
    ) -> list[Analysis]: ...
