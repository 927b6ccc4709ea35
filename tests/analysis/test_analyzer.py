"""The shipped fast analyser: contract, ranges, languages, reasons, determinism, hostile input."""

from __future__ import annotations

import json
import math
import pickle
from collections.abc import Sequence
from pathlib import Path

import pytest

from crisisdesk.analysis import (
    KINDS,
    SENTIMENTS,
    Analysis,
    Analyzer,
    lexicon,
    linear,
    load_analyzer,
)
from crisisdesk.analysis.fast import MAX_CHARS, FastAnalyzer, Scores

SAMPLES = [
    "Il treno è in ritardo anche oggi, che schifo di servizio.",
    "Thank you so much for the wedding cake, everyone loved it!",
    "¿A qué hora abre la tienda el domingo?",
    "Merci beaucoup pour votre aide, le problème est résolu.",
    "Warum ist mein Internet schon wieder seit drei Tagen kaputt?",
    "Obrigado pelo atendimento, foi muito rápido!",
    "You idiots can't even bake bread lol",
    "Earn 500$ a day from home!!! Click here http://bit.ly/xx9",
]


@pytest.fixture(scope="module")
def fast() -> Analyzer:
    return load_analyzer("fast")


def test_shipped_models_load_once_and_are_real(fast: Analyzer) -> None:
    assert isinstance(fast, FastAnalyzer)
    assert fast.version.startswith("fast-linear-")
    assert isinstance(fast, Analyzer)
    again = load_analyzer("fast")
    assert isinstance(again, FastAnalyzer)
    assert again.scorer is fast.scorer  # module-level cache: files read once


def test_field_types_and_ranges(fast: Analyzer) -> None:
    for result in fast.analyze_many(SAMPLES):
        assert isinstance(result, Analysis)
        assert result.sentiment in SENTIMENTS
        assert set(result.sentiment_scores) == set(SENTIMENTS)
        assert math.isclose(sum(result.sentiment_scores.values()), 1.0, abs_tol=1e-3)
        assert result.sentiment == max(result.sentiment_scores, key=result.sentiment_scores.get)
        for value in (
            result.offensive,
            result.irony,
            result.spam,
            *result.sentiment_scores.values(),
        ):
            assert isinstance(value, float) and 0.0 <= value <= 1.0
        assert isinstance(result.question, bool)
        assert result.kind in KINDS
        assert isinstance(result.reasons, list) and all(isinstance(r, str) for r in result.reasons)
        assert result.model_version == fast.version
        json.dumps(result.to_dict())  # serialisable as the CLI and the store need


def test_languages(fast: Analyzer) -> None:
    langs = [r.language for r in fast.analyze_many(SAMPLES[:6])]
    assert langs == ["it", "en", "es", "fr", "de", "pt"]
    # one or two words: the n-grams say little, and the desk's first languages are preferred
    short = ["Disgusting", "Amazing", "Never again", "Vergogna", "Che schifo", "Pessimo servizio"]
    assert [r.language for r in fast.analyze_many(short)] == ["en"] * 3 + ["it"] * 3
    one_word = ["Complimenti!", "Merci", "Danke", "Obrigado!", "Gracias", "Awesome"]
    assert [r.language for r in fast.analyze_many(one_word)] == ["it", "fr", "de", "pt", "es", "en"]
    assert fast.analyze("Thank you so much", lang_hint="it").language == "it"
    # an unknown hint is ignored rather than trusted
    assert fast.analyze("Thank you so much for the cake", lang_hint="xx").language == "en"


def test_signals_point_the_right_way(fast: Analyzer) -> None:
    late, thanks, *_ = fast.analyze_many(SAMPLES)
    assert late.sentiment == "negative"
    assert thanks.sentiment == "positive"
    insult = fast.analyze("You are all stupid idiots, shut up")
    polite = fast.analyze("Thank you for the quick reply")
    assert insult.offensive > 0.5 > polite.offensive
    assert fast.analyze("Quando riaprite il negozio di via Roma?").question
    assert not fast.analyze("Buonissimo come sempre").question
    spam = fast.analyze(SAMPLES[-1])
    assert spam.spam > 0.8 and spam.kind == "spam"


def test_every_result_explains_itself(fast: Analyzer) -> None:
    for result in fast.analyze_many(SAMPLES + ["Great job!", "VERGOGNA!!!"]):
        if result.kind != "other":
            assert result.reasons, result
    negative = fast.analyze("Il servizio è pessimo, una vergogna")
    assert any("vergogna" in r or "pessimo" in r for r in negative.reasons)


