"""The suggested drafts: honest, gender-neutral, and impossible to publish unfinished."""

from __future__ import annotations

import pytest

from crisisdesk.workflow.checks import check_unfinished
from crisisdesk.workflow.drafts import EN, PLACEHOLDERS, placeholders_left, suggest_draft

KINDS = sorted(EN)
# Words that assume the customer is a man, or claim something was done before it was.
FORBIDDEN = ("arrabbiato", "stato trattato", "Ho già girato", "I have passed", "passed this on")


@pytest.mark.parametrize("language", ["en", "it"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_suggestion_is_honest_neutral_and_caught_until_edited(
    kind: str, language: str
) -> None:
    text = suggest_draft(
        kind,
        language,
        author_name="Martina Neri",
        comment_text="La commessa è stata scortese, the staff was rude",  # the staff topic
        responsible="Social media manager",
        page_name="Forno Aurora",
    )
    assert text.startswith(("Hi Martina", "Ciao Martina", "Thank you so much, Martina",
                            "Grazie di cuore, Martina"))  # fmt: skip
    for phrase in FORBIDDEN:
        assert phrase.lower() not in text.lower(), (phrase, text)
    left = placeholders_left(text)
    assert len(left) == 1 and left[0] in text
    check = check_unfinished(text, language)
    assert not check.ok and left[0] in check.message
    # The contact is named after the role, so a job title reads as well as a name.
    if "Social media manager" in text:
        assert ("person responsible (Social media manager)" in text
                or "referente (Social media manager)" in text), text  # fmt: skip
    assert text.endswith("— Forno Aurora")
    # Once the instruction is replaced, nothing holds the draft back.
    done = text.replace(left[0], "Giulia served you in a hurry and that was wrong.")
    assert placeholders_left(done) == [] and check_unfinished(done, language).ok


@pytest.mark.parametrize("kind", KINDS)
def test_without_a_contact_or_a_name_the_sentences_still_read(kind: str) -> None:
    for language in ("en", "it"):
        text = suggest_draft(kind, language)
        assert "()" not in text and "{" not in text and ", !" not in text
        assert "referente" not in text and "person responsible" not in text


def test_the_complaint_says_what_will_happen_not_what_happened() -> None:
    it = suggest_draft("complaint", "it", responsible="Marco (logistica)")
    assert "Giro la segnalazione al referente (Marco, logistica), che se ne occuperà" in it
    assert "capisco il tuo disappunto" in it
    assert "[Scrivi cosa è andato storto, con le parole del cliente.]" in it
    en = suggest_draft("complaint", "en", responsible="Customer relations lead")
    assert "I'll pass this on to the person responsible (Customer relations lead), who will" in en
    staff = suggest_draft("complaint", "it", comment_text="il cameriere era scortese")
    assert "il trattamento che hai ricevuto" in staff


def test_placeholders_are_the_templates_own_words_only() -> None:
    assert len(PLACEHOLDERS) == 2 * len(KINDS)  # one per kind and language
    question = "[Write the answer, concrete and complete.]"
    assert question in PLACEHOLDERS
    # A line break typed inside the instruction does not hide it.
    wrapped = "Hi Anna, [Write the answer,\nconcrete and complete.] Bye"
    assert placeholders_left(wrapped) == [question]
    # Brackets of the person's own are for the check to point out, not for publishing to refuse.
    assert placeholders_left("Order [#1234] left today.") == []
    assert placeholders_left("[Write the answer]") == []
