"""The spam score's quick tests agree with the plain computations they stand for."""

from __future__ import annotations

import random
import re

from crisisdesk.analysis import spam
from tests.analysis.test_rules import LONG, _quickly

#: Characters to put next to the cues: word characters of other kinds ("_", digits of other
#: scripts, a combining accent), the blanks and symbols the cues are matched from, emoji.
_NEIGHBOURS = ["", "", "x", "_", "é", "e\u0301", "\u0301", "٣", "७", "²", " ", "  ", "\n", "\t"]
_NEIGHBOURS += ["@", "%", "$", "/", "'", ".", "-", "#", "😀", "💰", "€", "ſ", "İ"]


def _near_misses(phrase: str) -> list[str]:
    """``phrase`` whole, cut at either end, and with one of its characters changed."""
    out = [phrase, phrase[1:], phrase[:-1]]
    for i in range(len(phrase)):
        out.append(phrase[:i] + ("x" if phrase[i] != "x" else "y") + phrase[i + 1 :])
        out.append(phrase[:i] + "\u0301" + phrase[i:])
    return out


def _texts() -> list[str]:
    rng = random.Random(7)
    texts = []
    for phrase in spam.SPAM_PHRASES:
        for piece in _near_misses(phrase):
            for _ in range(4):
                texts.append(rng.choice(_NEIGHBOURS) + piece + rng.choice(_NEIGHBOURS))
    phrases = list(spam.SPAM_PHRASES)
    for _ in range(3000):  # pieces of phrases and odd characters run together
        parts = [rng.choice(_NEIGHBOURS) for _ in range(rng.randrange(1, 6))]
        parts += [rng.choice(_near_misses(rng.choice(phrases))) for _ in range(rng.randrange(3))]
        rng.shuffle(parts)
        texts.append("".join(parts))
    return texts + ["", " ", "\n", "win", " win ", "_win", "win_", "dm\nus", "dm  us", "%off"]


def test_phrase_hits_are_the_phrases_tested_one_by_one() -> None:
    for text in _texts():
        tokens = set(spam._ALNUM.findall(text))
        plain = [(p, w) for p, w in spam._SPAM_WORDS.items() if p in tokens]
        plain += [(p, w) for p, w in spam._SPAM_SUBSTRINGS.items() if p in text]
        assert spam._phrase_hits(text) == plain, text


def test_the_word_cue_finds_exactly_the_texts_with_a_spam_word_as_a_token() -> None:
    words = frozenset(spam._SPAM_WORDS)
    for text in _texts():
        plain = not words.isdisjoint(spam._ALNUM.findall(text))
        assert bool(spam._SPAM_WORD_CUE.search(" " + text)) == plain, text


def test_the_substring_cue_finds_exactly_the_texts_with_a_spam_phrase() -> None:
    for text in _texts():
        plain = any(phrase in text for phrase in spam._SPAM_SUBSTRINGS)
        assert bool(spam._SPAM_SUBSTRING_CUE.search(text)) == plain, text


def test_phrases_are_matched_from_their_first_symbol() -> None:
    pattern = re.compile(spam._any_of_from_symbol(["link in bio", "% off", "follow @", "24/7"]))
    assert pattern.search("check the link in bio!")
    assert pattern.search("blink in biology")  # a substring, as "in" tests it
    assert all(pattern.search(t) for t in ("-70% off", "open 24/7", "follow @x"))
    assert not pattern.search("pink in bio") and not pattern.search("link  in bio")
    assert not pattern.search("24 / 7") and not pattern.search("follow@x")


def test_five_of_a_character_are_found_as_before() -> None:
    counted = re.compile(r"(.)\1{4,}")
    rng = random.Random(11)
    alphabet = ["a", "A", "\n", " ", "!", "\u0301", "٣", "😀", "e\u0301"]
    texts = ["", "aaaa", "aaaaa", "aaaa\na", "\n" * 9, "😀" * 5, "\u0301" * 5, "e\u0301" * 5]
    for _ in range(3000):
        texts.append("".join(rng.choice(alphabet) * rng.randrange(1, 7) for _ in range(6)))
    for text in texts:
        assert bool(spam._REPEAT.search(text)) == bool(counted.search(text)), text


def test_long_runs_near_the_cues_are_read_once() -> None:
    for run in (" " * LONG, "dm " * (LONG // 3), "@" * LONG, "% " * (LONG // 2), "w" * LONG):
        assert _quickly(lambda t=run: spam.spam_signal(t)).score < 0.5  # type: ignore[misc]


def test_amounts_are_looked_for_only_beside_a_sign_that_every_amount_holds() -> None:
    rng = random.Random(13)
    signs = ["$", "€", "£", "eur", "EUR", "Euro", "usd", "USD", "uſd", "UſD", "dollar", "DOLLARS"]
    signs += ["eu", "ur", "us", "sd", "dolla", "e\u0301ur", "€\u0301", "＄", "﹩", "¢", "¥"]
    digits = ["1", "20", "3.50", "4,99", "٣", "७", "²", ".5", ",", "."]
    blanks = ["", " ", "  ", "\n", "x", "_", "é"]
    texts = []
    for _ in range(5000):
        parts = [rng.choice(signs), rng.choice(digits), rng.choice(blanks), rng.choice(digits)]
        rng.shuffle(parts)
        texts.append("".join(parts))
    for text in texts:
        low = text.lower()
        if spam._MONEY.search(text):
            assert any(sign in low for sign in spam._MONEY_SIGNS), text


def test_only_the_long_s_is_a_letter_of_a_currency_name_that_lower_casing_does_not_give() -> None:
    for letter in "eurosdla":
        folded = re.compile(letter, re.IGNORECASE)
        odd = [chr(c) for c in range(0x110000) if folded.fullmatch(chr(c))]
        odd = [c for c in odd if c.lower() != letter]
        assert odd == (["ſ"] if letter == "s" else []), letter