def test_deterministic_and_batch_independent(fast: Analyzer) -> None:
    one_by_one = [fast.analyze(t) for t in SAMPLES]
    batched = fast.analyze_many(SAMPLES)
    assert one_by_one == batched
    assert fast.analyze_many(list(reversed(SAMPLES))) == list(reversed(batched))
    # a fresh load of the same files gives the same results (no salted hashing)
    scorer = linear.LinearModel.load(linear.MODELS_DIR / "sentiment.npz")
    assert scorer.classes == pickle.loads(pickle.dumps(scorer)).classes


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "\x00\x00",
        "🤡" * 50,
        "<script>alert(1)</script>",
        "\ud800 lone surrogate",
        "a" * 100_000,
        "\u202e\u200b zero width and bidi",
        "١٢٣ ٤٥٦",
    ],
)
def test_hostile_empty_and_huge_input(fast: Analyzer, text: str) -> None:
    result = fast.analyze(text)
    assert result.kind in KINDS and 0.0 <= result.offensive <= 1.0
    if not text.strip():
        assert result.kind == "other" and result.language == "und"


def test_huge_batch_keeps_order_and_length(fast: Analyzer) -> None:
    texts = [
        f"comment {i}: the train was late again, terrible service" if i % 2 else "grazie!"
        for i in range(3000)
    ]
    results = fast.analyze_many(texts)
    assert len(results) == 3000
    assert results[0] == results[2]
    assert results[1].sentiment == "negative"
    assert len(fast.analyze("x" * (MAX_CHARS * 3)).reasons) <= 8


def test_bad_input_is_a_clear_error(fast: Analyzer) -> None:
    with pytest.raises(TypeError, match="comment 1: expected str"):
        fast.analyze_many(["ok", None])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="language hints"):
        fast.analyze_many(["a", "b"], ["it"])
    with pytest.raises(ValueError, match="unknown analyzer backend"):
        load_analyzer("gpt")


def test_lexicon_backend_and_missing_models_fallback(tmp_path: object) -> None:
    lex = load_analyzer("lexicon")
    assert lex.version == "fast-lexicon-1"
    assert lex.analyze("Grazie, buonissimo!").kind == "praise"
    fallback = load_analyzer("fast", models_dir=str(tmp_path))
    assert fallback.version == "fast-lexicon-1"


class FixedScorer:
    """A model that reads every text with the same sentiment, as a tweet-trained one may read a
    plain problem report (neutral) or "pessimo servizio" (positive)."""

    version = "fixed-1"
    kind_model = None  # the rules alone decide the kind

    def __init__(self, sentiment: dict[str, float], offensive: float = 0.05) -> None:
        self.sentiment = sentiment
        self.offensive = offensive

    def score(self, texts: Sequence[str], hints: Sequence[str | None]) -> list[Scores]:
        return [Scores("it", dict(self.sentiment), self.offensive, 0.05) for _ in texts]


NEUTRAL = {"negative": 0.25, "neutral": 0.6, "positive": 0.15}
POSITIVE = {"negative": 0.2, "neutral": 0.3, "positive": 0.5}


@pytest.mark.parametrize("read", [NEUTRAL, POSITIVE])
def test_a_complaint_rant_or_false_claim_is_negative_whatever_the_model_reads(
    read: dict[str, float],
) -> None:
    analyzer = FastAnalyzer(FixedScorer(read))
    complaint, rant, claim, plain = analyzer.analyze_many(
        [
            "Ho ordinato il pacco il 3 maggio e non è ancora arrivato, ho chiamato due volte.",
            "VERGOGNA, SIETE UNA VERGOGNA!!!",
            "Ho visto su un gruppo che vi chiudono per frode alimentare",
            "Il negozio apre alle nove.",
        ]
    )
    assert (complaint.kind, complaint.sentiment) == ("complaint", "negative")
    assert "negative: read from the complaint" in complaint.reasons
    assert (rant.kind, rant.sentiment) == ("rager", "negative")
    assert "negative: read from the rant" in rant.reasons
    # a false accusation against the page is bad news for it, however its words read
    assert (claim.kind, claim.sentiment) == ("misguided", "negative")
    assert "negative: read from the false claim" in claim.reasons
    # the scores stay the model's; anything else keeps the model's label
    assert complaint.sentiment_scores == read
    assert plain.kind == "other"
    assert plain.sentiment == max(read, key=lambda k: read[k])
    assert not any(r.startswith("negative") for r in plain.reasons)


def test_a_denied_problem_reads_positive_when_the_model_reads_it_negative() -> None:
    read = {"negative": 0.63, "neutral": 0.27, "positive": 0.1}
    analyzer = FastAnalyzer(FixedScorer(read))
    loyal, broken = analyzer.analyze_many(
        [
            "Cliente da 10 anni e mai un problema. Continuate così!",
            "Never had a problem until today: my cake arrived broken",
        ]
    )
    assert (loyal.kind, loyal.sentiment) == ("praise", "positive")
    assert "positive: a problem denied" in loyal.reasons
    assert loyal.sentiment_scores == read  # the scores stay the model's
    assert (broken.kind, broken.sentiment) == ("complaint", "negative")


