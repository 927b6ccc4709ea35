"""The training entry point runs end to end on a tiny dataset written here, not the real datasets."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="training needs scikit-learn (the train/test extra)")

from crisisdesk.analysis import features, load_analyzer  # noqa: E402
from crisisdesk.analysis.fast import FastAnalyzer  # noqa: E402
from crisisdesk.analysis.linear import LinearModel  # noqa: E402
from training import data as datasets  # noqa: E402
from training import fit  # noqa: E402
from training.__main__ import main  # noqa: E402

LANG_TEXTS = {
    "english": ["the train is late again", "thank you for the great cake", "what a lovely day"],
    "italian": ["il treno è in ritardo", "grazie per la torta buonissima", "che bella giornata"],
    "spanish": ["el tren llega tarde otra vez", "gracias por la tarta", "qué día tan bonito"],
    "french": ["le train est encore en retard", "merci pour le gâteau", "quelle belle journée"],
    "german": ["der zug ist wieder zu spät", "danke für den kuchen", "was für ein schöner tag"],
    "portuguese": ["o trem está atrasado de novo", "obrigado pelo bolo", "que dia lindo"],
}
# sentiment labels of the three texts above, in every language
SENTIMENT = ["0", "2", "2"]


def write_tiny_datasets(root: Path) -> None:
    for folder, texts in LANG_TEXTS.items():
        d = root / "umsab" / folder
        d.mkdir(parents=True)
        for split in ("train", "val"):
            # val texts differ from training ones: training drops rows that are (near-)duplicates
            # of any val text, so four new words are added to each
            suffixes = ("alpha bravo charlie delta", "echo foxtrot hotel india")
            lines = texts * 2 if split == "train" else [f"{t} {x}" for x in suffixes for t in texts]
            (d / f"{split}_text.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
            labels = ["0", "1", "2"] * 2 if split == "train" else SENTIMENT * 2
            (d / f"{split}_labels.txt").write_text("\n".join(labels) + "\n", encoding="utf-8")
    tasks = {
        "offensive": (
            ["you are an idiot", "shut up moron", "nice photo", "see you tomorrow"],
            ["1", "1", "0", "0"],
        ),
        "irony": (
            [
                "oh great another delay, love it",
                "wow so fast, only 3 hours",
                "the shop opens at 9",
                "thanks for the help",
            ],
            ["1", "1", "0", "0"],
        ),
        "hate": (["go back home you people"], ["1"]),
    }
    for task, (texts, labels) in tasks.items():
        d = root / "tweeteval" / task
        d.mkdir(parents=True)
        for split in ("train", "val"):
            (d / f"{split}_text.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
            (d / f"{split}_labels.txt").write_text("\n".join(labels) + "\n", encoding="utf-8")
    (root / "ironita2018").mkdir()
    (root / "ironita2018" / "train.csv").write_text(
        "id,text,irony,sarcasm,topic\n"
        + "".join(
            f'{i},"{t}",{lab},0,X\n'
            for i, (t, lab) in enumerate(
                [("che bello un altro ritardo", 1), ("il negozio apre alle 9", 0)] * 5
            )
        ),
        encoding="utf-8",
    )


def test_training_rebuilds_loadable_models(tmp_path: Path) -> None:
    data = tmp_path / "datasets"
    write_tiny_datasets(data)
    out = tmp_path / "models"
    assert (
        main(
            ["--data", str(data), "--out", str(out), "--small", "--cache", str(tmp_path / "cache")]
        )
        == 0
    )
    for name in ("language", "sentiment", "offensive", "irony", "kinds"):
        assert (out / f"{name}.npz").is_file()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert manifest["version"].startswith("linear-")
    assert metrics["models"]["sentiment"]["val"]["umsab-it"]["macro_f1"] >= 0
    assert "umsab" in metrics["models"]["sentiment"]["train_sources"]
    # the binary models' val texts are their training texts here: each is told apart
    assert metrics["models"]["offensive"]["val"]["tweeteval-offensive"]["macro_f1"] == 100
    assert metrics["models"]["irony"]["val"]["tweeteval-irony"]["f1_irony"] == 100
    # sentiment and offence learn word weights through the word vectors; irony does not
    words = {n: LinearModel.load(out / f"{n}.npz").word_hashes.size for n in fit.SPECS}
    assert words["sentiment"] > 20 and words["offensive"] == words["sentiment"]
    assert words["irony"] == 0 and words["language"] == 0
    assert metrics["models"]["sentiment"]["words"] == words["sentiment"]

    # the kinds model is chosen by leaving out each set written blind to the rules in turn
    kinds = metrics["models"]["kinds"]
    assert len(kinds["leave_one_set_out"]) == 9 and set(kinds["blind_sets"]).isdisjoint(
        kinds["train_sets"]
    )
    assert all(0 <= v <= 100 for v in kinds["leave_one_set_out"].values())

    analyzer = load_analyzer("fast", models_dir=str(out))
    assert isinstance(analyzer, FastAnalyzer) and analyzer.scorer.kind_model is not None
    assert analyzer.version == f"fast-{manifest['version']}"
    result = analyzer.analyze("il treno è in ritardo")
    assert result.language == "it"

    # fixed seeds: a second run writes the same weights, hence the same version
    out2 = tmp_path / "models2"
    assert (
        main(
            ["--data", str(data), "--out", str(out2), "--small", "--cache", str(tmp_path / "cache")]
        )
        == 0
    )
    again = json.loads((out2 / "manifest.json").read_text(encoding="utf-8"))
    assert again["version"] == manifest["version"]


def test_training_refuses_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--data", str(tmp_path / "nope"), "--out", str(tmp_path / "m")])


def test_sentiment_training_drops_rows_seen_in_any_val_split(tmp_path: Path) -> None:
    from training.data import sentiment_task

    data = tmp_path / "datasets"
    write_tiny_datasets(data)
    # TweetEval sentiment val shares tweets with UMSAB English training (as the real sets do)
    d = data / "tweeteval" / "sentiment"
    d.mkdir(parents=True)
    (d / "val_text.txt").write_text("the train is late again\n", encoding="utf-8")
    (d / "val_labels.txt").write_text("0\n", encoding="utf-8")
    task = sentiment_task(data)
    assert "the train is late again" not in task.train.texts
    assert "what a lovely day" in task.train.texts
    val_texts = {t for v in task.vals.values() for t in v.texts}
    assert not val_texts & set(task.train.texts)


def test_near_duplicates_of_val_texts_are_recognised() -> None:
    from training.data import NearDuplicates

    near = NearDuplicates(["@Trenitalia ancora in ritardo il regionale delle 8, vergogna"])
    # a retweet wave: another mention, a word changed, a link added
    assert "@treni ancora in ritardo il regionale delle 9, vergogna https://t.co/x" in near
    assert "il regionale delle 8 era puntuale stamattina, grazie" not in near
    assert "" not in near


def test_binary_models_speak_for_a_page_with_the_base_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped offence and irony models are trained class-balanced; their probabilities are
    moved to the page's base rate: the odds of every text are multiplied by the base rate's
    odds, so a balanced 0.5 becomes the base rate and no decision between texts changes."""
    data = tmp_path / "datasets"
    write_tiny_datasets(data)
    shifted, plain = tmp_path / "shifted", tmp_path / "plain"
    assert (
        main(
            [
                "--data",
                str(data),
                "--out",
                str(shifted),
                "--small",
                "--cache",
                str(tmp_path / "cache"),
            ]
        )
        == 0
    )
    for name in ("offensive", "irony"):
        spec = dataclasses.replace(fit.SPECS[name], base_rate=None)
        monkeypatch.setitem(fit.SPECS, name, spec)
    assert (
        main(
            [
                "--data",
                str(data),
                "--out",
                str(plain),
                "--small",
                "--cache",
                str(tmp_path / "cache"),
            ]
        )
        == 0
    )

    texts = ["sei un idiota", "what a lovely day", "oh great, another delay", "ciao a tutti"]
    batch = features.featurise(texts)
    for name, rate in (("offensive", 0.08), ("irony", 0.12)):
        page = LinearModel.load(shifted / f"{name}.npz")
        balanced = LinearModel.load(plain / f"{name}.npz")
        assert page.base_rate == pytest.approx(rate) and balanced.base_rate is None
        p_page = page.proba(page.logits(batch))[:, 0].astype(np.float64)
        p_bal = balanced.proba(balanced.logits(batch))[:, 0].astype(np.float64)
        moved = np.log(p_page / (1 - p_page)) - np.log(p_bal / (1 - p_bal))
        assert moved == pytest.approx([math.log(rate / (1 - rate))] * len(texts), abs=1e-3)


