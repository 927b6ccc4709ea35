"""Hashed character and word n-grams, computed for a whole batch with numpy.

The same function featurises text at training time and at inference time, so the shipped weights and
the features can never drift apart. Design choices:

- **Stable hashing.** Python's ``hash`` is salted per process; character n-grams use a polynomial
  rolling hash over Unicode code points (uint64, wrapping) and words use CRC-32 over UTF-8, both
  mixed with a SplitMix64 finaliser. The same text gives the same features on every machine.
- **Vectorised.** A batch is joined into one code-point array; every character n-gram of every text
  is hashed by a handful of array operations, and n-grams that straddle two texts are masked out.
- **Two groups, each L2-normalised.** Characters (2-5 grams, robust to spelling, elongation, emoji)
  and words (unigrams and bigrams, readable and used for the *reasons*) are normalised separately
  and weighted, which acts like concatenating two TF vectorisers. Values are sublinear (1 + log tf).
- **One feature pass, many models.** Hashes are kept at 38 bits; each model folds them into its own
  table size with a mask, so language, sentiment, offence and irony share one featurisation.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

CHAR_NGRAMS = (2, 3, 4, 5)
HASH_BITS = 38
_HASH_MASK = np.uint64((1 << HASH_BITS) - 1)
_GROUP_SHIFT = np.uint64(HASH_BITS)
_ROW_SHIFT = np.uint64(HASH_BITS + 2)
#: Relative weight of the word group against the character group.
WORD_WEIGHT = 1.0
CHAR_WEIGHT = 1.0
_BASE = np.uint64(1_000_003)
_SEP = 0  # code point that never occurs in normalised text: separates texts in a batch

#: Links: what ``(?:https?://|www\.)\S+`` finds with re.IGNORECASE, where "ſ" is an "s" too.
#: A pattern that opens with a class of characters is scanned for by skipping to the next one
#: of them; this one, led by the first letters of both openings, takes a quarter of the time
#: of the case-blind alternation, which is tried at every character.
_URL = re.compile(r"[HhWw](?:(?<=[Hh])[Tt][Tt][Pp][Ssſ]?://|(?<=[Ww])[Ww][Ww]\.)\S+")
_MENTION = re.compile(r"@\w+")
#: Three or more of a character. Written "(.)\1{2,}" it matches the same, at twice the cost.
_ELONGATED = re.compile(r"(.)\1\1+")
_DIGITS = re.compile(r"\d")
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\d+|[^\w\s]", re.UNICODE)

U64 = npt.NDArray[np.uint64]
F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


def normalise(text: str) -> str:
    """Lower-case, links and mentions replaced by placeholders, elongations cut to two letters.

    >>> normalise("@Trenitalia  ANCORA in ritardooooo!!! https://t.co/x 12:30")
    '@user ancora in ritardoo!! http 00:00'
    """
    return normalise_many([text])[0]


def normalise_many(texts: Sequence[str]) -> list[str]:
    """:func:`normalise` of each text, with one pass of each pattern over the whole batch.

    The texts are joined by " \x00 ": no pattern matches across it (links and mentions stop at
    the space, \x00 occurs nowhere else and cannot be part of an elongation).

    >>> normalise_many(["Ciaooo https://x.it", "", "@Bar 5€"])
    ['ciaoo http', '', '@user 0€']
    """
    text = " \x00 ".join(t.replace("\x00", " ") for t in texts)
    text = _URL.sub("http", text)
    text = _MENTION.sub("@user", text)
    text = _ELONGATED.sub(r"\1\1", text.lower())
    text = _DIGITS.sub("0", text)
    # runs of blanks to one space: str.split() splits at what "\s" matches, faster than a sub
    out = [" ".join(t.split()) for t in text.split("\x00")]
    return out if texts else []


def tokens(normalised: str) -> list[str]:
    """Word tokens of a normalised text: words, numbers and single punctuation marks or emoji."""
    return _TOKEN.findall(normalised)


def _mix(x: U64) -> U64:
    """SplitMix64 finaliser: spreads similar inputs over the whole 64-bit range."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


_BIGRAM_SALT = 0x5BD1E995


def word_hash(gram: str) -> int:
    """Stable hash of a word n-gram (CRC-32 of its UTF-8; bigrams are salted)."""
    value = zlib.crc32(gram.encode("utf-8", "surrogatepass"))
    return value ^ _BIGRAM_SALT if " " in gram else value


def word_feature_hashes(words: Sequence[str]) -> U64:
    """The 38-bit feature hashes that single words get in :func:`featurise` (for lookups)."""
    raw = np.asarray([word_hash(w) for w in words if " " not in w], dtype=np.uint64)
    out: U64 = _mix(raw | np.uint64(1 << 40)) & _HASH_MASK
    return out


