"""The shipped models: linear classifiers over hashed n-grams, numpy only at inference.

Each model is one ``.npz`` file in ``analysis/models/`` holding a weight table (``2**bits`` rows by
classes, float16 on disk, float32 in memory), a bias, the class names and a probability temperature
fitted on validation data. ``manifest.json`` names the models and the version that every
:class:`~crisisdesk.analysis.base.Analysis` carries. ``python -m training`` writes all of them.

The sentiment and offence models also carry one weight per known word (``word_weights``, looked up
by ``word_hashes``), averaged over the known words of a text: learned through multilingual word
vectors at training time (``training/vectors.py``), they let a word borrow what the model learned
from words of like meaning, in any language.

Why linear models: trained on the same tweets, a linear model over character and word n-grams is
within a few points of a fine-tuned transformer on these tasks, runs thousands of comments per second
on one core without a GPU or PyTorch, and every decision decomposes into per-n-gram contributions,
which become the human-readable *reasons*.

Files are read once per process (module-level cache) and never fetched from the network. A file
that is missing, cut short or damaged is refused with a :class:`ModelFileError`, whose reason the
command line says in the reader's language.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from numpy.lib.npyio import NpzFile

from crisisdesk.analysis import features, kind_model, lexicon
from crisisdesk.analysis.fast import Scores
from crisisdesk.reasons import Reason

MODELS_DIR = Path(__file__).with_name("models")
MODEL_NAMES = ("language", "sentiment", "offensive", "irony")
FUNCTION_WORD_BONUS = 1.5
#: Offence and irony probabilities are for a page's comments (see ``base_rate``), where about 8%
#: and 12% of comments are either: a word earns a reason only from a clearly raised score, about
#: three times those odds or more ("offensive: 'la mia'" at 10% told the reader nothing).
REASON_THRESHOLD = {"offensive": 0.25, "irony": 0.3}
_CACHE: dict[Path, ModelScorer] = {}
_LOCK = threading.Lock()

F32 = npt.NDArray[np.float32]
U64 = npt.NDArray[np.uint64]
IDX = npt.NDArray[np.intp]
_M = TypeVar("_M")

#: What the zip reader and numpy raise for a file that is cut short, is not a zip, fails the zip's
#: own CRC-32 check or holds an array numpy cannot read; an array the file lacks is a KeyError.
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError)


class ModelFileError(ValueError):
    """A model file is missing, cannot be read, is damaged or does not hold a model the desk can
    use. Raised with a :class:`~crisisdesk.reasons.Reason`, which the command line says in the
    reader's language; a ValueError, as the checks of a file's contents always raised."""


def _unreadable(path: Path, exc: OSError) -> ModelFileError:
    """A model file the system would not give: missing, or refused (the system's words)."""
    if isinstance(exc, FileNotFoundError):
        return ModelFileError(
            Reason(
                "model.file_missing",
                "{path}: the model file is missing; reinstall crisisdesk to restore it",
                path=str(path),
            )
        )
    return ModelFileError(
        Reason(
            "model.file_unreadable",
            "{path}: the model file cannot be read: {detail}",
            path=str(path),
            detail=exc.strerror or str(exc),
        )
    )


def _damaged(path: Path, exc: Exception) -> ModelFileError:
    """A model file that is there but not whole. The reader's own words say what it found (a bad
    CRC, no zip), the sentence around them is ours; a KeyError's words would come quoted."""
    detail = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return ModelFileError(
        Reason(
            "model.file_damaged",
            "{path}: the model file is damaged ({detail}); reinstall crisisdesk to restore it",
            path=str(path),
            detail=detail,
        )
    )


def _load(read: Callable[[Path], _M], path: Path) -> _M:
    """``read(path)``, with what a missing or damaged file raises turned into a
    :class:`ModelFileError`."""
    try:
        return read(path)
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    except ModelFileError:
        raise
    except _DAMAGED as exc:
        raise _damaged(path, exc) from exc


class SortedHashes:
    """Sorted feature hashes, searched bucket by bucket: ``starts[b]`` is where the hashes whose
    top bits are ``b`` begin, and there are about half as many hashes as buckets.

    A binary search of tens of thousands of hashes misses the cache at each of its last steps;
    the few hashes of one bucket are next to each other (four times faster for a batch's words).
    """

    def __init__(self, keys: U64) -> None:
        self.keys = keys
        bits = min(int(keys.size).bit_length() + 1, features.HASH_BITS)
        self._shift = np.uint64(features.HASH_BITS - bits)
        edges = np.arange((1 << bits) + 1, dtype=np.uint64) << self._shift
        self._starts: IDX = np.searchsorted(keys, edges).astype(np.intp)

    def positions(self, hashes: U64) -> IDX:
        """``np.searchsorted(self.keys, hashes)`` of feature hashes (below 2**HASH_BITS)."""
        bucket = (hashes >> self._shift).astype(np.intp)
        pos: IDX = self._starts[bucket]
        end = self._starts[bucket + 1]
        todo = np.flatnonzero(pos < end)
        while todo.size:  # step over the keys of each bucket below its hash
            todo = todo[self.keys[pos[todo]] < hashes[todo]]
            pos[todo] += 1
            todo = todo[pos[todo] < end[todo]]
        return pos


def find_words(keys: U64 | SortedHashes, batch: features.Batch) -> tuple[IDX, IDX]:
    """The word entries of ``batch`` whose hash is in the sorted ``keys``, and where.

    Bigrams are word entries too, but a bigram's hash is salted (``features.word_hash``): it does
    not match a single word's.
    """
    words = np.nonzero(batch.is_word)[0]
    hashes = batch.hashes[words]
    found = keys.keys if isinstance(keys, SortedHashes) else keys
    if found.size == 0 or words.size == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    if isinstance(keys, SortedHashes):
        pos = keys.positions(hashes)
    else:
        pos = np.searchsorted(found, hashes)
    pos = np.minimum(pos, found.size - 1)
    hit = found[pos] == hashes
    return words[hit].astype(np.intp), pos[hit].astype(np.intp)


def known_word_share(rows: IDX, n: int, floor: int = 1) -> F32:
    """For each known-word entry (by its text's row), its share of the text: 1 / max(k, floor)
    for a text with k known words.

    >>> [round(float(v), 3) for v in known_word_share(np.array([0, 1, 1]), 2, floor=8)]
    [0.125, 0.125, 0.125]
    >>> [float(v) for v in known_word_share(np.array([0, 1, 1]), 2)]
    [1.0, 0.5, 0.5]
    """
    known = np.bincount(rows, minlength=n).astype(np.float32)
    share: F32 = (1.0 / np.maximum(known[rows], floor)).astype(np.float32)
    return share


def add_word_weights(
    contrib: F32,
    batch: features.Batch,
    keys: U64 | SortedHashes,
    table: F32,
    floors: npt.NDArray[np.int_],
) -> None:
    """Add to ``contrib`` each known word's weight times its share of the text: the model's
    mean-word-vector term, entry by entry, so that reasons can name the words. ``floors`` holds
    each column's ``min_known_words`` (see ``LinearModel``)."""
    entries, pos = find_words(keys, batch)
    if entries.size == 0:
        return
    rows = batch.rows[entries]
    known = np.bincount(rows, minlength=batch.n).astype(np.float32)[rows]
    # each column's share of the text as known_word_share gives it for that column's floor: all
    # columns at once, as one pass for each floor over a few of them cost a third more
    share = 1.0 / np.maximum(known[:, None], floors.astype(np.float32))
    contrib[entries] += table[pos] * share


#: Texts whose contributions are summed at a time. A batch's contributions (about 400 entries a
#: tweet, a few dozen bytes each) outgrow the cache many times over, and numpy sums them one
#: column after the other: over a whole batch each column's pass read the array from memory
#: again. A block of texts stays in the core's cache for all the columns (a third of the time).
SUM_BLOCK = 32


def row_sums(contrib: F32, starts: npt.NDArray[np.int64]) -> F32:
    """``np.add.reduceat(contrib, starts, axis=0)``, a block of texts at a time: each text's
    entries are summed as a whole batch's are, to the last bit.

    >>> c = np.arange(12, dtype=np.float32).reshape(6, 2)
    >>> row_sums(c, np.array([0, 2, 5])).tolist()
    [[2.0, 4.0], [18.0, 21.0], [10.0, 11.0]]
    """
    n = starts.size
    out = np.empty((n, contrib.shape[1]), dtype=np.float32)
    for lo in range(0, n, SUM_BLOCK):
        hi = min(lo + SUM_BLOCK, n)
        first = int(starts[lo])
        end = int(starts[hi]) if hi < n else contrib.shape[0]
        out[lo:hi] = np.add.reduceat(contrib[first:end], starts[lo:hi] - first, axis=0)
    return out


@dataclass(frozen=True)
class LinearModel:
    """A trained linear model: ``softmax((x @ weights + bias) / temperature)``.

    A single-column model is binary: its column is the logit of ``classes[1]``. ``base_rate``, if
    set, is the share of ``classes[1]`` that its probabilities assume: trained class-balanced,
    the model's bias was moved so that they hold for page comments (see ``training/fit.py``).
    ``offsets`` are added to the logits of a text in a given language (``"*"``: any other), so
    that one pooled model can lean differently per language (see ``training/fit.py``).
    ``word_weights`` are averaged over a text's known words, as if it had at least
    ``min_known_words`` of them: the offence model learned its word weights from tweets, 95% of
    which have 6 known words or more, and a one-word comment given its word's whole weight read
    "Terrible" as offensive at 1.00 (see the model card).
    """

    name: str
    classes: tuple[str, ...]
    bits: int
    weights: F32
    bias: F32
    temperature: float
    base_rate: float | None = None
    offsets: dict[str, F32] = dataclasses.field(default_factory=dict)
    word_hashes: U64 = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    word_weights: F32 = dataclasses.field(default_factory=lambda: np.zeros((0, 0), np.float32))
    min_known_words: int = 1

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        return _load(cls._read, path)

    @classmethod
    def _read(cls, path: Path) -> LinearModel:
        # Opened as the zip of arrays it must be: np.load would take any other file for a pickle
        # and answer with advice about unpickling it, which is not what a damaged file needs.
        with path.open("rb") as raw, NpzFile(raw, allow_pickle=False) as data:
            weights = data["weights"].astype(np.float32)
            bias = data["bias"].astype(np.float32)
            classes = tuple(str(c) for c in data["classes"].tolist())
            bits = int(data["bits"])
            temperature = float(data["temperature"]) if "temperature" in data else 1.0
            rate = float(data["base_rate"]) if "base_rate" in data else float("nan")
            offsets = (
                {
                    str(lang): row.astype(np.float32)
                    for lang, row in zip(
                        data["offset_langs"].tolist(), data["offsets"], strict=True
                    )
                }
                if "offsets" in data
                else {}
            )
            word_hashes = (
                data["word_hashes"].astype(np.uint64)
                if "word_hashes" in data
                else np.zeros(0, dtype=np.uint64)
            )
            word_weights = (
                data["word_weights"].astype(np.float32)
                if "word_weights" in data
                else np.zeros((0, weights.shape[1]), dtype=np.float32)
            )
            floor = int(data["min_known_words"]) if "min_known_words" in data else 1
        where = str(path)
        if floor < 1:
            raise ModelFileError(
                Reason(
                    "model.min_known_words",
                    "{path}: min_known_words must be at least 1, not {floor}",
                    path=where,
                    floor=floor,
                )
            )
        if weights.shape[0] != 1 << bits:
            raise ModelFileError(
                Reason(
                    "model.table_rows",
                    "{path}: weight table has {rows} rows, not 2**{bits}",
                    path=where,
                    rows=weights.shape[0],
                    bits=bits,
                )
            )
        if any(row.shape != bias.shape for row in offsets.values()):
            raise ModelFileError(
                Reason(
                    "model.offsets", "{path}: offsets do not have one value per class", path=where
                )
            )
        if word_weights.shape != (word_hashes.size, weights.shape[1]):
            raise ModelFileError(
                Reason(
                    "model.word_weights",
                    "{path}: word weights do not match the word list and the classes",
                    path=where,
                )
            )
        if np.any(word_hashes[1:] <= word_hashes[:-1]):
            raise ModelFileError(
                Reason(
                    "model.word_hashes", "{path}: word hashes are not sorted and unique", path=where
                )
            )
        base_rate = None if rate != rate else rate  # NaN: none
        return cls(
            path.stem,
            classes,
            bits,
            weights,
            bias,
            temperature,
            base_rate,
            offsets,
            word_hashes,
            word_weights,
            floor,
        )

    def contributions(self, batch: features.Batch) -> F32:
        """Per-entry contribution to each column: ``value * weight`` (entries by columns)."""
        cols = (batch.hashes & np.uint64((1 << self.bits) - 1)).astype(np.intp)
        contrib: F32 = np.take(self.weights, cols, axis=0)
        contrib *= batch.values[:, None]
        floors = np.full(contrib.shape[1], self.min_known_words)
        add_word_weights(contrib, batch, self.word_hashes, self.word_weights, floors)
        return contrib

    def logits(self, batch: features.Batch, contrib: F32 | None = None) -> F32:
        if contrib is None:
            contrib = self.contributions(batch)
        if batch.n == 0:
            return np.zeros((0, self.weights.shape[1]), dtype=np.float32)
        summed: F32 = row_sums(contrib, batch.starts) + self.bias
        return summed

    def language_offsets(self, langs: Sequence[str]) -> F32:
        """The offsets to add to the logits of texts in ``langs`` (zeros without any)."""
        none = np.zeros_like(self.bias)
        default = self.offsets.get("*", none)
        return np.asarray(
            [self.offsets.get(lang, default) for lang in langs], dtype=np.float32
        ).reshape(len(langs), self.bias.shape[0])

    def proba(self, logits: F32) -> F32:
        """Class probabilities (binary models: probability of ``classes[1]``, one column)."""
        z = logits / self.temperature
        if z.shape[1] == 1:
            out: F32 = (1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))).astype(np.float32)
            return out
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p: F32 = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
        return p


