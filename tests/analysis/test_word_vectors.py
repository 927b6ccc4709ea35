"""Word weights learned through word vectors: the fold is exact, and what ships loads and scores."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="training needs scikit-learn (the train/test extra)")

from crisisdesk.analysis import features  # noqa: E402
from crisisdesk.analysis.linear import LinearModel, ModelScorer, find_words  # noqa: E402
from training import fit  # noqa: E402
from training.vectors import WordVectors, encode, vocabulary  # noqa: E402

TEXTS = [
    "the train is late again",
    "il treno è in ritardo",
    "thank you for the lovely cake",
    "grazie per la torta",
    "nothing known here: zzz",
]
LONG = "one quick brown fox jumps over two lazy dogs today"


def tiny_vectors(words: list[str], dims: int = 4, seed: int = 7) -> WordVectors:
    rng = np.random.default_rng(seed)
    hashes = features.word_feature_hashes(words)
    order = np.argsort(hashes)
    vectors = rng.normal(size=(len(words), dims)).astype(np.float32)
    return WordVectors([words[i] for i in order], hashes[order], vectors[order])


def test_find_words_matches_single_words_not_bigrams() -> None:
    keys = np.sort(features.word_feature_hashes(["train", "late"]))
    batch = features.featurise(["the train is late", "train late"], with_grams=True)
    entries, pos = find_words(keys, batch)
    found = sorted((int(batch.rows[e]), batch.word_grams[int(batch.hashes[e])]) for e in entries)
    assert found == [(0, "late"), (0, "train"), (1, "late"), (1, "train")]
    assert all(keys[pos] == batch.hashes[entries])


def test_mean_matrix_averages_the_known_words_of_each_text() -> None:
    vectors = tiny_vectors(["train", "late", "treno", "ritardo", *LONG.split()])
    m = vectors.mean_matrix([*TEXTS, LONG]).toarray()
    assert m.shape == (len(TEXTS) + 1, vectors.vectors.shape[0])
    index = {w: i for i, w in enumerate(vectors.words)}
    np.testing.assert_allclose(m.sum(axis=1), [1, 1, 0, 0, 0, 1], rtol=1e-6)
    assert m[0, index["train"]] == pytest.approx(0.5)
    assert m[1, index["ritardo"]] == pytest.approx(0.5)
    # with a floor of 8 known words, two known words count for an eighth each; ten, a tenth
    floored = dataclasses.replace(vectors, min_known=8).mean_matrix([*TEXTS, LONG]).toarray()
    np.testing.assert_allclose(floored.sum(axis=1), [2 / 8, 2 / 8, 0, 0, 0, 1], rtol=1e-6)
    assert floored[5, index["quick"]] == pytest.approx(1 / 10)


@pytest.mark.parametrize("min_known", [1, 8])
def test_folding_the_vector_weights_into_word_weights_changes_no_logit(min_known: int) -> None:
    """What ships (a weight per word, averaged, plus a bias shift) is the model that was fitted."""
    vectors = tiny_vectors(["train", "late", "treno", "ritardo", "cake", "torta", "grazie"])
    vectors = dataclasses.replace(vectors, min_known=min_known)
    columns = fit.WordColumns.fit(vectors, TEXTS, weight=1.0)
    trained = columns.training_columns(TEXTS).toarray()
    # centred on the training texts, and about ``weight`` long on average
    np.testing.assert_allclose(trained.mean(axis=0), 0, atol=1e-6)
    assert math.sqrt(float(np.mean(np.sum(trained**2, axis=1)))) == pytest.approx(1.0, rel=1e-5)

    rng = np.random.default_rng(1)
    dense_weights = rng.normal(size=(4, 3)).astype(np.float32)
    bias = rng.normal(size=3).astype(np.float32)
    fitted_logits = trained @ dense_weights + bias
    word_weights, shift = columns.fold(dense_weights)
    shipped_logits = vectors.mean_matrix(TEXTS) @ word_weights + bias + shift
    np.testing.assert_allclose(shipped_logits, fitted_logits, rtol=1e-5, atol=1e-5)


def test_removing_language_directions_leaves_no_language_mean_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After the projection, the Italian and English texts' mean vectors are the same."""
    import training.vectors

    monkeypatch.setattr(training.vectors, "LANGUAGE_MIN_TEXTS", 2)
    english, italian = ["train", "late", "cake"], ["treno", "ritardo", "torta"]
    vectors = tiny_vectors(english + italian, dims=6)
    # give every Italian word a shared offset: the "Italian region" of the space
    offset = np.asarray([3.0, -2.0, 0, 0, 1.0, 0], np.float32)
    is_italian = np.isin(vectors.words, italian)
    vectors.vectors[is_italian] += offset
    texts = ["train late", "cake", "late cake", "treno ritardo", "torta", "ritardo torta"]
    langs = ["en"] * 3 + ["it"] * 3

    def language_gap(v: WordVectors) -> float:
        dense = v.mean_matrix(texts) @ v.vectors
        return float(np.linalg.norm(dense[:3].mean(axis=0) - dense[3:].mean(axis=0)))

    neutral = vectors.without_language(texts, langs)
    assert language_gap(vectors) > 1.0
    assert language_gap(neutral) == pytest.approx(0.0, abs=1e-5)
    # one direction is removed: the words still differ from each other within a language
    assert np.linalg.matrix_rank(neutral.vectors) == 5
    assert vectors.without_language(texts, ["en"] * 6) is vectors  # one language: nothing to do


