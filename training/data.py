"""Readers for the labelled sets in ``../shared/datasets``, and the train/val splits of each task.

Every example carries its language and source, so scores can be reported per language and the model
card can list exactly which sets (and licences) trained each model. Non-commercial (NC) sets are
never read here: HaSpeeDe 2 and the airline/customer-support sets only appear in the benchmarks.

Leakage guards, because these sets overlap:
- UMSAB Italian comes from SENTIPOLC 2016 and UMSAB English from SemEval-2017: UMSAB, SENTIPOLC and
  SemEval training rows whose normalised text is in any validation split are dropped (UMSAB English
  training holds about 1,400 of TweetEval's 2,000 sentiment val tweets).
- SemEval rows flagged ``in_tweeteval_val`` are dropped (they are the TweetEval sentiment val).
- IronITA and SENTIPOLC share texts: IronITA's validation part is held out of SENTIPOLC training too.
- Near-duplicates (retweet waves, quotes with a word changed) of any validation text are dropped
  from training as well: see :class:`NearDuplicates`.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from crisisdesk.analysis.features import normalise, tokens

UMSAB_LANGS = {
    "arabic": "ar",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hindi": "hi",
    "italian": "it",
    "portuguese": "pt",
    "spanish": "es",
}
SENTIMENT_LABELS = ("negative", "neutral", "positive")
SEED = 20261129

#: Licence of every set read for training, for the model card.
LICENCES = {
    "umsab": "UMSAB (cardiffnlp/xlm-t, Apache-2.0 repository; source sets keep their terms)",
    "semeval2017_en": "SemEval-2017 Task 4A (research use)",
    "sentipolc2016": "EVALITA SENTIPOLC 2016 (research use)",
    "tweeteval": "TweetEval (research use; source tasks keep their terms)",
    "ami2020": "EVALITA AMI 2020 (research use)",
    "ironita2018": "EVALITA IronITA 2018 (research use)",
}


@dataclass
class Split:
    """Texts with labels, languages and sources."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def add(self, text: str, label: str, lang: str, source: str) -> None:
        text = text.strip()
        if text:
            self.texts.append(text)
            self.labels.append(label)
            self.langs.append(lang)
            self.sources.append(source)

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class Task:
    """A training set and named validation sets (e.g. ``umsab-it``)."""

    name: str
    train: Split
    vals: dict[str, Split]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[:-1] if path.is_file() else []


def _read_pair(folder: Path, split: str) -> list[tuple[str, str]]:
    texts = _lines(folder / f"{split}_text.txt")
    labels = _lines(folder / f"{split}_labels.txt")
    if len(texts) != len(labels):
        raise ValueError(f"{folder}: {len(texts)} {split} texts but {len(labels)} labels")
    return [(t, label.strip()) for t, label in zip(texts, labels, strict=True)]


def _csv(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return [
            {k.strip(): (v or "") for k, v in row.items() if k}
            for row in csv.DictReader(f, delimiter=delimiter)
        ]


def _split_rows(rows: list[dict[str, str]], val_share: float, salt: str) -> tuple[list, list]:
    """A seeded split for sets that ship only a training file."""
    rng = random.Random(f"{SEED}-{salt}")
    order = list(range(len(rows)))
    rng.shuffle(order)
    cut = int(len(rows) * val_share)
    val_idx = set(order[:cut])
    return [r for i, r in enumerate(rows) if i not in val_idx], [
        r for i, r in enumerate(rows) if i in val_idx
    ]


def _norm_set(texts: Iterable[str]) -> set[str]:
    return {normalise(t) for t in texts}


def _content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in tokens(normalise(text)) if len(w) > 2 and w.isalpha())


