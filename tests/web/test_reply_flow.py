"""The case panel and the cases, vouchers and lessons pages through the ASGI app."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from crisisdesk.desk import Desk
from crisisdesk.web.app import create_app
from tests.workflow.wf_support import GOOD_EN, HOSTILE, Clock, comment_id, record, seed

HX = {"HX-Request": "true"}


@pytest.fixture
def clock(desk: Desk) -> Clock:
    return seed(desk)


@pytest.fixture
def client(desk: Desk, clock: Clock) -> Iterator[TestClient]:
    desk.add_user("ann", "correct-horse-battery", language="en")
    with TestClient(create_app(desk)) as c:
        page = c.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        r = c.post("/login", data={"username": "ann", "password": "correct-horse-battery",
                                   "csrf_token": token.group(1)}, follow_redirects=False)  # fmt: skip
        assert r.status_code == 303
        # Signing in starts a new session, with its own CSRF token.
        fresh = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/cases").text)
        assert fresh
        c.headers["X-CSRF-Token"] = fresh.group(1)
        yield c


def test_panel_is_listed_on_the_comment_page_and_nav_has_the_pages(
    client: TestClient, desk: Desk
) -> None:
    page = client.get(f"/comments/{comment_id(desk, 'c-en')}").text
    assert 'hx-get="/comments/' in page and '/case"' in page
    for path in ("/cases", "/vouchers", "/lessons"):
        assert f'href="{path}"' in page


def test_opening_the_panel_starts_the_cooldown_and_shows_both_clocks(
    client: TestClient, desk: Desk, clock: Clock
) -> None:
    cid = comment_id(desk, "c-en")
    html = client.get(f"/comments/{cid}/case").text
    until = (clock.now.replace(microsecond=0)).isoformat()
    assert 'id="cooldown-clock"' in html and "data-countdown=" in html
    case = desk.workflow.case_for(cid)
    assert case is not None and case.cooldown_until is not None and case.state == "cooling"
    assert case.cooldown_until.isoformat() in html
    assert case.respond_by is not None and case.respond_by.isoformat() in html
    assert until  # the cool-down started at the desk's clock
    # The suggestion is in the textarea, for the person to edit.
    assert re.search(r'<textarea id="reply-text" name="text"[^>]*>Hi Anna,', html)
    assert 'name="override_reason"' in html


def test_check_button_shows_each_check_with_its_reason(client: TestClient, desk: Desk) -> None:
    cid = comment_id(desk, "c-en")
    r = client.post(f"/comments/{cid}/case/check", data={"text": "As we said, a refund."},
                    headers=HX)  # fmt: skip
    assert r.status_code == 200
    assert r.text.count('<li class="check') == 8
    assert "check.unfinished" not in r.text and "Finished" in r.text  # every check has its name
    assert "check-fail" in r.text and "defensive" in r.text.lower()


def test_publish_refused_in_cooldown_then_with_reason_then_listed(
    client: TestClient, desk: Desk, clock: Clock
) -> None:
    cid = comment_id(desk, "c-en")
    client.get(f"/comments/{cid}/case")
    refused = client.post(f"/comments/{cid}/case/publish", data={"text": GOOD_EN}, headers=HX)
    assert refused.headers["X-Crisisdesk-Status"] == "409"
    assert 'data-error="cooldown"' in refused.text
    assert "Hi Anna, I&#39;m so sorry" in refused.text  # what they wrote is kept
    done = client.post(
        f"/comments/{cid}/case/publish",
        data={"text": GOOD_EN, "override_reason": "Press office approved"},
        headers=HX,
    )
    assert done.status_code == 200
    assert "Do this on the platform" in done.text and 'data-copy="#copy-result"' in done.text
    assert '<pre class="copy-text" id="copy-result">Hi Anna, I&#39;m so sorry' in done.text
    assert "Press office approved" in done.text
    # without a connector nothing was sent: the trail says it is to be done by hand
    trail = done.text[done.text.index('class="audit') :]
    assert "to do by hand on the platform" in trail
    actions = [e.action for e in desk.audit_entries(cid)]
    assert "draft.cooldown_override" in actions
    case = desk.workflow.case_for(cid)
    assert case is not None and case.state == "replied"
    # the clocks now say what happened, not "over: you can publish" and a bare deadline
    cooldown = re.search(r'<dd id="cooldown-clock">(.*?)</dd>', done.text, re.S)
    target = re.search(r'<dd id="target-clock">(.*?)</dd>', done.text, re.S)
    assert cooldown and "skipped: the reply went out before it ended" in cooldown[1]
    assert target and "Replied at" in target[1] and "within the target" in target[1]


def test_publish_after_the_cooldown(client: TestClient, desk: Desk, clock: Clock) -> None:
    cid = comment_id(desk, "c-it")
    client.get(f"/comments/{cid}/case")
    clock.advance(minutes=16)
    html = client.get(f"/comments/{cid}/case").text
    assert 'name="override_reason"' not in html
    done = client.post(f"/comments/{cid}/case/publish", data={"text": "Ciao Marco, ci dispiace "
                       "per il ritardo del pane: Giulia ti scrive in privato oggi."}, headers=HX)  # fmt: skip
    assert done.status_code == 200 and "Do this on the platform" in done.text


def test_a_second_public_reply_must_be_asked_for(
    client: TestClient, desk: Desk, clock: Clock
) -> None:
    cid = comment_id(desk, "c-it")
    client.get(f"/comments/{cid}/case")
    clock.advance(minutes=16)
    first = "Ciao Marco, ci dispiace per il ritardo del pane: Giulia ti scrive in privato oggi."
    assert client.post(f"/comments/{cid}/case/publish", data={"text": first}, headers=HX).is_success
    panel = client.get(f"/comments/{cid}/case").text
    assert 'name="again"' in panel  # offered only once a reply is public
    published = 'class="copy-text" id="published-'
    assert panel.count(published) == 1

    second = "Ciao Marco, aggiornamento: il pane nuovo arriva domattina, Giulia ti ha scritto."
    refused = client.post(f"/comments/{cid}/case/publish", data={"text": second}, headers=HX)
    assert "already has a published reply" in refused.text
    assert refused.text.count(published) == 1 and second in refused.text  # kept, not sent
    done = client.post(
        f"/comments/{cid}/case/publish", data={"text": second, "again": "yes"}, headers=HX
    )
    assert done.status_code == 200 and done.text.count(published) == 2


def test_forms_need_csrf(client: TestClient, desk: Desk) -> None:
    cid = comment_id(desk, "c-en")
    r = client.post(f"/comments/{cid}/case/publish", data={"text": GOOD_EN},
                    headers={"X-CSRF-Token": "forged"})  # fmt: skip
    assert r.status_code == 403


def test_delete_needs_confirmation_and_manual_mode_has_a_copy_button(
    client: TestClient, desk: Desk
) -> None:
    cid = comment_id(desk, "evil")
    html = client.get(f"/comments/{cid}/case").text
    assert "deleting it usually makes it louder" in html
    r = client.post(f"/comments/{cid}/case/action", data={"action": "delete"}, headers=HX)
    assert r.headers["X-Crisisdesk-Status"] == "422" and "confirmation" in r.text
    r = client.post(f"/comments/{cid}/case/action", data={"action": "hide", "reason": "abuse"},
                    headers=HX)  # fmt: skip
    assert r.status_code == 200 and "hide the comment" in r.text
    assert desk.find_comment("evil").status == "hidden"  # type: ignore[union-attr]
    # the status at the top of the comment page is swapped too, not left at "visible"
    assert (
        '<span id="comment-status" hx-swap-oob="true" class="tag status-hidden">Status: hidden'
        in r.text
    )
    assert 'id="comment-status"' in client.get(f"/comments/{cid}").text


def test_escalate_voucher_send_and_close_from_the_panel(client: TestClient, desk: Desk) -> None:
    desk.configure_page("facebook", "P1", config={"contacts": {"delivery": "Giulia <g@x.it>"}})
    cid = comment_id(desk, "c-en")
    html = client.post(f"/comments/{cid}/case/escalate",
                       data={"topic": "delivery", "note": "call her", "assign_me": "yes"},
                       headers=HX).text  # fmt: skip
    assert "Giulia &lt;g@x.it&gt;" in html
    html = client.post(f"/comments/{cid}/case/vouchers", data={"value": "10", "currency": "EUR"},
                       headers=HX).text  # fmt: skip
    code = re.search(r'<code id="voucher-\d+">([A-Z0-9-]+)</code>', html)
    assert code
    assert "voucher created: send it privately below" in html  # said, not only listed
    sent = client.post(f"/comments/{cid}/case/vouchers/send",
                       data={"code": code.group(1), "message": "Sorry, Anna"}, headers=HX)  # fmt: skip
    assert sent.status_code == 200 and code.group(1) in sent.text
    closed = client.post(f"/comments/{cid}/case/close",
                         data={"cause": "delivery", "change": "Check vans at 7"}, headers=HX)  # fmt: skip
    assert closed.status_code == 200 and "This case is closed" in closed.text
    assert "case closed, its lesson kept" in closed.text
    lessons = client.get("/lessons").text
    assert "Check vans at 7" in lessons and 'data-cause="delivery"' in lessons
    vouchers = client.get("/vouchers").text
    assert code.group(1) in vouchers
    redeem = client.post("/vouchers/redeem", data={"code": code.group(1).lower()})
    assert redeem.status_code == 200 and 'id="redeem-ok"' in redeem.text
    again = client.post("/vouchers/redeem", data={"code": code.group(1)})
    assert again.status_code == 409 and "already redeemed" in again.text


def test_cases_page_lists_by_state_and_escapes_hostile_text(client: TestClient, desk: Desk) -> None:
    html = client.get("/cases").text
    assert "&lt;script&gt;" in html and "<script>alert" not in html
    assert client.get("/cases?state=replied").text.count('class="case-row') == 0
    assert client.get("/cases?state=new").text.count('class="case-row') == 3
    panel = client.get(f"/comments/{comment_id(desk, 'evil')}/case").text
    assert "<script>alert" not in panel and "<img src=x" not in panel
    assert HOSTILE  # shown elsewhere only as text


def test_cases_page_opens_on_the_open_cases_nearest_target_first(
    client: TestClient, desk: Desk
) -> None:
    done = desk.workflow.case_for(comment_id(desk, "c-it"))
    assert done is not None
    desk.workflow.set_state(done.id, "resolved", actor="ann")
    html = client.get("/cases").text
    assert html.count('class="case-row') == 2  # the resolved one waits under "all"
    assert f'href="/comments/{comment_id(desk, "c-it")}"' not in html
    assert 'aria-current="page">Open (2)</a>' in html
    assert "Reply within" in html and "data-countdown" in html  # time left, not a bare date
    assert client.get("/cases?state=all").text.count('class="case-row') == 3
    # one page only: another page's cases are left out
    other = desk.configure_page("facebook", "P9", name="Other page")
    assert client.get(f"/cases?page={other.id}").text.count('class="case-row') == 0
    page = desk.pages()[0]
    assert client.get(f"/cases?page={page.id}").text.count('class="case-row') == 2


def test_comments_without_a_case_can_open_one(client: TestClient, desk: Desk) -> None:
    cid = comment_id(desk, "praise")
    assert 'id="open-case"' in client.get(f"/comments/{cid}/case").text
    html = client.post(f"/comments/{cid}/case/open", data={"reason": "VIP"}, headers=HX).text
    assert 'id="case-state"' in html


def test_italian_interface(client: TestClient, desk: Desk) -> None:
    r = client.post("/lang", data={"lang": "it", "next": "/cases"}, follow_redirects=True)
    assert "Casi" in r.text
    html = client.get(f"/comments/{comment_id(desk, 'c-it')}/case").text
    assert "Potrai pubblicare tra" in html and "Ciao Marco" in html


def test_ask_for_approval(client: TestClient, desk: Desk) -> None:
    cid = comment_id(desk, "c-en")
    html = client.post(f"/comments/{cid}/case/state", data={"state": "awaiting approval"},
                       headers=HX).text  # fmt: skip
    assert "awaiting approval" in html and 'id="ask-approval"' not in html


def test_lessons_page_says_what_the_criticism_is_about_and_what_worked(
    client: TestClient, desk: Desk, clock: Clock
) -> None:
    html = client.get("/lessons").text
    # the two English complaints (one of them hostile) share "late" and "broken"
    assert 'data-term="late"' in html and 'data-term="broken"' in html
    assert 'href="/?q=late"' in html  # a word leads to the inbox's comments that say it
    assert f'href="/comments/{comment_id(desk, "c-en")}"' in html
    assert "<script>alert" not in html
    assert 'data-approach="all"' not in html  # nothing answered yet
    draft = desk.workflow.create_draft(comment_id(desk, "c-en"), GOOD_EN, actor="ann")
    desk.workflow.publish(draft.id, actor="ann", override_reason="Checked with the shop")
    html = client.get("/lessons").text
    assert 'data-approach="all"' in html and 'data-approach="cool-down overridden"' in html
    # answered a moment ago: not "not heard from again" but too early to tell
    assert "Too early to tell" in html
    assert '<td class="count" data-reaction="waiting">100%</td>' in html
    assert '<td class="count" data-reaction="silent">0%</td>' in html
    # four weeks on, the same words belong to the period before
    clock.advance(days=30)
    later = {t.term: t for t in desk.workflow.criticism_topics(days=28)}
    assert later == {}
    desk.ingest([record("c-en2", "Late again, and the bread broken", minutes=30 * 24 * 60)])
    desk.ingest([record("c-en3", "Bread late and broken", minutes=30 * 24 * 60 + 1)])
    again = {t.term: t for t in desk.workflow.criticism_topics(days=28)}
    assert (again["late"].count, again["late"].before) == (2, 2)
    assert not again["late"].rising


def test_a_draft_superseded_by_a_published_reply_is_not_shown_again(
    client: TestClient, desk: Desk, clock: Clock
) -> None:
    cid = comment_id(desk, "c-en")
    client.get(f"/comments/{cid}/case")
    rough = "As we said, a refund."  # fails several checks
    # refused in the cool-down: kept as the draft being written, with its checks
    client.post(f"/comments/{cid}/case/publish", data={"text": rough}, headers=HX)
    assert rough in client.get(f"/comments/{cid}/case").text
    clock.advance(minutes=16)
    done = client.post(f"/comments/{cid}/case/publish", data={"text": GOOD_EN}, headers=HX)
    assert done.status_code == 200
    panel = client.get(f"/comments/{cid}/case").text
    assert f'<textarea id="reply-text" name="text" rows="7" maxlength="8000">{rough}' not in panel
    assert 'id="check-results"' not in panel  # no stale failing checks under the box


def test_vouchers_default_to_the_page_currency_and_say_whom_they_are_for(
    client: TestClient, desk: Desk
) -> None:
    page = desk.pages()[0]
    desk.configure_page(page.platform, page.platform_id, config={"currency": "GBP"})
    cid = comment_id(desk, "c-en")
    client.get(f"/comments/{cid}/case")
    panel = client.get(f"/comments/{cid}/case").text
    assert "<option selected>GBP</option>" in panel and "<option selected>EUR" not in panel
    voucher = desk.vouchers.create(cid, value=5, currency="GBP", actor="ann")
    ledger = client.get("/vouchers").text
    row = ledger[ledger.index(voucher.code) :]
    row = row[: row.index("</tr>")]
    assert f'<a href="/comments/{cid}">Anna Rossi</a>' in row and "5.00 GBP" in row
