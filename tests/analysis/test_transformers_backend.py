"""The optional transformers backend, with tiny models this test creates (never downloads)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crisisdesk.analysis import KINDS, SENTIMENTS, load_analyzer
from crisisdesk.analysis.transformers_backend import (
    BackendUnavailable,
    sentiment_mapping,
    toxicity_index,
)

VOCAB = (
    "[PAD] [UNK] [CLS] [SEP] [MASK] the train is late again thank you for cake great "
    "idiot il treno in ritardo grazie , . ! ?"
).split()


def make_tiny_model(root: Path, labels: dict[int, str], seed: int) -> Path:
    """A two-layer BERT with a 16-wide hidden state and a word-piece vocabulary written here."""
    torch = pytest.importorskip("torch", reason="torch is not installed (transformers extra)")
    transformers = pytest.importorskip(
        "transformers", reason="transformers is not installed (transformers extra)"
    )
    torch.manual_seed(seed)
    root.mkdir(parents=True)
    vocab = root / "vocab.txt"
    vocab.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    config = transformers.BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=len(labels),
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
    )
    model = transformers.BertForSequenceClassification(config)
    model.save_pretrained(root)
    transformers.BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(root)
    return root


def test_label_mappings() -> None:
    assert [n for n, _ in sentiment_mapping(["NEGATIVE", "NEUTRAL", "POSITIVE"])] == list(
        SENTIMENTS
    )
    assert [n for n, _ in sentiment_mapping(["neg", "pos"])] == ["negative", "positive"]
    assert toxicity_index(["LABEL_0", "LABEL_1"]) == 1
    assert toxicity_index(["offensive", "not offensive"]) == 0
    with pytest.raises(BackendUnavailable):
        sentiment_mapping(["joy", "anger", "fear", "sadness"])
    with pytest.raises(BackendUnavailable):
        toxicity_index(["a", "b", "c"])


def test_tiny_local_models_drive_sentiment_and_offence(tmp_path: Path) -> None:
    sentiment_dir = make_tiny_model(
        tmp_path / "sent", {0: "negative", 1: "neutral", 2: "positive"}, seed=1
    )
    toxicity_dir = make_tiny_model(tmp_path / "tox", {0: "non-toxic", 1: "toxic"}, seed=2)
    analyzer = load_analyzer(
        "transformers", sentiment_model=str(sentiment_dir), toxicity_model=str(toxicity_dir)
    )
    texts = ["the train is late again", "grazie , great cake !", "", "you are awful"]
    results = analyzer.analyze_many(texts)
    assert analyzer.version.startswith("transformers-sent@")
    assert "tox@" in analyzer.version and "linear-" in analyzer.version

    # the probabilities are the tiny models' own outputs, mapped through id2label
    import torch
    import transformers

    tok = transformers.AutoTokenizer.from_pretrained(sentiment_dir, local_files_only=True)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        sentiment_dir, local_files_only=True
    ).eval()
    with torch.no_grad():
        probs = torch.softmax(model(**tok(texts[:1], return_tensors="pt")).logits, dim=-1)[0]
    expected = dict(zip(SENTIMENTS, probs.tolist(), strict=True))
    for key, value in expected.items():
        assert results[0].sentiment_scores[key] == pytest.approx(value, abs=1e-3)

    tox_tok = transformers.AutoTokenizer.from_pretrained(toxicity_dir, local_files_only=True)
    tox = transformers.AutoModelForSequenceClassification.from_pretrained(
        toxicity_dir, local_files_only=True
    ).eval()
    with torch.no_grad():
        p_toxic = torch.softmax(tox(**tox_tok([texts[3]], return_tensors="pt")).logits, dim=-1)[
            0, 1
        ]
    assert results[3].offensive == pytest.approx(float(p_toxic), abs=1e-3)

    for r in results:
        assert r.kind in KINDS and r.sentiment in SENTIMENTS
        assert r.model_version == analyzer.version
    # fields the transformer does not provide come from the fast backend
    assert results[1].language in ("it", "en")
    assert results[2].kind == "other"


def test_only_one_model_is_enough(tmp_path: Path) -> None:
    sentiment_dir = make_tiny_model(
        tmp_path / "only", {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, 3
    )
    analyzer = load_analyzer("transformers", sentiment_model=str(sentiment_dir))
    fast = load_analyzer("fast")
    text = "You idiots can't even bake bread lol"
    assert analyzer.analyze(text).offensive == fast.analyze(text).offensive


def test_clear_errors(tmp_path: Path) -> None:
    pytest.importorskip("transformers", reason="transformers is not installed (transformers extra)")
    with pytest.raises(BackendUnavailable, match="needs sentiment_model"):
        load_analyzer("transformers")
    with pytest.raises(BackendUnavailable, match="not a Hugging Face model directory"):
        load_analyzer("transformers", sentiment_model=str(tmp_path))
