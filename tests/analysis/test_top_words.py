"""The words a reason names are those of the plain pick, which looks at every candidate."""

from __future__ import annotations

import numpy as np

from crisisdesk.analysis import features, linear
from tests.analysis.test_linear_sums import _texts


def _plain_top_words(
    batch: features.Batch, entries: linear.IDX, score: linear.F32, k: int, floor: float
) -> dict[int, list[str]]:
    """Every candidate of every row looked up, the first ``k`` readable ones kept."""
    idx = entries[score > floor]
    rows = batch.rows[idx]
    order = np.lexsort((-score[score > floor], rows))
    idx, rows = idx[order], rows[order]
    first = np.searchsorted(rows, rows)
    keep = (np.arange(len(rows)) - first) < 4 * k
    out: dict[int, list[str]] = {}
    for row, h in zip(rows[keep].tolist(), batch.hashes[idx[keep]].tolist(), strict=True):
        gram = batch.word_grams.get(h)
        if (
            gram is None
            or not linear._readable(gram)
            or not linear._in_text(gram, batch.texts[row])
        ):
            continue
        found = out.setdefault(row, [])
        if len(found) < k:
            found.append(f"'{gram}'")
    return out


def test_top_words_are_the_plain_ones() -> None:
    odd = [
        "prezzo 00 ٣٣ ७ pagato ² volte, pessimo ,",
        "cafe\u0301 cafe\u0301 cafe\u0301 buonissimo 😀😀 il la di",
        "@user @user http the the the great great great flight",
        "",
        "ok",
    ]
    batch = features.featurise([*_texts(), *odd], with_grams=True)
    entries = np.nonzero(batch.is_word)[0]
    rng = np.random.default_rng(13)
    for k in (1, 2, 3):
        for floor in (-2.0, 0.05, 1.0):
            score = rng.normal(size=entries.size).astype(np.float32)
            expected = _plain_top_words(batch, entries, score, k, floor)
            assert any(len(words) == k for words in expected.values())
            assert linear._top_words(batch, entries, score, k, floor) == expected


def test_a_reason_never_names_another_comments_words() -> None:
    # "plumless" and "buckeroo" share a CRC-32: the batch names the hash after one of them
    texts = ["plumless plumless plumless", "buckeroo buckeroo buckeroo"]
    batch = features.featurise(texts, with_grams=True)
    entries = np.nonzero(batch.is_word)[0]
    score = np.ones(entries.size, dtype=np.float32)
    found = linear._top_words(batch, entries, score, 1, 0.0)
    for row, words in found.items():
        assert all(w.strip("'") in texts[row] for w in words), (row, words)
    assert len(found) == 1  # the other comment's only word is not shown as its reason
