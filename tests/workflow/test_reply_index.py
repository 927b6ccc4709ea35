"""The reply index behind the ``canned`` check survives a restart without recomputing."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select, update

from crisisdesk.analysis.base import Analyzer
from crisisdesk.desk import Desk
from crisisdesk.models import ReplyDraft, ReplySignature
from crisisdesk.settings import Settings
from crisisdesk.workflow.canned import SCHEME, CannedIndex
from tests.workflow.wf_support import GOOD_EN, T0, Clock, comment_id, seed

TEMPLATE = "Hi {n}, we are sorry about the delay. Please send us a DM with your order number {o}."
WORDS = "bread cake oven flour sugar morning shop street friend price milk butter honey".split()
QUERIES = [
    TEMPLATE.format(n="Marco", o=4242),
    "Hi Lucia, sorry about the delay! Please send us a DM with your order number.",
    "The trains to Milan run every hour from platform four, see you there.",
    GOOD_EN,
]


def open_desk(settings: Settings, analyzer: Analyzer) -> Desk:
    desk = Desk(settings, analyzer=analyzer)
    desk.upgrade()
    desk.clock = Clock(T0 + timedelta(hours=2))
    return desk


def store_replies(desk: Desk, count: int) -> None:
    """``count`` published replies, as if published earlier: a third from one template, the rest
    different; some share a timestamp, so the order rests on the id too."""
    rng = random.Random(7)
    texts = [
        TEMPLATE.format(n=f"user{i}", o=1000 + i)
        if i % 3 == 0
        else " ".join(rng.choice(WORDS) for _ in range(14))
        for i in range(count)
    ]
    store_published(desk, [(t, T0 + timedelta(minutes=i // 2)) for i, t in enumerate(texts)])


def store_published(desk: Desk, replies: list[tuple[str, datetime]]) -> None:
    """Replies to comment ``c-en`` stored as published at the given times, in one transaction
    (as another process, or an older version, would have left them)."""
    comment = desk.find_comment("c-en")
    assert comment is not None
    with desk.session() as s, s.begin():
        for text, published_at in replies:
            s.add(
                ReplyDraft(
                    comment_id=comment.id,
                    page_id=comment.page_id,
                    text=text,
                    created_at=T0,
                    published_at=published_at,
                )
            )


def canned(desk: Desk, text: str) -> dict[str, object]:
    checks = desk.workflow.check(comment_id(desk, "praise"), text)
    return next(c for c in checks if c["name"] == "canned")


def stored_signatures(desk: Desk) -> int:
    with desk.session() as s:
        return int(s.scalar(select(func.count()).select_from(ReplySignature)) or 0)


def page_id(desk: Desk) -> int:
    comment = desk.find_comment("c-en")
    assert comment is not None
    return comment.page_id


def test_a_restart_reads_signatures_back_and_answers_the_same(
    backend_desk: Desk, analyzer: Analyzer
) -> None:
    first = backend_desk
    settings = first.settings
    seed(first)
    store_replies(first, 300)
    before = [canned(first, q) for q in QUERIES]
    assert [c["ok"] for c in before] == [False, False, True, True]
    assert first.workflow.replies.computed == 300
    assert stored_signatures(first) == 300

    second = open_desk(settings, analyzer)
    after = [canned(second, q) for q in QUERIES]
    assert after == before
    assert second.workflow.replies.computed == 0

    # The loaded index is the one a build from scratch gives, signature for signature.
    with second.session() as s:
        rows = s.execute(
            select(ReplyDraft.id, ReplyDraft.text, ReplyDraft.published_at)
            .where(ReplyDraft.published_at.is_not(None))
            .order_by(ReplyDraft.published_at, ReplyDraft.id)
        ).all()
    fresh = CannedIndex.from_rows((str(r.id), r.text, r.published_at) for r in rows)
    loaded = second.workflow.replies.get(page_id(second))
    assert np.array_equal(loaded._sigs, fresh._sigs) and loaded._ids == fresh._ids
    for query in QUERIES:
        assert loaded.nearest(query) == fresh.nearest(query)
    second.close()


def test_new_replies_are_added_and_stored_once(backend_desk: Desk, analyzer: Analyzer) -> None:
    first = backend_desk
    settings = first.settings
    seed(first)
    first.clock = Clock(T0 + timedelta(hours=2))
    store_replies(first, 30)
    assert canned(first, GOOD_EN)["ok"] is True
    assert first.workflow.replies.computed == 30
    # Published here: in this process's index at once, and stored for the next start.
    draft = first.workflow.create_draft(comment_id(first, "c-en"), GOOD_EN, actor="ann")
    # c-en holds the stored replies already: this is another public reply, asked for.
    first.workflow.publish(
        draft.id, actor="ann", override_reason="Checked with the shop", again=True
    )
    assert canned(first, GOOD_EN)["ok"] is False
    assert first.workflow.replies.computed == 31 and stored_signatures(first) == 31

    # One more published without a stored signature (by a version that did not keep them):
    # the next start computes that one only.
    second = open_desk(settings, analyzer)
    store_replies(second, 1)
    again = canned(second, GOOD_EN)
    assert again["ok"] is False and second.workflow.replies.computed == 1
    assert stored_signatures(second) == 32
    second.close()


def test_signatures_of_another_scheme_are_recomputed(
    settings: Settings, analyzer: Analyzer
) -> None:
    first = open_desk(settings, analyzer)
    seed(first)
    store_replies(first, 20)
    before = canned(first, QUERIES[0])
    with first.session() as s, s.begin():
        s.execute(update(ReplySignature).values(scheme="older", signature=b"\0" * 256))
    first.close()

    second = open_desk(settings, analyzer)
    assert canned(second, QUERIES[0]) == before
    assert second.workflow.replies.computed == 20
    with second.session() as s:
        schemes = set(s.scalars(select(ReplySignature.scheme)))
    assert schemes == {SCHEME}
    second.close()


def test_replies_published_by_another_process_are_caught_up(
    backend_desk: Desk, analyzer: Analyzer
) -> None:
    """Two desks on one store stand for two processes (a second web worker, the command line):
    a reply the other one publishes is in this one's next check, read with its signature."""
    here = backend_desk
    seed(here)
    store_replies(here, 30)
    assert canned(here, GOOD_EN)["ok"] is True
    assert here.workflow.replies.computed == 30

    there = open_desk(here.settings, analyzer)
    draft = there.workflow.create_draft(comment_id(there, "c-en"), GOOD_EN, actor="ann")
    there.workflow.publish(
        draft.id, actor="ann", override_reason="Checked with the shop", again=True
    )

    check = canned(here, GOOD_EN)
    assert check["ok"] is False
    nearest = here.workflow.replies.get(page_id(here)).nearest(GOOD_EN)
    assert nearest is not None and nearest.reply_id == str(draft.id)
    assert here.workflow.replies.computed == 30  # its signature was read, not computed

    # A reply stamped before the newest one but committed after it (a slow transaction
    # elsewhere) is caught too, once; one already held is not added twice.
    late = TEMPLATE.format(n="Giulia", o=77) + " We will call you back today."
    store_published(there, [(late, there.clock() - timedelta(minutes=3))])
    index = here.workflow.replies.get(page_id(here))
    held = len(index)
    assert canned(here, late)["ok"] is False
    match = index.nearest(late)
    assert match is not None and match.similarity == 1.0
    assert len(here.workflow.replies.get(page_id(here))) == held == 32
    there.close()
