"""What worked: the reactions of the people answered, by how they were answered."""

from __future__ import annotations

from crisisdesk.desk import Desk
from tests.workflow.wf_support import GOOD_EN, GOOD_IT, comment_id, record, seed


def rows(desk: Desk) -> dict[str, tuple[int, int, int, int, int, int]]:
    return {
        r.approach: (r.cases, r.happy, r.unhappy, r.neutral, r.silent, r.waiting)
        for r in desk.workflow.what_worked(weeks=4)
    }


def test_reactions_by_way_of_answering(desk: Desk) -> None:
    clock = seed(desk)
    assert desk.workflow.what_worked() == []  # nothing answered yet

    # Anna is answered at once (the cool-down overridden) and gets a voucher; she comes back happy.
    anna = comment_id(desk, "c-en")
    draft = desk.workflow.create_draft(anna, GOOD_EN, actor="ann")
    desk.workflow.publish(draft.id, actor="ann", override_reason="Checked with the shop")
    voucher = desk.vouchers.create(anna, value=5, actor="ann")
    desk.vouchers.send(voucher.code, actor="ann")

    # Marco's draft waits for the cool-down; it goes out two hours later, after the target.
    marco = comment_id(desk, "c-it")
    draft = desk.workflow.create_draft(marco, GOOD_IT, actor="ann")
    clock.advance(hours=2)
    desk.workflow.publish(draft.id, actor="ann")

    clock.advance(hours=1)
    desk.ingest([record("anna-after", "Thanks, great bread today", minutes=180)])
    # a comment Marco wrote before he was answered is no reaction to the answer; an hour after
    # his reply it is too early to call his silence one
    assert rows(desk)["all"] == (2, 1, 0, 0, 0, 1)

    got = rows(desk)
    assert got["on time"] == (1, 1, 0, 0, 0, 0) and got["late"] == (1, 0, 0, 0, 0, 1)
    assert got["cool-down overridden"] == (1, 1, 0, 0, 0, 0)
    assert got["cool-down kept"] == (1, 0, 0, 0, 0, 1)
    assert got["voucher"] == (1, 1, 0, 0, 0, 0) and got["no voucher"] == (1, 0, 0, 0, 0, 1)
    # fourteen days on without a word, he was not heard from again
    clock.advance(days=14)
    assert rows(desk)["late"] == (1, 0, 0, 0, 1, 0)
    clock.advance(days=-14)

    # Marco comes back angry, then happy: his first comment after the reply counts.
    desk.ingest(
        [
            record("marco-after", "Ancora in ritardo, vergogna", minutes=200,
                   author="Marco Bianchi", author_id="a2"),
            record("marco-later", "Grazie, buonissimo", minutes=260,
                   author="Marco Bianchi", author_id="a2"),
        ]
    )  # fmt: skip
    assert rows(desk)["late"] == (1, 0, 1, 0, 0, 0)
    # five weeks on, the cases are out of the four weeks looked at
    clock.advance(days=35)
    assert desk.workflow.what_worked(weeks=4) == []
