"""Cases and the two clocks, drafts and publishing, escalation, moderation and lessons, called
directly on a real SQLite desk."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from crisisdesk.desk import Desk
from crisisdesk.models import Page
from crisisdesk.workflow.cases import WorkflowError
from tests.workflow.wf_support import GOOD_EN, GOOD_IT, T0, comment_id, seed


def test_complaints_open_cases_praise_does_not(desk: Desk) -> None:
    seed(desk)
    assert desk.workflow.case_for(comment_id(desk, "c-en")) is not None
    assert desk.workflow.case_for(comment_id(desk, "praise")) is None
    case = desk.workflow.case_for(comment_id(desk, "c-it"))
    assert case is not None and case.state == "new"
    assert case.respond_by == T0 + timedelta(minutes=60)


def test_cooldown_starts_when_first_opened_and_only_once(desk: Desk) -> None:
    clock = seed(desk)
    cid = comment_id(desk, "c-en")
    case = desk.workflow.start_cooldown(cid, actor="ann")
    assert case is not None and case.state == "cooling"
    assert case.cooldown_until == clock.now + timedelta(minutes=15)
    clock.advance(minutes=5)
    again = desk.workflow.start_cooldown(cid, actor="bob")
    assert again is not None and again.cooldown_until == case.cooldown_until
    started = [e for e in desk.audit_entries(cid) if e.action == "case.cooldown_started"]
    assert len(started) == 1 and started[0].actor == "ann"
    # Still cooling a minute before the end; time to write once it has run out.
    clock.advance(minutes=9)
    assert desk.workflow.case_for(cid).state == "cooling"  # type: ignore[union-attr]
    clock.advance(minutes=1)
    assert desk.workflow.case_for(cid).state == "drafting"  # type: ignore[union-attr]


def test_cooldown_per_page_and_kind_and_none_for_praise(desk: Desk) -> None:
    clock = seed(desk)
    desk.configure_page("facebook", "P1", config={"cooldown_minutes": {"complaint": 20}})
    case = desk.workflow.start_cooldown(comment_id(desk, "c-en"), actor="ann")
    assert case is not None and case.cooldown_until == clock.now + timedelta(minutes=20)
    praise = comment_id(desk, "praise")
    desk.workflow.open_case(praise, actor="ann", reason="wants a thank-you")
    case = desk.workflow.start_cooldown(praise, actor="ann")
    assert case is not None and case.cooldown_until == clock.now and case.state == "drafting"


def test_publish_refused_during_cooldown_then_allowed(desk: Desk) -> None:
    clock = seed(desk)
    cid = comment_id(desk, "c-en")
    draft = desk.workflow.create_draft(cid, GOOD_EN, actor="ann", via="api")
    case = desk.workflow.case_for(cid)
    assert case is not None and case.cooldown_until == clock.now + timedelta(minutes=15)
    assert [c["name"] for c in draft.checks][:2] == ["unfinished", "tone"]
    with pytest.raises(WorkflowError) as refused:
        desk.workflow.publish(draft.id, actor="ann")
    assert refused.value.code == "cooldown"
    assert refused.value.detail["not_before"] == case.cooldown_until.isoformat()
    clock.advance(minutes=15)
    result = desk.workflow.publish(draft.id, actor="ann")
    assert result["status"] == "manual" and result["override"] is False
    assert result["copy"] == GOOD_EN
    case = desk.workflow.case_for(cid)
    assert case is not None and case.state == "replied"
    with pytest.raises(WorkflowError) as twice:
        desk.workflow.publish(draft.id, actor="ann")
    assert twice.value.code == "already_published"


def test_override_reason_is_stored_and_logged(desk: Desk) -> None:
    seed(desk)
    cid = comment_id(desk, "c-en")
    draft = desk.workflow.create_draft(cid, GOOD_EN, actor="ann")
    result = desk.workflow.publish(draft.id, actor="ann", override_reason="  Legal approved it ")
    assert result["override"] is True
    assert desk.workflow.draft(draft.id).override_reason == "Legal approved it"
    entries = {e.action: e for e in desk.audit_entries(cid)}
    assert entries["draft.cooldown_override"].reason == "Legal approved it"
    # Replied: a follow-up inside the same cool-down is not held back and needs no override.
    case = desk.workflow.case_for(cid)
    assert case is not None and case.state == "replied"
    assert not desk.workflow.clocks(case).cooling
    follow_up = desk.workflow.create_draft(cid, GOOD_EN + " Thanks again.", actor="ann")
    assert desk.workflow.publish(follow_up.id, actor="ann", again=True)["override"] is False
    assert entries["draft.cooldown_override"].actor == "ann"
    assert entries["moderation.reply"].detail["text"] == GOOD_EN


def test_published_replies_feed_the_canned_check(desk: Desk) -> None:
    clock = seed(desk)
    first = desk.workflow.create_draft(comment_id(desk, "c-en"), GOOD_EN, actor="ann")
    clock.advance(minutes=20)
    desk.workflow.publish(first.id, actor="ann")
    copy = desk.workflow.check(comment_id(desk, "evil"), GOOD_EN)
    canned = next(c for c in copy if c["name"] == "canned")
    assert canned["ok"] is False and "2024-05-01" in canned["message"]
    # The index rebuilt from the store (a restart) knows the same reply.
    desk.workflow.replies.forget()
    again = next(c for c in desk.workflow.check(comment_id(desk, "evil"), GOOD_EN)
                 if c["name"] == "canned")  # fmt: skip
    assert again["ok"] is False


def test_response_target_and_early_warning(desk: Desk) -> None:
    clock = seed(desk)
    cid = comment_id(desk, "c-en")
    case = desk.workflow.case_for(cid)
    assert case is not None
    clocks = desk.workflow.clocks(case, pending_cooldown=desk.workflow.pending_cooldown(case))
    assert not clocks.late_warning and not clocks.overdue
    clock.advance(minutes=40)  # a 15-minute cool-down from now ends 4 minutes before the target
    clocks = desk.workflow.clocks(case, pending_cooldown=desk.workflow.pending_cooldown(case))
    assert clocks.late_warning and not clocks.overdue
    case = desk.workflow.start_cooldown(cid, actor="ann")
    # cut to end 10 minutes before the target, and still flagged: the reply is due soon
    assert case is not None and case.cooldown_until == T0 + timedelta(minutes=50)
    assert desk.workflow.clocks(case).late_warning
    clock.advance(minutes=30)
    assert desk.workflow.clocks(case).overdue


def test_cooldown_opened_late_is_cut_short_for_the_target_but_not_for_trolls(desk: Desk) -> None:
    clock = seed(desk)
    clock.advance(minutes=44)  # 45 minutes after arrival
    cid = comment_id(desk, "c-en")
    case = desk.workflow.case_for(cid)
    assert case is not None
    assert desk.workflow.pending_cooldown(case) == timedelta(minutes=5)
    case = desk.workflow.start_cooldown(cid, actor="ann")
    assert case is not None and case.state == "cooling"
    assert case.cooldown_until == T0 + timedelta(minutes=50)
    started = next(e for e in desk.audit_entries(cid) if e.action == "case.cooldown_started")
    assert started.detail["shortened_for_target"] == {"minutes": 5.0, "configured": 15.0}
    # opened past the target's margin: no pause left, straight to writing
    clock.advance(minutes=10)
    late = desk.workflow.start_cooldown(comment_id(desk, "c-it"), actor="ann")
    assert late is not None and late.cooldown_until == clock.now and late.state == "drafting"
    # a troll owes no reply: its cool-down is never cut
    with desk.session() as session:
        page = session.get(Page, late.page_id)
    assert page is not None
    assert desk.workflow.cooldown_left(late, page, "troll", clock.now) == timedelta(minutes=15)
    assert desk.workflow.cooldown_left(late, page, "complaint", clock.now) == timedelta(0)


def test_escalation_assigns_names_the_contact_notifies_and_keeps_a_trail(desk: Desk) -> None:
    seed(desk)
    desk.configure_page(
        "facebook", "P1",
        config={"contacts": {"delivery": "giulia@forno.example", "default": "boss@forno.example"}},
    )  # fmt: skip
    user = desk.add_user("ann", "correct-horse-battery")
    sent: list[Any] = []

    class Recorder:
        def notify(self, notification: Any) -> None:
            sent.append(notification)

    desk.notifier = Recorder()
    cid = comment_id(desk, "c-it")
    case = desk.workflow.case_for(cid)
    assert case is not None
    try:
        escalated = desk.workflow.escalate(case.id, actor="ann", owner_id=user.id, note="urgente")
    except ModuleNotFoundError:  # the notification message type ships with the notify package
        pytest.skip("crisisdesk.notify is not available yet")
    assert escalated.owner_id == user.id
    assert escalated.responsible == "giulia@forno.example"  # "ritardo": a delivery problem
    entry = next(e for e in desk.audit_entries(cid) if e.action == "case.escalate")
    assert entry.reason == "urgente" and entry.detail["topic"] == "delivery"
    if sent:
        assert "giulia@forno.example" in sent[0].text


def test_escalation_survives_a_failing_notifier(desk: Desk) -> None:
    seed(desk)

    class Broken:
        def notify(self, notification: Any) -> None:
            raise OSError("smtp down")

    desk.notifier = Broken()
    case = desk.workflow.case_for(comment_id(desk, "c-en"))
    assert case is not None
    desk.workflow.escalate(case.id, actor="ann", topic="billing")
    entry = next(e for e in desk.audit_entries(case.comment_id) if e.action == "case.escalate")
    assert entry.detail["notified"] is False
    with pytest.raises(WorkflowError):
        desk.workflow.escalate(case.id, actor="ann", owner_id=999)


def test_close_records_a_lesson_and_summary_counts_and_trends(desk: Desk) -> None:
    clock = seed(desk)
    en = desk.workflow.case_for(comment_id(desk, "c-en"))
    it = desk.workflow.case_for(comment_id(desk, "c-it"))
    assert en is not None and it is not None
    with pytest.raises(WorkflowError) as bad:
        desk.workflow.close(en.id, cause="aliens", change="x", actor="ann")
    assert bad.value.code == "bad_cause"
    desk.workflow.close(en.id, cause="delivery", change="Second courier on Saturdays", actor="ann")
    clock.advance(weeks=1)
    lesson = desk.workflow.close(it.id, cause="delivery", change="Track vans", actor="ann")
    assert lesson.cause == "delivery"
    closed = desk.workflow.case_for(comment_id(desk, "c-it"))
    assert closed is not None and closed.state == "resolved" and closed.cause == "delivery"
    summary = desk.workflow.lessons_summary(weeks=4)
    assert summary["counts"] == {"delivery": 2}
    assert summary["trend"]["delivery"] == [0, 0, 1, 1]
    desk.configure_page("facebook", "P1", config={"causes": ["recipe", "oven"]})
    assert desk.workflow.causes(desk.pages()[0]) == ["recipe", "oven"]


def test_moderation_actions_with_guidance_and_audit(desk: Desk) -> None:
    seed(desk)
    cid = comment_id(desk, "c-en")
    hidden = desk.moderation.perform(cid, "hide", actor="ann", reason="insults")
    assert hidden["status"] == "manual" and "Hide" in hidden["instructions"]
    assert desk.find_comment("c-en").status == "hidden"  # type: ignore[union-attr]
    desk.moderation.perform(cid, "unhide", actor="ann")
    assert desk.find_comment("c-en").status == "visible"  # type: ignore[union-attr]
    with pytest.raises(WorkflowError) as confirm:
        desk.moderation.perform(cid, "delete", actor="ann", reason="spam")
    assert confirm.value.code == "confirm" and "Hide instead" in confirm.value.message
    with pytest.raises(WorkflowError) as reason:
        desk.moderation.perform(cid, "delete", actor="ann", confirm=True)
    assert reason.value.code == "reason"
    desk.moderation.perform(cid, "delete", actor="ann", confirm=True, reason="doxxing")
    assert desk.find_comment("c-en").status == "removed"  # type: ignore[union-attr]
    desk.moderation.perform(cid, "ban", actor="ann", reason="repeat offender")
    with pytest.raises(WorkflowError):
        desk.moderation.perform(cid, "explode", actor="ann")
    trail = [(e.action, e.actor, e.reason) for e in reversed(desk.audit_entries(cid))]
    assert ("moderation.hide", "ann", "insults") in trail
    assert ("moderation.delete", "ann", "doxxing") in trail
    assert ("moderation.ban", "ann", "repeat offender") in trail


def test_actions_go_through_the_connector_when_there_is_one(desk: Desk) -> None:
    clock = seed(desk)
    calls: list[tuple[str, ...]] = []

    class Connector:
        def reply(self, comment_id: str, text: str) -> dict[str, str]:
            calls.append(("reply", comment_id, text))
            return {"id": "reply-1"}

        def hide(self, comment_id: str) -> dict[str, bool]:
            calls.append(("hide", comment_id))
            return {"success": True}

        def private_reply(self, comment_id: str, text: str) -> dict[str, str]:
            raise RuntimeError("(#10) outside the allowed window")

    desk.connectors[("facebook", "P1")] = Connector()
    cid = comment_id(desk, "c-it")
    assert desk.moderation.perform(cid, "hide", actor="ann")["status"] == "done"
    draft = desk.workflow.create_draft(cid, GOOD_IT, actor="ann")
    clock.advance(minutes=16)
    result = desk.workflow.publish(draft.id, actor="ann")
    assert result["status"] == "published" and result["platform"] == {"id": "reply-1"}
    assert calls == [("hide", "c-it"), ("reply", "c-it", GOOD_IT)]
    voucher = desk.vouchers.create(cid, value=10, actor="ann")
    with pytest.raises(WorkflowError) as refused:
        desk.vouchers.send(voucher.code, actor="ann")
    assert refused.value.code == "platform" and "outside" in refused.value.message


def test_a_refused_publish_releases_the_draft(desk: Desk) -> None:
    clock = seed(desk)

    class Down:
        def reply(self, comment_id: str, text: str) -> None:
            raise ConnectionError("graph unreachable")

    desk.connectors[("facebook", "P1")] = Down()
    draft = desk.workflow.create_draft(comment_id(desk, "c-en"), GOOD_EN, actor="ann")
    clock.advance(minutes=16)
    with pytest.raises(WorkflowError):
        desk.workflow.publish(draft.id, actor="ann")
    assert desk.workflow.draft(draft.id).published_at is None


def test_suggestions_per_kind_and_language(desk: Desk) -> None:
    seed(desk)
    desk.configure_page("facebook", "P1", config={"contacts": {"delivery": "Giulia"}})
    it = desk.workflow.suggest(comment_id(desk, "c-it"))
    assert it.startswith("Ciao Marco") and "dispiace" in it and "privato" in it
    en = desk.workflow.suggest(comment_id(desk, "c-en"))
    assert en.startswith("Hi Anna") and "sorry" in en and "private message" in en
    assert "Forno Aurora" in en


def test_publish_refuses_the_suggestions_instructions_even_with_a_reason(desk: Desk) -> None:
    clock = seed(desk)
    cid = comment_id(desk, "c-en")
    suggestion = desk.workflow.suggest(cid)
    draft = desk.workflow.create_draft(cid, suggestion, actor="ann")
    unfinished = next(c for c in draft.checks if c["name"] == "unfinished")
    assert unfinished["ok"] is False
    with pytest.raises(WorkflowError) as refused:
        desk.workflow.publish(draft.id, actor="ann", override_reason="The customer is waiting")
    assert refused.value.code == "unfinished"
    assert refused.value.detail["placeholders"] == [
        "[Write what went wrong, in the customer's words.]"
    ]
    clock.advance(minutes=20)  # after the cool-down too: the text is what is wrong
    with pytest.raises(WorkflowError) as later:
        desk.workflow.publish(draft.id, actor="ann", again=True)
    assert later.value.code == "unfinished"
    assert desk.workflow.draft(draft.id).published_at is None
    assert "draft.publish" not in [e.action for e in desk.audit_entries(cid)]
    case = desk.workflow.case_for(cid)
    assert case is not None and case.state == "drafting"

    edited = suggestion.replace(
        "[Write what went wrong, in the customer's words.]",
        "Your bread arrived late and broken, and that should not have happened.",
    )
    done = desk.workflow.create_draft(cid, edited, actor="ann")
    assert next(c for c in done.checks if c["name"] == "unfinished")["ok"] is True
    result = desk.workflow.publish(done.id, actor="ann")
    assert result["copy"] == edited and "[" not in result["copy"]


def test_a_second_public_reply_has_to_be_asked_for(desk: Desk) -> None:
    clock = seed(desk)
    cid = comment_id(desk, "c-en")
    first = desk.workflow.create_draft(cid, GOOD_EN, actor="ann")
    clock.advance(minutes=16)
    desk.workflow.publish(first.id, actor="ann")
    second = desk.workflow.create_draft(cid, GOOD_EN + " We are on it.", actor="bob")
    with pytest.raises(WorkflowError) as refused:
        desk.workflow.publish(second.id, actor="bob")
    assert refused.value.code == "already_replied"
    assert desk.workflow.draft(second.id).published_at is None
    # Another comment of the same page is not affected.
    other = desk.workflow.create_draft(comment_id(desk, "c-it"), GOOD_IT, actor="bob")
    desk.workflow.publish(other.id, actor="bob", override_reason="Asked by the owner")
    result = desk.workflow.publish(second.id, actor="bob", again=True)
    assert result["copy"] == GOOD_EN + " We are on it."
    published = [e for e in desk.audit_entries(cid) if e.action == "draft.publish"]
    assert sorted(e.detail["again"] for e in published) == [False, True]


def test_two_drafts_published_at_once_make_one_reply(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim itself refuses a second reply: here the first check is made to miss it, as
    when two people press publish on two drafts of one comment at the same moment."""
    clock = seed(desk)
    cid = comment_id(desk, "c-en")
    first = desk.workflow.create_draft(cid, GOOD_EN, actor="ann")
    second = desk.workflow.create_draft(cid, GOOD_EN + " We are on it.", actor="bob")
    clock.advance(minutes=16)
    desk.workflow.publish(first.id, actor="ann")
    monkeypatch.setattr(desk.workflow, "_replied", lambda comment_id: False)
    with pytest.raises(WorkflowError) as refused:
        desk.workflow.publish(second.id, actor="bob")
    assert refused.value.code == "already_replied"
    assert desk.workflow.draft(second.id).published_at is None
    assert [e.action for e in desk.audit_entries(cid)].count("moderation.reply") == 1


