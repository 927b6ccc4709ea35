"""Spam on the case panel: hidden without opening a case, and no reply suggested for it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.models import Comment
from tests.web.conftest import signed_in

HX = {"hx-request": "true"}


def spam(desk: Desk) -> int:
    desk.ingest(
        [
            CommentRecord(
                platform="facebook", platform_id="spam1",
                created_at=datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
                text="Guadagna 500€ al giorno da casa! Clicca qui http://x.example",
                page="P1", page_name="Forno", author_id="s1", author_name="Offerte Lampo",
            )
        ]
    )  # fmt: skip
    with desk.session() as s, s.begin():
        s.execute(update(Comment).where(Comment.platform_id == "spam1").values(kind="spam"))
    found = desk.find_comment("spam1")
    assert found is not None
    return found.id


@pytest.mark.parametrize(
    ("lang", "guidance", "plain_confirm"),
    [
        ("en", "Spam gets no reply and needs no case", "a deleted comment cannot be brought back"),
        ("it", "Lo spam non merita risposta", "un commento eliminato non si può recuperare"),
    ],
)
def test_spam_is_hidden_without_a_case(
    desk: Desk, lang: str, guidance: str, plain_confirm: str
) -> None:
    cid = spam(desk)
    with signed_in(desk, lang) as client:
        panel = client.get(f"/comments/{cid}/case").text
        assert guidance in panel and 'id="action-hide"' in panel
        # deleting spam is not deleting criticism: the confirmation says what deleting does
        assert plain_confirm in panel and "critic" not in panel
        done = client.post(f"/comments/{cid}/case/action", data={"action": "hide"}, headers=HX)
        assert done.status_code == 200
    assert desk.workflow.case_for(cid) is None  # no case, no cool-down, no reply clock
    comment = desk.find_comment("spam1")
    assert comment is not None and comment.status == "hidden"


def test_no_reply_is_suggested_for_spam(desk: Desk) -> None:
    cid = spam(desk)
    assert desk.workflow.suggest(cid) == ""
