"""The near-duplicate index behind the ``canned`` check."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from crisisdesk.workflow.canned import MERGE_EVERY, CannedIndex, normalise, signature

TEMPLATE = "Hi {n}, we are sorry about this. Please send us a DM with your order number {o}."


def test_same_text_same_signature_across_calls() -> None:
    assert (signature("Ciao Anna") == signature("Ciao Anna")).all()


def test_names_handles_and_numbers_do_not_hide_a_copy() -> None:
    index = CannedIndex()
    index.add("1", TEMPLATE.format(n="@anna", o="1234"), datetime(2024, 1, 1, tzinfo=UTC))
    match = index.nearest(TEMPLATE.format(n="@marco_b", o="98765"))
    assert match is not None and match.reply_id == "1" and match.similarity > 0.9
    assert normalise("@anna 1234") == "@ 0"


def test_unrelated_texts_are_not_matched() -> None:
    rng = random.Random(3)
    words = "bread cake oven flour sugar morning shop street friend price milk butter".split()
    rows = [(str(i), " ".join(rng.choice(words) for _ in range(12)), None) for i in range(300)]
    index = CannedIndex.from_rows(rows)
    assert index.nearest("The trains to Milan run every hour from platform four.") is None
    assert index.nearest("") is None


def test_counts_every_similar_reply_and_survives_the_buffer_merge() -> None:
    index = CannedIndex.from_rows(
        (str(i), TEMPLATE.format(n=f"user{i}", o=i), None) for i in range(10)
    )
    for i in range(MERGE_EVERY + 5):  # crosses a merge of the buffer into the sorted arrays
        index.add(f"x{i}", f"Unrelated note number {i} about {'abcdefghij'[i % 10] * 6}")
    match = index.nearest(TEMPLATE.format(n="someone", o=42))
    assert match is not None and match.similar_count == 10
    assert len(index) == 10 + MERGE_EVERY + 5
