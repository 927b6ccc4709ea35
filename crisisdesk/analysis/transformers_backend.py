"""Optional accurate backend: any local Hugging Face sequence-classification model.

Install with ``pip install crisisdesk[transformers]`` and set ``analyzer = "transformers"`` with
``sentiment_model`` and/or ``toxicity_model`` pointing at model *directories* the user downloaded
(for example a multilingual XLM-R sentiment model). Nothing is ever fetched from the network:
models load with ``local_files_only=True``.

Only sentiment and/or offensiveness come from the transformer; language, irony, questions, spam and
the kind come from the fast backend, so a result always has every field and the kinds keep the same
rules. Labels are mapped through the model's own ``id2label``:

- sentiment: names containing neg/neu/pos, ``LABEL_0..2`` (negative, neutral, positive, the
  CardiffNLP convention), two labels (negative, positive), or 1-5 star ratings;
- toxicity: the probability of the label whose name says toxic/offensive/hate/abusive/insult (not
  "non-toxic"), else of ``LABEL_1`` in a two-label model; multi-label models use a sigmoid.

Models are loaded on first use and cached per directory for the life of the process.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crisisdesk.analysis.fast import FastAnalyzer, LexiconScorer, Scorer, Scores
from crisisdesk.analysis.kind_model import KindModel
from crisisdesk.reasons import Reason

BATCH = 32
MAX_TOKENS = 256
_CACHE: dict[Path, _HFModel] = {}
_LOCK = threading.Lock()


class BackendUnavailable(RuntimeError):
    """The optional dependencies are missing or a model directory is unusable (raised with a
    :class:`~crisisdesk.reasons.Reason`, which the command line says in the reader's language)."""


def _not_a_model(path: object) -> Reason:
    return Reason(
        "model.not_a_directory",
        "{path}: not a Hugging Face model directory (no config.json)",
        path=str(path),
    )


def _require() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise BackendUnavailable(
            Reason(
                "model.needs_extra",
                "the transformers backend needs the optional extra: "
                "pip install 'crisisdesk[transformers]'",
            )
        ) from exc
    return torch, transformers


@dataclass
class _HFModel:
    path: Path
    tokenizer: Any
    model: Any
    labels: list[str]
    multi_label: bool
    fingerprint: str

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        torch, _ = _require()
        out = []
        for start in range(0, len(texts), BATCH):
            chunk = [t if t.strip() else "." for t in texts[start : start + BATCH]]
            enc = self.tokenizer(
                chunk, truncation=True, max_length=MAX_TOKENS, padding=True, return_tensors="pt"
            )
            with torch.no_grad():
                logits = self.model(**enc).logits.float()
            probs = torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)
            out.append(probs.cpu().numpy())
        if not out:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return np.concatenate(out).astype(np.float32)


def load_model(path: str | Path) -> _HFModel:
    """Load (once per process) a local sequence-classification model directory."""
    root = Path(path).expanduser().resolve()
    with _LOCK:
        if root in _CACHE:
            return _CACHE[root]
        if not (root / "config.json").is_file():
            raise BackendUnavailable(_not_a_model(root))
        _, transformers = _require()
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(root, local_files_only=True)
            model = transformers.AutoModelForSequenceClassification.from_pretrained(
                root, local_files_only=True
            )
        except (OSError, ValueError) as exc:
            # The library's words say what is wrong with the files; the sentence around is ours.
            raise BackendUnavailable(
                Reason(
                    "model.cannot_load",
                    "{path}: cannot load the model: {detail}",
                    path=str(root),
                    detail=str(exc),
                )
            ) from exc
        model.eval()
        config = model.config
        labels = [str(config.id2label[i]) for i in range(config.num_labels)]
        multi = getattr(config, "problem_type", None) == "multi_label_classification"
        digest = hashlib.sha256((root / "config.json").read_bytes()).hexdigest()[:8]
        loaded = _HFModel(root, tokenizer, model, labels, multi, f"{root.name}@{digest}")
        _CACHE[root] = loaded
        return loaded


_STARS = re.compile(r"^\s*([1-5])\s*star")


def sentiment_mapping(labels: Sequence[str]) -> list[tuple[str, float]]:
    """For each model label, the sentiment it counts towards and with what weight.

    >>> sentiment_mapping(["LABEL_0", "LABEL_1", "LABEL_2"])
    [('negative', 1.0), ('neutral', 1.0), ('positive', 1.0)]
    >>> sentiment_mapping(["1 star", "2 stars", "3 stars", "4 stars", "5 stars"])[2]
    ('neutral', 1.0)
    """
    low = [label.lower() for label in labels]
    named = []
    for label in low:
        if "neg" in label:
            named.append(("negative", 1.0))
        elif "neu" in label:
            named.append(("neutral", 1.0))
        elif "pos" in label:
            named.append(("positive", 1.0))
        elif (m := _STARS.match(label)) is not None:
            stars = int(m.group(1))
            named.append(
                ("negative" if stars <= 2 else "neutral" if stars == 3 else "positive", 1.0)
            )
        else:
            named.append(("", 0.0))
    if all(name for name, _ in named):
        return named
    if len(labels) == 3:
        return [("negative", 1.0), ("neutral", 1.0), ("positive", 1.0)]
    if len(labels) == 2:
        return [("negative", 1.0), ("positive", 1.0)]
    raise BackendUnavailable(
        Reason(
            "model.sentiment_labels",
            "cannot map sentiment labels {labels} to negative/neutral/positive",
            labels=str(list(labels)),
        )
    )


