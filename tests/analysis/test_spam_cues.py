"""The spam score's quick tests agree with the plain computations they stand for."""

from __future__ import annotations

import random
import re

from crisisdesk.analysis import spam


def test_five_of_a_character_are_found_as_before() -> None:
    counted = re.compile(r"(.)\1{4,}")
    rng = random.Random(11)
    alphabet = ["a", "A", "\n", " ", "!", "\u0301", "٣", "😀", "e\u0301"]
    texts = ["", "aaaa", "aaaaa", "aaaa\na", "\n" * 9, "😀" * 5, "\u0301" * 5, "e\u0301" * 5]
    for _ in range(3000):
        texts.append("".join(rng.choice(alphabet) * rng.randrange(1, 7) for _ in range(6)))
    for text in texts:
        assert bool(spam._REPEAT.search(text)) == bool(counted.search(text)), text
