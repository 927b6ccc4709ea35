"""Moderation rules: obfuscated keywords, author conditions, audited and undoable actions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.models import AuditEntry, Case, Comment, CommentLabel
from crisisdesk.signals.authors import record_verdict
from crisisdesk.workflow.rules import RuleError, RulesEngine, fold, keyword_pattern, validate
from tests.conftest import attach

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
n = 0


def rec(text: str, author: str = "a1", name: str = "Ann", minutes: float = 0) -> CommentRecord:
    global n
    n += 1
    return CommentRecord(
        platform="facebook", platform_id=f"c{n}", created_at=T0 + timedelta(minutes=minutes + n),
        text=text, page="P1", page_name="Forno", author_id=author, author_name=name,
    )  # fmt: skip


@pytest.fixture
def engine(desk: Desk) -> Iterator[RulesEngine]:
    engine = RulesEngine(desk)
    attach(desk, engine)
    yield engine


def comment(desk: Desk, text: str) -> Comment:
    with desk.session() as s:
        return s.scalars(select(Comment).where(Comment.text == text)).one()


def labels(desk: Desk, comment_id: int) -> list[str]:
    with desk.session() as s:
        return list(
            s.scalars(select(CommentLabel.label).where(CommentLabel.comment_id == comment_id))
        )


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("what a SCAM", True),
        ("s c a m", True),
        ("5c@m artists", True),
        ("scaaaaam!!!", True),
        ("s.c.a.m", True),
        ("s-c-4-m", True),
        ("Trüffa", False),
        ("scampi are tasty", False),
        ("this camera", False),
    ],
)
def test_keyword_variants(text: str, hit: bool) -> None:
    assert bool(keyword_pattern("scam").search(fold(text))) is hit


def test_keyword_with_accents_and_doubles() -> None:
    assert keyword_pattern("truffa").search(fold("TRÜFFA totale"))
    assert keyword_pattern("truffa").search(fold("tr u f f 4"))
    assert keyword_pattern("vergogna").search(fold("v3rg0gn@"))


def test_validation_explains() -> None:
    with pytest.raises(RuleError, match="unknown condition"):
        validate({"colour": "red"}, [{"type": "hide"}])
    with pytest.raises(RuleError, match="at least one condition"):
        validate({}, [{"type": "hide"}])
    with pytest.raises(RuleError, match="between 0 and 1"):
        validate({"offensive_min": 3}, [{"type": "hide"}])
    with pytest.raises(RuleError, match="type among"):
        validate({"has_link": True}, [{"type": "delete"}])
    assert validate({"keywords": "a, b ,"}, [{"type": "label", "label": "x"}])[0] == {
        "keywords": ["a", "b"]
    }
    # as typed in the rule form, in either language's decimals
    assert validate({"offensive_min": "0,25"}, [{"type": "hide"}])[0] == {"offensive_min": 0.25}
    assert validate({"fake_risk_min": " 0.7 "}, [{"type": "hide"}])[0] == {"fake_risk_min": 0.7}


def test_label_rule_logged_with_rule_id_and_undone(desk: Desk, engine: RulesEngine) -> None:
    rule = engine.create(
        "scam words",
        {"keywords": ["scam", "truffa"]},
        [{"type": "label", "label": "scam-claim"}],
        actor="ann",
    )
    desk.ingest([rec("total 5c@m, avoid"), rec("lovely bread")])
    hit = comment(desk, "total 5c@m, avoid")
    assert labels(desk, hit.id) == ["scam-claim"]
    assert labels(desk, comment(desk, "lovely bread").id) == []
    actions = engine.automatic_actions()
    assert len(actions) == 1 and actions[0]["rule_id"] == rule.id and not actions[0]["undone"]
    assert "contains 'scam'" in actions[0]["reason"]
    engine.undo(actions[0]["id"], actor="ann")
    assert labels(desk, hit.id) == []
    assert engine.automatic_actions()[0]["undone"]
    with pytest.raises(RuleError, match="already undone"):
        engine.undo(actions[0]["id"], actor="ann")
    with desk.session() as s:
        undo = s.scalars(select(AuditEntry).where(AuditEntry.action == "rule.undo")).one()
    assert undo.detail == {"undid": "rule.label", "rule_id": rule.id} and undo.actor == "ann"


def test_hide_goes_through_moderation_and_is_undone(desk: Desk, engine: RulesEngine) -> None:
    engine.create(
        "links from strangers",
        {"has_link": True, "first_time_author": True},
        [{"type": "hide"}],
        actor="ann",
    )
    desk.ingest([rec("cheap pills www.pills.example", author="spam1", name="x")])
    hidden = comment(desk, "cheap pills www.pills.example")
    assert hidden.status == "hidden"
    entries = desk.audit_entries(hidden.id)
    moderation = next(e for e in entries if e.action == "moderation.hide")
    assert moderation.actor.startswith("rule:") and moderation.detail["outcome"] == "manual"
    rule_entry = next(e for e in entries if e.action == "rule.hide")
    engine.undo(rule_entry.id, actor="ann")
    assert comment(desk, "cheap pills www.pills.example").status == "visible"


class Connector:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def hide(self, platform_id: str) -> dict[str, Any]:
        self.calls.append(("hide", platform_id))
        return {"success": True}

    def unhide(self, platform_id: str) -> dict[str, Any]:
        self.calls.append(("unhide", platform_id))
        return {"success": True}


def test_hide_through_the_connector_when_present(desk: Desk, engine: RulesEngine) -> None:
    desk.configure_page("facebook", "P1", name="Forno")
    connector = Connector()
    desk.connectors[("facebook", "P1")] = connector
    engine.create("only emojis", {"only_mentions_or_emojis": True}, [{"type": "hide"}], actor="ann")
    desk.ingest([rec("@bob 😂😂👍🏽"), rec("@bob thanks 😂")])
    target = comment(desk, "@bob 😂😂👍🏽")
    assert connector.calls == [("hide", target.platform_id)]
    assert target.status == "hidden"


def test_author_conditions_and_escalate_assign(desk: Desk, engine: RulesEngine) -> None:
    uid = desk.add_user("boss", "correct-horse-battery").id
    desk.ingest([rec("first comment", author="x9", name="user88812345")])
    x9 = comment(desk, "first comment").author_id
    assert x9 is not None
    record_verdict(desk, x9, "fake", page_id=comment(desk, "first comment").page_id, actor="ann")
    rule = engine.create(
        "known fakes",
        {"verdicts": ["fake"], "fake_risk_min": 0.9},
        [
            {"type": "escalate", "topic": "legal", "note": "fake account again"},
            {"type": "assign", "user_id": uid},
        ],
        actor="ann",
    )
    desk.ingest(
        [
            rec("second comment, schifo", author="x9", name="user88812345"),
            rec("hello", author="ok1"),
        ]
    )
    target = comment(desk, "second comment, schifo")
    case = desk.workflow.case_for(target.id)
    assert case is not None and case.owner_id == uid
    assert desk.workflow.case_for(comment(desk, "hello").id) is None
    acts = [a for a in engine.automatic_actions(target.id)]
    assert {a["action"] for a in acts} == {"rule.escalate", "rule.assign"}
    assert all(a["rule_id"] == rule.id for a in acts)
    assign = next(a for a in acts if a["action"] == "rule.assign")
    engine.undo(assign["id"], actor="ann")
    with desk.session() as s:
        assert s.get(Case, case.id).owner_id is None  # type: ignore[union-attr]


def test_offensive_kind_repeat_offender_and_disable(desk: Desk, engine: RulesEngine) -> None:
    rule = engine.create(
        "offensive complaints", {"offensive_min": 0.8, "kinds": ["complaint"]}, [{"type": "label", "label": "abuse"}],
        actor="ann",
    )  # fmt: skip
    engine.create(
        "offenders",
        {"repeat_offender": True},
        [{"type": "label", "label": "offender"}],
        actor="ann",
    )
    desk.ingest([rec("che schifo, late again", author="r1"), rec("late again", author="r2")])
    first = comment(desk, "che schifo, late again")
    assert labels(desk, first.id) == ["abuse"]
    assert labels(desk, comment(desk, "late again").id) == []
    desk.moderation.perform(first.id, "hide", actor="ann")
    desk.moderation.perform(first.id, "ban", actor="ann")
    engine.set_enabled(rule.id, False, actor="ann")
    desk.ingest([rec("schifo, late", author="r1")])
    assert labels(desk, comment(desk, "schifo, late").id) == ["offender"]
    assert [e.action for e in desk.audit_entries() if e.object_type == "rule"][:1] == [
        "rule.disable"
    ]


def delivery(platform_id: str, text: str, minutes: float, verb: Any = "add") -> CommentRecord:
    return CommentRecord(
        platform="facebook", platform_id=platform_id, created_at=T0 + timedelta(minutes=minutes),
        text=text, page="P1", page_name="Forno", author_id="e1", author_name="Eve", verb=verb,
    )  # fmt: skip


def rule_entries(desk: Desk, comment_id: int) -> list[str]:
    with desk.session() as s:
        return sorted(
            s.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.comment_id == comment_id, AuditEntry.action.like("rule.%")
                )
            )
        )


def test_an_edit_runs_the_rules_once_and_a_repeated_delivery_does_nothing(
    desk: Desk, engine: RulesEngine
) -> None:
    uid = desk.add_user("giulia", "correct-horse-battery").id
    engine.create(
        "scam words",
        {"keywords": ["scam"]},
        [
            {"type": "label", "label": "scam-claim"},
            {"type": "assign", "user_id": "giulia"},
            {"type": "escalate", "topic": "legal", "note": "scam claim"},
        ],
        actor="ann",
    )
    desk.ingest([delivery("e-1", "lovely bread this morning", minutes=1)])
    target = comment(desk, "lovely bread this morning")
    assert rule_entries(desk, target.id) == []

    edited = delivery("e-1", "this bakery is a scam", minutes=5, verb="edited")
    desk.ingest([edited])
    expected = ["rule.assign", "rule.escalate", "rule.label"]
    assert rule_entries(desk, target.id) == expected
    assert labels(desk, target.id) == ["scam-claim"]
    case = desk.workflow.case_for(target.id)
    assert case is not None and case.owner_id == uid

    def escalations() -> int:
        return sum(e.action == "case.escalate" for e in desk.audit_entries(target.id))

    assert escalations() == 1
    audit_count = len(desk.audit_entries(target.id))

    # The same edit delivered again (a webhook retry, a second import) changes nothing.
    desk.ingest([edited])
    desk.ingest([delivery("e-1", "this bakery is a scam", minutes=5, verb="edited")])
    assert rule_entries(desk, target.id) == expected
    assert len(desk.audit_entries(target.id)) == audit_count

    # A further edit that still matches is not escalated or assigned a second time, and a label
    # a person removed stays removed.
    label_entry = next(
        a for a in engine.automatic_actions(target.id) if a["action"] == "rule.label"
    )
    engine.undo(label_entry["id"], actor="ann")
    desk.ingest([delivery("e-1", "this bakery is a scam, really", minutes=9, verb="edited")])
    assert rule_entries(desk, target.id) == [*expected, "rule.undo"]
    assert labels(desk, target.id) == [] and escalations() == 1


def test_an_edit_is_judged_on_its_new_text(desk: Desk, engine: RulesEngine) -> None:
    engine.create("links", {"has_link": True}, [{"type": "label", "label": "link"}], actor="ann")
    desk.ingest([delivery("e-2", "see https://spam.example/win", minutes=1)])
    target = comment(desk, "see https://spam.example/win")
    assert labels(desk, target.id) == ["link"]
    other = engine.create(
        "no links", {"has_link": False}, [{"type": "label", "label": "plain"}], actor="ann"
    )
    desk.ingest([delivery("e-2", "sorry, wrong page", minutes=3, verb="edited")])
    assert sorted(labels(desk, target.id)) == ["link", "plain"]
    assert {a["rule_id"] for a in engine.automatic_actions(target.id)} >= {other.id}


def test_assign_takes_a_username_or_an_id(desk: Desk, engine: RulesEngine) -> None:
    uid = desk.add_user("giulia", "correct-horse-battery").id
    conditions = {"keywords": ["late"]}
    for action in (
        {"type": "assign", "user_id": "giulia"},
        {"type": "assign", "username": " @giulia "},
        {"type": "assign", "user_id": uid},
        {"type": "assign", "user_id": str(uid)},  # what the web form sends
    ):
        rule = engine.create("late", conditions, [action], actor="ann")
        assert rule.actions == [{"type": "assign", "user_id": uid}]

    with pytest.raises(RuleError, match="no user named 'nobody'"):
        engine.create("late", conditions, [{"type": "assign", "user_id": "nobody"}], actor="ann")
    with pytest.raises(RuleError, match="no user with id 9999"):
        engine.create("late", conditions, [{"type": "assign", "user_id": 9999}], actor="ann")
    with pytest.raises(RuleError, match="user id or a username"):
        engine.create("late", conditions, [{"type": "assign", "user_id": " "}], actor="ann")
    # Nothing half-saved by the refused rules.
    assert len(engine.all_rules()) == 4

    desk.ingest([rec("late again", author="z1")])
    case = desk.workflow.case_for(comment(desk, "late again").id)
    assert case is not None and case.owner_id == uid