#: Tokens that never make a useful reason on their own: function words, placeholders, digits.
_DULL = frozenset().union(*lexicon.STOPWORDS.values()) | frozenset(
    "@user http 0 00 000 rt i me my you your it is are was be to of and or a an the il lo la le "
    "un una di da in con su per che e è my your his her our their mio mia miei mie tuo tua tuoi "
    "tue suo sua suoi sue nostro nostra nostri nostre vostro vostra loro two three due tre".split()
)


@functools.lru_cache(maxsize=1 << 16)
def _readable(gram: str) -> bool:
    """A reason a person can read: not only function words, digits or punctuation."""
    toks = gram.split(" ")
    if any(not tok[0].isalnum() and ord(tok[0]) < 0x2000 and tok != "@user" for tok in toks):
        return False  # "pessimo ," adds nothing to "pessimo"
    if any(tok.strip("0") == "" for tok in toks):
        return False  # digits are normalised to 0: "pagato 00" is not what the person wrote
    return any(
        tok not in _DULL and (any(ch.isalpha() for ch in tok) or ord(tok[0]) > 0x2000)
        for tok in toks
    )


def _in_text(gram: str, text: str) -> bool:
    """Are the words of ``gram`` in ``text``? Two n-grams of a batch can share a CRC-32, and the
    batch names the hash after one of them: a reason must never show another comment's words."""
    return all(token in text for token in gram.split(" "))


