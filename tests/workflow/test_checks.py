"""Each draft check, on its own and through check_draft, with the deterministic test analyser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crisisdesk.analysis.base import Analysis
from crisisdesk.workflow.canned import CannedIndex
from crisisdesk.workflow.checks import (
    CHECK_NAMES,
    check_apology,
    check_draft,
    check_language,
    check_length,
    check_personal,
    check_public_compensation,
    check_tone,
    check_unfinished,
)
from tests.conftest import KeywordAnalyzer
from tests.workflow.wf_support import GOOD_EN, GOOD_IT

COMPLAINT_EN = "My order arrived late and the bread was broken. Not happy."
COMPLAINT_IT = "Il pane è arrivato in ritardo, vergogna!"


def analysis(**kw: object) -> Analysis:
    base: dict[str, object] = dict(
        language="en", sentiment="neutral",
        sentiment_scores={"negative": 0.1, "neutral": 0.8, "positive": 0.1},
        offensive=0.0, irony=0.0, question=False, spam=0.0, kind="other",
    )  # fmt: skip
    base.update(kw)
    return Analysis(**base)  # type: ignore[arg-type]


def run(text: str, **kw: object) -> dict[str, dict[str, object]]:
    args: dict[str, object] = dict(
        comment_text=COMPLAINT_EN, comment_language="en", comment_kind="complaint",
        author_name="Anna Rossi", brand_at_fault=None, history=None, analyzer=KeywordAnalyzer(),
    )  # fmt: skip
    args.update(kw)
    return {c.name: c.as_dict() for c in check_draft(text, **args)}  # type: ignore[arg-type]


def test_a_good_reply_passes_every_check_and_each_says_why() -> None:
    results = run(GOOD_EN)
    assert list(results) == list(CHECK_NAMES)
    assert all(r["ok"] for r in results.values()), results
    assert all(isinstance(r["message"], str) and r["message"] for r in results.values())


def test_good_italian_reply_passes_with_italian_messages() -> None:
    results = run(
        GOOD_IT, comment_text=COMPLAINT_IT, comment_language="it", author_name="Marco Bianchi"
    )
    assert all(r["ok"] for r in results.values()), results
    assert "Contiene delle scuse" in str(results["apology"]["message"])


@pytest.mark.parametrize(
    "phrase",
    [
        "As we already said, the order left on time.",
        "You should have checked the tracking page.",
        "With all due respect, it's not our fault.",
        "Come già detto, la consegna è partita in tempo.",
        "Non è colpa nostra se il corriere è in ritardo.",
        "Avrebbe dovuto leggere le condizioni.",
        "Nobody forced you to buy from us.",
        "You people are never happy.",
        "Nessuno ti ha obbligato a comprare da noi.",
        "Ma certo, come no.",
    ],
)
def test_tone_flags_defensive_and_blaming_phrases(phrase: str) -> None:
    result = check_tone(phrase, None, "en")
    assert not result.ok
    assert "defensive" in result.message.lower()


def test_tone_uses_the_analysis_models_for_aggression_and_sarcasm() -> None:
    offensive = check_tone("whatever", analysis(offensive=0.95), "en")
    assert not offensive.ok and "aggressive" in offensive.message
    sarcastic = check_tone("oh wonderful", analysis(irony=0.9), "it")
    assert not sarcastic.ok and "sarcastica" in sarcastic.message
    # what the balanced models read on most sincere replies is no evidence
    assert check_tone("Thanks for telling us.", analysis(offensive=0.2, irony=0.35), "en").ok
    insults = check_tone("Only idiots complain about free bread", analysis(), "en")
    assert not insults.ok and "idiots" in insults.message
    negative = check_tone("this is bad", analysis(sentiment="negative",
                          sentiment_scores={"negative": 0.9}), "en")  # fmt: skip
    assert not negative.ok and "negative" in negative.message
    assert check_tone("Thanks for telling us.", analysis(), "en").ok


def test_personal_needs_the_name_and_the_specifics() -> None:
    assert check_personal(GOOD_EN, COMPLAINT_EN, "Anna Rossi", "en").ok
    no_name = check_personal(GOOD_EN.replace("Anna", "there"), COMPLAINT_EN, "Anna Rossi", "en")
    assert not no_name.ok and "Anna" in no_name.message
    generic = check_personal("Hi Anna, thanks for reaching out to us today.", COMPLAINT_EN,
                             "Anna Rossi", "en")  # fmt: skip
    assert not generic.ok and "specific" in generic.message
    # An author without a usable name: the specifics are enough.
    assert check_personal(GOOD_EN, COMPLAINT_EN, "@user_99", "en").ok
    # the words picked up are shown as the draft writes them, not as cut stems
    it = check_personal(
        "Ciao Marco, ci dispiace per la colomba arrivata schiacciata: Giulia ti scrive oggi.",
        "La colomba è arrivata schiacciata, due giorni di ritardo!",
        "Marco Bianchi",
        "it",
    )
    assert it.ok and "(arrivata, colomba, schiacciata…)" in it.message


def test_apology_is_required_for_complaints_unless_the_brand_is_not_at_fault() -> None:
    plain = "Hi Anna, your order is on its way again today."
    assert not check_apology(plain, "complaint", None, "en").ok
    assert not check_apology(plain, "complaint", True, "en").ok
    assert check_apology(plain, "complaint", False, "en").ok
    assert check_apology(plain, "troll", None, "en").ok
    assert check_apology("Ci scusiamo per il ritardo", "complaint", None, "it").ok


@pytest.mark.parametrize(
    "text",
    [
        "We will send you a voucher for 20 euro.",
        "You'll get a full refund.",
        "Here is a 10% discount for your trouble.",
        "Ti faremo avere un rimborso.",
        "Ecco un buono sconto per te.",
        "Ti regaliamo uno sconto del 20%.",
    ],
)
def test_public_compensation_is_flagged(text: str) -> None:
    result = check_public_compensation(text, "en")
    assert not result.ok and "private" in result.message


def test_good_in_italian_is_not_compensation() -> None:
    assert check_public_compensation("Il pane era buono, grazie per averlo detto!", "it").ok


def test_unfinished_fails_on_any_bracketed_text_and_quotes_it() -> None:
    en = check_unfinished("Hi Anna, [Say sorry here.] We are on it. [add the link]", "en")
    assert not en.ok
    assert "“[Say sorry here.]”" in en.message and "“[add the link]”" in en.message
    it = check_unfinished("Ciao Marco, [Scrivi la risposta, concreta e completa.] A presto.", "it")
    assert not it.ok and "parentesi quadre" in it.message
    assert "“[Scrivi la risposta, concreta e completa.]”" in it.message
    assert check_unfinished(GOOD_EN, "en").ok and check_unfinished(GOOD_IT, "it").ok
    assert check_unfinished("Orders (like yours) leave at 9.", "en").ok
    long = check_unfinished("Hi Anna, [" + "x" * 300 + "]", "en")
    assert not long.ok and "x" * 118 + "…”" in long.message and "x" * 120 not in long.message
    # Through check_draft, it fails while everything else about the draft is fine.
    results = run(GOOD_EN + " [Add the tracking link.]")
    assert not results["unfinished"]["ok"]
    assert all(r["ok"] for name, r in results.items() if name != "unfinished"), results


def test_length_bounds() -> None:
    assert not check_length("Sorry!", "en").ok
    assert not check_length("word " * 250, "en").ok
    assert check_length(GOOD_EN, "en").ok


def test_language_must_match_the_comment() -> None:
    wrong = check_language(analysis(language="en"), "it", "it")
    assert not wrong.ok and "inglese" in wrong.message
    assert check_language(analysis(language="it"), "it", "it").ok


def test_canned_flags_a_near_copy_of_an_earlier_reply_with_its_date() -> None:
    history = CannedIndex.from_rows(
        [
            (
                "7",
                "Hi Paolo, we're sorry for the trouble. Please DM us your order number and we "
                "will look into it.",
                datetime(2024, 4, 2, tzinfo=UTC),
            ),  # fmt: skip
            ("8", "Thanks Paolo, glad you liked the focaccia!", datetime(2024, 4, 3, tzinfo=UTC)),
        ]
    )
    copy = ("Hi Anna, we're sorry for the trouble. Please DM us your order number and we will "
            "look into it.")  # fmt: skip
    results = run(copy, history=history)
    assert results["canned"]["ok"] is False
    assert "2024-04-02" in str(results["canned"]["message"])
    assert run(GOOD_EN, history=history)["canned"]["ok"] is True


def test_sincere_replies_pass_the_tone_check_with_the_shipped_models() -> None:
    """The shipped offence and irony models read 0.4-0.8 on many sincere replies: the tone check
    must not call them aggressive or sarcastic."""
    from crisisdesk.analysis import load_analyzer
    from crisisdesk.demo.scenario import PAST_CASES

    fast = load_analyzer("fast")
    replies = [GOOD_EN, GOOD_IT, *(p.reply for p in PAST_CASES)]
    for reply, read in zip(replies, fast.analyze_many(replies), strict=True):
        assert check_tone(reply, read, "en").ok, reply