def test_sentiment_offsets_per_language_are_saved_and_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crisisdesk.analysis.linear import ModelScorer

    data = tmp_path / "datasets"
    write_tiny_datasets(data)
    out = tmp_path / "models"
    # six training texts per language here; the shipped spec asks for 5,000
    spec = dataclasses.replace(fit.SPECS["sentiment"], offsets_min_rows=6)
    monkeypatch.setitem(fit.SPECS, "sentiment", spec)
    assert (
        main(
            ["--data", str(data), "--out", str(out), "--small", "--cache", str(tmp_path / "cache")]
        )
        == 0
    )
    reported = json.loads((out / "metrics.json").read_text(encoding="utf-8"))["models"]
    model = LinearModel.load(out / "sentiment.npz")
    counts = reported["sentiment"]["train_languages"]
    # only languages with enough texts have a row; no "*" row for the others
    assert set(model.offsets) == {lang for lang, n in counts.items() if n >= 6}
    assert "it" in model.offsets and counts["it"] == 6
    assert {k: [round(float(v), 2) for v in o] for k, o in model.offsets.items()} == reported[
        "sentiment"
    ]["offsets"]
    assert reported["offensive"]["offsets"] is None  # binary models have none

    # the scorer adds the offsets of each text's language, and only of that language
    models = {n: LinearModel.load(out / f"{n}.npz") for n in ("language", "offensive", "irony")}
    texts = ["il treno è in ritardo", "the train is late again"]
    plain = ModelScorer({**models, "sentiment": dataclasses.replace(model, offsets={})}, "v")
    push = np.asarray([0.0, 0.0, 50.0], dtype=np.float32)  # classes are neg, neu, pos
    leaning = dataclasses.replace(model, offsets={"it": push})
    tilted = ModelScorer({**models, "sentiment": leaning}, "v")
    before, after = plain.score(texts, ["it", "en"]), tilted.score(texts, ["it", "en"])
    assert after[0].sentiment_scores["positive"] > 0.99 > before[0].sentiment_scores["positive"]
    assert after[1].sentiment_scores == before[1].sentiment_scores