def _top_words(
    batch: features.Batch, entries: IDX, score: F32, k: int, floor: float
) -> dict[int, list[str]]:
    """For each row, the ``k`` readable word n-grams with the largest ``score`` above ``floor``.

    ``entries`` are the batch's word entries (ascending) and ``score`` holds one value for each.
    """
    idx = entries[score > floor]
    if idx.size == 0:
        return {}
    rows = batch.rows[idx]
    order = np.lexsort((-score[score > floor], rows))
    idx, rows = idx[order], rows[order]
    first = np.searchsorted(rows, rows)  # first index of each row's run
    keep = (np.arange(len(rows)) - first) < 4 * k  # candidates; dull ones are dropped below
    out: dict[int, list[str]] = {}
    hashes = batch.hashes[idx[keep]].tolist()
    full = -1  # the last row found to hold k words: its other candidates are not looked up
    for row, h in zip(rows[keep].tolist(), hashes, strict=True):
        if row == full:
            continue
        gram = batch.word_grams.get(h)
        if gram is None or not _readable(gram) or not _in_text(gram, batch.texts[row]):
            continue
        found = out.setdefault(row, [])
        found.append(f"'{gram}'")
        if len(found) == k:
            full = row  # rows come in order, each row's candidates together
    return out


def _row_mean(columns: F32) -> F32:
    """``columns.mean(axis=1)`` to the last bit (numpy adds a few float32 columns left to right,
    then divides), without the per-row overhead of a reduction along a short axis."""
    total: F32 = columns[:, 0].copy()
    for k in range(1, columns.shape[1]):
        total += columns[:, k]
    total /= np.float32(columns.shape[1])
    return total


