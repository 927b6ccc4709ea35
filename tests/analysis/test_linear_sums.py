"""The scorer's sums, done a block at a time or all columns at once, are the plain ones to the bit."""

from __future__ import annotations

import csv

import numpy as np

from crisisdesk.analysis import features, linear
from tests.analysis.test_kinds import FIXTURE


def _texts() -> list[str]:
    with FIXTURE.open(encoding="utf-8", newline="") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    # more texts than a block, of every length from none to a few thousand characters
    return [*texts, "", "ok", "x" * 3000, " ".join(texts[:40])]


def test_row_sums_are_reduceat_to_the_bit() -> None:
    batch = features.featurise(_texts())
    assert batch.n > 3 * linear.SUM_BLOCK
    rng = np.random.default_rng(3)
    contrib = rng.normal(size=(batch.rows.size, 5)).astype(np.float32)
    expected = np.add.reduceat(contrib, batch.starts, axis=0)
    assert np.array_equal(linear.row_sums(contrib, batch.starts), expected)
    for n in (1, linear.SUM_BLOCK, linear.SUM_BLOCK + 1):
        starts = batch.starts[:n]
        part = contrib[: int(batch.starts[n]) if n < batch.n else None]
        assert np.array_equal(linear.row_sums(part, starts), np.add.reduceat(part, starts, axis=0))


def _word_weights_floor_by_floor(
    contrib: linear.F32,
    batch: features.Batch,
    keys: linear.U64,
    table: linear.F32,
    floors: np.ndarray,
) -> None:
    """The word weights added one floor at a time, to the columns that have it."""
    entries, pos = linear.find_words(keys, batch)
    rows = batch.rows[entries]
    for floor in np.unique(floors).tolist():
        cols = np.nonzero(floors == floor)[0]
        share = linear.known_word_share(rows, batch.n, floor)[:, None]
        contrib[np.ix_(entries, cols)] += table[np.ix_(pos, cols)] * share


def test_word_weights_of_every_floor_at_once_are_those_added_floor_by_floor() -> None:
    texts = _texts()
    batch = features.featurise(texts)
    words = sorted({w for t in texts for w in features.tokens(features.normalise(t))})[::3]
    keys = np.unique(features.word_feature_hashes(words))
    rng = np.random.default_rng(5)
    table = rng.normal(size=(keys.size, 4)).astype(np.float32)
    floors = np.array([1, 8, 1, 3])
    start = rng.normal(size=(batch.rows.size, 4)).astype(np.float32)
    expected = start.copy()
    _word_weights_floor_by_floor(expected, batch, keys, table, floors)
    found = start.copy()
    linear.add_word_weights(found, batch, keys, table, floors)
    assert not np.array_equal(found, start)
    assert np.array_equal(found, expected)


def test_bucketed_search_is_searchsorted() -> None:
    top = (1 << features.HASH_BITS) - 1
    rng = np.random.default_rng(7)
    spread = rng.integers(0, top, size=5000, dtype=np.uint64)
    # many keys in one bucket, keys at both ends of the range, one key, none
    crowded = np.uint64(1 << 30) + np.arange(300, dtype=np.uint64)
    key_sets = [
        np.unique(np.concatenate((spread, crowded, np.array([0, 1, top - 1, top], np.uint64)))),
        np.unique(spread[:3]),
        np.array([top], dtype=np.uint64),
        np.zeros(0, dtype=np.uint64),
    ]
    for keys in key_sets:
        index = linear.SortedHashes(keys)
        near = np.concatenate((keys, keys + np.uint64(1), keys - np.uint64(1))) & np.uint64(top)
        ends = np.array([0, 1, top - 1, top], dtype=np.uint64)
        for hashes in (near, ends, crowded + np.uint64(7), spread, np.zeros(0, np.uint64)):
            assert np.array_equal(index.positions(hashes), np.searchsorted(keys, hashes))


def test_words_found_through_buckets_are_those_found_by_binary_search() -> None:
    texts = _texts()
    batch = features.featurise(texts)
    words = sorted({w for t in texts for w in features.tokens(features.normalise(t))})[::3]
    keys = np.unique(features.word_feature_hashes(words))
    entries, pos = linear.find_words(linear.SortedHashes(keys), batch)
    assert entries.size > 100
    expected = linear.find_words(keys, batch)
    assert np.array_equal(entries, expected[0]) and np.array_equal(pos, expected[1])
