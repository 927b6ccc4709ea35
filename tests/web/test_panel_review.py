"""The case panel through the ASGI app: approval by someone else, archiving with confirmation and
reopening, no reply owed to trolls, and a refusal's banner that goes once the draft is fixed."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from crisisdesk.desk import Desk
from crisisdesk.models import Comment
from crisisdesk.web.app import create_app
from tests.workflow.wf_support import GOOD_EN, Clock, comment_id, seed

HX = {"HX-Request": "true"}
PASSWORD = "correct-horse-battery"
INSTRUCTION = "[Write the answer, concrete and complete.]"


@pytest.fixture
def clock(desk: Desk) -> Clock:
    clock = seed(desk)
    desk.add_user("ann", PASSWORD, language="en")
    desk.add_user("bob", PASSWORD, language="en")
    return clock


def sign_in(desk: Desk, username: str) -> TestClient:
    client = TestClient(create_app(desk))
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    r = client.post("/login", data={"username": username, "password": PASSWORD,
                                    "csrf_token": token.group(1)}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/cases").text)
    assert fresh
    client.headers["X-CSRF-Token"] = fresh.group(1)
    return client


@pytest.fixture
def ann(desk: Desk, clock: Clock) -> Iterator[TestClient]:
    with sign_in(desk, "ann") as c:
        yield c


@pytest.fixture
def bob(desk: Desk, clock: Clock) -> Iterator[TestClient]:
    with sign_in(desk, "bob") as c:
        yield c


def state(desk: Desk, cid: int) -> str:
    case = desk.workflow.case_for(cid)
    assert case is not None
    return case.state


def test_approval_is_asked_by_one_person_and_given_by_another(
    ann: TestClient, bob: TestClient, desk: Desk, clock: Clock
) -> None:
    cid = comment_id(desk, "c-en")
    ann.get(f"/comments/{cid}/case")
    asked = ann.post(f"/comments/{cid}/case/ask-approval", data={"text": GOOD_EN}, headers=HX)
    assert asked.status_code == 200 and state(desk, cid) == "awaiting approval"
    html = asked.text
    assert 'id="case-approval"' in html and "Awaits approval" in html
    assert "asked by <strong>ann</strong>" in html
    # The one who asked gets no approve button, only the reason why.
    assert 'id="approve-button"' not in html and 'id="approval-not-you"' in html
    # Publishing now is refused with the reason, the text kept, even with an override reason.
    refused = ann.post(f"/comments/{cid}/case/publish",
                       data={"text": GOOD_EN, "override_reason": "now"}, headers=HX)  # fmt: skip
    assert refused.headers["X-Crisisdesk-Status"] == "409"
    assert 'data-error="awaiting_approval"' in refused.text
    assert "This reply awaits approval: someone other than the person who asked" in refused.text
    # Posting the approval directly is refused too.
    own = ann.post(f"/comments/{cid}/case/approve", headers=HX)
    assert own.headers["X-Crisisdesk-Status"] == "403" and 'data-error="own_request"' in own.text
    assert state(desk, cid) == "awaiting approval"

    # Someone else reads the saved reply and approves it.
    seen = bob.get(f"/comments/{cid}/case").text
    assert 'id="approve-button"' in seen and "Hi Anna, I&#39;m so sorry" in seen
    approved = bob.post(f"/comments/{cid}/case/approve", headers=HX)
    assert approved.status_code == 200 and "reply approved: it can be published" in approved.text
    assert state(desk, cid) in ("cooling", "drafting")
    assert "approved the reply" in approved.text  # in the trail, in words
    entry = next(e for e in desk.audit_entries(cid) if e.action == "case.approve")
    assert entry.actor == "bob" and entry.detail["asked_by"] == "ann"

    clock.advance(minutes=16)
    done = ann.post(f"/comments/{cid}/case/publish", data={"text": GOOD_EN}, headers=HX)
    assert done.status_code == 200 and "Do this on the platform" in done.text
    assert state(desk, cid) == "replied"


def test_approval_in_italian(ann: TestClient, desk: Desk) -> None:
    cid = comment_id(desk, "c-en")
    ann.post("/lang", data={"lang": "it", "next": "/cases"})
    html = ann.post(f"/comments/{cid}/case/ask-approval", data={"text": GOOD_EN}, headers=HX).text
    assert "In attesa di approvazione" in html and "chiesta da" in html
    refused = ann.post(f"/comments/{cid}/case/publish", data={"text": GOOD_EN}, headers=HX).text
    assert "Questa risposta è in attesa di approvazione" in refused


def test_dismiss_asks_for_confirmation_and_a_closed_case_can_be_reopened(
    ann: TestClient, desk: Desk
) -> None:
    cid = comment_id(desk, "c-en")
    panel = ann.get(f"/comments/{cid}/case").text
    form = re.search(r'<form[^>]*class="dismiss-form".*?</form>', panel, re.S)
    assert form and 'name="confirm" value="yes" required' in form.group(0)
    # A stray click (or a post without the box ticked) archives nothing.
    stray = ann.post(f"/comments/{cid}/case/state", data={"state": "dismissed"}, headers=HX)
    assert stray.headers["X-Crisisdesk-Status"] == "422"
    assert 'data-error="confirm_dismiss"' in stray.text and state(desk, cid) == "cooling"
    dismissed = ann.post(f"/comments/{cid}/case/state",
                         data={"state": "dismissed", "confirm": "yes"}, headers=HX).text  # fmt: skip
    assert state(desk, cid) == "dismissed"
    # Closed: no reply box, no publish button, and a way back.
    assert 'id="reply-text"' not in dismissed and 'id="publish-button"' not in dismissed
    assert 'id="reopen-button"' in dismissed and 'id="dismiss-button"' not in dismissed
    reopened = ann.post(f"/comments/{cid}/case/reopen", data={"reason": "they wrote again"},
                        headers=HX).text  # fmt: skip
    assert state(desk, cid) == "cooling"  # its cool-down is still running
    assert 'id="reply-text"' in reopened and 'id="publish-button"' in reopened
    assert "case reopened" in reopened and "reopened the case" in reopened
    entry = next(e for e in desk.audit_entries(cid) if e.action == "case.reopen")
    assert entry.actor == "ann" and entry.reason == "they wrote again"
    again = ann.post(f"/comments/{cid}/case/reopen", headers=HX)
    assert again.headers["X-Crisisdesk-Status"] == "409"


def test_a_resolved_case_hides_the_reply_box_too(ann: TestClient, desk: Desk) -> None:
    cid = comment_id(desk, "c-it")
    ann.post(f"/comments/{cid}/case/close", data={"cause": "delivery", "change": "Earlier vans"},
             headers=HX)  # fmt: skip
    html = ann.get(f"/comments/{cid}/case").text
    assert state(desk, cid) == "resolved"
    assert 'id="publish-button"' not in html and 'id="reopen-button"' in html


@pytest.mark.parametrize("kind", ["troll", "spam"])
def test_a_troll_gets_no_reply_countdown_and_is_never_overdue(
    ann: TestClient, desk: Desk, clock: Clock, kind: str
) -> None:
    cid = comment_id(desk, "c-en")
    with desk.session() as s, s.begin():
        s.execute(update(Comment).where(Comment.id == cid).values(kind=kind))
    html = ann.get(f"/comments/{cid}/case").text
    target = re.search(r'<dd id="target-clock">(.*?)</dd>', html, re.S)
    assert target and "No reply expected: monitor, don&#39;t feed" in target.group(1)
    assert "Reply within" not in target.group(1) and "data-countdown" not in target.group(1)
    assert 'id="late-warning"' not in html
    clock.advance(minutes=120)
    html = ann.get(f"/comments/{cid}/case").text
    assert "Past the response target" not in html
    listed = ann.get("/cases").text
    row = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*?/comments/{cid}"(?:(?!</tr>).)*</tr>', listed, re.S)
    assert row and "Past the response target" not in row.group(0)
    assert "Past the response target" in listed  # the Italian complaint still is overdue
    ann.post("/lang", data={"lang": "it", "next": "/cases"})
    italian = ann.get(f"/comments/{cid}/case").text
    assert "Nessuna risposta dovuta: tieni d&#39;occhio, non alimentare" in italian


def test_refused_unfinished_draft_says_so_with_a_capital_and_a_check_clears_it(
    ann: TestClient, desk: Desk, clock: Clock
) -> None:
    cid = comment_id(desk, "c-en")
    clock.advance(minutes=16)
    refused = ann.post(f"/comments/{cid}/case/publish",
                       data={"text": f"Hi Anna, {INSTRUCTION}"}, headers=HX).text  # fmt: skip
    banner = re.search(r'<p class="error"[^>]*id="case-error"[^>]*>\s*(.*?)</p>', refused, re.S)
    assert banner and banner.group(1).strip().startswith("The draft still holds")
    # The HTMX check swaps the checks and removes the banner out of band.
    checked = ann.post(f"/comments/{cid}/case/check", data={"text": GOOD_EN}, headers=HX).text
    assert '<p id="case-error" hx-swap-oob="delete"></p>' in checked
    assert 'data-check="unfinished"' in checked
    # Without JavaScript the check returns the whole panel, without the old refusal.
    plain = ann.post(f"/comments/{cid}/case/check", data={"text": GOOD_EN}).text
    assert 'id="case-error"' not in plain and 'id="check-results"' in plain
    # In Italian too, capitalised.
    ann.post("/lang", data={"lang": "it", "next": "/cases"})
    italian = ann.post(f"/comments/{cid}/case/publish",
                       data={"text": f"Hi Anna, {INSTRUCTION}"}, headers=HX).text  # fmt: skip
    assert re.search(r'id="case-error"[^>]*>\s*La bozza contiene ancora', italian)