def write_model(path: Path, words: list[str], table: np.ndarray, **extra: object) -> None:
    hashes = features.word_feature_hashes(words)
    order = np.argsort(hashes)
    fitted = fit.Fitted(
        name=path.stem,
        classes=["negative", "neutral", "positive"],
        bits=4,
        weights=np.zeros((16, 3), np.float32),
        bias=np.zeros(3, np.float32),
        temperature=1.0,
        base_rate=None,
        params={},
        val_scores={},
        train_sources={},
        grid_scores=[],
        word_hashes=hashes[order],
        word_weights=table[order],
    )
    fitted = dataclasses.replace(fitted, **extra)  # type: ignore[arg-type]
    fit.save(fitted, path.parent)


def test_word_weights_round_trip_and_are_averaged_over_known_words(tmp_path: Path) -> None:
    weights = np.asarray([[2.0, 0, 0], [0, 0, 4.0]], np.float32)  # "awful" negative, "great" +
    write_model(tmp_path / "sentiment.npz", ["awful", "great"], weights)
    model = LinearModel.load(tmp_path / "sentiment.npz")
    assert model.word_hashes.size == 2 and model.min_known_words == 1
    batch = features.featurise(["awful", "awful and great", "no known word"])
    logits = model.logits(batch)
    np.testing.assert_allclose(logits[0], [2, 0, 0])
    np.testing.assert_allclose(logits[1], [1, 0, 2])  # each word counts for half
    np.testing.assert_allclose(logits[2], [0, 0, 0])
    # saved with a floor of 4 known words: one word counts for a quarter, two for a quarter each
    write_model(tmp_path / "sentiment.npz", ["awful", "great"], weights, min_known_words=4)
    model = LinearModel.load(tmp_path / "sentiment.npz")
    assert model.min_known_words == 4
    logits = model.logits(batch)
    np.testing.assert_allclose(logits[0], [0.5, 0, 0])
    np.testing.assert_allclose(logits[1], [0.5, 0, 1])


def test_a_model_whose_word_weights_do_not_match_its_words_is_refused(tmp_path: Path) -> None:
    write_model(
        tmp_path / "sentiment.npz",
        ["awful", "great"],
        np.zeros((2, 3), np.float32),
        word_weights=np.zeros((3, 3), np.float32),
    )
    with pytest.raises(ValueError, match="word weights"):
        LinearModel.load(tmp_path / "sentiment.npz")


def test_the_scorer_keeps_each_models_own_word_weights() -> None:
    """Models with different word lists share one table; each still reads its own weights."""
    root = Path(__file__).resolve().parents[2] / "crisisdesk" / "analysis" / "models"
    models = {n: LinearModel.load(root / f"{n}.npz") for n in fit.SPECS}
    without = dataclasses.replace(
        models["offensive"],
        word_hashes=np.zeros(0, np.uint64),
        word_weights=np.zeros((0, 1), np.float32),
    )
    only_awful = dataclasses.replace(
        without,
        word_hashes=features.word_feature_hashes(["awful"]),
        word_weights=np.asarray([[3.0]], np.float32),
    )
    before = ModelScorer({**models, "offensive": without}, "x").score(["awful awful"], [None])[0]
    after = ModelScorer({**models, "offensive": only_awful}, "x").score(["awful awful"], [None])[0]
    odds = (after.offensive / (1 - after.offensive)) / (before.offensive / (1 - before.offensive))
    temperature = models["offensive"].temperature
    # one known word, averaged as over the offence model's floor
    floor = models["offensive"].min_known_words
    assert math.log(odds) == pytest.approx(3.0 / floor / temperature, abs=0.01)
    assert after.sentiment_scores == before.sentiment_scores
    # each model keeps its own floor in the shared table: the offence model's does not change
    # how sentiment counts its words
    assert models["sentiment"].min_known_words == 1 and floor == 8
    unfloored = dataclasses.replace(models["offensive"], min_known_words=1)
    mixed = ModelScorer(models, "x").score(["awful"], [None])[0]
    plain = ModelScorer({**models, "offensive": unfloored}, "x").score(["awful"], [None])[0]
    assert mixed.sentiment_scores == plain.sentiment_scores
    assert mixed.offensive < plain.offensive