def test_sentipolc_subjective_tweets_without_polarity_are_not_neutral(tmp_path: Path) -> None:
    """UMSAB's Italian neutral class is SENTIPOLC's objective tweets: a subjective tweet with no
    polarity is left out, not taught as neutral; mixed polarity is left out as before."""
    data = tmp_path / "datasets"
    write_tiny_datasets(data)
    (data / "sentipolc2016").mkdir()
    rows = [
        ("1", "0", "0", "0", "il treno delle nove parte dal binario tre"),  # objective
        ("2", "1", "1", "0", "che bella giornata al mare con voi"),  # positive
        ("3", "1", "0", "1", "servizio pessimo, mai più con questa compagnia"),  # negative
        ("4", "1", "0", "0", "chissà cosa diranno domani i ministri"),  # subjective, no polarity
        ("5", "1", "1", "1", "bravi i cuochi ma il conto era salatissimo"),  # mixed
    ]
    (data / "sentipolc2016" / "train.csv").write_text(
        '"idtwitter","subj","opos","oneg","iro","lpos","lneg","top","text"\n'
        + "".join(
            f'"{i}","{subj}","{pos}","{neg}","0","0","0","1","{t}"\n'
            for i, subj, pos, neg, t in rows
        ),
        encoding="utf-8",
    )
    train = datasets.TASKS["sentiment"](data).train
    got = {
        text: label
        for text, label, source in zip(train.texts, train.labels, train.sources, strict=True)
        if source == "sentipolc2016"
    }
    assert got == {
        "il treno delle nove parte dal binario tre": "neutral",
        "che bella giornata al mare con voi": "positive",
        "servizio pessimo, mai più con questa compagnia": "negative",
    }


def test_out_of_fold_logits_are_those_of_one_vs_rest_folds() -> None:
    """The folds' binary fits run as separate jobs; the logits must be the one-vs-rest ones."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.multiclass import OneVsRestClassifier

    rng = np.random.default_rng(3)
    words = ["good", "bad", "late", "great", "train", "cake", "awful", "fine", "today", "again"]
    texts = [" ".join(rng.choice(words, size=6)) for _ in range(120)]
    y = np.asarray([i % 3 for i in range(120)])
    x = fit.matrix(texts, 10)
    spec = dataclasses.replace(fit.SPECS["sentiment"], naive_bayes=0.0)
    got = fit.out_of_fold_logits(spec, 7, {"C": 1.0}, x, y, 3)
    want = np.zeros_like(got)
    folds = StratifiedKFold(fit.OFFSET_FOLDS, shuffle=True, random_state=7)
    for train, held in folds.split(x, y):
        model = OneVsRestClassifier(
            LogisticRegression(
                solver="liblinear", dual=True, max_iter=spec.max_iter, random_state=7
            )
        ).fit(x[train], y[train])
        want[held] = model.decision_function(x[held])
    assert np.allclose(got, want, atol=1e-6)
    assert np.abs(got).max() > 0  # the models learned something


def test_naive_bayes_scales_are_folded_into_the_weights() -> None:
    """A model fitted on scaled columns must give, with its shipped weights on the plain columns,
    the logits it gives on the scaled ones: the scaling costs inference nothing."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(5)
    words = ["good", "bad", "late", "great", "train", "cake", "awful", "fine", "today", "again"]
    texts = [" ".join(rng.choice(words, size=6)) for _ in range(90)]
    y = np.asarray([i % 3 for i in range(90)])
    x = fit.matrix(texts, 10)
    spec = fit.SPECS["sentiment"]
    scales = fit.naive_bayes_scales(x, y, 3, 0.5)
    assert scales.shape == (x.shape[1], 3) and np.ptp(scales) > 0  # the columns differ
    weights, bias = fit.fit_linear(spec, 7, {"C": 1.0}, x, y, 3, scales)
    for k in range(3):
        plain = LogisticRegression(
            solver="liblinear", dual=True, max_iter=spec.max_iter, random_state=7, C=1.0
        ).fit(x.multiply(scales[:, k]).tocsr(), (y == k).astype(int))
        want = plain.decision_function(x.multiply(scales[:, k]).tocsr())
        assert np.allclose(x @ weights[:, k] + bias[k], want, atol=1e-6)
    # without scales the one-vs-rest fits are the plain ones
    unscaled, _ = fit.fit_linear(spec, 7, {"C": 1.0}, x, y, 3, None)
    assert not np.allclose(unscaled, weights)