def test_bad_drafts_are_refused(desk: Desk) -> None:
    seed(desk)
    with pytest.raises(WorkflowError):
        desk.workflow.create_draft(comment_id(desk, "c-en"), "   ", actor="ann")
    with pytest.raises(WorkflowError):
        desk.workflow.create_draft(comment_id(desk, "c-en"), "x" * 8001, actor="ann")
    with pytest.raises(WorkflowError) as missing:
        desk.workflow.create_draft(999_999, "hello", actor="ann")
    assert missing.value.code == "not_found"


def test_plain_questions_have_no_cooldown_and_targets_are_per_page(desk: Desk) -> None:
    from tests.workflow.wf_support import record

    clock = seed(desk)
    desk.configure_page("facebook", "P1", config={"response_target_minutes": 30})
    desk.ingest([record("q", "When do you open on Sunday?", minutes=2)])
    cid = comment_id(desk, "q")
    case = desk.workflow.start_cooldown(cid, actor="ann")
    assert case is not None and case.cooldown_until == clock.now
    assert case.respond_by == T0 + timedelta(minutes=32)
    draft = desk.workflow.create_draft(cid, "Hi Anna, on Sunday we open at nine.", actor="ann")
    assert desk.workflow.publish(draft.id, actor="ann")["override"] is False