def test_vocabulary_counts_texts_not_occurrences() -> None:
    words, share = vocabulary(["bad bad bad", "bad good", "good"], min_texts=2)
    assert words == ["bad", "good"]
    assert [round(float(s), 2) for s in share] == [0.67, 0.67]


def test_vocabulary_order_does_not_depend_on_string_hashing() -> None:
    """Words used equally often come in one order in every process: the vectors are encoded in
    batches of that order, and retraining must give the same weights."""
    import os
    import subprocess
    import sys

    code = (
        "from training.vectors import vocabulary; "
        "print(vocabulary(['z y x w v u', 'u v w x y z', 'a b c'], min_texts=1)[0])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert outputs == {"['u', 'v', 'w', 'x', 'y', 'z', 'a', 'b', 'c']\n"}


def test_the_encoder_puts_translations_closer_than_unrelated_words(tmp_path: Path) -> None:
    """The bundled multilingual encoder, for real: what the word weights are learned through."""
    vec = dict(
        zip(
            ["train", "treno", "cake", "torta"],
            encode(["train", "treno", "cake", "torta"], tmp_path),
            strict=True,
        )
    )
    assert float(vec["train"] @ vec["treno"]) > float(vec["train"] @ vec["torta"])
    assert float(vec["cake"] @ vec["torta"]) > float(vec["cake"] @ vec["treno"])
    assert list(tmp_path.glob("words-*.npy"))  # cached for the next run


def test_common_words_get_vectors_without_moving_the_training_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Extra words are placed by the components of the texts' own words, which they leave as
    they were; a text using one then has that word known."""
    import training.vectors

    def fake_encode(words: list[str], cache_dir: Path | None = None) -> np.ndarray:
        # a stable vector per word, from its letters (no model needed for this test)
        out = np.zeros((len(words), 8), np.float32)
        for i, w in enumerate(words):
            for j, ch in enumerate(w):
                out[i, (ord(ch) + j) % 8] += 1.0
        return out

    monkeypatch.setattr(training.vectors, "encode", fake_encode)
    texts = ["the cake was good", "the bread was stale", "good bread", "stale cake again"]
    plain = WordVectors.build(texts, min_texts=1, dims=4, cache_dir=tmp_path)
    more = WordVectors.build(
        texts, min_texts=1, dims=4, cache_dir=tmp_path, extra=["buonissimo", "cake", "scaduto"]
    )
    assert set(more.words) == set(plain.words) | {"buonissimo", "scaduto"}  # "cake" once
    rows = {w: i for i, w in enumerate(more.words)}
    for i, word in enumerate(plain.words):
        np.testing.assert_allclose(more.vectors[rows[word]], plain.vectors[i], atol=1e-5)
    assert np.abs(more.vectors[rows["buonissimo"]]).sum() > 0
    known = more.mean_matrix(["buonissimo!", "scaduto e stale"]).toarray()
    assert known[0, rows["buonissimo"]] == pytest.approx(1.0)
    assert known[1, rows["scaduto"]] == pytest.approx(0.5)


def test_common_words_are_normalised_alphabetic_and_in_a_fixed_order() -> None:
    pytest.importorskip("wordfreq")
    from training.vectors import common_words

    words = common_words({"it": 300, "en": 300})
    assert words == common_words({"it": 300, "en": 300})
    assert words[:3] == ["di", "che", "il"]  # Italian first, most frequent first
    assert "the" in words and len(words) == len(set(words))
    assert all(len(w) > 1 and w.isalpha() and w == w.lower() for w in words)


def test_removing_gender_directions_leaves_pairs_differing_only_elsewhere() -> None:
    """Female words carry a shared offset: after the removal, each pair differs only in what
    was random, and words of no gender keep what is orthogonal to the offset."""
    pairs = [("madre", "padre"), ("figlia", "figlio"), ("sorella", "fratello"), ("zia", "zio")]
    words = [w for pair in pairs for w in pair] + ["torta", "ritardo"]
    vectors = tiny_vectors(words, dims=6)
    offset = np.asarray([4.0, 0, 0, -3.0, 0, 0], np.float32)
    female = np.isin(vectors.words, [f for f, _ in pairs])
    vectors.vectors[female] += offset
    neutral = vectors.without_gender(pairs, k=1)
    index = {w: i for i, w in enumerate(neutral.words)}
    unit = offset / np.linalg.norm(offset)
    for f, m in pairs:
        before = vectors.vectors[index[f]] - vectors.vectors[index[m]]
        after = neutral.vectors[index[f]] - neutral.vectors[index[m]]
        assert float(before @ unit) > 4 and abs(float(after @ unit)) < 0.5
    assert np.linalg.matrix_rank(neutral.vectors) == 5
    # too few pairs in the vocabulary: nothing removed
    assert vectors.without_gender(pairs[:1], k=1) is vectors
