"""Approval before publishing, reopening a closed case, and no reply owed to trolls or spam,
called directly on a real SQLite desk."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from crisisdesk.desk import Desk
from crisisdesk.models import Comment
from crisisdesk.workflow.cases import WorkflowError
from tests.workflow.wf_support import GOOD_EN, Clock, comment_id, seed

PASSWORD = "correct-horse-battery"


@pytest.fixture
def clock(desk: Desk) -> Clock:
    clock = seed(desk)
    desk.add_user("ann", PASSWORD)
    desk.add_user("bob", PASSWORD)
    desk.add_user("boss", PASSWORD, role="admin")
    return clock


def user_id(desk: Desk, username: str) -> int:
    user = desk.authenticate(username, PASSWORD)
    assert user is not None
    return user.id


def ask(desk: Desk, platform_id: str, username: str) -> tuple[int, int]:
    """A draft written by ``username``, who then asks for approval; the case and draft ids."""
    cid = comment_id(desk, platform_id)
    uid = user_id(desk, username)
    draft = desk.workflow.create_draft(cid, GOOD_EN, actor=username, user_id=uid)
    assert draft.case_id is not None
    desk.workflow.set_state(draft.case_id, "awaiting approval", actor=username, user_id=uid)
    return draft.case_id, draft.id


def test_awaiting_approval_blocks_publishing_until_someone_else_approves(
    desk: Desk, clock: Clock
) -> None:
    case_id, draft_id = ask(desk, "c-en", "ann")
    ann = user_id(desk, "ann")
    # Not even with a cool-down override reason: a reason is no approval.
    with pytest.raises(WorkflowError) as refused:
        desk.workflow.publish(draft_id, actor="ann", user_id=ann, override_reason="urgent")
    assert refused.value.code == "awaiting_approval" and refused.value.detail["asked_by"] == "ann"
    # Nor by moving the case on by hand.
    with pytest.raises(WorkflowError) as skipped:
        desk.workflow.set_state(case_id, "drafting", actor="ann", user_id=ann)
    assert skipped.value.code == "awaiting_approval"
    with pytest.raises(WorkflowError) as own:
        desk.workflow.approve(case_id, actor="ann", user_id=ann)
    assert own.value.code == "own_request"
    with pytest.raises(WorkflowError) as nobody:
        desk.workflow.approve(case_id, actor="api", user_id=None)
    assert nobody.value.code == "approver"
    request = desk.workflow.approval_request(case_id)
    assert request is not None and request.user_id == ann and request.actor == "ann"

    case = desk.workflow.approve(case_id, actor="bob", user_id=user_id(desk, "bob"))
    assert case.state == "cooling"  # the cool-down still runs: approval does not cancel it
    assert desk.workflow.approval_request(case_id) is None
    entry = next(
        e for e in desk.audit_entries(comment_id(desk, "c-en")) if e.action == "case.approve"
    )
    assert entry.actor == "bob" and entry.detail["asked_by"] == "ann"
    assert entry.detail["draft_id"] == draft_id
    with pytest.raises(WorkflowError) as again:
        desk.workflow.approve(case_id, actor="bob", user_id=user_id(desk, "bob"))
    assert again.value.code == "not_awaiting"

    clock.advance(minutes=16)
    result = desk.workflow.publish(draft_id, actor="ann", user_id=ann)
    assert result["draft_id"] == draft_id
    replied = desk.workflow.case_for(comment_id(desk, "c-en"))
    assert replied is not None and replied.state == "replied"


def test_an_admin_may_approve_their_own_request(desk: Desk, clock: Clock) -> None:
    case_id, draft_id = ask(desk, "c-en", "boss")
    clock.advance(minutes=16)
    case = desk.workflow.approve(case_id, actor="boss", user_id=user_id(desk, "boss"))
    assert case.state == "drafting"
    assert desk.workflow.publish(draft_id, actor="boss", user_id=user_id(desk, "boss"))


def test_cases_not_awaiting_approval_publish_as_before(desk: Desk, clock: Clock) -> None:
    draft = desk.workflow.create_draft(comment_id(desk, "c-en"), GOOD_EN, actor="ann")
    assert desk.workflow.publish(draft.id, actor="ann", override_reason="checked")["draft_id"]


def test_reopen_brings_a_closed_case_back_to_the_state_it_had_open(
    desk: Desk, clock: Clock
) -> None:
    cid = comment_id(desk, "c-it")
    case = desk.workflow.case_for(cid)
    assert case is not None
    with pytest.raises(WorkflowError) as open_already:
        desk.workflow.reopen(case.id, actor="ann")
    assert open_already.value.code == "not_closed"
    desk.workflow.set_state(case.id, "dismissed", actor="ann")
    reopened = desk.workflow.reopen(case.id, actor="bob", reason="they wrote again")
    assert reopened.state == "new" and reopened.closed_at is None  # nobody had opened it
    desk.workflow.start_cooldown(cid, actor="bob")
    desk.workflow.set_state(case.id, "dismissed", actor="ann")
    assert desk.workflow.reopen(case.id, actor="bob").state == "cooling"
    entries = [e for e in desk.audit_entries(cid) if e.action == "case.reopen"]
    assert [e.detail for e in entries] == [
        {"from": "dismissed", "to": "cooling"},
        {"from": "dismissed", "to": "new"},
    ]
    assert entries[1].reason == "they wrote again"
    # An answered case closed with its lesson comes back as replied.
    clock.advance(minutes=16)
    draft = desk.workflow.create_draft(cid, "Ciao Marco, ti scriviamo in privato oggi.", actor="a")
    desk.workflow.publish(draft.id, actor="a")
    desk.workflow.close(case.id, cause="delivery", change="Earlier vans", actor="a")
    assert desk.workflow.reopen(case.id, actor="a").state == "replied"


def test_closing_then_reopening_does_not_skip_a_pending_approval(desk: Desk, clock: Clock) -> None:
    case_id, draft_id = ask(desk, "c-en", "ann")
    desk.workflow.set_state(case_id, "dismissed", actor="ann", user_id=user_id(desk, "ann"))
    assert desk.workflow.reopen(case_id, actor="ann").state == "awaiting approval"
    with pytest.raises(WorkflowError):
        desk.workflow.publish(draft_id, actor="ann", override_reason="now")


@pytest.mark.parametrize("kind", ["troll", "spam"])
def test_trolls_and_spam_owe_no_reply_and_are_never_overdue(
    desk: Desk, clock: Clock, kind: str
) -> None:
    troll, complaint = comment_id(desk, "c-en"), comment_id(desk, "c-it")
    with desk.session() as s, s.begin():
        s.execute(update(Comment).where(Comment.id == troll).values(kind=kind))
    clock.advance(minutes=120)  # well past the 60-minute response target
    troll_case = desk.workflow.case_for(troll)
    complaint_case = desk.workflow.case_for(complaint)
    assert troll_case is not None and complaint_case is not None
    clocks = desk.workflow.clocks(troll_case)
    assert not clocks.overdue and not clocks.late_warning and not clocks.reply_expected
    assert desk.workflow.clocks(complaint_case).overdue  # a complaint still is
    rows = {r["comment"].id: r["clocks"] for r in desk.workflow.cases()}
    assert not rows[troll].overdue and not rows[troll].reply_expected
    assert rows[complaint].overdue and rows[complaint].reply_expected
    assert desk.workflow.clocks(troll_case).as_dict()["reply_expected"] is False


def test_an_approval_is_for_the_text_that_was_approved(desk: Desk, clock: Clock) -> None:
    case_id, draft_id = ask(desk, "c-en", "ann")
    ann = user_id(desk, "ann")
    desk.workflow.approve(case_id, actor="bob", user_id=user_id(desk, "bob"))
    clock.advance(minutes=20)  # past the cool-down
    changed = desk.workflow.create_draft(
        comment_id(desk, "c-en"), GOOD_EN + " And a line nobody approved.", actor="ann", user_id=ann
    )
    with pytest.raises(WorkflowError) as refused:
        desk.workflow.publish(changed.id, actor="ann", user_id=ann)
    assert refused.value.code == "changed_since_approval"
    # the approved text goes out, and the approval is spent with it
    assert desk.workflow.publish(draft_id, actor="ann", user_id=ann)["status"] == "manual"
    again = desk.workflow.create_draft(
        comment_id(desk, "c-en"), "Anna, one more thing: Giulia calls you today.", actor="ann",
        user_id=ann,
    )  # fmt: skip
    assert desk.workflow.publish(again.id, actor="ann", user_id=ann, again=True)["status"]


def test_approve_and_reopen_through_the_api(desk: Desk, clock: Clock) -> None:
    from fastapi.testclient import TestClient

    from crisisdesk.web.app import create_app

    case_id, _ = ask(desk, "c-en", "ann")
    anns = desk.create_token("ann's script", user_id=user_id(desk, "ann"))
    bobs = desk.create_token("bob's script", user_id=user_id(desk, "bob"))
    anonymous = desk.create_token("a script of nobody's")
    with TestClient(create_app(desk)) as client:

        def post(token: str, path: str) -> tuple[int, dict[str, object]]:
            r = client.post(path, headers={"Authorization": f"Bearer {token}"})
            return r.status_code, r.json()

        assert post(anns, f"/api/v1/cases/{case_id}/approve")[0] == 403
        assert post(anonymous, f"/api/v1/cases/{case_id}/approve")[0] == 403
        status, body = post(bobs, f"/api/v1/cases/{case_id}/approve")
        assert status == 200 and body["state"] != "awaiting approval"
        assert post(bobs, f"/api/v1/cases/{case_id}/approve")[0] == 409  # nothing awaits
        assert post(bobs, f"/api/v1/cases/{case_id}/reopen")[0] == 409  # not closed
        desk.workflow.set_state(case_id, "dismissed", actor="bob")
        status, body = post(bobs, f"/api/v1/cases/{case_id}/reopen")
        assert status == 200 and body["state"] != "dismissed"
