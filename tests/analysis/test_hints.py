"""The cheap tests that spare most comments a pattern's scan let through every text it matches.

The texts are drawn from the patterns themselves: each one is walked as the regex parser reads
it, taking a random alternative of each choice and a random count of each repeat, so a hint left
out for any alternative, new or old, shows here without a phrase written for it.
"""

import random
import re
import re._constants as sre_constants
import re._parser as sre_parse
from collections.abc import Callable
from typing import Any

import pytest

from crisisdesk.analysis import rules, spam

C = sre_constants
#: Characters to fill a class with: ASCII, accented and other letters, digits of other scripts,
#: blanks, apostrophes and the letters lower-casing leaves odd ("ſ") or lengthens ("İ").
_POOL = [chr(c) for c in range(32, 127)] + list("\n\t\u00a0àèéìòùçãäöüßſİ’٣²😂\u0301")
#: What may stand around a drawn phrase.
_AROUND = ["", "", " ", "x", "_", "é", "\u0301", "٣", ".", "'", "\n", "😂", "ſ", "ah", "l", "1"]


def _in_class(char: str, items: list[tuple[Any, Any]]) -> bool:
    negate = False
    found = False
    for op, arg in items:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL:
            found |= ord(char) == arg
        elif op is C.RANGE:
            low, high = arg
            found |= low <= ord(char) <= high
        elif op is C.CATEGORY:
            regex = {
                C.CATEGORY_DIGIT: r"\d",
                C.CATEGORY_NOT_DIGIT: r"\D",
                C.CATEGORY_SPACE: r"\s",
                C.CATEGORY_NOT_SPACE: r"\S",
                C.CATEGORY_WORD: r"\w",
                C.CATEGORY_NOT_WORD: r"\W",
            }[arg]
            found |= re.fullmatch(regex, char) is not None
        else:
            raise AssertionError(f"a class item not drawn: {op}")
    return found != negate


#: The characters of _POOL in each class drawn from, by the class's parsed form.
_CLASSES: dict[str, list[str]] = {}


def _draw(parsed: sre_parse.SubPattern, rng: random.Random) -> str:
    """A text the parsed pattern may match; lookarounds and anchors are left for the caller's
    search to judge."""
    out = []
    for op, arg in parsed.data:
        if op is C.LITERAL:
            out.append(chr(arg))
        elif op is C.NOT_LITERAL:
            out.append(rng.choice([c for c in _POOL if ord(c) != arg]))
        elif op is C.ANY:
            out.append(rng.choice(_POOL))
        elif op is C.IN:
            key = repr(arg)
            if key not in _CLASSES:
                _CLASSES[key] = [c for c in _POOL if _in_class(c, arg)]
            out.append(rng.choice(_CLASSES[key]))
        elif op is C.BRANCH:
            out.append(_draw(rng.choice(arg[1]), rng))
        elif op is C.SUBPATTERN:
            out.append(_draw(arg[-1], rng))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            low, high, item = arg
            high = min(high, low + 3)
            out.extend(_draw(item, rng) for _ in range(rng.randint(low, high)))
        elif op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            pass
        else:
            raise AssertionError(f"an element not drawn: {op}")
    return "".join(out)


def _texts(pattern: re.Pattern[str], n: int, seed: int) -> list[str]:
    """``n`` texts around drawn phrases, lower-cased as the rules read them; upper-cased phrases
    and combining accents come in as a comment might hold them."""
    rng = random.Random(seed)
    parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    texts = []
    for _ in range(n):
        phrase = _draw(parsed, rng)
        if rng.random() < 0.2:
            phrase = phrase.upper()
        elif rng.random() < 0.1:
            phrase = phrase.title()
        texts.append((rng.choice(_AROUND) + phrase + rng.choice(_AROUND)).lower())
    return texts


def _rare_patterns() -> list[str]:
    names = [f"rules.{n}" for n, v in vars(rules).items() if isinstance(v, rules._Rare)]
    names += [f"spam.{n}" for n, v in vars(spam).items() if isinstance(v, rules._Rare)]
    return sorted(names)


