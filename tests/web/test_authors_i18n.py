"""Author risk reasons and competitor flags in the reader's language, through the ASGI app."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from crisisdesk.desk import Desk
from crisisdesk.reasons import Reason
from crisisdesk.signals import authors, competitors
from crisisdesk.signals.authors import author_card, record_verdict
from crisisdesk.signals.competitors import Competitor, comment_flags, set_competitors
from crisisdesk.web import i18n
from crisisdesk.web.app import create_app
from tests.signals.test_authors import author_id, rec, seed
from tests.web.conftest import log_in

NOTE = "profilo aperto ieri <b>strano</b>"
# Pieces of every English sentence these authors get; none may be left in the Italian page.
ENGLISH = (
    "first seen on our pages", "name looks like a throwaway", "ends in a long run of digits",
    "posted the same text as", "bursts of activity", "posts the same links", "comments are negative",
    "checked by a person", "links to Panificio Rossi", "names rossibread", "thread(s)",
    "default-like name", "random-looking letters",
)  # fmt: skip


@pytest.fixture
def seeded(desk: Desk) -> Desk:
    """Throwaway accounts, a competitor pushed and linked on page P1, and an unsure verdict."""
    seed(desk)
    set_competitors(
        desk, p1(desk), [Competitor("Panificio Rossi", handles=["@rossibread"], domains=["promo.example"])],
        actor="ann",
    )  # fmt: skip
    desk.ingest(
        [
            rec("k1", "x4", "Luca B", "Bread was broken again, go to @rossibread instead!", 30,
                post_id="post9"),
            rec("k2", "x5", "Sara", "Anyone tried the pastries?", 31, post_id="post9"),
        ]
    )  # fmt: skip
    record_verdict(desk, author_id(desk, "x1"), "unsure", note=NOTE, page_id=p1(desk), actor="ann")
    desk.add_user("anna", "correct-horse-battery", language="it")
    desk.add_user("bob", "correct-horse-battery", language="en")
    return desk


def p1(desk: Desk) -> int:
    return next(p.id for p in desk.pages() if p.platform_id == "P1")


@contextmanager
def signed_in(desk: Desk, username: str) -> Iterator[TestClient]:
    with TestClient(create_app(desk)) as client:
        log_in(client, username)
        yield client


def pages_and_reasons(desk: Desk, client: TestClient) -> list[tuple[str, list[Reason]]]:
    """Each author's card fragment and full page, with every reason the card holds."""
    out = []
    for comment, author in (("f3", "x1"), ("g1", "x2"), ("g2", "x3"), ("k1", "x4"), ("k2", "x5")):
        found = desk.find_comment(comment)
        assert found is not None
        aid = author_id(desk, author)
        card = author_card(desk, aid, page_id=p1(desk), coordination=desk.coordination)
        assert card is not None
        reasons = [
            *card.fake.reasons,
            *card.competitor.reasons,
            *card.name_patterns,
            *(f["reason"] for f in card.competitor_flags[:8]),
        ]
        fragment = client.get(f"/comments/{found.id}/author-card")
        page = client.get(f"/authors/{aid}", params={"page": p1(desk)})
        assert fragment.status_code == page.status_code == 200
        flags = list(comment_flags(desk, found.id))
        out.append((fragment.text, reasons + [f.reason for f in flags]))
        out.append((page.text, reasons))
    return out


def test_reasons_are_in_italian_for_an_italian_reader(seeded: Desk) -> None:
    with signed_in(seeded, "anna") as client:
        rendered = pages_and_reasons(seeded, client)
    codes = set()
    for html, reasons in rendered:
        assert str(escape(i18n.translator("it")("author.title"))) in html
        for reason in reasons:
            codes.add(reason.code)
            italian = i18n.translate_reason(reason, "it")
            assert italian != reason
            assert str(escape(italian)) in html
            assert str(escape(reason)) not in html
        for english in ENGLISH:
            assert str(escape(english)) not in html
        assert "<b>strano</b>" not in html
    # Spelled out, so a wrong catalog entry cannot pass by being rendered the same wrong way.
    whole = "\n".join(html for html, _ in rendered)
    for italian in (
        "il nome sembra quello di un account usa e getta: "
        "finisce con una lunga serie di cifre (83746251)",
        "visto sulle nostre pagine per la prima volta meno di due giorni fa",
        "ha pubblicato lo stesso testo di altri autori (2)",
        "raffiche di attività (3 commenti in 4,0 minuti)",
        "tutti i 3 commenti sono negativi",
        "verificato da una persona: incerto: profilo aperto ieri &lt;b&gt;strano&lt;/b&gt;",
        "link a Panificio Rossi (promo.example)",
        "nomina rossibread e manda lì le persone mentre ci attacca",
        "commenta in conversazioni dove si spinge un concorrente (1)",
        "nome predefinito (User 5521)",
        "lettere che sembrano messe a caso (qzxkvbtr)",
    ):
        assert italian in whole, italian
    assert codes >= {
        "fake.new", "fake.name", "fake.same_text", "fake.bursts", "fake.links",
        "fake.all_negative", "verdict.unsure", "name.digits", "competitor.link",
        "competitor.push_attack", "competitor.threads",
    }  # fmt: skip


