"""Normalisation before featurising: the faster patterns change nothing the models read."""

from __future__ import annotations

import itertools
import re
import zlib

import numpy as np

from crisisdesk.analysis import features

#: The patterns as first written: what the models were trained on.
PLAIN_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
PLAIN_ELONGATED = re.compile(r"(.)\1{2,}")
PLAIN_SPACE = re.compile(r"\s+")

TEXTS = [
    "see https://x.it and HTTP://Y.COM, HtTpS://z or www.a.b WWW.C.D wWw.e",
    "httpſ://long-s.example hTTPſ://x http:/no https//no ww.no wwww.yes.it",
    "whttp://x hhttps://y w.www.z http://",
    "Kelvin K, ſ, İstanbul www.İstanbul.tr",
    "Ciaooo!!! noooo.... 😂😂😂 aaaAAA ......\n\n\n\t\t\t   mmm",
    "  spaced\u00a0\u2003out\u3000text\x1c\x1d\x1e\x1f\x85end  ",
    "",
]


def test_the_link_pattern_finds_what_the_case_blind_one_finds() -> None:
    for text in TEXTS:
        assert features._URL.sub("http", text) == PLAIN_URL.sub("http", text), text
    # every character of the Basic Multilingual Plane (where every case partner of a Latin
    # letter is) in place of each letter of "http" and "www": the case-blind pattern takes "ſ"
    # for an "s", and no other character but the letters' own two cases
    every = [chr(i) for i in range(0x10000) if not 0xD800 <= i <= 0xDFFF]
    for form in ("{}ttp://x", "h{}tp://x", "htt{}://x", "http{}://x", "{}ww.x", "w{}w.x"):
        text = " ".join(form.format(ch) for ch in every)
        assert features._URL.sub("http", text) == PLAIN_URL.sub("http", text), form


def _normalise_as_first_written(texts: list[str]) -> list[str]:
    text = " \x00 ".join(t.replace("\x00", " ") for t in texts)
    text = PLAIN_URL.sub("http", text)
    text = features._MENTION.sub("@user", text)
    text = PLAIN_ELONGATED.sub(r"\1\1", text.lower())
    text = features._DIGITS.sub("0", text)
    return [t.strip() for t in PLAIN_SPACE.sub(" ", text).split("\x00")]


def test_normalisation_is_as_first_written() -> None:
    blanks = "".join(ch for ch in map(chr, range(0x10000)) if PLAIN_SPACE.match(ch))
    texts = [*TEXTS, f"a{blanks}b", blanks, f"{blanks}x{blanks}", f"x{blanks}\x00{blanks}y"]
    assert features.normalise_many(texts) == _normalise_as_first_written(texts)
    for text in texts:
        assert features._ELONGATED.sub(r"\1\1", text) == PLAIN_ELONGATED.sub(r"\1\1", text)


def _plain_word_grams(texts: list[str]) -> dict[int, str]:
    """The names of word features as a text-by-text walk fills a dict: each text's unigrams,
    then its bigrams, keyed by CRC-32 and then by the feature hash it folds to."""
    by_crc: dict[int, str] = {}
    for text in features.normalise_many(texts):
        toks = features.tokens(text)
        for gram in [*toks, *map(" ".join, itertools.pairwise(toks))]:
            by_crc[features.word_hash(gram)] = gram
    crcs = np.asarray(list(by_crc), dtype=np.uint64)
    mixed = features._mix(crcs | np.uint64(1 << 40)) & features._HASH_MASK
    return dict(zip(mixed.tolist(), by_crc.values(), strict=True))


#: "plumless" and "buckeroo" share a CRC-32; "ziwrz" and "esab" fold to one feature hash.
COLLIDING = ["plumless buckeroo", "buckeroo", "ziwrz esab", "esab", "ziwrz", "buckeroo plumless"]


def test_word_names_are_those_of_the_plain_walk() -> None:
    assert zlib.crc32(b"plumless") == zlib.crc32(b"buckeroo")
    fold = features.word_feature_hashes(["ziwrz", "esab"])
    assert fold[0] == fold[1]
    odd = [
        "",
        "prezzo 00 ٣٣ ७ pagato ² volte, pessimo ,",
        "cafe\u0301 cafe\u0301 buonissimo 😀😀 l'albero dell’anno",
        "\ud800 lone \udfff surrogates \ud83d",
        "@user @user http the the great great flight",
        " ".join(f"w{i % 97}x" for i in range(3000)),
        "ok",
    ]
    texts = [*TEXTS, *odd]
    for order in (COLLIDING, COLLIDING[::-1], COLLIDING[2:] + COLLIDING[:2]):
        for batch in ([*texts, *order], [*order, *texts], order[:1], order[1:3], [""], []):
            found = features.featurise(batch, with_grams=True).word_grams
            assert found == _plain_word_grams(batch)
    assert features.featurise(COLLIDING, with_grams=True).word_grams


def test_sublinear_counts_looked_up_are_the_logarithms() -> None:
    every = np.arange(1, 5000)
    rng = np.random.default_rng(11)
    for counts in (every, every[:64], every[::-7], rng.geometric(0.3, size=10_001), every[:0]):
        plain = (1.0 + np.log(counts)).astype(np.float32)
        found = features.sublinear_tf(counts)
        assert found.dtype == np.float32 and np.array_equal(found, plain)