class ModelScorer:
    """Scores a batch with the language, sentiment, offence and irony models."""

    def __init__(
        self,
        models: dict[str, LinearModel],
        version: str,
        kinds: kind_model.KindModel | None = None,
    ) -> None:
        missing = [m for m in MODEL_NAMES if m not in models]
        if missing:
            raise ModelFileError(
                Reason("model.missing", "missing models: {names}", names=", ".join(missing))
            )
        self.models = models
        self.version = version
        self.kind_model = kinds
        sent = models["sentiment"].classes
        if sorted(sent) != ["negative", "neutral", "positive"]:
            raise ModelFileError(
                Reason(
                    "model.sentiment_classes",
                    "the sentiment model's classes are {classes}, not negative, neutral, positive",
                    classes=", ".join(sent),
                )
            )
        # Function words of each language the detector knows, as a sorted hash table: row k of
        # ``member`` says which languages list the word whose hash is ``keys[k]``.
        lang_classes = models["language"].classes
        entries: dict[int, np.ndarray] = {}
        for j, code in enumerate(lang_classes):
            words = sorted(
                lexicon.STOPWORDS.get(code, frozenset())
                | lexicon.TELLTALE_WORDS.get(code, frozenset())
            )
            for h in features.word_feature_hashes(words).tolist() if words else []:
                entries.setdefault(h, np.zeros(len(lang_classes), dtype=np.float32))[j] = 1.0
        keys = np.asarray(sorted(entries), dtype=np.uint64)
        member = np.asarray([entries[k] for k in sorted(entries)], dtype=np.float32).reshape(
            len(entries), len(lang_classes)
        )
        self._stop_table = (SortedHashes(keys), member)
        # All four models share one stacked table, so one gather per n-gram fetches every model's
        # weights from one row instead of one random read per model. A smaller table is tiled to
        # the largest size: row ``h & (2**big - 1)`` of the tiled table is row ``h & (2**small - 1)``
        # of the original, so every model still reads its own weights.
        bits = max(models[name].bits for name in MODEL_NAMES)
        parts, slices, start = [], {}, 0
        for name in MODEL_NAMES:
            weights = models[name].weights
            parts.append(np.tile(weights, (1 << (bits - models[name].bits), 1)))
            slices[name] = slice(start, start + weights.shape[1])
            start += weights.shape[1]
        self._bits = bits
        self._table: F32 = np.ascontiguousarray(np.hstack(parts))
        self._slices = slices
        for name, part in slices.items():  # keep one copy of the weights in memory
            models[name] = dataclasses.replace(
                models[name], bits=bits, weights=self._table[:, part]
            )
        # the word weights likewise: one sorted list of every model's words, one row per word
        self._word_keys: U64 = np.unique(
            np.concatenate([models[name].word_hashes for name in MODEL_NAMES])
        )
        self._word_table: F32 = np.zeros((self._word_keys.size, start), dtype=np.float32)
        self._word_floors = np.ones(start, dtype=np.int_)
        for name, part in slices.items():
            model = models[name]
            self._word_floors[part] = model.min_known_words
            if model.word_hashes.size:
                at = np.searchsorted(self._word_keys, model.word_hashes)
                self._word_table[at, part] = model.word_weights
        self._word_index = SortedHashes(self._word_keys)

    def _contributions(self, batch: features.Batch) -> F32:
        """Every model's per-entry contributions, entries by the stacked table's columns."""
        cols = (batch.hashes & np.uint64((1 << self._bits) - 1)).astype(np.intp)
        # np.take on rows is several times faster than fancy indexing (table[cols]) here
        contrib: F32 = np.take(self._table, cols, axis=0)
        contrib *= batch.values[:, None]
        add_word_weights(contrib, batch, self._word_index, self._word_table, self._word_floors)
        return contrib

    def _function_word_bonus(self, batch: features.Batch, classes: tuple[str, ...]) -> F32:
        """Logit bonus per distinct function word (or telltale word) of each language in the text.

        The character model learned from 1,800 tweets per language; on very short comments
        ("Obrigado pelo atendimento!") a few function words are stronger evidence than its n-grams.
        Looked up by feature hash, so it costs a few array operations per batch.
        """
        bonus = np.zeros((batch.n, len(classes)), dtype=np.float32)
        keys, member = self._stop_table
        if keys.keys.size == 0:
            return bonus
        entries, pos = find_words(keys, batch)
        np.add.at(bonus, batch.rows[entries], member[pos])
        return bonus * FUNCTION_WORD_BONUS

    def score(self, texts: Sequence[str], hints: Sequence[str | None]) -> list[Scores]:
        n = len(texts)
        if n == 0:
            return []
        batch = features.featurise(texts, with_grams=True)
        contrib = self._contributions(batch)
        # One sum over the stacked columns gives every model's logits: the same sums, column by
        # column, as one call per model on a strided view, at half the cost.
        summed = row_sums(contrib, batch.starts)
        logits = {
            name: summed[:, part] + self.models[name].bias for name, part in self._slices.items()
        }
        lang_m = self.models["language"]
        lang_logits = logits["language"] + self._function_word_bonus(batch, lang_m.classes)
        langs = [lang_m.classes[i] for i in lang_logits.argmax(axis=1).tolist()]
        for i, text in enumerate(texts):
            script = lexicon.script_language(text)
            if script is not None:
                langs[i] = script
            elif not any(ch.isalpha() for ch in text):
                langs[i] = "und"  # emoji, numbers, punctuation: no language to detect

        # Reasons name word n-grams only: the per-entry arithmetic behind them is done for the
        # word entries (about a tenth of the entries) rather than for all of them.
        words = np.nonzero(batch.is_word)[0]
        word_contrib = contrib[words]
        word_rows = batch.rows[words]
        sent_m = self.models["sentiment"]
        sent_c = word_contrib[:, self._slices["sentiment"]]
        languages = [hints[i] or langs[i] for i in range(n)]
        sent_p = sent_m.proba(logits["sentiment"] + sent_m.language_offsets(languages))
        sent_idx = sent_p.argmax(axis=1)
        # contribution of each entry to the winning class against the mean of the classes
        won = sent_idx[word_rows]
        win = np.choose(won, sent_c.T) - _row_mean(sent_c)
        neutral_col = sent_m.classes.index("neutral")
        win = np.where(won == neutral_col, -1.0, win).astype(np.float32)
        sent_words = _top_words(batch, words, win, 3, 0.05)

        binary: dict[str, F32] = {}
        binary_words: dict[str, dict[int, list[str]]] = {}
        for name in ("offensive", "irony"):
            model = self.models[name]
            p = model.proba(logits[name])[:, 0]
            binary[name] = p
            # irony fires weakly on most page comments: only a confident score earns a reason
            flagged = p[word_rows] >= REASON_THRESHOLD[name]
            column = word_contrib[:, self._slices[name].start]
            binary_words[name] = _top_words(
                batch, words, np.where(flagged, column, -1.0).astype(np.float32), 2, 0.05
            )

        kind_rows = (
            None if self.kind_model is None else self.kind_model.word_logits(batch, words).tolist()
        )

        order = [sent_m.classes.index(k) for k in ("negative", "neutral", "positive")]
        # float64 before rounding, so that 0.1234 is stored as 0.1234 and not 0.12340000271797180
        rounded = np.round(sent_p[:, order].astype(np.float64), 4)
        labels = rounded.argmax(axis=1).tolist()
        sent_rows = rounded.tolist()
        off = np.round(binary["offensive"].astype(np.float64), 4).tolist()
        iro = np.round(binary["irony"].astype(np.float64), 4).tolist()
        out = []
        for i in range(n):
            neg, neu, pos = sent_rows[i]
            label = ("negative", "neutral", "positive")[labels[i]]
            reasons = []
            if i in sent_words:
                reasons.append(f"{label}: {', '.join(sent_words[i])}")
            for name in ("offensive", "irony"):
                if i in binary_words[name]:
                    reasons.append(f"{name}: {', '.join(binary_words[name][i])}")
            out.append(
                Scores(
                    language=languages[i],
                    sentiment_scores={"negative": neg, "neutral": neu, "positive": pos},
                    offensive=off[i],
                    irony=iro[i],
                    reasons=reasons,
                    kind_logits=None if kind_rows is None else kind_rows[i],
                )
            )
        return out