def test_a_vulgar_comment_is_offensive_whatever_the_model_reads() -> None:
    # The model reads these at 0.05: the Italian offence data labels misogyny, not swearing.
    analyzer = FastAnalyzer(FixedScorer(NEUTRAL, offensive=0.05))
    told_off, swearing, exclaimed, glad, clean = analyzer.analyze_many(
        [
            "Andate a fanculo, voi e le vostre torte",
            "Che cazzo di servizio",
            "Porca puttana, il treno è di nuovo in ritardo",
            "Cazzo che buona questa torta!",
            "Il negozio apre alle nove.",
        ]
    )
    for vulgar in (told_off, swearing, exclaimed, glad):
        assert vulgar.offensive == lexicon.PROFANITY_FLOOR
        assert any(r.startswith("offensive: profanity: ") for r in vulgar.reasons)
    assert told_off.kind == "troll"  # a name called, or told where to go
    assert swearing.kind == "rager"  # swearing about the service is venting
    assert exclaimed.kind != "troll"  # "porca puttana" calls nobody a name
    assert clean.offensive == 0.05 and not any("profanity" in r for r in clean.reasons)
    # read as glad, swearing is enthusiasm, not a rant
    glad_read = FastAnalyzer(FixedScorer(POSITIVE, offensive=0.05)).analyze_many(
        ["Cazzo che buona questa torta!"]
    )[0]
    assert glad_read.kind != "rager"


def test_a_name_called_is_offensive_whatever_the_model_reads() -> None:
    # The shipped model reads "Pagliacci!" at 0.02 and "Siete dei ladri!" at 0.11.
    analyzer = FastAnalyzer(FixedScorer(NEUTRAL, offensive=0.02))
    clowns, thieves, idiots, garbage, headline, film = analyzer.analyze_many(
        [
            "Pagliacci!",
            "Siete dei ladri, ridatemi i soldi",
            "Bunch of idiots work for this airline",
            "The food was garbage and the staff incompetent",
            "Winners and losers of the new loyalty programme",
            "Piove, governo ladro!",
        ]
    )
    for called, word in ((clowns, "pagliacci"), (thieves, "ladri"), (idiots, "idiots")):
        assert called.offensive == lexicon.PROFANITY_FLOOR
        assert f"offensive: name-calling: {word}" in called.reasons
    # a model surer than the floor keeps its reading
    assert FastAnalyzer(FixedScorer(NEUTRAL, offensive=0.87)).analyze("Clowns").offensive == 0.87
    # words that judge a thing, a headline's losers and the weather's thief call nobody a name
    for clean in (garbage, headline, film):
        assert clean.offensive == 0.02
        assert not any("name-calling" in r for r in clean.reasons)
    cheats, jerks, vet, april = analyzer.analyze_many(
        [
            "Cialtroni, ecco cosa siete",
            "Your flight attendants are all jerks",
            "Il cane ha i parassiti, che antiparassitario consigliate?",
            "April Fools' Day again, nobody fools me",
        ]
    )
    assert cheats.offensive == jerks.offensive == lexicon.PROFANITY_FLOOR
    # a vet's page names parasites plainly, and April Fools' Day calls nobody a fool
    assert vet.offensive == april.offensive == 0.02


def test_a_comment_without_letters_has_no_language(fast: Analyzer) -> None:
    for text in ("😡😡😡", "👍", "❤️❤️", "10/10!!!", "?"):
        assert fast.analyze(text).language == "und", text
    assert fast.analyze("Grazie mille, bravissimi 👍").language == "it"


@pytest.mark.parametrize(
    "content", [b"", b"hello", b"\x93NUMPY not an archive", b"PK\x03\x04 cut short"]
)
def test_a_model_file_that_is_not_whole_is_refused_as_damaged(
    tmp_path: Path, content: bytes
) -> None:
    """Empty, text, a single array, a cut zip: each is one damaged model file, said with a code
    (not numpy's advice about unpickling, nor a traceback of the zip reader)."""
    path = tmp_path / "sentiment.npz"
    path.write_bytes(content)
    with pytest.raises(linear.ModelFileError) as refused:
        linear.LinearModel.load(path)
    reason = refused.value.args[0]
    assert reason.code == "model.file_damaged" and reason.params["path"] == str(path)
    assert "pickle" not in str(reason)


def test_a_manifest_that_is_not_json_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "models"
    root.mkdir()
    (root / "manifest.json").write_text('{"version": ', encoding="utf-8")
    with pytest.raises(linear.ModelFileError) as refused:
        linear.load_scorer(root)
    assert refused.value.args[0].code == "model.file_damaged"