class NearDuplicates:
    """Tells whether a text is a near-duplicate of any held-out text (word-set Jaccard >= 0.6).

    AMI and IronITA ship one file that is split here at random, and their tweets come in waves of
    retweets and quotes with a word or a mention changed: 130 of the 983 AMI val tweets had a
    training tweet sharing 60% of its words. Such rows are dropped from training, so validation
    measures generalisation rather than recall of near-copies.
    """

    def __init__(self, held_out: Iterable[str], threshold: float = 0.6) -> None:
        self.threshold = threshold
        sizes: list[int] = []
        index: dict[str, list[int]] = {}
        for text in held_out:
            words = _content_words(text)
            if words:
                for w in words:
                    index.setdefault(w, []).append(len(sizes))
                sizes.append(len(words))
        # word -> the held-out texts using it, as arrays: a text's shared-word counts with every
        # held-out text are then one concatenation and one bincount, not a Python loop over
        # every pair (the sentiment set took 90 s that way)
        self.index = {w: np.asarray(ids, dtype=np.int64) for w, ids in index.items()}
        self.sizes = np.asarray(sizes, dtype=np.int64)

    def __contains__(self, text: object) -> bool:
        if not isinstance(text, str):
            return False
        words = _content_words(text)
        postings = [self.index[w] for w in words if w in self.index]
        if not postings:
            return False
        shared = np.bincount(np.concatenate(postings), minlength=self.sizes.size)
        hit = shared > 0
        union = len(words) + self.sizes[hit] - shared[hit]
        return bool(np.any(shared[hit] >= self.threshold * union))


#: UMSAB's Hindi set is mostly romanised, code-mixed with English: as a language-ID class it pulls
#: plain English comments towards "hi", so the detector leaves it out.
LANGUAGE_ID_SKIP = frozenset({"hi"})


def language_task(data: Path) -> Task:
    train, vals = Split(), {}
    for folder, code in UMSAB_LANGS.items():
        if code in LANGUAGE_ID_SKIP:
            continue
        for text, _ in _read_pair(data / "umsab" / folder, "train"):
            train.add(text, code, code, "umsab")
        val = Split()
        for text, _ in _read_pair(data / "umsab" / folder, "val"):
            val.add(text, code, code, "umsab")
        if len(val):
            vals[f"umsab-{code}"] = val
    combined = Split()
    for v in list(vals.values()):
        for text, label in zip(v.texts, v.labels, strict=True):
            combined.add(text, label, label, "umsab")
    if len(combined):
        vals = {"umsab-all": combined, **vals}
    return Task("language", train, vals)


def sentiment_task(data: Path) -> Task:
    train, vals = Split(), {}
    for folder, code in UMSAB_LANGS.items():
        val = Split()
        for text, label in _read_pair(data / "umsab" / folder, "val"):
            val.add(text, SENTIMENT_LABELS[int(label)], code, "umsab")
        if len(val):
            vals[f"umsab-{code}"] = val
    tweeteval = Split()
    for text, label in _read_pair(data / "tweeteval" / "sentiment", "val"):
        tweeteval.add(text, SENTIMENT_LABELS[int(label)], "en", "tweeteval")
    if len(tweeteval):
        vals["tweeteval-sentiment"] = tweeteval
    held_out = _norm_set(t for v in vals.values() for t in v.texts)
    near = NearDuplicates(t for v in vals.values() for t in v.texts)

    seen: set[str] = set()
    for folder, code in UMSAB_LANGS.items():
        for text, label in _read_pair(data / "umsab" / folder, "train"):
            # UMSAB English training tweets include most of TweetEval's sentiment val
            if normalise(text) not in held_out and text not in near:
                train.add(text, SENTIMENT_LABELS[int(label)], code, "umsab")
    for path in sorted((data / "semeval2017_en").glob("*.csv")):
        for row in _csv(path):
            norm = normalise(row.get("text", ""))
            if row.get("in_tweeteval_val") == "1" or row.get("id_label_conflict") == "1":
                continue
            if norm in held_out or norm in seen or row.get("label") not in SENTIMENT_LABELS:
                continue
            if row["text"] in near:
                continue
            seen.add(norm)
            train.add(row["text"], row["label"], "en", "semeval2017_en")
    for row in _csv(data / "sentipolc2016" / "train.csv"):
        pos, neg = row.get("opos"), row.get("oneg")
        if pos == "1" and neg == "1":
            continue  # mixed polarity has no place in three classes
        if pos == "0" and neg == "0" and row.get("subj") == "1":
            # Subjective without a polarity. UMSAB's Italian neutral class is SENTIPOLC's
            # objective tweets only: of the 1,245 UMSAB Italian training tweets found in this
            # file none is of this sort, where about 90 would be if they were kept. Training
            # on them as neutral taught another neutral than the one UMSAB measures.
            continue
        norm = normalise(row.get("text", ""))
        if norm in held_out or norm in seen or row.get("text", "") in near:
            continue
        seen.add(norm)
        label = "positive" if pos == "1" else "negative" if neg == "1" else "neutral"
        train.add(row["text"], label, "it", "sentipolc2016")
    return Task("sentiment", train, vals)