@dataclass
class Batch:
    """Sparse features of a batch, sorted by row.

    ``rows``/``hashes``/``values`` are the non-zero entries (``hashes`` are 38-bit, to be masked by
    each model); ``starts`` indexes the first entry of each row (every row has at least one entry);
    ``word_grams`` maps a word-feature hash back to its text, for the reasons: of two n-grams of
    the batch with one CRC-32, it names one, so a reason checks it against ``texts`` (each row's
    normalised text) before it shows it.
    """

    n: int
    rows: I64
    hashes: U64
    values: F32
    is_word: npt.NDArray[np.bool_]
    starts: I64
    word_grams: dict[int, str]
    texts: list[str]


_SEP_CRC = zlib.crc32(b"\x00")


@dataclass
class _WordPlaces:
    """Where each word entry of :func:`_word_grams` comes from, to name it if asked: ``tokens``
    are the batch's tokens, ``token`` the first token of each entry, ``rank`` each entry's place
    in a text-by-text walk (each text's unigrams, then its bigrams)."""

    tokens: list[str]
    token: I64
    is_bigram: npt.NDArray[np.bool_]
    rank: I64


def _word_grams(joined: str, n: int) -> tuple[I64, U64, _WordPlaces]:
    """Rows and CRC-32 hashes of the word unigrams and bigrams of the ``n`` texts in ``joined``
    (``\x00 text \x00 text \x00``), and where each comes from.

    The whole batch is tokenised in one call and hashed with ``map`` (no Python loop per text or
    per token): a separator is a token of its own, and bigrams that touch one are dropped.
    """
    toks = _TOKEN.findall(joined)
    try:  # without lone surrogates, plain UTF-8 gives the bytes that "surrogatepass" would
        encoded = list(map(str.encode, toks))
    except UnicodeEncodeError:
        encoded = [t.encode("utf-8", "surrogatepass") for t in toks]
    uni = np.fromiter(map(zlib.crc32, encoded), np.uint64, len(toks))
    # CRC-32 goes on from where a prefix left it: the CRC of "a b" is that of "b" started from
    # the CRC of "a ", so bigrams are hashed without making their strings
    after_space = map(zlib.crc32, itertools.repeat(b" "), uni[:-1].tolist())
    bi = np.fromiter(map(zlib.crc32, encoded[1:], after_space), np.uint64, max(len(toks) - 1, 0))
    bi ^= np.uint64(_BIGRAM_SALT)
    # separators: their CRC, confirmed by their text (another token could share the CRC)
    sep = np.zeros(len(toks), dtype=bool)
    maybe = np.nonzero(uni == np.uint64(_SEP_CRC))[0].tolist()
    sep[[i for i in maybe if toks[i] == "\x00"]] = True
    tok_rows = np.cumsum(sep) - 1
    uni_ok = np.nonzero(~sep)[0]
    bi_ok = np.nonzero(~sep[:-1] & ~sep[1:])[0]
    uni_rows, bi_rows = tok_rows[uni_ok], tok_rows[bi_ok]
    rows = np.concatenate((uni_rows, bi_rows)).astype(np.int64)
    hashes = np.concatenate((uni[uni_ok], bi[bi_ok]))
    # walk rank of the j-th unigram: j plus the bigrams of the texts before; of the j-th bigram:
    # j plus the unigrams of the texts up to its own
    bigrams = np.bincount(bi_rows, minlength=n)
    bigrams_before = np.cumsum(bigrams) - bigrams
    unigrams_upto = np.cumsum(np.bincount(uni_rows, minlength=n))
    rank = np.concatenate(
        (
            np.arange(uni_ok.size) + bigrams_before[uni_rows],
            np.arange(bi_ok.size) + unigrams_upto[bi_rows],
        )
    ).astype(np.int64)
    token = np.concatenate((uni_ok, bi_ok)).astype(np.int64)
    is_bigram = np.arange(rows.size) >= uni_ok.size
    return rows, hashes, _WordPlaces(toks, token, is_bigram, rank)


def _gram_names(hashes: U64, places: _WordPlaces) -> dict[int, str]:
    """The map from word-feature hash to word n-gram of a batch's word entries (CRC-32
    ``hashes``), as filling a dict in a text-by-text walk gives it: of two n-grams with one CRC,
    the one walked last; of two CRCs that fold to one feature, the one first walked last.

    The walk itself put every n-gram of the batch in a dict and made a string of every bigram,
    at twice the cost of tokenising: sorting (CRC, rank) pairs finds each distinct CRC's first
    and last place at once, and only those (a third of the entries) are named.
    """
    if hashes.size == 0:
        return {}
    if hashes.size >= 1 << 32:
        raise ValueError("too many word n-grams in one batch")
    key = (hashes << np.uint64(32)) | places.rank.astype(np.uint64)
    key.sort()
    crc = key >> np.uint64(32)
    rank = (key & np.uint64(0xFFFFFFFF)).astype(np.int64)
    starts = np.flatnonzero(np.concatenate(([True], crc[1:] != crc[:-1])))
    ends = np.concatenate((starts[1:], [crc.size])) - 1
    # filled in the order of each CRC's first place: where two fold to one hash, the dict keeps
    # the one first walked later, as the walk's own dict did
    order = np.argsort(rank[starts])
    mixed = (_mix(crc[starts[order]] | np.uint64(1 << 40)) & _HASH_MASK).tolist()
    entry_of_rank = np.empty(rank.size, dtype=np.int64)
    entry_of_rank[places.rank] = np.arange(rank.size)
    last = entry_of_rank[rank[ends[order]]]
    toks = places.tokens
    names = [
        f"{toks[t]} {toks[t + 1]}" if b else toks[t]
        for t, b in zip(places.token[last].tolist(), places.is_bigram[last].tolist(), strict=True)
    ]
    return dict(zip(mixed, names, strict=True))


