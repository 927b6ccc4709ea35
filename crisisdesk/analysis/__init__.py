"""Comment understanding: language, sentiment, offence, irony, questions, spam and the playbook kind.

``load_analyzer`` is the one entry point the desk and the CLI use. Backends:

- ``fast`` (default): the trained linear models shipped in ``analysis/models/`` (numpy only), plus
  explainable rules. Falls back to the word-list scorer, with a warning, if the model files are
  missing (a source checkout before ``python -m training`` ran).
- ``lexicon``: word lists and rules only; crude, dependency-free, for comparison and tests.
- ``transformers``: local Hugging Face models for sentiment and/or toxicity (optional extra);
  every other field comes from the fast backend.

Model files are read on first use and cached for the life of the process.
"""

from __future__ import annotations

import logging
from typing import Any

from crisisdesk.analysis.base import KINDS, SENTIMENTS, Analysis, Analyzer
from crisisdesk.reasons import Reason

__all__ = ["KINDS", "SENTIMENTS", "Analysis", "Analyzer", "load_analyzer"]

log = logging.getLogger(__name__)

BACKENDS = ("fast", "lexicon", "transformers")


def load_analyzer(backend: str = "fast", **options: Any) -> Analyzer:
    """Build the analyser named by ``backend`` (the ``analyzer`` setting).

    Options: ``sentiment_model`` and ``toxicity_model`` (local model directories, transformers
    backend only; ignored by the others), ``models_dir`` (fast backend: where the .npz files are).

    >>> load_analyzer("lexicon").analyze("Grazie, buonissimo!").kind
    'praise'
    """
    from crisisdesk.analysis.fast import FastAnalyzer, LexiconScorer

    name = (backend or "fast").strip().lower()
    if name == "lexicon":
        return FastAnalyzer(LexiconScorer())
    if name == "fast":
        from crisisdesk.analysis import linear

        scorer = linear.load_scorer(options.get("models_dir"))
        if scorer is None:
            log.warning("model files not found; using the word-list fallback analyser")
            return FastAnalyzer(LexiconScorer())
        return FastAnalyzer(scorer)
    if name == "transformers":
        from crisisdesk.analysis.transformers_backend import TransformersAnalyzer

        return TransformersAnalyzer(
            sentiment_model=options.get("sentiment_model") or None,
            toxicity_model=options.get("toxicity_model") or None,
            models_dir=options.get("models_dir"),
        )
    raise ValueError(
        Reason(
            "model.unknown_backend",
            "unknown analyzer backend {backend}; choose one of {backends}",
            backend=repr(backend),
            backends=", ".join(BACKENDS),
        )
    )