def load_scorer(models_dir: str | Path | None = None) -> ModelScorer | None:
    """The scorer for the models in ``models_dir`` (default: the shipped ones), or None if absent.

    Loaded once per directory and process; later calls return the same object.
    """
    root = Path(models_dir) if models_dir else MODELS_DIR
    root = root.resolve()
    with _LOCK:
        if root in _CACHE:
            return _CACHE[root]
        manifest_path = root / "manifest.json"
        if not manifest_path.is_file():
            return None
        manifest = _read_manifest(manifest_path)
        models = {name: LinearModel.load(root / f"{name}.npz") for name in MODEL_NAMES}
        # the kinds model is optional: without it the rules alone decide the kind
        kinds_path = root / kind_model.FILE_NAME
        kinds = _load(kind_model.KindModel.read, kinds_path) if kinds_path.is_file() else None
        scorer = ModelScorer(models, str(manifest.get("version", "unknown")), kinds)
        _CACHE[root] = scorer
        return scorer


def _read_manifest(path: Path) -> dict[str, object]:
    """The manifest's fields. One that cannot be read or is not a JSON object is refused like a
    damaged model file: the version it names is stamped on every analysis."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    except ValueError as exc:  # not JSON, or not UTF-8
        raise _damaged(path, exc) from exc
    if not isinstance(manifest, dict):
        raise ModelFileError(
            Reason(
                "model.manifest_shape",
                "{path}: the manifest is not a JSON object; reinstall crisisdesk to restore it",
                path=str(path),
            )
        )
    return manifest
