"""The author card: fields, risk reasons, verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.models import AuditEntry, Author, Comment
from crisisdesk.signals.authors import (
    author_card,
    bursts,
    is_repeat_offender,
    latest_verdict,
    name_patterns,
    record_verdict,
)
from crisisdesk.signals.competitors import Competitor, set_competitors
from crisisdesk.signals.coordination import CoordinationMonitor
from tests.conftest import attach

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
SCAM = "This bakery is a scam, the bread is broken and late, never again http://promo.example/x"


def rec(
    pid: str, author: str, name: str, text: str, minutes: float, page: str = "P1", **kw: str
) -> CommentRecord:
    return CommentRecord(
        platform="facebook", platform_id=pid, created_at=T0 + timedelta(minutes=minutes), text=text,
        page=page, page_name="Forno" if page == "P1" else "Other", author_id=author, author_name=name,
        **kw,
    )  # fmt: skip


def seed(desk: Desk) -> None:
    desk.clock = lambda: T0 + timedelta(hours=1)
    desk.ingest(
        [
            rec("a1", "ann", "Ann Verdi", "Thanks, the bread was great", -60 * 24 * 30),
            rec("a2", "ann", "Ann Verdi", "Order late again?", -60 * 24 * 2),
            rec("a3", "ann", "Ann Verdi", "grazie", 5, page="P2"),
            rec("f1", "x1", "marco83746251", SCAM, 0),
            rec("f2", "x1", "marco83746251", "Broken bread, late delivery, shame on them", 2),
            rec("f3", "x1", "marco83746251", "late late late, go to http://promo.example/y", 4),
            rec("g1", "x2", "User 5521", SCAM, 1),
            rec("g2", "x3", "qzxkvbtr", SCAM.replace("never again", "never ever again"), 3),
        ]
    )


def author_id(desk: Desk, platform_id: str) -> int:
    with desk.session() as s:
        return s.scalars(select(Author.id).where(Author.platform_id == platform_id)).one()


def test_name_patterns() -> None:
    assert name_patterns("Ann Verdi") == []
    assert name_patterns("marco83746251") == ["ends in a long run of digits (83746251)"]
    assert name_patterns("Utente Facebook") == ["default-like name (Utente Facebook)"]
    assert name_patterns("qzxkvbtr") == ["random-looking letters (qzxkvbtr)"]
    assert name_patterns("") == ["no display name"]


def test_bursts() -> None:
    times = [T0, T0 + timedelta(minutes=3), T0 + timedelta(minutes=6), T0 + timedelta(hours=5)]
    assert bursts(times) == [
        {
            "start": T0.isoformat(),
            "end": (T0 + timedelta(minutes=6)).isoformat(),
            "comments": 3,
            "minutes": 6.0,
        }
    ]


def test_card_of_an_ordinary_customer(desk: Desk) -> None:
    seed(desk)
    card = author_card(desk, author_id(desk, "ann"))
    assert card is not None
    assert card.comments == 3 and card.name == "Ann Verdi"
    assert {p["name"] for p in card.pages} == {"Forno", "Other"}
    assert card.kinds == {"praise": 2, "complaint": 1}
    assert (
        card.first_seen is not None and card.first_seen.date() == (T0 - timedelta(days=30)).date()
    )
    assert sum(card.hours) == 3 and len(card.timeline) >= 2
    assert sum(sum(w["kinds"].values()) for w in card.timeline) == 3
    assert card.name_patterns == [] and card.shared_texts == []
    assert card.fake.score < 0.2 and card.competitor.score == 0.0


def test_card_of_a_throwaway_account_explains_its_risk(desk: Desk) -> None:
    monitor = CoordinationMonitor(desk)
    attach(desk, monitor)
    seed(desk)
    card = author_card(desk, author_id(desk, "x1"))
    assert card is not None
    assert sorted(card.links) == ["promo.example/x", "promo.example/y"]
    assert card.domains == {"promo.example": 2}
    assert card.bursts and card.bursts[0]["comments"] == 3
    shared = card.shared_texts[0]
    assert shared["identical"] and {o["name"] for o in shared["others"]} >= {
        "User 5521",
        "qzxkvbtr",
    }
    reasons = " | ".join(card.fake.reasons)
    for expected in (
        "first seen on our pages less than two days ago",
        "ends in a long run of digits",
        "posted the same text as",
        "bursts of activity (3 comments in 4.0 minutes)",
        "posts the same links again and again (promo.example)",
        "all 3 comments are negative",
    ):
        assert expected in reasons
    assert card.fake.score >= 0.7
    grouped = author_card(desk, author_id(desk, "x2"), coordination=monitor)
    assert grouped is not None and grouped.coordination is not None
    assert "x2" in grouped.coordination["accounts"]
    # the group as people read it: names linking to their cards, in the cluster's order
    members = grouped.coordination["members"]
    assert [m["platform_id"] for m in members] == grouped.coordination["accounts"][:12]
    assert {m["name"] for m in members} >= {"User 5521", "qzxkvbtr"}
    assert all(m["author_id"] == author_id(desk, m["platform_id"]) for m in members)
    assert any("coordinated group" in r for r in grouped.fake.reasons)
    # one line per thing shared, naming everyone who shared it, not one line per pair
    lines = [e for e in grouped.coordination["evidence"] if "accounts" in e]
    keys = [(e["network"], e["shared"].lower()) for e in lines]
    assert len(keys) == len(set(keys))
    similar = next(e for e in lines if e["network"] == "co_similar")
    assert [m["name"] for m in similar["names"]] == ["marco83746251", "User 5521", "qzxkvbtr"]
    assert similar["seconds_apart"] == 180.0  # the widest gap among them


def test_moderation_history_and_repeat_offenders(desk: Desk) -> None:
    seed(desk)
    x1 = author_id(desk, "x1")
    ids = [desk.find_comment(p).id for p in ("f1", "f2")]  # type: ignore[union-attr]
    desk.moderation.perform(ids[0], "hide", actor="ann", reason="insults")
    desk.moderation.perform(ids[1], "delete", actor="ann", reason="spam", confirm=True)
    card = author_card(desk, x1)
    assert card is not None
    assert card.moderation["hidden"] == 1 and card.moderation["removed"] == 1
    assert card.moderation["actions"] == {"moderation.hide": 1, "moderation.delete": 1}
    assert card.moderation["repeat_offender"] and is_repeat_offender(desk, x1)
    assert "repeat offender" in " ".join(card.fake.reasons)
    assert not is_repeat_offender(desk, author_id(desk, "ann"))
    with desk.session() as s, s.begin():
        s.execute(update(Author).where(Author.id == author_id(desk, "x3")).values(banned=True))
        s.execute(update(Comment).where(Comment.platform_id == "g2").values(status="hidden"))
    assert is_repeat_offender(desk, author_id(desk, "x3"))


def test_verdict_adjusts_score_for_that_page_and_is_audited(desk: Desk) -> None:
    seed(desk)
    x1 = author_id(desk, "x1")
    p1 = next(p.id for p in desk.pages() if p.platform_id == "P1")
    p2 = next(p.id for p in desk.pages() if p.platform_id == "P2")
    before = author_card(desk, x1, page_id=p1)
    assert before is not None
    record_verdict(
        desk, x1, "real", note="long-time customer, checked profile", page_id=p1, actor="ann"
    )
    after = author_card(desk, x1, page_id=p1)
    assert after is not None
    assert after.fake.score < before.fake.score * 0.25
    assert (
        after.fake.reasons[0]
        == "checked by a person and marked real: long-time customer, checked profile"
    )
    other_page = author_card(desk, x1, page_id=p2)
    assert other_page is not None and other_page.fake.score == before.fake.score
    record_verdict(desk, x1, "competitor", page_id=p2, actor="ann")
    assert latest_verdict(desk, x1, p2) == "competitor" and latest_verdict(desk, x1, p1) == "real"
    card = author_card(desk, x1, page_id=p2)
    assert card is not None and card.competitor.score >= 0.95 and len(card.verdicts) == 2
    with desk.session() as s:
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "author.verdict")))
    assert [(e.object_id, e.detail["verdict"], e.detail["page_id"]) for e in entries] == [
        (str(x1), "real", p1), (str(x1), "competitor", p2),
    ]  # fmt: skip
    assert entries[0].reason == "long-time customer, checked profile"


def test_bad_verdicts_are_refused(desk: Desk) -> None:
    seed(desk)
    import pytest

    with pytest.raises(ValueError, match="verdict must be one of"):
        record_verdict(desk, author_id(desk, "x1"), "troll", actor="ann")
    with pytest.raises(ValueError, match="no such author"):
        record_verdict(desk, 9999, "real", actor="ann")
    assert author_card(desk, 9999) is None


def test_competitor_affinity_on_the_card(desk: Desk) -> None:
    seed(desk)
    p1 = next(p.id for p in desk.pages() if p.platform_id == "P1")
    set_competitors(
        desk, p1, [Competitor("Panificio Rossi", handles=["@rossibread"], domains=["promo.example"], products=["Pane d'Oro"])],
        actor="ann",
    )  # fmt: skip
    desk.ingest(
        [
            rec(
                "k1",
                "x4",
                "Luca B",
                "Bread was broken again, go to @rossibread instead!",
                30,
                post_id="post9",
            ),
            rec("k2", "x5", "Sara", "Anyone tried the pastries?", 31, post_id="post9"),
        ]
    )
    pusher = author_card(desk, author_id(desk, "x4"))
    assert pusher is not None
    assert pusher.competitor_flags[0]["kind"] == "pushes_competitor"
    assert pusher.competitor.reasons == [
        "names rossibread and sends people there while attacking us"
    ]
    assert pusher.competitor.score >= 0.45
    linker = author_card(desk, author_id(desk, "x1"))
    assert linker is not None
    assert "links to Panificio Rossi (promo.example)" in linker.competitor.reasons
    bystander = author_card(desk, author_id(desk, "x5"))
    assert bystander is not None
    assert bystander.competitor_threads == 1
    assert bystander.competitor.reasons == ["comments on 1 thread(s) where a competitor is pushed"]


def test_cli_competitors_and_author(desk: Desk, data_dir: Path, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from crisisdesk.cli import app

    seed(desk)
    runner = CliRunner()
    spec = tmp_path / "competitors.json"
    spec.write_text(json.dumps([{"name": "Rossi", "domains": ["promo.example"]}]), "utf-8")
    r = runner.invoke(app, ["competitors", "P1", "--set", str(spec), "--data-dir", str(data_dir)])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)[0]["domains"] == ["promo.example"]
    spec.write_text(json.dumps([{"handles": ["x"]}]), "utf-8")
    r = runner.invoke(app, ["competitors", "P1", "--set", str(spec), "--data-dir", str(data_dir)])
    assert r.exit_code == 2 and "needs at least a name" in r.stderr
    assert runner.invoke(app, ["competitors", "nope", "--data-dir", str(data_dir)]).exit_code == 2
    r = runner.invoke(app, ["author", str(author_id(desk, "x1")), "--data-dir", str(data_dir)])
    assert r.exit_code == 0, r.output
    card = json.loads(r.stdout)
    assert card["name"] == "marco83746251" and card["fake"]["score"] > 0.5
    assert "links to Rossi (promo.example)" in card["competitor"]["reasons"]
    assert runner.invoke(app, ["author", "9999", "--data-dir", str(data_dir)]).exit_code == 2