def _tweeteval_binary(data: Path, task: str, positive: str) -> tuple[Split, dict[str, Split]]:
    """A binary TweetEval task (label 1 = ``positive``): its training split and its val."""
    train, val = Split(), Split()
    for split, out in (("train", train), ("val", val)):
        for text, label in _read_pair(data / "tweeteval" / task, split):
            out.add(text, positive if label == "1" else "not", "en", f"tweeteval-{task}")
    return train, ({f"tweeteval-{task}": val} if len(val) else {})


def offensive_task(data: Path) -> Task:
    train, vals = _tweeteval_binary(data, "offensive", "offensive")
    # TweetEval's hate set is not added: its positives shifted the model towards topics (migration,
    # women) rather than insults, and cost 1-2 points of OLID macro-F1 on validation.
    rows = _csv(data / "ami2020" / "AMI2020_training_raw.tsv", delimiter="\t")
    ami_train, ami_val = _split_rows(rows, 0.2, "ami")
    near = NearDuplicates(row.get("text", "") for row in ami_val)
    for row in ami_train:
        if row.get("text", "") in near:
            continue
        label = "offensive" if "1" in (row.get("aggressiveness"), row.get("misogynous")) else "not"
        train.add(row.get("text", ""), label, "it", "ami2020")
    val = Split()
    for row in ami_val:
        label = "offensive" if "1" in (row.get("aggressiveness"), row.get("misogynous")) else "not"
        val.add(row.get("text", ""), label, "it", "ami2020")
    if len(val):
        vals["ami2020-it"] = val
    return Task("offensive", train, vals)


def irony_task(data: Path) -> Task:
    train, vals = _tweeteval_binary(data, "irony", "irony")
    rows = _csv(data / "ironita2018" / "train.csv")
    ita_train, ita_val = _split_rows(rows, 0.2, "ironita")
    val = Split()
    for row in ita_val:
        val.add(
            row.get("text", ""), "irony" if row.get("irony") == "1" else "not", "it", "ironita2018"
        )
    if len(val):
        vals["ironita2018-it"] = val
    held_out = _norm_set(val.texts)
    near = NearDuplicates(val.texts)
    seen: set[str] = set()
    for row in ita_train:
        norm = normalise(row.get("text", ""))
        seen.add(norm)
        if row.get("text", "") in near:
            continue
        train.add(
            row.get("text", ""), "irony" if row.get("irony") == "1" else "not", "it", "ironita2018"
        )
    for row in _csv(data / "sentipolc2016" / "train.csv"):
        norm = normalise(row.get("text", ""))
        if norm in held_out or norm in seen or row.get("text", "") in near:
            continue
        seen.add(norm)
        train.add(
            row.get("text", ""), "irony" if row.get("iro") == "1" else "not", "it", "sentipolc2016"
        )
    return Task("irony", train, vals)


TASKS = {
    "language": language_task,
    "sentiment": sentiment_task,
    "offensive": offensive_task,
    "irony": irony_task,
}
