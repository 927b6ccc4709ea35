"""The new-rule form: thresholds as people type them (0,5, 0.5, 50%), a refusal that names the
field as the form labels it in the reader's language and gives back everything typed, and an
escalation topic typed in any interface language stored as its English key."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from crisisdesk.desk import Desk
from crisisdesk.web.app import create_app
from crisisdesk.workflow import rules
from crisisdesk.workflow.rules import RuleError, RulesEngine, validate
from tests.web.conftest import form_token, log_in

LANGS = ("en", "it")


@pytest.mark.parametrize(
    ("typed", "expected"), [("50%", 0.5), ("0,5", 0.5), ("0.25", 0.25), ("12,5 %", 0.125)]
)
def test_thresholds_as_typed(typed: str, expected: float) -> None:
    clean, _ = validate({"offensive_min": typed, "fake_risk_min": typed}, [{"type": "hide"}])
    assert clean == {"offensive_min": expected, "fake_risk_min": expected}


@pytest.mark.parametrize("typed", ["150%", "1,5", "molto", "%", "nan"])
def test_bad_threshold_names_its_field(typed: str) -> None:
    with pytest.raises(RuleError) as refused:
        validate({"offensive_min": typed}, [{"type": "hide"}])
    assert getattr(refused.value, "field", None) == "offensive_min"


def test_names_by_key_or_label_in_any_language() -> None:
    assert rules.name_key("Prodotto", "topic") == "product"
    assert rules.name_key("  anything   else ", "topic") == "default"
    assert rules.name_key("sfogo rabbioso", "kind") == "rager"
    with pytest.raises(rules.UnknownName) as refused:
        rules.name_key("pizza", "topic")
    assert refused.value.typed == "pizza" and "product" in refused.value.valid


@pytest.fixture
def desk_with_users(desk: Desk) -> Desk:
    desk.configure_page("facebook", "P1", name="Forno")
    desk.configure_page("facebook", "P2", name="Bottega")
    for lang in LANGS:
        desk.add_user(f"mod_{lang}", "correct-horse-battery", language=lang)
    return desk


@contextmanager
def signed_in(desk: Desk, lang: str) -> Iterator[tuple[TestClient, str]]:
    with TestClient(create_app(desk)) as client:
        log_in(client, f"mod_{lang}")
        yield client, form_token(client, "/rules")


def page_id(desk: Desk, platform_id: str) -> int:
    return next(p.id for p in desk.pages() if p.platform_id == platform_id)


def the_form(desk: Desk) -> dict[str, str | list[str]]:
    return {
        "name": "Insulti",
        "page": str(page_id(desk, "P2")),
        "match": "any",
        "keywords": "truffa, vergogna",
        "link_domains": "promo.example",
        "has_link": "on",
        "kinds": ["troll", "rager"],
        "verdicts": ["fake"],
        "first_time_author": "on",
        "fake_risk_min": "0,7",
        "label": "insulto",
        "assign": "mod_en",
        "hide": "on",
        "escalate": "on",
        "topic": "prodotto",
        "note": "da vedere",
    }


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "“offensive score at least” must be a number between 0 and 1"),
        ("it", "«offensività almeno» deve essere un numero tra 0 e 1"),
    ],
)
def test_a_bad_threshold_is_named_as_labelled_and_the_form_keeps_everything(
    desk_with_users: Desk, lang: str, said: str
) -> None:
    form = {**the_form(desk_with_users), "offensive_min": "troppo"}
    with signed_in(desk_with_users, lang) as (client, token):
        r = client.post("/rules", data={"csrf_token": token, **form})
    assert r.status_code == 400
    alert = re.search(r'id="rules-error">(.*?)</p>', r.text, re.S)
    assert alert and said in html.unescape(alert[1]) and "offensive_min" not in alert[1]
    assert RulesEngine(desk_with_users).all_rules() == []
    page = r.text
    for name in ("name", "keywords", "link_domains", "offensive_min", "fake_risk_min", "label",
                 "assign", "topic", "note"):  # fmt: skip
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(str(form[name]))}"', page), name
    for box in ("has_link", "first_time_author", "hide", "escalate"):
        assert re.search(rf'name="{box}" checked', page), box
    for box in ("only_mentions_or_emojis", "repeat_offender"):
        assert not re.search(rf'name="{box}" checked', page), box
    assert re.search(rf'<option value="{form["page"]}" selected>Bottega', page)
    assert '<option value="any" selected>' in page
    for name, value in (("kinds", "troll"), ("kinds", "rager"), ("verdicts", "fake")):
        assert f'name="{name}" value="{value}" checked' in page
    assert 'name="kinds" value="complaint" checked' not in page


@pytest.mark.parametrize("lang", LANGS)
def test_a_percentage_and_an_italian_topic_make_a_rule(desk_with_users: Desk, lang: str) -> None:
    form = {**the_form(desk_with_users), "offensive_min": "50%"}
    with signed_in(desk_with_users, lang) as (client, token):
        r = client.post("/rules", data={"csrf_token": token, **form}, follow_redirects=False)
    assert r.status_code == 303
    (rule,) = RulesEngine(desk_with_users).all_rules()
    assert rule.conditions["offensive_min"] == 0.5 and rule.conditions["fake_risk_min"] == 0.7
    assert {"type": "escalate", "topic": "product", "note": "da vedere"} in rule.actions
    assert rule.page_id == page_id(desk_with_users, "P2")
    # the rules table says the stored topic in the reader's words
    with signed_in(desk_with_users, lang) as (client, token):
        listed = client.get("/rules").text
    said = {"en": "product", "it": "prodotto"}[lang]
    assert re.search(r"\((topic|argomento): " + said + r"\)", listed), listed


@pytest.mark.parametrize(
    ("lang", "said", "help_"),
    [
        ("en", "The topic “pizza” is not one the desk knows; use one of: delivery, billing, "
         "product, staff, anything else.", "one of: delivery, billing, product, staff"),
        ("it", "L'argomento «pizza» non è tra quelli che il desk conosce; usa uno tra: consegne, "
         "pagamenti, prodotto, personale, tutto il resto.", "uno tra: consegne, pagamenti, prodotto"),
    ],
)  # fmt: skip
def test_an_unknown_topic_is_refused_with_the_valid_ones(
    desk_with_users: Desk, lang: str, said: str, help_: str
) -> None:
    form = {**the_form(desk_with_users), "topic": "pizza"}
    with signed_in(desk_with_users, lang) as (client, token):
        assert help_ in html.unescape(client.get("/rules").text)
        r = client.post("/rules", data={"csrf_token": token, **form})
    assert r.status_code == 400
    alert = re.search(r'id="rules-error">(.*?)</p>', r.text, re.S)
    assert alert and html.unescape(alert[1]) == said
    assert 'name="topic" maxlength="64" value="pizza"' in r.text
    assert RulesEngine(desk_with_users).all_rules() == []
