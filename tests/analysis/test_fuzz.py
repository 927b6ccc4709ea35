"""Hostile and tricky comments, built from the rules' own words: the analysis never crashes on
them, and what it says stays in its ranges.

A comment is attacker-controlled text, and a crash in the analysis stops a whole import or
webhook delivery. The comments here are drawn, with a fixed seed, from the cue lists the rules
read (anger, insults, praise, problems, "but", negations, greetings, questions, vulgar words,
spam phrases), a few phrases their patterns look for, and what page comments hold besides:
disguised words, emoji, links, addresses, mentions, apostrophes, marks, digits, other scripts,
control characters, lone surrogates. Such a mix found an anger cue that is a phrase ("porca
paletta") looked up as one word before a "but" and praise (``rules._redeemed``).
"""

from __future__ import annotations

import math
import random

import pytest

from crisisdesk.analysis import (
    KINDS,
    SENTIMENTS,
    Analysis,
    lexicon,
    load_analyzer,
    profanity,
    rules,
    spam,
)

SEED = 20261130
COMMENTS = 3000

#: The words the rules look for, a list per kind of cue (sorted: the same draws on every run).
CUES = [
    sorted(words)
    for words in (
        rules.ANGER_WORDS,
        rules.INSULT_WORDS,
        rules.POSITIVE_CUES,
        rules.PROBLEM_WORDS,
        rules.EXPERIENCE_WORDS,
        rules._BUT,
        rules._NEGATIONS,
        rules._GREETING_FIRST,
        rules.INTERROGATIVES,
        rules._ADDRESSED,
        lexicon.PROFANITY,
        lexicon.PROFANITY_SHORT,
        spam.SPAM_PHRASES,
    )
]
#: Phrases the rules' patterns look for, which no word list holds.
PHRASES = [
    "porca paletta",
    "fed up",
    "che palle",
    "non se ne può più",
    "can't take it anymore",
    "mai più",
    "never again",
    "no problem",
    "nessun problema",
    "worth every penny",
    "well done",
    "keep it up",
    "continuate così",
    "era la fine del mondo",
    "is sick af",
    "grazie per niente",
    "fuck you",
    "ho sentito che",
    "everyone knows",
    "made with palm oil",
    "do you still have",
    "avete ancora",
    "if it arrives late",
    "given to someone else",
    "hung up on me",
    "who runs this page, a potato?",
]
#: What page comments hold besides words: disguises and a name kept private, faces and joined
#: emoji, links, addresses, mentions and hashtags, numbers, marks, control and invisible
#: characters, lone surrogates, right-to-left text and other scripts.
ODD = [
    *"f**k c***o sh1t str0nzi m.e.r.d.a vaff***lo $hit".split(),
    *("f u c k", "Mr P***"),
    *"😡 🤬 🤡 😂 👏 🔥 💀 🙄 🇮🇹 👍🏽 👨‍👩‍👧 ❤️".split(),
    *"https://example.com/a?b=1 www.example.it premi-vinci.xyz/ritira united.com".split(),
    *"mario.rossi@example.it info@merda-secca.it @trenitalia @fuck_jerry #vergogna".split(),
    *"#fuckoff #JuveMerda #cazzola shit.com fuck.it/x merda.Io".split(),
    *"500€ $20 -70% 10:30 2024 3 ١٢٣".split(),
    "+39 333 1234567",
    *"' ’ - -- !!! ??? ?! ... … ¿ ¡ * @ # \\".split(),
    *("\n", "\t", "\r\n", "\x00", "\x07", "\x1b", "\ud800", "\udfff", "\u200b", "\u202e", "\ufeff"),
    *("مرحبا بكم", "שלום", "Почему поезд опаздывает"),
    *("電車が遅れています", "기차", "İ", "ß", "e\u0301"),
]
SEPARATORS = [" ", " ", " ", "", ", ", ". ", "! ", "? ", "\n", "\n\n", "'", "’", "-", "…", "*"]


def _piece(rng: random.Random) -> str:
    text = rng.choice(rng.choice([*CUES, PHRASES, ODD, ODD]))
    mixed = "".join(rng.choice((c.lower(), c.upper())) for c in text)
    return rng.choice([text, text, text, text.upper(), text.title(), mixed])


def _comment(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.02:
        return rng.choice(["", " ", "\n\t ", "\x00", "\ud800", "\u200b"])
    if roll < 0.03:  # long: the analysis cuts it, the rules read it whole
        return ((_piece(rng) + rng.choice(SEPARATORS)) * 3000)[: rng.randint(4000, 6000)]
    text = _piece(rng)
    for _ in range(rng.randint(0, 14)):
        text += rng.choice(SEPARATORS) + _piece(rng)
    return text


def _signals(rng: random.Random, text: str) -> rules.KindInput:
    """Model readings at random, each in its range, and the rules' own words for the text."""
    words = rules.words(text)
    negative = rng.random()
    return rules.KindInput(
        text=text,
        words=words,
        sentiment=rng.choice(SENTIMENTS),
        negative=negative,
        positive=rng.random() * (1.0 - negative),
        offensive=rng.choice([0.0, 1.0, rng.random()]),
        irony=rng.choice([0.0, 1.0, rng.random()]),
        question=rng.random() < 0.3,
        spam=rng.random() * 0.6,
        disguised=None if rng.random() < 0.5 else profanity.disguised(text, words),
    )


def _well_formed_reasons(reasons: object) -> bool:
    return isinstance(reasons, list) and all(isinstance(r, str) and r for r in reasons)


def test_the_generator_is_seeded() -> None:
    assert [_comment(random.Random(SEED)) for _ in range(2)] == [
        _comment(random.Random(SEED)) for _ in range(2)
    ]


def test_the_kind_rules_never_crash_and_stay_in_range() -> None:
    rng = random.Random(SEED)
    for _ in range(COMMENTS):
        signals = _signals(rng, _comment(rng))
        try:
            kind, reasons = rules.decide_kind(signals)
        except Exception as exc:  # the comment that raised, to rerun it
            raise AssertionError(f"decide_kind raised on {signals!r}") from exc
        assert kind in KINDS, signals
        assert _well_formed_reasons(reasons), (signals, reasons)


def _in_range(result: Analysis) -> bool:
    values = [result.offensive, result.irony, result.spam, *result.sentiment_scores.values()]
    return (
        result.kind in KINDS
        and result.sentiment in SENTIMENTS
        and set(result.sentiment_scores) == set(SENTIMENTS)
        and all(isinstance(v, float) and not math.isnan(v) and 0.0 <= v <= 1.0 for v in values)
        and _well_formed_reasons(result.reasons)
    )


@pytest.mark.parametrize("backend", ["fast", "lexicon"])
def test_the_analysis_never_crashes_and_stays_in_range(backend: str) -> None:
    analyzer = load_analyzer(backend)
    rng = random.Random(SEED)
    comments = [_comment(rng) for _ in range(COMMENTS)]
    for start in range(0, COMMENTS, 250):
        batch = comments[start : start + 250]
        try:
            results = analyzer.analyze_many(batch)
        except Exception:
            for text in batch:  # the comment that raised, to rerun it
                try:
                    analyzer.analyze(text)
                except Exception as exc:
                    raise AssertionError(f"{backend} analysis raised on {text!r}") from exc
            raise
        assert len(results) == len(batch)
        for text, result in zip(batch, results, strict=True):
            assert _in_range(result), (text, result)
