"""Shared set-up for the reply workflow tests: a seeded desk and a clock the tests move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> late & "broken"'


class Clock:
    """A clock that only moves when a test says so."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def record(platform_id: str, text: str, *, minutes: float = 0, author: str = "Anna Rossi",
           author_id: str = "a1", page: str = "P1") -> CommentRecord:  # fmt: skip
    return CommentRecord(
        platform="facebook",
        platform_id=platform_id,
        created_at=T0 + timedelta(minutes=minutes),
        text=text,
        page=page,
        page_name="Forno Aurora",
        post_id="post1",
        author_id=author_id,
        author_name=author,
    )


def seed(desk: Desk) -> Clock:
    """A complaint in English, one in Italian, a praise and a hostile complaint; the clock at
    one minute after the first arrival."""
    desk.ingest(
        [
            record("c-en", "My order arrived late and the bread was broken. Not happy."),
            record(
                "c-it",
                "Il pane è arrivato in ritardo, vergogna!",
                author="Marco Bianchi",
                author_id="a2",
            ),  # fmt: skip
            record("praise", "great bread, thanks", author="Lucia", author_id="a3"),
            record("evil", HOSTILE, author="<b>Mallory</b>", author_id="a4"),
        ]
    )
    clock = Clock(T0 + timedelta(minutes=1))
    desk.clock = clock
    return clock


def comment_id(desk: Desk, platform_id: str) -> int:
    comment = desk.find_comment(platform_id)
    assert comment is not None
    return comment.id


GOOD_EN = (
    "Hi Anna, I'm so sorry your order arrived late and the bread was broken. "
    "Giulia from our bakery is checking the delivery today; could you send us a private "
    "message with your order details so we can put it right?"
)
GOOD_IT = (
    "Ciao Marco, ci dispiace davvero che il pane sia arrivato in ritardo. "
    "Giulia del forno sta verificando la consegna oggi stesso: ci scrivi in privato così "
    "sistemiamo tutto insieme?"
)