_TOXIC = re.compile(r"toxic|offens|hate|abus|insult|obscen|threat|profan")
_NOT = re.compile(r"^(non|not|no)[\s_\-]?")


def toxicity_index(labels: Sequence[str]) -> int:
    """Which output is the probability of offence.

    >>> toxicity_index(["non-toxic", "toxic"])
    1
    >>> toxicity_index(["LABEL_0", "LABEL_1"])
    1
    """
    for i, label in enumerate(labels):
        low = label.lower()
        if _TOXIC.search(low) and not _NOT.match(low):
            return i
    if len(labels) == 2:
        return 1
    raise BackendUnavailable(
        Reason(
            "model.offensive_label",
            "cannot tell which of {labels} is the offensive label",
            labels=str(list(labels)),
        )
    )


class TransformersScorer:
    """Fast scores with sentiment and/or offence replaced by local transformer models."""

    def __init__(self, base: Scorer, sentiment: _HFModel | None, toxicity: _HFModel | None) -> None:
        self.base = base
        self.sentiment = sentiment
        self.toxicity = toxicity
        self.sentiment_map = sentiment_mapping(sentiment.labels) if sentiment else []
        self.toxic_index = toxicity_index(toxicity.labels) if toxicity else -1
        parts = [m.fingerprint for m in (sentiment, toxicity) if m is not None]
        self.version = "transformers-" + "+".join(parts) + f"+{base.version}"
        # The kinds model learned from the fast models' signals; other models' sentiment and
        # offence read on another scale, so here the rules alone decide the kind.
        self.kind_model: KindModel | None = None

    def score(self, texts: Sequence[str], hints: Sequence[str | None]) -> list[Scores]:
        scored = self.base.score(texts, hints)
        if self.sentiment is not None and texts:
            probs = self.sentiment.probabilities(texts)
            for s, row in zip(scored, probs.tolist(), strict=True):
                agg = {"negative": 0.0, "neutral": 0.0, "positive": 0.0}
                for (name, weight), p in zip(self.sentiment_map, row, strict=True):
                    agg[name] += weight * p
                total = sum(agg.values()) or 1.0
                s.sentiment_scores = {k: round(v / total, 4) for k, v in agg.items()}
                # the fast model's word reasons for sentiment no longer apply
                s.reasons = [r for r in s.reasons if not r.startswith(("negative:", "positive:"))]
                s.reasons.append(f"sentiment by {self.sentiment.path.name}")
        if self.toxicity is not None and texts:
            probs = self.toxicity.probabilities(texts)
            for s, row in zip(scored, probs.tolist(), strict=True):
                s.offensive = round(float(min(1.0, max(0.0, row[self.toxic_index]))), 4)
                s.reasons = [r for r in s.reasons if not r.startswith("offensive:")]
                if s.offensive >= 0.5:
                    s.reasons.append(f"offensive by {self.toxicity.path.name}")
        return scored


class TransformersAnalyzer(FastAnalyzer):
    """The fast analyser with transformer sentiment and/or toxicity (models load on first use)."""

    def __init__(
        self,
        sentiment_model: str | Path | None = None,
        toxicity_model: str | Path | None = None,
        models_dir: str | Path | None = None,
    ) -> None:
        if not sentiment_model and not toxicity_model:
            raise BackendUnavailable(
                Reason(
                    "model.needs_directory",
                    "the transformers backend needs sentiment_model and/or toxicity_model "
                    "(local Hugging Face model directories)",
                )
            )
        _require()
        for path in (sentiment_model, toxicity_model):
            if path and not (Path(path).expanduser() / "config.json").is_file():
                raise BackendUnavailable(_not_a_model(path))
        self._paths = (sentiment_model, toxicity_model)
        self._models_dir = models_dir
        self._ready: TransformersScorer | None = None
        self.version = "transformers-unloaded"

    @property  # type: ignore[override]
    def scorer(self) -> TransformersScorer:
        if self._ready is None:
            from crisisdesk.analysis import linear

            base: Scorer = linear.load_scorer(self._models_dir) or LexiconScorer()
            sentiment_path, toxicity_path = self._paths
            self._ready = TransformersScorer(
                base,
                load_model(sentiment_path) if sentiment_path else None,
                load_model(toxicity_path) if toxicity_path else None,
            )
            self.version = self._ready.version
        return self._ready

    @scorer.setter
    def scorer(self, value: Any) -> None:  # FastAnalyzer.__init__ is not used here
        raise AttributeError("scorer is built from the model directories")

    def analyze_many(self, texts: Sequence[str], lang_hints: Any = None) -> list[Any]:
        self.scorer  # noqa: B018 - load before the version is stamped on results
        return super().analyze_many(texts, lang_hints)
