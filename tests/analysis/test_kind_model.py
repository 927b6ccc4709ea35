"""The learned kind: when it is asked, what it may give, and how its file is read."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from crisisdesk.analysis import KINDS, features, kind_model, linear, load_analyzer
from crisisdesk.analysis.fast import FastAnalyzer
from crisisdesk.analysis.kind_model import SIGNALS, KindModel

BITS = 8


def _model(word: str, kind: str, weight: float) -> KindModel:
    """A kinds model that knows one word, worth ``weight`` logits to ``kind``."""
    words = np.zeros((1 << BITS, len(KINDS)), dtype=np.float32)
    (h,) = features.word_feature_hashes([word]).tolist()
    words[h & ((1 << BITS) - 1), KINDS.index(kind)] = weight
    return KindModel(
        classes=tuple(KINDS),
        bits=BITS,
        word_weights=words,
        signal_weights=np.zeros((len(SIGNALS), len(KINDS)), dtype=np.float32),
        bias=np.zeros(len(KINDS), dtype=np.float32),
    )


def _analyzer(model: KindModel) -> FastAnalyzer:
    scorer = linear.load_scorer()
    assert scorer is not None
    own = linear.ModelScorer(dict(scorer.models), scorer.version, model)
    return FastAnalyzer(own)


@pytest.mark.parametrize(
    ("kind", "weight", "given"),
    [
        ("complaint", 1.0, True),  # a gentle kind, however unsure
        ("rager", 1.0, False),  # a rant only when sure
        ("rager", 20.0, True),
        ("troll", 20.0, False),  # never a troll or a false claim, however sure
        ("misguided", 20.0, False),
    ],
)
def test_what_the_model_may_give(kind: str, weight: float, given: bool) -> None:
    analyzer = _analyzer(_model("zorblat", kind, weight))
    result = analyzer.analyze("zorblat zorblat")
    assert (result.kind == kind) is given, result
    if given:
        assert any(r.startswith(f"{kind}: learned ") for r in result.reasons), result.reasons
    else:
        assert result.kind == "other"


def test_a_rule_that_decided_other_is_not_asked_again() -> None:
    # a greeting is "other" by a rule, with its reason: the model does not overrule it
    analyzer = _analyzer(_model("domenica", "praise", 20.0))
    result = analyzer.analyze("Buona domenica a tutti")
    assert result.kind == "other" and "other: a greeting" in result.reasons


def test_a_rule_with_a_cue_is_not_asked() -> None:
    analyzer = _analyzer(_model("delusa", "praise", 20.0))
    assert analyzer.analyze("Molto delusa").kind == "complaint"


def test_the_shipped_model_is_loaded_and_reads_its_signals() -> None:
    scorer = linear.load_scorer()
    assert scorer is not None and scorer.kind_model is not None
    model = scorer.kind_model
    assert sorted(model.classes) == sorted(KINDS)
    # the signals move the decision: a comment the model reads as very negative leans to a
    # complaint, one it reads as very positive to praise
    zeros = [0.0] * len(model.classes)
    glad = model.decide(zeros, (0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0))
    sad = model.decide(zeros, (1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0))
    assert glad is not None and glad.kind == "praise"
    assert sad is None or sad.kind != "praise"


def test_without_a_kinds_file_the_rules_decide_alone(tmp_path: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(linear.MODELS_DIR, models)
    (models / kind_model.FILE_NAME).unlink()
    analyzer = load_analyzer("fast", models_dir=str(models))
    assert isinstance(analyzer, FastAnalyzer) and analyzer.scorer.kind_model is None
    assert analyzer.analyze("Buongiorno").kind == "other"


@pytest.mark.parametrize("content", [b"", b"not a zip"])
def test_a_damaged_kinds_file_is_refused(tmp_path: Path, content: bytes) -> None:
    models = tmp_path / "models"
    shutil.copytree(linear.MODELS_DIR, models)
    (models / kind_model.FILE_NAME).write_bytes(content)
    with pytest.raises(linear.ModelFileError) as refused:
        linear.load_scorer(models)
    assert refused.value.args[0].code == "model.file_damaged"


def test_a_kinds_file_of_other_shapes_is_refused(tmp_path: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(linear.MODELS_DIR, models)
    np.savez(
        models / kind_model.FILE_NAME,
        classes=np.asarray(KINDS),
        bits=np.asarray(BITS),
        word_weights=np.zeros((1 << BITS, 3), dtype=np.float16),
        signal_weights=np.zeros((len(SIGNALS), len(KINDS)), dtype=np.float32),
        bias=np.zeros(len(KINDS), dtype=np.float32),
    )
    with pytest.raises(linear.ModelFileError) as refused:
        linear.load_scorer(models)
    assert "do not match" in str(refused.value.args[0])