def test_reasons_stay_english_for_an_english_reader(seeded: Desk) -> None:
    with signed_in(seeded, "bob") as client:
        rendered = pages_and_reasons(seeded, client)
    for html, reasons in rendered:
        assert "Who wrote it" in html
        for reason in reasons:
            assert str(escape(reason)) in html
            assert str(escape(i18n.translate_reason(reason, "it"))) not in html
    whole = "\n".join(html for html, _ in rendered)
    assert "checked by a person, unsure: profilo aperto ieri &lt;b&gt;strano&lt;/b&gt;" in whole
    assert "comments on 1 thread(s) where a competitor is pushed" in whole
    assert "verificato da una persona" not in whole and "nomina rossibread" not in whole


def test_every_reason_has_an_italian_sentence_with_the_same_blanks() -> None:
    italian = i18n.CATALOGS["it"]
    for table in (authors.REASONS, competitors.REASONS):
        for code, english in table.items():
            key = "reason." + code
            assert key in italian, key
            assert blanks(italian[key]) == blanks(english), key
            assert italian[key] != english, key
    for network, english in authors.NETWORK_LABELS.items():
        key = "reason.network." + network
        assert key in italian and italian[key] != english, key


def test_coordination_networks_are_said_in_words_in_both_languages() -> None:
    networks = [authors.network_label("co_link"), authors.network_label("co_tweet")]
    reason = Reason(
        "fake.coordinated", authors.REASONS["fake.coordinated"], size=3, networks=networks
    )
    assert reason == (
        "part of a coordinated group of 3 accounts (shared the same links; posted identical text)"
    )
    italian = i18n.translate_reason(reason, "it")
    assert "hanno condiviso gli stessi link; hanno scritto lo stesso testo" in italian
    assert "co_link" not in italian and "shared" not in italian
    assert authors.network_label("co_unknown") == "co_unknown"


def blanks(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_a_reason_without_a_usable_translation_is_its_english(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reason = Reason("competitor.mention", "mentions {name}", name="Acme")
    assert i18n.translate_reason(reason, "it") == "menziona Acme"
    monkeypatch.setitem(i18n.CATALOGS["it"], "reason.competitor.mention", "menziona {nome}")
    assert i18n.translate_reason(reason, "it") == "mentions Acme"
    monkeypatch.delitem(i18n.CATALOGS["it"], "reason.competitor.mention")
    assert i18n.translate_reason(reason, "it") == "mentions Acme"
    # Plain strings still go through the analysis labels as before.
    assert i18n.translate_reason("3 exclamation marks", "it") == "3 punti esclamativi"


def test_the_checks_ticked_with_a_verdict_are_said_in_the_readers_language(seeded: Desk) -> None:
    found = seeded.find_comment("k1")
    assert found is not None
    path = f"/comments/{found.id}/author-card"
    with signed_in(seeded, "anna") as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
        assert token
        saved = client.post(
            path + "/verdict",
            data={"verdict": "fake", "note": "nuovo", "checks": ["photo", "friends"],
                  "csrf_token": token[1]},
            headers={"hx-request": "true"},
        )  # fmt: skip
        assert saved.status_code == 200
        italian = client.get(path).text
    with signed_in(seeded, "bob") as client:
        english = client.get(path).text
    # in the verdict list and in the risk reason that quotes the note
    assert italian.count("nuovo [controllato: foto, amici]") == 2, italian
    assert "[checked:" not in italian
    assert english.count("nuovo [checked: photo, friends]") == 2
