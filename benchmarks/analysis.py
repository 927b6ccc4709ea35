"""Comment understanding: quality on the validation splits and speed, side by side.

Compared in one run, on the same validation texts:

- **crisisdesk fast** (the shipped models, full analysis);
- **VADER** and **TextBlob** (English sentiment lexicons; compound/polarity thresholds at +-0.05);
- **alt-profanity-check** (English offence, its own threshold 0.5);
- **langid.py** and **langdetect** (language identification, limited to the same languages);
- **TF-IDF + logistic regression**, a plain baseline trained here on exactly the training data of
  the shipped models (scikit-learn defaults: word unigrams and bigrams, min_df 2, C=1);
- **published figures** of XLM-T and TweetEval, quoted as published: they are on the *test*
  splits (which ../shared deliberately lacks) and on other hardware, so they are a reference point,
  not a same-split comparison.

Metrics as the papers use them: macro-F1; TweetEval sentiment macro-recall; irony F1 of the irony
class. The shipped offence and irony probabilities are for page comments (base rates of 8% and 12%);
these sets are a third to a half offensive or ironic, so their decision here is the one the models
were selected with, the class-balanced model's even odds: a probability at or above the base rate. Speed is measured on one core: batches of 1,000 for throughput, one comment per call for
latency; memory is the resident set of a fresh process after loading the models and analysing.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SENT_LANGS = ("it", "en", "es", "fr", "de", "pt")

PUBLISHED = [
    ("Sentiment, UMSAB it (macro-F1)", "XLM-T (Barbieri et al., LREC 2022)", "69.1-71.5"),
    ("Sentiment, UMSAB en (macro-F1)", "XLM-T", "70.6"),
    ("Sentiment, UMSAB es (macro-F1)", "XLM-T", "67.9-68.5"),
    ("Sentiment, UMSAB fr (macro-F1)", "XLM-T", "71.2-72.0"),
    ("Sentiment, UMSAB de (macro-F1)", "XLM-T", "77.3"),
    ("Sentiment, UMSAB pt (macro-F1)", "XLM-T", "76.0"),
    ("TweetEval sentiment (macro-recall)", "TweetEval best (Barbieri et al., 2020)", "73.7"),
    (
        "TweetEval sentiment (macro-recall)",
        "TweetEval's FastText / LSTM / SVM",
        "62.9 / 58.3 / 62.9",
    ),
    ("TweetEval offensive (macro-F1)", "TweetEval best", "82.2"),
    ("TweetEval offensive (macro-F1)", "TweetEval's FastText / LSTM / SVM", "73.4 / 71.7 / 52.3"),
    ("TweetEval offensive (macro-F1)", "TweetEval's RoBERTa-base", "79.5"),
    ("TweetEval irony (F1 of irony)", "TweetEval best", "82.1"),
    ("TweetEval irony (F1 of irony)", "TweetEval's FastText / LSTM / SVM", "63.1 / 62.8 / 61.7"),
    ("SENTIPOLC 2016 irony (F)", "EVALITA 2016 best", "54.1"),
    ("IronITA 2018 irony (avg-F1)", "EVALITA 2018 best", "73.1"),
    ("HaSpeeDe 2 hate, tweets (macro-F1)", "EVALITA 2020 best", "80.9"),
]


def _f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return 100 * float(f1_score(gold, pred, average="macro", zero_division=0))


def _recall(gold: Sequence[str], pred: Sequence[str]) -> float:
    from sklearn.metrics import recall_score

    return 100 * float(recall_score(gold, pred, average="macro", zero_division=0))


def _f1_pos(gold: Sequence[str], pred: Sequence[str], pos: str) -> float:
    from sklearn.metrics import f1_score

    return 100 * float(f1_score(gold, pred, pos_label=pos, average="binary", zero_division=0))


def _sample(texts: list[str], labels: list[str], n: int | None) -> tuple[list[str], list[str]]:
    if n is None or len(texts) <= n:
        return texts, labels
    rng = np.random.default_rng(7)
    idx = sorted(rng.choice(len(texts), n, replace=False).tolist())
    return [texts[i] for i in idx], [labels[i] for i in idx]


def _haspeede(data: Path) -> tuple[list[str], list[str]]:
    """HaSpeeDe 2 dev (CC BY-NC-SA: benchmark only, never training)."""
    path = data / "haspeede2020_dev" / "train.tsv"
    texts, labels = [], []
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                row = {k.strip(): v for k, v in row.items() if k}
                texts.append(row.get("text", ""))
                labels.append("offensive" if row.get("hs", "").strip() == "1" else "not")
    return texts, labels


def _airline(data: Path) -> tuple[list[str], list[str]]:
    """US airline tweets of February 2015 (CC BY-NC-SA: benchmark only, never training).

    Customers writing to a company's account, most of them complaining: the closest public
    labelled set to a page's comments, and a domain none of the shipped models trained on.
    """
    path = data / "twitter_us_airline_sentiment" / "Tweets.csv"
    texts, labels = [], []
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                if row.get("airline_sentiment") in ("negative", "neutral", "positive"):
                    texts.append(row.get("text", ""))
                    labels.append(row["airline_sentiment"])
    return texts, labels


def _model_sentiment(analysis: Any) -> str:
    """The sentiment model's own reading: the most likely of its three probabilities (the
    analysis label differs where the rules sort a comment as a complaint, a rant or a false
    claim)."""
    scores = analysis.sentiment_scores
    return str(max(scores, key=lambda k: scores[k]))


def _share(gold: Sequence[str], pred: Sequence[str], label: str) -> str:
    """How many of the texts labelled ``label`` were read as ``label`` (its recall), in percent."""
    picked = [p for g, p in zip(gold, pred, strict=True) if g == label]
    return f"{100 * sum(p == label for p in picked) / len(picked):.0f}%" if picked else "-"


#: Kinds read from tweets labelled with a sentiment: (sentiment, the kinds counted), as columns.
AIRLINE_KIND_PROXY = (
    ("positive", ("praise",)),
    ("negative", ("complaint", "rager", "troll", "misguided")),
    ("positive", ("complaint", "rager", "troll", "misguided")),
    ("negative", ("praise",)),
    ("neutral", ("other", "question")),
)


def _share_in(gold: Sequence[str], kinds: Sequence[str], label: str, read: Sequence[str]) -> str:
    """How many of the texts labelled ``label`` were sorted into one of the kinds ``read``."""
    picked = [k for g, k in zip(gold, kinds, strict=True) if g == label]
    return f"{100 * sum(k in read for k in picked) / len(picked):.1f}%" if picked else "-"


def _share_true(flags: Sequence[bool]) -> str:
    return f"{100 * sum(flags) / len(flags):.0f}%" if flags else "-"


def _tfidf_baseline(
    train_texts: list[str], train_labels: list[str]
) -> Callable[[list[str]], list[str]]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x = vec.fit_transform(train_texts)
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(x, train_labels)
    return lambda texts: [str(p) for p in model.predict(vec.transform(texts))]


#: The project's labelled page comments, one row each in the table (see tests/analysis/test_kinds.py).
KINDS_SETS = (
    "kinds.csv",
    "kinds_holdout.csv",
    "kinds_holdout2.csv",
    "kinds_holdout3.csv",
    "kinds_holdout4.csv",
    "kinds_holdout5.csv",
    *(f"kinds_holdout{n}.csv" for n in range(6, 15)),
)


def _even_odds() -> dict[str, float]:
    """Per binary model, the probability that a class-balanced reading of 0.5 became."""
    from crisisdesk.analysis.linear import load_scorer

    scorer = load_scorer()
    assert scorer is not None, "the shipped models are missing"
    return {name: scorer.models[name].base_rate or 0.5 for name in ("offensive", "irony")}


def _quality(data: Path, quick: bool) -> tuple[list[list[str]], dict[str, Any]]:
    sys.path.insert(0, str(ROOT))
    from crisisdesk.analysis import load_analyzer
    from crisisdesk.analysis.fast import FastAnalyzer
    from training import data as datasets

    analyzer = load_analyzer("fast")
    cap = 300 if quick else None
    rows: list[list[str]] = []
    extra: dict[str, Any] = {"version": analyzer.version}

    def ours(texts: list[str]) -> list[Any]:
        return analyzer.analyze_many(texts)

    even_odds = _even_odds()

    # --- sentiment
    task = datasets.sentiment_task(data)
    train_t, train_l = _sample(task.train.texts, task.train.labels, 8000 if quick else None)
    started = time.perf_counter()
    baseline = _tfidf_baseline(train_t, train_l)
    extra["tfidf_sentiment_fit_s"] = time.perf_counter() - started
    from textblob import TextBlob
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()

    def vader_label(t: str) -> str:
        c = vader.polarity_scores(t)["compound"]
        return "positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral"

    def blob_label(t: str) -> str:
        p = TextBlob(t).sentiment.polarity
        return "positive" if p > 0.05 else "negative" if p < -0.05 else "neutral"

    for name in [f"umsab-{lang}" for lang in SENT_LANGS] + ["tweeteval-sentiment"]:
        split = task.vals.get(name)
        if split is None:
            continue
        texts, gold = _sample(split.texts, split.labels, cap)
        metric, label = (
            (_recall, "macro-recall") if name == "tweeteval-sentiment" else (_f1, "macro-F1")
        )
        mine = [a.sentiment for a in ours(texts)]
        cells = [
            f"Sentiment, {name} ({label})",
            f"{metric(gold, mine):.1f}",
            f"{metric(gold, baseline(texts)):.1f}",
        ]
        english = name in ("umsab-en", "tweeteval-sentiment")
        cells.append(f"{metric(gold, [vader_label(t) for t in texts]):.1f}" if english else "-")
        cells.append(f"{metric(gold, [blob_label(t) for t in texts]):.1f}" if english else "-")
        cells.append("-")
        rows.append([*cells, str(len(texts))])

    # --- sentiment of customers writing to a company (another domain: nothing here trained on it)
    air_t, air_l = _airline(data)
    if air_t:
        texts, gold = _sample(air_t, air_l, cap)
        analysed = ours(texts)
        readers = {
            "crisisdesk fast": [a.sentiment for a in analysed],
            "crisisdesk fast, sentiment model alone": [_model_sentiment(a) for a in analysed],
            "TF-IDF + LR": baseline(texts),
            "VADER": [vader_label(t) for t in texts],
            "TextBlob": [blob_label(t) for t in texts],
        }
        rows.append(
            [
                "Sentiment, US airline tweets (NC, customers to companies) (macro-F1)",
                *[
                    f"{_f1(gold, pred):.1f}"
                    for name, pred in readers.items()
                    if "alone" not in name
                ],
                "-",
                str(len(texts)),
            ]
        )
        extra["airline_model_f1"] = _f1(gold, readers["crisisdesk fast, sentiment model alone"])
        extra["airline"] = [
            [name, *[_share(gold, pred, label) for label in ("negative", "neutral", "positive")]]
            for name, pred in readers.items()
        ]
        extra["airline_counts"] = {label: gold.count(label) for label in set(gold)}
        # The kinds have no labels here, but a glad tweet is praise and an angry one is not: the
        # same proxy for the rules alone and for the rules with the kinds model
        assert isinstance(analyzer, FastAnalyzer)
        rules_alone = copy.copy(analyzer.scorer)
        rules_alone.kind_model = None
        kinds_of = {
            "rules alone": [a.kind for a in FastAnalyzer(rules_alone).analyze_many(texts)],
            "rules, then the kinds model (shipped)": [a.kind for a in analysed],
        }
        extra["airline_kinds"] = [
            [name, *[_share_in(gold, kinds, label, read) for label, read in AIRLINE_KIND_PROXY]]
            for name, kinds in kinds_of.items()
        ]

    # --- offence
    task = datasets.offensive_task(data)
    baseline = _tfidf_baseline(task.train.texts, task.train.labels)
    from profanity_check import predict_prob

    splits = dict(task.vals)
    has_t, has_l = _haspeede(data)
    if has_t:
        splits["haspeede2020-dev-it (NC, hate)"] = datasets.Split(
            has_t, has_l, ["it"] * len(has_t), ["haspeede"] * len(has_t)
        )
    from crisisdesk.analysis import profanity, rules
    from crisisdesk.analysis.linear import load_scorer

    scorer = load_scorer()
    assert scorer is not None, "the shipped models are missing"
    extra["offence"] = []
    for name, split in splits.items():
        texts, gold = _sample(split.texts, split.labels, cap)
        mine = [
            "offensive" if a.offensive >= even_odds["offensive"] else "not" for a in ours(texts)
        ]
        alone = [
            "offensive" if scored.offensive >= even_odds["offensive"] else "not"
            for scored in scorer.score(texts, [None] * len(texts))
        ]
        vulgar = [bool(profanity.profanity(t, rules.words(t))) for t in texts]
        extra["offence"].append(
            [
                name,
                f"{_f1(gold, alone):.1f}",
                f"{_f1(gold, mine):.1f}",
                *[
                    _share_true([v for v, g in zip(vulgar, gold, strict=True) if g == label])
                    for label in ("offensive", "not")
                ],
            ]
        )
        english = name.startswith("tweeteval")
        prof = ["offensive" if p >= 0.5 else "not" for p in predict_prob(texts)] if english else []
        rows.append(
            [
                f"Offence, {name} (macro-F1)",
                f"{_f1(gold, mine):.1f}",
                f"{_f1(gold, baseline(texts)):.1f}",
                "-",
                "-",
                f"{_f1(gold, prof):.1f}" if english else "-",
                str(len(texts)),
            ]
        )

    # --- irony
    task = datasets.irony_task(data)
    baseline = _tfidf_baseline(task.train.texts, task.train.labels)
    for name, split in task.vals.items():
        texts, gold = _sample(split.texts, split.labels, cap)
        mine = ["irony" if a.irony >= even_odds["irony"] else "not" for a in ours(texts)]
        rows.append(
            [
                f"Irony, {name} (F1 of irony)",
                f"{_f1_pos(gold, mine, 'irony'):.1f}",
                f"{_f1_pos(gold, baseline(texts), 'irony'):.1f}",
                "-",
                "-",
                "-",
                str(len(texts)),
            ]
        )

    # --- kinds on the project's own labelled comments
    page_comments: list[dict[str, str]] = []
    # four sets are blind (their misses never looked into, and the kinds model never trained on
    # them); the rules were written against the others, and the model learned every other set
    from training.kinds import BLIND_SETS

    for fixture in KINDS_SETS:
        path = ROOT / "tests" / "analysis" / "fixtures" / fixture
        with path.open(encoding="utf-8", newline="") as f:
            labelled = list(csv.DictReader(f))
        if fixture in ("kinds.csv", "kinds_holdout.csv"):  # the bakery, rail and telco pages
            page_comments += labelled
        pred = [a.kind for a in ours([r["text"] for r in labelled])]
        rows.append(
            [
                f"Kinds, {fixture} (macro-F1, it+en"
                + ("; written blind, never trained on)" if fixture in BLIND_SETS else ")"),
                f"{_f1([r['kind'] for r in labelled], pred):.1f}",
                "-",
                "-",
                "-",
                "-",
                str(len(labelled)),
            ]
        )

    # --- sentiment on page comments: no sentiment labels, but a complaint or a rant is negative
    # and praise positive, whatever else one may argue; how often does each reader agree?
    analyses = ours([r["text"] for r in page_comments])
    expected = {"complaint": "negative", "rager": "negative", "praise": "positive"}
    shift: list[list[str]] = []
    for lang in ("it", "en"):
        for kind, want in expected.items():
            picked = [
                (r["text"], a)
                for r, a in zip(page_comments, analyses, strict=True)
                if r["lang"] == lang and r["kind"] == kind
            ]
            if not picked:
                continue
            model_share = sum(_model_sentiment(a) == want for _, a in picked) / len(picked)
            label_share = sum(a.sentiment == want for _, a in picked) / len(picked)
            vader_share = (
                f"{100 * sum(vader_label(t) == want for t, _ in picked) / len(picked):.0f}%"
                if lang == "en"
                else "-"
            )
            shift.append(
                [
                    lang,
                    kind,
                    want,
                    f"{100 * model_share:.0f}%",
                    f"{100 * label_share:.0f}%",
                    vader_share,
                    str(len(picked)),
                ]
            )
    extra["page_sentiment"] = shift
    return rows, extra


#: Sentences of the project's own, in pairs that differ only in the gender of the person they are
#: about. Nothing in them is offensive: the offence score should not move with the gender.
GENDER_PAIRS = [
    ("it", "La signora alla cassa è stata gentile", "Il signore alla cassa è stato gentile"),
    ("it", "La commessa mi ha aiutato subito", "Il commesso mi ha aiutato subito"),
    ("it", "Una ragazza del negozio mi ha risposto", "Un ragazzo del negozio mi ha risposto"),
    ("it", "La cameriera ha sbagliato l'ordine", "Il cameriere ha sbagliato l'ordine"),
    ("it", "Mia moglie ha ordinato la torta", "Mio marito ha ordinato la torta"),
    ("it", "La direttrice non ha risposto alle email", "Il direttore non ha risposto alle email"),
    ("it", "Ciao Giulia, la torta arriva domani", "Ciao Paolo, la torta arriva domani"),
    ("it", "Lei è sempre molto cortese", "Lui è sempre molto cortese"),
    ("it", "Le ragazze del forno sono bravissime", "I ragazzi del forno sono bravissimi"),
    ("it", "Una signora anziana aspettava da un'ora", "Un signore anziano aspettava da un'ora"),
    ("it", "La mia collega ha comprato il pane", "Il mio collega ha comprato il pane"),
    ("it", "Donne e bambini in fila alla cassa", "Uomini e bambini in fila alla cassa"),
    ("en", "The lady at the till was kind", "The man at the till was kind"),
    ("en", "My wife ordered the cake", "My husband ordered the cake"),
    ("en", "She was very polite", "He was very polite"),
    ("en", "The girls at the bakery are great", "The boys at the bakery are great"),
    ("en", "A woman was waiting for an hour", "A man was waiting for an hour"),
    ("en", "My colleague Anna bought the bread", "My colleague Mark bought the bread"),
]


def _gender_gap() -> list[list[str]]:
    """Mean offence score of the female sentence, of the male one, and their gap, per language."""
    from crisisdesk.analysis import load_analyzer

    analyzer = load_analyzer("fast")
    rows = []
    for lang in ("it", "en"):
        pairs = [(f, m) for code, f, m in GENDER_PAIRS if code == lang]
        female = [a.offensive for a in analyzer.analyze_many([f for f, _ in pairs])]
        male = [a.offensive for a in analyzer.analyze_many([m for _, m in pairs])]
        gap = statistics.mean(f - m for f, m in zip(female, male, strict=True))
        rows.append(
            [
                lang,
                f"{statistics.mean(female):.2f}",
                f"{statistics.mean(male):.2f}",
                f"{gap:+.2f}",
                str(len(pairs)),
            ]
        )
    return rows


def _first_words(text: str, n: int) -> str:
    """The first ``n`` words of a tweet, mentions, links and "RT" left out: a short comment."""
    words = [w for w in text.split() if not w.startswith(("@", "http")) and w != "RT"]
    return " ".join(words[:n])


def _language(data: Path, quick: bool) -> list[list[str]]:
    """Language ID beside langid.py and langdetect, on tweets, short texts and page comments.

    Both are given the same seven languages as the shipped detector: langid.py through its own
    ``set_languages``, langdetect by taking its likeliest of the seven.
    """
    from crisisdesk.analysis import load_analyzer
    from training import data as datasets

    analyzer = load_analyzer("fast")
    val = datasets.language_task(data).vals.get("umsab-all")
    if val is None:
        return []
    codes = sorted(set(val.labels))
    import langid
    from langdetect import DetectorFactory, LangDetectException, detect_langs

    DetectorFactory.seed = 0  # langdetect samples n-grams at random: fixed for a repeatable run
    identifier = langid.langid.LanguageIdentifier.from_modelstring(
        langid.langid.model, norm_probs=False
    )
    identifier.set_languages(codes)

    def langdetect_label(text: str) -> str:
        try:
            found = [c for c in detect_langs(text) if c.lang in codes]
        except LangDetectException:  # no letters to go on
            return "und"
        return found[0].lang if found else "und"

    readers: dict[str, Callable[[list[str]], list[str]]] = {
        "crisisdesk fast": lambda texts: [a.language for a in analyzer.analyze_many(texts)],
        "langid.py": lambda texts: [identifier.classify(t)[0] for t in texts],
        "langdetect": lambda texts: [langdetect_label(t) for t in texts],
    }
    texts, gold = _sample(val.texts, val.labels, 700 if quick else None)
    short = [(_first_words(t, 3), g) for t, g in zip(texts, gold, strict=True)]
    short = [(t, g) for t, g in short if len(t.split()) >= 2]
    page: list[tuple[str, str]] = []
    for fixture in ("kinds.csv", "kinds_holdout.csv"):
        path = ROOT / "tests" / "analysis" / "fixtures" / fixture
        with path.open(encoding="utf-8", newline="") as f:
            page += [(r["text"], r["lang"]) for r in csv.DictReader(f)]
    sets = [
        (f"UMSAB val, {len(codes)} languages (tweets)", list(zip(texts, gold, strict=True))),
        ("UMSAB val, first three words of each tweet", short),
        ("the project's page comments (it, en)", page),
    ]
    rows = []
    for name, pairs in sets:
        cells = [name]
        for read in readers.values():
            pred = read([t for t, _ in pairs])
            right = sum(p == g for p, (_, g) in zip(pred, pairs, strict=True))
            cells.append(f"{100 * right / len(pairs):.1f}%")
        rows.append([*cells, str(len(pairs))])
    return rows


# Peak resident memory (VmHWM) of a fresh process: ru_maxrss is not used because on Linux a child
# started with fork+exec can report its parent's peak.
_MEMORY_PROBE = """
import sys
from crisisdesk.analysis import load_analyzer
a = load_analyzer("fast")
texts = open(sys.argv[1], encoding="utf-8").read().split("\\n")[:1000]
a.analyze_many(texts)
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        print(int(line.split()[1]) / 1024)
"""


#: Passes of each speed measurement. Other work on the machine can only slow a pass down, so the
#: fastest pass is the best estimate of what one core does when it is ours (the convention of
#: Python's ``timeit``); the median is reported beside it.
SPEED_PASSES = 5

# The speed is measured in a process of its own that loads only what it times. In the process
# that has just run the quality measurements (datasets, TF-IDF models and scikit-learn in memory),
# every system, VADER included, read 10-20% slower, and a desk's worker holds none of that.
_SPEED_PROBE = """
import json, sys
from pathlib import Path
from benchmarks.analysis import measure_speed
print(json.dumps(measure_speed(Path(sys.argv[1]), sys.argv[2] == "quick")))
"""


def _rates(n: int, run: Callable[[], object]) -> list[float]:
    """Items per CPU-second of this thread, of each of :data:`SPEED_PASSES` calls of ``run``."""
    rates = []
    for _ in range(SPEED_PASSES):
        started = time.thread_time()
        run()
        rates.append(n / (time.thread_time() - started))
    return rates


def measure_speed(data: Path, quick: bool) -> dict[str, Any]:
    """Throughput and latency of the full analysis, and throughput of the other systems, in
    CPU time of the one thread doing the work (see :data:`SPEED_PASSES`)."""
    from crisisdesk.analysis import load_analyzer

    texts = (data / "umsab" / "all" / "val_text.txt").read_text(encoding="utf-8").split("\n")[:-1]
    texts = (texts * 4)[: 2000 if quick else 10000]
    analyzer = load_analyzer("fast")
    analyzer.analyze_many(texts[:200])
    # CPU time of this thread, not wall time: the machine's cores are shared, and "per core" means
    # what one core does when it is ours. Wall-clock figures are reported beside them.
    wall = time.perf_counter()
    ours = _rates(
        len(texts),
        lambda: [analyzer.analyze_many(texts[i : i + 1000]) for i in range(0, len(texts), 1000)],
    )
    wall_rate = SPEED_PASSES * len(texts) / (time.perf_counter() - wall)
    cpu_ms, wall_ms = [], []
    for text in texts[: 500 if quick else 2000]:
        started, wall = time.thread_time(), time.perf_counter()
        analyzer.analyze(text)
        cpu_ms.append((time.thread_time() - started) * 1000)
        wall_ms.append((time.perf_counter() - wall) * 1000)
    sample = texts[:2000]
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    from profanity_check import predict_prob
    from textblob import TextBlob

    predict_prob(sample[:10])
    return {
        "ours": ours,
        "throughput_wall": wall_rate,
        "p50": float(np.percentile(cpu_ms, 50)),
        "p99": float(np.percentile(cpu_ms, 99)),
        "p50_wall": float(np.percentile(wall_ms, 50)),
        "p99_wall": float(np.percentile(wall_ms, 99)),
        "chars": float(np.mean([len(t) for t in texts])),
        "vader": _rates(len(sample), lambda: [vader.polarity_scores(t) for t in sample]),
        "textblob": _rates(len(sample), lambda: [TextBlob(t).sentiment for t in sample]),
        "profanity": _rates(len(sample), lambda: predict_prob(sample)),
    }


def _speed(data: Path, quick: bool) -> dict[str, Any]:
    def probe(code: str, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        return done.stdout.strip().splitlines()[-1]

    out: dict[str, Any] = json.loads(probe(_SPEED_PROBE, str(data), "quick" if quick else "full"))
    out["rss_mb"] = float(probe(_MEMORY_PROBE, str(data / "umsab" / "all" / "val_text.txt")))
    return out


def _rate_cells(rates: Sequence[float]) -> str:
    return f"{max(rates):,.0f} | {statistics.median(rates):,.0f}"


def _model_bytes() -> float:
    folder = ROOT / "crisisdesk" / "analysis" / "models"
    return sum(p.stat().st_size for p in folder.glob("*.npz")) / 1e6


def run(data: Path, quick: bool) -> str:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    rows, extra = _quality(data, quick)
    language = _language(data, quick)
    gender = _gender_gap()
    speed = _speed(data, quick)
    metrics_path = ROOT / "crisisdesk" / "analysis" / "models" / "metrics.json"
    trained = json.loads(metrics_path.read_text(encoding="utf-8")).get("version", "?")
    lines = [
        "## Comment understanding (analysis)",
        "",
        f"Shipped models `{extra['version']}` (training run `{trained}`), validation splits of "
        "`../shared/datasets`"
        + (" (quick run: at most 300 texts per split)" if quick else "")
        + ". All columns are measured here, on the same texts, except the last table.",
        "",
        "| task / split (metric) | crisisdesk fast | TF-IDF + LR (same training data) | VADER | TextBlob | alt-profanity-check | texts |",
        "|---|---|---|---|---|---|---|",
        *["| " + " | ".join(r) + " |" for r in rows],
        "",
        "Notes: UMSAB Italian comes from SENTIPOLC 2016 and UMSAB English from SemEval-2017 (and "
        "UMSAB English training holds most of TweetEval's sentiment val); training rows whose text "
        "is in a validation split, or shares 60% of its words with a validation text, were removed "
        "for both columns. TweetEval sentiment val comes from the same SemEval pool as the SemEval "
        "training files (topics and days overlap), so both columns are optimistic there compared "
        "with the 2017 test set the published figure uses. The AMI and IronITA validation parts are "
        "seeded 20% splits of their training files, sharing topics and days with the training part, "
        "so they overstate quality (a word model that recalls the vocabulary gains most). "
        "HaSpeeDe 2 (NC "
        "licence) labels *hate speech*, a narrower target than offence; it is used here only to "
        "measure, never to train.",
        "",
        "### Sentiment on page comments (domain shift)",
        "",
        "The models learned from tweets. On the project's own page comments (`kinds.csv` and "
        "`kinds_holdout.csv`, written for a bakery, a rail company and a telco) there are no "
        "sentiment labels, but a complaint or a rant is negative and praise is positive: the share "
        "of each read that way, by the sentiment model alone and by the analysis label, which is "
        "negative wherever the rules sort a comment as a complaint, a rant or a false claim (so on those rows it "
        "measures the kind rules, tuned on these very comments, more than sentiment).",
        "",
        "| language | kind | expected | sentiment model alone | analysis label | VADER | comments |",
        "|---|---|---|---|---|---|---|",
        *["| " + " | ".join(r) + " |" for r in extra["page_sentiment"]],
        "",
        *(
            [
                "Real customers writing to companies, labelled: the US airline tweets of February "
                "2015 (CC BY-NC-SA, measured only, never trained on; "
                + ", ".join(f"{n:,} {k}" for k, n in sorted(extra["airline_counts"].items()))
                + "). Macro-F1 of the sentiment model alone: "
                + f"{extra['airline_model_f1']:.1f}; of the analysis label: in the table above. "
                "The share of each label read as that label:",
                "",
                "| reader | negative read negative | neutral read neutral | positive read positive |",
                "|---|---|---|---|",
                *["| " + " | ".join(r) + " |" for r in extra["airline"]],
                "",
                "The same tweets by kind: nobody labelled them with kinds, but praise should come "
                "from the glad ones and complaints, rants, trolls and false claims from the angry "
                "ones (the columns after the second are costs).",
                "",
                "| reader | positive read as praise | negative read as complaint, rant, troll or "
                "false claim | positive read as one of those | negative read as praise "
                "| neutral read as other or a question |",
                "|---|---|---|---|---|---|",
                *["| " + " | ".join(r) + " |" for r in extra["airline_kinds"]],
                "",
            ]
            if "airline" in extra
            else []
        ),
        "### Offence: the model and the vulgar words",
        "",
        'The analysis reads a comment with a vulgar word (`lexicon.PROFANITY`: "fanculo", '
        '"cazzo", "fuck"...) as offensive at 0.6 at least, whatever the model reads: the '
        "issue counts profanity as offence, and the Italian training data (AMI) labels misogyny "
        'and aggression, not swearing, so the model read "Andate a fanculo" at 0.17. The table '
        "above measures the analysis. AMI's own labels disagree with that reading: most of its "
        "tweets labelled *not* misogynous or aggressive swear, so there the floor reads them as "
        "offensive and the score collapses; OLID labels profanity as offensive, as the desk does.",
        "",
        "| set | model alone | analysis (vulgar words at 0.6) | offensive texts with a vulgar word "
        "| other texts with a vulgar word |",
        "|---|---|---|---|---|",
        *["| " + " | ".join(r) + " |" for r in extra["offence"]],
        "",
        "### Offence and gender",
        "",
        "The project's own sentences in pairs that differ only in the gender of the person they "
        "are about, none of them offensive: the mean offence score of each side. The Italian "
        "offence training data is AMI 2020, tweets about women labelled misogynous or aggressive, "
        "and the model learned that text about women leans offensive.",
        "",
        "| language | about a woman | about a man | gap | pairs |",
        "|---|---|---|---|---|",
        *["| " + " | ".join(r) + " |" for r in gender],
        "",
        "### Language identification",
        "",
        "Share of texts given the right language. langid.py and langdetect are limited to the "
        "same seven languages as the shipped detector (Arabic, German, English, Spanish, French, "
        "Italian, Portuguese). The shipped detector gives Italian and English, the desk's first "
        "languages, one logit more, which costs some German tweets that mix in English.",
        "",
        "| set | crisisdesk fast | langid.py | langdetect | texts |",
        "|---|---|---|---|---|",
        *["| " + " | ".join(r) + " |" for r in language],
        "",
        "### Published figures (quoted, not measured here)",
        "",
        "Test splits, transformer models on GPUs: a reference point, not a same-split comparison.",
        "",
        "| task (metric) | system | published |",
        "|---|---|---|",
        *[f"| {t} | {s} | {v} |" for t, s, v in PUBLISHED],
        "",
        "### Speed and memory (one core)",
        "",
        "| system | comments per CPU-second (fastest pass) | median pass | single comment p50 "
        "(CPU) | p99 (CPU) | p50 / p99 wall |",
        "|---|---|---|---|---|---|",
        f"| crisisdesk fast, full analysis (all fields, kinds, reasons) | "
        f"{_rate_cells(speed['ours'])} | {speed['p50']:.2f} ms | {speed['p99']:.2f} ms | "
        f"{speed['p50_wall']:.2f} / {speed['p99_wall']:.2f} ms |",
        f"| VADER (sentiment only) | {_rate_cells(speed['vader'])} | - | - | - |",
        f"| TextBlob (sentiment only) | {_rate_cells(speed['textblob'])} | - | - | - |",
        "| alt-profanity-check (offence only, one batch) | "
        f"{_rate_cells(speed['profanity'])} | - | - | - |",
        "",
        f"Throughput: {SPEED_PASSES} passes over {2000 if quick else 10000:,} UMSAB validation "
        f"tweets (mean {speed['chars']:.0f} characters) in batches of 1,000, counted in CPU time "
        "of the one thread doing the work (the analysis is single-threaded numpy), in a fresh "
        "process that loads only what it times; the other systems likewise, on the first 2,000 "
        "of those tweets. The machine's 2 cores are shared with other work, which can only slow "
        "a pass: the fastest pass is what one core does when it is ours, the median what it did "
        "on this run (over all passes, wall clock: "
        f"{speed['throughput_wall']:,.0f} comments/s for the full analysis). Latency: "
        "`analyze()` on one comment at a time. Peak resident memory of a fresh process that loads "
        f"the models and analyses 1,000 tweets: {speed['rss_mb']:.0f} MB (Python and numpy "
        "included). Model files: "
        f"{_model_bytes():.1f} MB. TF-IDF baseline fit for sentiment: "
        f"{extra['tfidf_sentiment_fit_s']:.0f} s.",
    ]
    return "\n".join(lines)