def test_no_apology_needed_once_the_cause_says_the_brand_is_not_at_fault(desk: Desk) -> None:
    seed(desk)
    cid = comment_id(desk, "c-en")
    text = "Hi Anna, the order and the bread left us in perfect shape; courier data attached."
    assert not next(c for c in desk.workflow.check(cid, text) if c["name"] == "apology")["ok"]
    case = desk.workflow.case_for(cid)
    assert case is not None
    desk.workflow.close(case.id, cause="misunderstanding", change="Clearer FAQ", actor="ann")
    assert next(c for c in desk.workflow.check(cid, text) if c["name"] == "apology")["ok"]


def test_questions_get_a_case_with_the_response_clock_and_no_cooldown(desk: Desk) -> None:
    from tests.workflow.wf_support import record

    seed(desk)
    desk.ingest([record("q", "When do you open on Sunday?", minutes=2)])
    case = desk.workflow.case_for(comment_id(desk, "q"))
    assert case is not None and case.respond_by == T0 + timedelta(minutes=62)
    started = desk.workflow.start_cooldown(comment_id(desk, "q"), actor="ann")
    assert started is not None and started.cooldown_until == desk.clock()


def test_an_edit_that_turns_a_comment_into_a_complaint_opens_its_case(desk: Desk) -> None:
    from tests.workflow.wf_support import record

    seed(desk)
    desk.ingest([record("e1", "Lovely photo of the shop", minutes=3)])
    cid = comment_id(desk, "e1")
    assert desk.workflow.case_for(cid) is None
    edited = record("e1", "My order arrived late and the bread was broken. Not happy.", minutes=3)
    desk.ingest([edited])
    case = desk.workflow.case_for(cid)
    assert case is not None and case.state == "new"
    assert case.respond_by == T0 + timedelta(minutes=3 + 60)
    desk.ingest([edited])  # the same text again: no second case, nothing changes
    again = desk.workflow.case_for(cid)
    assert again is not None and again.id == case.id