#: 1 + log(tf) of the counts a batch's entries nearly all have, from np.log of the same float64
#: numbers as the counts would give it: looking them up costs a quarter of a logarithm each.
_SUBLINEAR = (1.0 + np.log(np.arange(1, 65, dtype=np.float64))).astype(np.float32)


def sublinear_tf(counts: I64) -> F32:
    """``(1.0 + np.log(counts)).astype(np.float32)`` of counts of 1 or more, to the bit."""
    if counts.size and counts.max() > _SUBLINEAR.size:
        return (1.0 + np.log(counts)).astype(np.float32)
    out: F32 = _SUBLINEAR[counts - 1]
    return out


def featurise(texts: Sequence[str], with_grams: bool = False) -> Batch:
    """Featurise raw texts (normalisation included).

    >>> b = featurise(["Grazie mille!", "Great"])
    >>> b.n, int(b.starts[1]) > 0, bool(abs(b.values[b.rows == 0].sum()) > 0)
    (2, True, True)
    """
    norm = normalise_many(texts)
    n = len(norm)
    # --- character n-grams: one code-point array for the whole batch
    joined = "\x00" + "\x00".join(f" {t} " for t in norm) + "\x00"
    raw = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cps: U64 = raw.astype(np.uint64)
    is_sep = cps == np.uint64(_SEP)
    row_of = np.cumsum(is_sep) - 1  # row index of each position (separators belong to the next)
    sep_count = np.concatenate(([0], np.cumsum(is_sep)))
    parts_rows: list[I64] = []
    parts_hash: list[U64] = []
    h = np.zeros(len(cps), dtype=np.uint64)
    length = len(cps)
    for size in range(1, max(CHAR_NGRAMS) + 1):
        # h[i] holds the hash of cps[i : i + size]; extend by one character each round
        if size == 1:
            h = cps.copy()
        else:
            h = h[: length - size + 1] * _BASE + cps[size - 1 :]
        if size in CHAR_NGRAMS:
            count = max(length - size + 1, 0)
            # the n-gram at i crosses no separator: as many separators before i as before i + size
            ok = sep_count[size : size + count] == sep_count[:count]
            parts_rows.append(row_of[:count][ok].astype(np.int64))
            parts_hash.append(_mix(h[ok] ^ np.uint64(size * 0x9E3779B97F4A7C15 & (2**64 - 1))))
    char_rows = np.concatenate(parts_rows) if parts_rows else np.zeros(0, np.int64)
    char_hash = (np.concatenate(parts_hash) if parts_hash else np.zeros(0, np.uint64)) & _HASH_MASK

    word_rows, word_hash_arr, places = _word_grams(joined, n)
    # word hashes are remixed so that they spread over the 38-bit space like the char ones
    word_hash_mixed = _mix(word_hash_arr | np.uint64(1 << 40)) & _HASH_MASK
    word_grams = _gram_names(word_hash_arr, places) if with_grams else {}

    # --- dedupe (row, group, hash) with counts; group 1 = words
    key = np.concatenate(
        (
            (char_rows.astype(np.uint64) << _ROW_SHIFT) | char_hash,
            (word_rows.astype(np.uint64) << _ROW_SHIFT)
            | (np.uint64(1) << _GROUP_SHIFT)
            | word_hash_mixed,
        )
    )
    uniq, counts = np.unique(key, return_counts=True)
    rows = (uniq >> _ROW_SHIFT).astype(np.int64)
    is_word = ((uniq >> _GROUP_SHIFT) & np.uint64(1)).astype(bool)
    hashes = uniq & _HASH_MASK
    values = sublinear_tf(counts)
    # L2-normalise each (row, group) block
    block = rows * 2 + is_word
    norms = np.sqrt(np.bincount(block, weights=values * values, minlength=2 * n))
    values = values / norms[block].astype(np.float32)
    values = values * np.where(is_word, WORD_WEIGHT, CHAR_WEIGHT).astype(np.float32)
    row_starts = np.searchsorted(rows, np.arange(n)).astype(np.int64)
    return Batch(n, rows, hashes, values, is_word, row_starts, word_grams, norm)


def to_csr_parts(batch: Batch, bits: int) -> tuple[F32, I64, I64]:
    """(data, indices, indptr) of the batch's features folded into ``2**bits`` columns."""
    cols = (batch.hashes & np.uint64((1 << bits) - 1)).astype(np.int64)
    indptr = np.concatenate((batch.starts, [len(batch.rows)])).astype(np.int64)
    return batch.values, cols, indptr
