"""The author card fragment, the verdict form and the rules page, through the ASGI app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.models import AuditEntry, AuthorVerdict, ModerationRule
from crisisdesk.web.app import create_app
from crisisdesk.workflow.rules import RulesEngine
from tests.conftest import attach

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> "quoted" & done'
HOSTILE_NAME = '<b onmouseover="alert(2)">Mallory</b>'
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    desk.ingest(
        [
            CommentRecord(
                platform="facebook", platform_id="evil", created_at=T0, text=HOSTILE + " http://<x>.example/a",
                page="P1", page_name="Forno", post_id="post1", author_id="a2", author_name=HOSTILE_NAME,
            ),
            CommentRecord(
                platform="facebook", platform_id="evil2", created_at=T0 + timedelta(minutes=1), text=HOSTILE,
                page="P1", post_id="post1", author_id="a3", author_name="user93847261",
            ),
        ]
    )  # fmt: skip
    desk.add_user("ann", "correct-horse-battery", language="en")
    with TestClient(create_app(desk)) as c:
        token = csrf(c, "/login")
        r = c.post(
            "/login",
            data={"username": "ann", "password": "correct-horse-battery", "csrf_token": token},
            follow_redirects=False,
        )
        assert r.status_code == 303
        yield c


def csrf(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)


def comment_id(desk: Desk, pid: str = "evil") -> int:
    found = desk.find_comment(pid)
    assert found is not None
    return found.id


def test_comment_page_loads_the_author_panel(client: TestClient, desk: Desk) -> None:
    html = client.get(f"/comments/{comment_id(desk)}").text
    assert f'hx-get="/comments/{comment_id(desk)}/author-card"' in html
    assert '<a href="/rules">Rules</a>' in html


def test_fragment_escapes_hostile_names_and_text(client: TestClient, desk: Desk) -> None:
    r = client.get(f"/comments/{comment_id(desk)}/author-card")
    assert r.status_code == 200
    html = r.text
    assert "<script>" not in html and "<b onmouseover" not in html and "<img src=x" not in html
    assert "&lt;b onmouseover=&#34;alert(2)&#34;&gt;Mallory&lt;/b&gt;" in html
    assert "Fake account risk" in html and "Real profile photo?" in html
    assert 'name="csrf_token"' in html and 'name="verdict" value="fake"' in html
    other = client.get(f"/comments/{comment_id(desk, 'evil2')}/author-card").text
    assert "default-like name (user93847261)" in other
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in other  # the shared text, escaped
    assert "<script>" not in other
    assert "style=" not in html  # the CSP forbids inline styles


def test_verdict_needs_csrf_and_is_saved_and_audited(client: TestClient, desk: Desk) -> None:
    cid = comment_id(desk)
    path = f"/comments/{cid}/author-card/verdict"
    assert client.post(path, data={"verdict": "fake"}).status_code == 403
    token = csrf(client, f"/comments/{cid}/author-card")
    bad = client.post(path, data={"verdict": "troll", "csrf_token": token})
    assert bad.status_code == 400
    r = client.post(
        path,
        data={
            "verdict": "fake",
            "note": "<i>no photo</i>",
            "checks": ["photo", "age", "bogus"],
            "csrf_token": token,
        },
        headers={"hx-request": "true"},
    )
    assert r.status_code == 200
    assert 'id="verdict-saved"' in r.text and "Fake account" in r.text
    assert "&lt;i&gt;no photo&lt;/i&gt; [checked: photo, age]" in r.text
    assert "checked by a person and marked fake" in r.text
    with desk.session() as s:
        verdict = s.scalars(select(AuthorVerdict)).one()
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "author.verdict")).one()
    assert verdict.verdict == "fake" and verdict.note == "<i>no photo</i> [checked: photo, age]"
    assert entry.actor == "ann" and entry.comment_id == cid and entry.detail["verdict"] == "fake"
    plain = client.post(path, data={"verdict": "real", "csrf_token": token}, follow_redirects=False)
    # Without HTMX: back to the card's own page, which says what was saved, once.
    location = f"/comments/{cid}/author-card"
    assert plain.status_code == 303 and plain.headers["location"] == location
    page = client.get(location).text
    assert "<html" in page and 'id="verdict-saved"' in page and "Real customer" in page
    assert 'id="verdict-saved"' not in client.get(location).text


def test_full_author_page(client: TestClient, desk: Desk) -> None:
    view = desk.comment_view(comment_id(desk))
    assert view is not None
    r = client.get(f"/authors/{view['author'].id}")
    assert r.status_code == 200 and "Recent comments" in r.text and "<script>alert" not in r.text
    assert client.get("/authors/9999").status_code == 404


def test_rules_page_create_toggle_and_undo(client: TestClient, desk: Desk) -> None:
    assert client.get("/rules").status_code == 200
    token = csrf(client, "/rules")
    r = client.post(
        "/rules",
        data={"name": "scam words", "keywords": "scam, truffa", "label": "scam", "hide": "on",
              "kinds": ["complaint", "troll"], "match": "any", "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303
    with desk.session() as s:
        rule = s.scalars(select(ModerationRule)).one()
    assert rule.conditions == {
        "match": "any",
        "keywords": ["scam", "truffa"],
        "kinds": ["complaint", "troll"],
    }
    assert rule.actions == [{"type": "label", "label": "scam"}, {"type": "hide"}]
    bad = client.post("/rules", data={"name": "empty", "label": "x", "csrf_token": token})
    assert bad.status_code == 400 and "a rule needs at least one condition" in bad.text
    engine = RulesEngine(desk)
    attach(desk, engine)
    desk.ingest([CommentRecord(platform="facebook", platform_id="s1", created_at=T0, text="s c a m <b>x</b>",
                               page="P1", author_id="a9")])  # fmt: skip
    page = client.get("/rules").text
    assert "rule.label" in page and "rule.hide" in page and "<b>x</b>" not in page
    audit_id = engine.automatic_actions()[-1]["id"]
    undo = client.post(
        f"/rules/actions/{audit_id}/undo", data={"csrf_token": token}, follow_redirects=False
    )
    assert undo.status_code == 303
    assert engine.automatic_actions()[-1]["undone"]
    again = client.post(f"/rules/actions/{audit_id}/undo", data={"csrf_token": token})
    assert again.status_code == 400 and "already undone" in again.text
    toggle = client.post(
        f"/rules/{rule.id}/toggle",
        data={"enabled": "0", "csrf_token": token},
        follow_redirects=False,
    )
    assert toggle.status_code == 303
    with desk.session() as s:
        assert s.get(ModerationRule, rule.id).enabled is False  # type: ignore[union-attr]
    assert (
        client.post("/rules/999/toggle", data={"enabled": "1", "csrf_token": token}).status_code
        == 404
    )
