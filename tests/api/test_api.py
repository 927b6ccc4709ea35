"""The JSON API end to end through the ASGI app, on a real SQLite desk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crisisdesk.desk import Desk
from crisisdesk.web.app import create_app
from tests.workflow.wf_support import GOOD_EN, HOSTILE, Clock, seed


@pytest.fixture
def clock(desk: Desk) -> Clock:
    return seed(desk)


@pytest.fixture
def api(desk: Desk, clock: Clock) -> Iterator[TestClient]:
    token = desk.create_token("tests")
    with TestClient(create_app(desk), headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


COMMENT = {
    "id": "fb_123_456",
    "created_at": "2024-05-01T10:05:00Z",
    "text": "The cake was broken when it arrived. Really disappointed.",
    "platform": "facebook",
    "page": "P1",
    "author_id": "a9",
    "author_name": "Giorgio Verdi",
}


def test_every_endpoint_needs_a_valid_token(desk: Desk, clock: Clock) -> None:
    with TestClient(create_app(desk)) as anonymous:
        for method, path in [("get", "/api/v1/comments/c-en"), ("post", "/api/v1/comments"),
                             ("get", "/api/v1/audit"), ("post", "/api/v1/vouchers/X/redeem"),
                             ("get", "/api/v1/cases")]:  # fmt: skip
            r = anonymous.request(method, path, json={})
            assert r.status_code == 401 and r.json() == {"error": "unauthorized"}, path
        wrong = anonymous.get("/api/v1/cases", headers={"Authorization": "Bearer cdk_wrong"})
        assert wrong.status_code == 401
        basic = anonymous.get("/api/v1/cases", headers={"Authorization": "Basic dXNlcjpwdw=="})
        assert basic.status_code == 401
        # The schema itself is public, and documents the bearer scheme and the endpoints.
        schema = anonymous.get("/api/v1/openapi.json").json()
        assert "/api/v1/drafts/{draft_id}/publish" in schema["paths"]
        assert any(s.get("scheme") == "bearer"
                   for s in schema["components"]["securitySchemes"].values())  # fmt: skip


def test_post_comment_is_idempotent_and_get_shows_analysis_author_and_case(
    api: TestClient,
) -> None:
    first = api.post("/api/v1/comments", json=COMMENT)
    assert first.status_code == 201, first.text
    assert first.json()["result"] == "inserted"
    again = api.post("/api/v1/comments", json=COMMENT)
    assert again.status_code == 200 and again.json()["result"] == "unchanged"
    edited = api.post(
        "/api/v1/comments", json={**COMMENT, "text": COMMENT["text"] + " (edit)",
                                  "created_at": "2024-05-01T10:07:00Z"}
    )  # fmt: skip
    assert edited.status_code == 200 and edited.json()["result"] == "updated"
    body = api.get("/api/v1/comments/fb_123_456").json()
    assert body["id"] == "fb_123_456" and body["text"].endswith("(edit)")
    assert body["analysis"]["kind"] == "complaint"
    assert body["author"] == {**body["author"], "id": "a9", "name": "Giorgio Verdi"}
    assert body["case"]["state"] == "new" and body["case"]["comment_id"] == "fb_123_456"
    assert body["case"]["clocks"]["respond_by"].startswith("2024-05-01T11:05")


def test_comments_carry_their_permalinks_and_hostile_ones_are_dropped(api: TestClient) -> None:
    link = "https://www.facebook.com/P1/posts/456?comment_id=123"
    post = "https://www.facebook.com/P1/posts/456"
    linked = {**COMMENT, "post_id": "P1_456", "permalink": link, "post_permalink": post}
    r = api.post("/api/v1/comments", json=linked)
    assert r.status_code == 201, r.text
    assert (r.json()["comment"]["permalink"], r.json()["comment"]["post_permalink"]) == (link, post)
    # the same comment again without links keeps them
    again = api.post("/api/v1/comments", json={**COMMENT, "post_id": "P1_456"})
    assert again.json()["result"] == "unchanged"
    body = api.get("/api/v1/comments/fb_123_456").json()
    assert (body["permalink"], body["post_permalink"]) == (link, post)

    hostile = {
        **COMMENT,
        "id": "fb_123_789",
        "post_id": "P1_789",
        "permalink": "javascript:alert(document.cookie)",
        "post_permalink": "data:text/html,<script>alert(1)</script>",
    }
    r = api.post("/api/v1/comments", json=hostile)
    assert r.status_code == 201, r.text  # the comment is kept, its links are not
    body = api.get("/api/v1/comments/fb_123_789").json()
    assert body["text"] == COMMENT["text"]
    assert (body["permalink"], body["post_permalink"]) == (None, None)
    schema = api.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert {"permalink", "post_permalink"} <= set(schema["CommentOut"]["properties"])
    assert {"permalink", "post_permalink"} <= set(schema["CommentIn"]["properties"])


def test_bad_comments_are_refused_with_a_reason(api: TestClient) -> None:
    r = api.post("/api/v1/comments", json={**COMMENT, "created_at": "yesterday"})
    assert r.status_code == 422 and "created_at" in r.json()["message"]
    assert api.post("/api/v1/comments", json={"text": "x"}).status_code == 422
    assert api.get("/api/v1/comments/nope").status_code == 404


def test_draft_cooldown_refusal_override_and_audit(api: TestClient, clock: Clock) -> None:
    r = api.post("/api/v1/comments/c-en/drafts", json={"text": GOOD_EN})
    assert r.status_code == 201, r.text
    draft = r.json()
    assert [c["name"] for c in draft["checks"]] == [
        "unfinished", "tone", "canned", "personal", "apology", "public_compensation", "length",
        "language",
    ]  # fmt: skip
    assert all(set(c) == {"name", "ok", "message"} for c in draft["checks"])
    assert draft["not_before"].startswith("2024-05-01T10:16")  # opened through the API at 10:01
    refused = api.post(f"/api/v1/drafts/{draft['id']}/publish")
    assert refused.status_code == 409
    assert refused.json()["error"] == "cooldown"
    assert refused.json()["not_before"] == draft["not_before"].replace("Z", "+00:00")
    empty_reason = api.post(f"/api/v1/drafts/{draft['id']}/publish", json={"override_reason": " "})
    assert empty_reason.status_code == 409
    done = api.post(
        f"/api/v1/drafts/{draft['id']}/publish",
        json={"override_reason": "the owner approved it by phone"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["override"] is True and done.json()["status"] == "manual"
    assert done.json()["copy"] == GOOD_EN
    again = api.post(f"/api/v1/drafts/{draft['id']}/publish")
    assert again.status_code == 409 and again.json()["error"] == "already_published"
    audit = api.get("/api/v1/audit", params={"comment_id": "c-en"}).json()
    actions = [e["action"] for e in audit]
    for expected in ("case.cooldown_started", "draft.create", "moderation.reply",
                     "draft.cooldown_override", "draft.publish"):  # fmt: skip
        assert expected in actions
    override = next(e for e in audit if e["action"] == "draft.cooldown_override")
    assert (
        override["reason"] == "the owner approved it by phone"
        and override["actor"] == "token:tests"
    )
    assert override["comment_id"] == "c-en"
    case = api.get("/api/v1/comments/c-en/case").json()
    assert case["state"] == "replied"


def test_publish_after_the_cooldown_needs_no_reason(api: TestClient, clock: Clock) -> None:
    draft = api.post("/api/v1/comments/c-en/drafts", json={"text": GOOD_EN}).json()
    clock.advance(minutes=15)
    r = api.post(f"/api/v1/drafts/{draft['id']}/publish")
    assert r.status_code == 200 and r.json()["override"] is False
    worked = {row["approach"]: row for row in api.get("/api/v1/lessons").json()["what_worked"]}
    # answered a moment ago: too early to call the author silent
    assert worked["all"]["cases"] == 1 and worked["all"]["waiting"] == 1
    assert worked["all"]["silent"] == 0
    assert worked["cool-down kept"]["cases"] == 1 and "cool-down overridden" not in worked


def test_publishing_an_unedited_suggestion_is_refused_whatever_the_reason(
    api: TestClient,
) -> None:
    suggestion = api.get("/api/v1/comments/c-it/suggestion").json()["text"]
    draft = api.post("/api/v1/comments/c-it/drafts", json={"text": suggestion}).json()
    unfinished = next(c for c in draft["checks"] if c["name"] == "unfinished")
    assert unfinished["ok"] is False and "parentesi quadre" in unfinished["message"]
    refused = api.post(
        f"/api/v1/drafts/{draft['id']}/publish",
        json={"override_reason": "the customer is waiting", "again": True},
    )
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["error"] == "unfinished"
    assert body["placeholders"] == ["[Scrivi cosa è andato storto, con le parole del cliente.]"]
    assert api.get(f"/api/v1/drafts/{draft['id']}").json()["published_at"] is None
    edited = suggestion.replace(body["placeholders"][0], "Il pane è arrivato tardi: non va bene.")
    fixed = api.post("/api/v1/comments/c-it/drafts", json={"text": edited}).json()
    done = api.post(
        f"/api/v1/drafts/{fixed['id']}/publish",
        json={"override_reason": "the customer is waiting"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["copy"] == edited


def test_a_second_public_reply_answers_409_unless_asked_for(api: TestClient, clock: Clock) -> None:
    first = api.post("/api/v1/comments/c-en/drafts", json={"text": GOOD_EN}).json()
    clock.advance(minutes=15)
    assert api.post(f"/api/v1/drafts/{first['id']}/publish").status_code == 200
    follow_up = GOOD_EN + " The new loaf leaves at noon."
    second = api.post("/api/v1/comments/c-en/drafts", json={"text": follow_up}).json()
    refused = api.post(f"/api/v1/drafts/{second['id']}/publish", json={"again": False})
    assert refused.status_code == 409 and refused.json()["error"] == "already_replied"
    assert api.post(f"/api/v1/drafts/{second['id']}/publish").status_code == 409
    again = api.post(f"/api/v1/drafts/{second['id']}/publish", json={"again": True})
    assert again.status_code == 200, again.text
    assert again.json()["copy"] == follow_up
    schema = api.get("/api/v1/openapi.json").json()["components"]["schemas"]["PublishIn"]
    assert schema["properties"]["again"]["default"] is False


def test_drafts_show_failing_checks_with_reasons(api: TestClient) -> None:
    r = api.post(
        "/api/v1/comments/c-it/drafts",
        json={"text": "As we already said, you will get a refund. Not our fault."},
    )
    checks = {c["name"]: c for c in r.json()["checks"]}
    assert not checks["tone"]["ok"] and "come" not in checks["tone"]["message"]
    assert (
        not checks["public_compensation"]["ok"]
        and "privato" in checks["public_compensation"]["message"]
    )
    assert not checks["language"]["ok"] and not checks["apology"]["ok"]
    assert not checks["personal"]["ok"]
    assert api.post("/api/v1/comments/c-it/drafts", json={"text": ""}).status_code == 422
    assert api.post("/api/v1/comments/nope/drafts", json={"text": "x"}).status_code == 404


def test_suggestion_and_checks_without_saving(api: TestClient) -> None:
    text = api.get("/api/v1/comments/c-it/suggestion").json()["text"]
    assert text.startswith("Ciao Marco")
    checks = api.post("/api/v1/comments/c-it/checks", json={"text": text}).json()
    assert {c["name"] for c in checks} >= {"tone", "canned"}
    assert api.get("/api/v1/audit", params={"comment_id": "c-it"}).json() == []


def test_vouchers_created_sent_and_redeemed_once(api: TestClient) -> None:
    r = api.post("/api/v1/comments/c-en/vouchers", json={"value": "12.5", "currency": "EUR"})
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    assert r.json()["status"] == "active" and r.json()["value"] == "12.50"
    sent = api.post(f"/api/v1/vouchers/{code}/send", json={"message": "Sorry again"})
    assert sent.status_code == 200 and code in sent.json()["copy"]
    ok = api.post(f"/api/v1/vouchers/{code.lower()}/redeem")
    assert ok.status_code == 200 and ok.json()["status"] == "redeemed"
    second = api.post(f"/api/v1/vouchers/{code}/redeem")
    assert second.status_code == 409 and second.json()["error"] == "already_redeemed"
    assert api.get("/api/v1/vouchers").json()[0]["status"] == "redeemed"
    bad = api.post("/api/v1/comments/c-en/vouchers", json={"value": 0})
    assert bad.status_code == 422
    assert api.post("/api/v1/vouchers/AAAA-BBBB/redeem").status_code == 422


def test_cases_states_escalation_moderation_and_lessons(api: TestClient, desk: Desk) -> None:
    desk.add_user("ann", "correct-horse-battery")
    desk.configure_page("facebook", "P1", config={"contacts": {"delivery": "Giulia"}})
    cases = api.get("/api/v1/cases").json()
    assert {c["comment_id"] for c in cases} == {"c-en", "c-it", "evil"}
    assert api.get("/api/v1/cases", params={"state": "bogus"}).status_code == 422
    case_id = next(c["id"] for c in cases if c["comment_id"] == "c-it")
    esc = api.post(f"/api/v1/cases/{case_id}/escalate", json={"owner": "ann", "note": "help"})
    assert esc.status_code == 200 and esc.json()["owner"] == "ann"
    assert esc.json()["responsible"] == "Giulia"
    assert api.post(f"/api/v1/cases/{case_id}/escalate", json={"owner": "zed"}).status_code == 422
    state = api.post(f"/api/v1/cases/{case_id}/state", json={"state": "awaiting approval"})
    assert state.json()["state"] == "awaiting approval"
    hide = api.post("/api/v1/comments/evil/actions", json={"action": "hide", "reason": "abuse"})
    assert hide.status_code == 200 and hide.json()["status"] == "manual"
    delete = api.post("/api/v1/comments/evil/actions", json={"action": "delete"})
    assert delete.status_code == 422 and delete.json()["error"] == "confirm"
    closed = api.post(f"/api/v1/cases/{case_id}/close",
                      json={"cause": "delivery", "change": "Earlier vans"})  # fmt: skip
    assert closed.status_code == 200 and closed.json()["cause"] == "delivery"
    assert api.post(f"/api/v1/cases/{case_id}/close",
                    json={"cause": "nope", "change": "x"}).status_code == 422  # fmt: skip
    lessons = api.get("/api/v1/lessons").json()
    assert (
        lessons["counts"] == {"delivery": 1} and lessons["lessons"][0]["change"] == "Earlier vans"
    )
    assert lessons["what_worked"] == []  # no reply went out
    topics = api.get("/api/v1/topics", params={"days": 7}).json()
    assert topics["days"] == 7
    late = next(t for t in topics["topics"] if t["term"] == "late")
    assert late["count"] == 2 and late["before"] == 0 and late["examples"]
    assert api.get("/api/v1/topics", params={"days": 0}).status_code == 422
    flagged = api.post("/api/v1/comments/praise/case", json={"reason": "VIP customer"})
    assert flagged.status_code == 201 and flagged.json()["state"] == "new"
    assert api.get("/api/v1/comments/praise/case").status_code == 200


def test_hostile_text_comes_back_exactly_as_json(api: TestClient) -> None:
    body: dict[str, Any] = api.get("/api/v1/comments/evil").json()
    assert body["text"] == HOSTILE
    assert api.get("/api/v1/comments/evil").headers["content-type"] == "application/json"


def test_replies_cannot_bypass_drafts_through_actions(api: TestClient) -> None:
    r = api.post("/api/v1/comments/c-en/actions", json={"action": "reply", "text": "whatever"})
    assert r.status_code == 422 and r.json()["error"] == "use_drafts"


def test_a_comment_can_name_its_posts_text(api: TestClient) -> None:
    hours = "From Monday we open at 7: the new opening hours"
    r = api.post("/api/v1/comments", json={**COMMENT, "post_id": "P1_456", "post_message": hours})
    assert r.status_code == 201, r.text
    assert r.json()["comment"]["post_message"] == hours
    # a later comment on the same post without the text keeps it
    other = {**COMMENT, "id": "fb_123_457", "post_id": "P1_456"}
    assert api.post("/api/v1/comments", json=other).json()["comment"]["post_message"] == hours
    schema = api.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert "post_message" in schema["CommentIn"]["properties"]
    assert "post_message" in schema["CommentOut"]["properties"]