def test_every_rare_pattern_is_drawn_from() -> None:
    # the listing finds the patterns by their type: a new one is drawn from with no list to edit
    names = _rare_patterns()
    assert len(names) >= 20
    assert {"rules._FAULT", "rules._STAFF_SAID", "rules._BAD_OUTCOME", "spam._SHARE_BAIT"} <= set(
        names
    )


def _checked(pattern: re.Pattern[str], lets_through: Callable[[str], bool], seed: int) -> None:
    matched = 0
    for text in _texts(pattern, 4000, seed):
        if pattern.search(text):
            matched += 1
            assert lets_through(text), text
    assert matched >= 100  # enough of the drawn texts match: the test tests something


@pytest.mark.parametrize("name", _rare_patterns())
def test_the_hints_of_a_rare_pattern_let_through_every_text_it_matches(name: str) -> None:
    module, attr = name.split(".")
    rare = getattr({"rules": rules, "spam": spam}[module], attr)
    _checked(rare.pattern, rare._may_match, 29)


#: The patterns a hand-written test passes over, with that test: the text is the lower-cased
#: comment that the test and the pattern both read.
def _any_word(vocabulary: frozenset[str] | set[str]) -> Callable[[str], bool]:
    """The word-set test the rules put before a pattern: one of ``vocabulary`` among the words."""
    return lambda low: not vocabulary.isdisjoint(rules.words(low))


_PRE_CHECKED: dict[str, tuple[re.Pattern[str], Callable[[str], bool]]] = {
    "exclaimed porca": (rules._EXCLAIMED, lambda low: "porca" in rules.words(low)),
    "exclaimed curse": (rules._EXCLAIMED_CURSE, lambda low: "fanculo" in low),
    "exasperated": (rules._EXASPERATED.pattern, _any_word(rules._EXASPERATION_WORDS)),
    "compared to the maker": (
        rules._COMPARED_TO_MAKER.pattern,
        _any_word(rules._MAKER_INSULT_WORDS),
    ),
    "hype": (rules._HYPE.pattern, _any_word(rules._HYPE_WORDS)),
    "share bait": (spam._SHARE_BAIT.pattern, lambda low: spam._SHARE_BAIT._may_match(low)),
    "fault": (
        rules._FAULT.pattern,
        lambda low: not set(rules.words(low)).isdisjoint(rules._FAULT_WORDS) or "funzion" in low,
    ),
    "praise phrase": (rules._PRAISE_PHRASES.pattern, _any_word(rules._PRAISE_PHRASE_WORDS)),
    "who runs": (rules._WHO_RUNS, _any_word(rules._WHO_WORDS)),
    "undone": (rules._UNDONE, _any_word(rules._UNDONE_NEGATIONS)),
    "still waiting": (rules._STILL_WAITING, _any_word(rules._WAITING_WORDS)),
    "taunt": (rules._TAUNT, _any_word(rules._TAUNT_WORDS)),
    "mock cheer": (rules._MOCK_CHEER.pattern, _any_word(rules._MOCK_NAMES)),
    "vague problem": (rules._VAGUE_PROBLEM.pattern, _any_word({"wrong", "storto"})),
}


@pytest.mark.parametrize("name", sorted(_PRE_CHECKED))
def test_a_hand_written_pre_check_lets_through_every_text_its_pattern_matches(name: str) -> None:
    pattern, lets_through = _PRE_CHECKED[name]
    _checked(pattern, lets_through, 31)


def test_a_choice_asked_is_found_whenever_the_pattern_finds_one() -> None:
    rng_texts = _texts(rules._ALTERNATIVE_ASK, 4000, 37)
    matched = 0
    for low in rng_texts:
        match = rules._ALTERNATIVE_ASK.search(low)
        if match and "!" not in low:
            matched += 1
            assert rules._asks_which(low) == match.group(0), low
    assert matched >= 100
