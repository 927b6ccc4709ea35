"""The rules table says each rule's conditions and actions in words, and whether it is on."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from crisisdesk.desk import Desk
from crisisdesk.web.app import create_app
from crisisdesk.workflow.rules import RulesEngine


def rules_table(desk: Desk, lang: str) -> str:
    with TestClient(create_app(desk, demo_user="ann")) as client:
        html = client.get("/rules", headers={"accept-language": lang}).text
    table = re.search(r'<table class="rules" id="rules-table">(.*?)</table>', html, re.S)
    assert table, html
    return table.group(1)


def test_rules_in_words_in_both_languages(desk: Desk) -> None:
    desk.add_user("ann", "correct-horse-battery")
    marco = desk.add_user("marco", "correct-horse-battery")
    engine = RulesEngine(desk)
    engine.create(
        "Insulti", {"match": "all", "offensive_min": 0.7}, [{"type": "hide"}], actor="test"
    )
    engine.create(
        "Truffe",
        {"match": "any", "keywords": ["<b>truffa</b>"], "has_link": True, "kinds": ["spam"]},
        [{"type": "label", "label": "scam"}, {"type": "assign", "user_id": marco.id},
         {"type": "escalate", "topic": "legal", "note": ""}],
        enabled=False,
        actor="test",
    )  # fmt: skip
    it = rules_table(desk, "it")
    assert "{" not in it and "&#34;match&#34;" not in it  # no JSON left
    assert "punteggio di offesa almeno 0,7" in it and "nascondilo" in it
    assert "almeno una di queste:" in it and "contiene un link" in it
    assert "<q>&lt;b&gt;truffa&lt;/b&gt;</q>" in it  # typed words stay text
    assert "è del tipo: spam" in it
    assert "aggiungi l&#39;etichetta <q>scam</q>" in it and "assegna a marco" in it
    assert "inoltra (argomento: legal)" in it
    states = re.findall(r'data-state="(\w+)">([^<]+)<', it)
    assert states == [("enabled", "attiva"), ("disabled", "disattivata")]

    en = rules_table(desk, "en")
    assert "offensive score at least 0.7" in en and "hide it" in en
    assert "any of these:" in en and "assign to marco" in en
    assert re.findall(r'data-state="\w+">([^<]+)<', en) == ["enabled", "disabled"]
