"""Kinds and topics on the pages screen: typed as the English key or as a label in any interface
language, stored as the key (the only name the cool-down and the contacts look up), refused with
the valid names when unknown, in the reader's language, without losing what was typed."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from crisisdesk.desk import Desk
from crisisdesk.web.app import create_app
from tests.web.conftest import form_token, log_in

LANGS = ("en", "it")


@pytest.fixture
def desk_with_page(desk: Desk) -> Desk:
    desk.configure_page("facebook", "123", name="Forno", config={"causes": ["late"]})
    for lang in LANGS:
        desk.add_user(f"admin_{lang}", "correct-horse-battery", role="admin", language=lang)
    return desk


@contextmanager
def signed_in(desk: Desk, lang: str) -> Iterator[tuple[TestClient, str]]:
    """A client signed in as the admin who reads ``lang``, and a CSRF token for /pages."""
    with TestClient(create_app(desk)) as client:
        log_in(client, f"admin_{lang}")
        yield client, form_token(client, "/pages")


def textarea(page_html: str, name: str) -> str:
    found = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', page_html, re.S)
    assert found, name
    return html.unescape(found[1])


@pytest.mark.parametrize("lang", LANGS)
def test_labels_in_any_language_are_stored_as_keys_and_apply(
    desk_with_page: Desk, lang: str
) -> None:
    page = desk_with_page.pages()[0]
    with signed_in(desk_with_page, lang) as (client, token):
        r = client.post(
            f"/pages/{page.id}",
            data={
                "csrf_token": token,
                # Italian labels, an English label of two words, a key in capitals.
                "cooldown": "reclamo = 30\ntroll = 0\nMisguided claim = 12\nRAGER = 7,5",
                "contacts": "prodotto = Qualità\nConsegne = Logistica\nbilling = Cassa\n"
                "tutto il resto = Social",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303
        page = desk_with_page.pages()[0]
        assert page.config["cooldown_minutes"] == {
            "complaint": 30.0,
            "troll": 0.0,
            "misguided": 12.0,
            "rager": 7.5,
        }
        assert page.config["contacts"] == {
            "product": "Qualità",
            "delivery": "Logistica",
            "billing": "Cassa",
            "default": "Social",
        }
        # What the review found never applied now does.
        workflow = desk_with_page.workflow
        assert workflow.cooldown_for(page, "complaint") == timedelta(minutes=30)
        assert workflow.cooldown_for(page, "troll") == timedelta(0)
        assert workflow.responsible_for(page, "product") == "Qualità"
        assert workflow.responsible_for(page, "staff") == "Social"

        # The form shows the reader's own names, and saving it again keeps the same settings.
        shown = client.get("/pages").text
        cooldown, contacts = textarea(shown, "cooldown"), textarea(shown, "contacts")
        if lang == "it":
            assert "reclamo = 30" in cooldown and "prodotto = Qualità" in contacts
        else:
            assert "complaint = 30" in cooldown and "product = Qualità" in contacts
        again = client.post(
            f"/pages/{page.id}",
            data={"csrf_token": token, "cooldown": cooldown, "contacts": contacts},
            follow_redirects=False,
        )
        assert again.status_code == 303
        assert (
            desk_with_page.pages()[0].config["cooldown_minutes"] == page.config["cooldown_minutes"]
        )
        assert desk_with_page.pages()[0].config["contacts"] == page.config["contacts"]


@pytest.mark.parametrize(
    ("lang", "field", "typed", "said", "listed"),
    [
        ("en", "cooldown", "reclam = 30", "“reclam” is not a kind of comment", "complaint, "),
        ("it", "cooldown", "reclam = 30", "«reclam» non è un tipo di commento", "reclamo, "),
        ("en", "contacts", "prodotti = Qualità", "“prodotti” is not a topic", "product, staff"),
        ("it", "contacts", "prodotti = Qualità", "«prodotti» non è un tema", "prodotto, personale"),
    ],
)
def test_unknown_name_is_refused_with_the_valid_ones_and_the_form_kept(
    desk_with_page: Desk, lang: str, field: str, typed: str, said: str, listed: str
) -> None:
    page = desk_with_page.pages()[0]
    form = {
        "competitors": "Rivale; @rivale",
        "contacts": "consegne = Logistica",
        "causes": "late\nrude",
        "cooldown": "troll = 5",
        "response_target": "45",
        field: typed,
    }
    with signed_in(desk_with_page, lang) as (client, token):
        r = client.post(f"/pages/{page.id}", data={"csrf_token": token, **form})
    assert r.status_code == 400
    text = html.unescape(r.text)
    alert = re.search(r'<p class="error" role="alert">(.*?)</p>', text, re.S)
    assert alert and said in alert[1] and listed in alert[1]
    assert desk_with_page.pages()[0].config == {"causes": ["late"]}
    for name in ("competitors", "contacts", "causes", "cooldown"):
        assert textarea(r.text, name) == form[name]
    assert 'name="response_target" inputmode="decimal" value="45"' in r.text


@pytest.mark.parametrize(
    ("lang", "kinds", "topics"),
    [
        ("en", "Kinds: praise, question, complaint, misguided claim, rager", "Topics: delivery"),
        (
            "it",
            "Tipi: complimento, domanda, reclamo, accusa infondata",
            "Temi: consegne, pagamenti",
        ),
    ],
)
def test_help_lists_the_valid_names_in_the_readers_language(
    desk_with_page: Desk, lang: str, kinds: str, topics: str
) -> None:
    with signed_in(desk_with_page, lang) as (client, _token):
        text = client.get("/pages").text
    assert kinds in text and topics in text


def test_the_vouchers_currency_is_a_page_setting(desk_with_page: Desk) -> None:
    page = desk_with_page.pages()[0]
    with signed_in(desk_with_page, "it") as (client, token):
        r = client.post(
            f"/pages/{page.id}",
            data={"csrf_token": token, "currency": "GBP", "causes": "late"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        shown = client.get("/pages").text
        assert "Valuta dei buoni" in shown and '<option value="GBP" selected>' in shown
        assert desk_with_page.pages()[0].config["currency"] == "GBP"
        # a value the form never offers is not stored
        client.post(f"/pages/{page.id}", data={"csrf_token": token, "currency": "XYZ"})
    assert "currency" not in (desk_with_page.pages()[0].config or {})
