"""What worked: how the people a page answered reacted, by how they were answered.

The playbook says: wait for the cool-down, answer within the hour, make it right in private. Whether
that works on a given page shows in what the person does next. For every case with a published
reply, the first comment the same author writes on the page afterwards (within
:data:`FOLLOW_UP_DAYS`) is their reaction: positive or praise, back satisfied; negative or a
complaint, rant or provocation, back unhappy; anything else, back with no clear mood; no comment,
not heard from again, once the window has passed (before that it is too early to tell: a reply
published an hour ago has not been ignored). Silence is the commonest outcome and is not a
failure.

The figures are counts on the page's own history, not an experiment: who gets a voucher is not
chosen at random. They show where to look, not what caused what.

>>> from datetime import UTC, datetime, timedelta
>>> t = datetime(2024, 5, 1, tzinfo=UTC)
>>> fast = ReplyOutcome(t, t + timedelta(minutes=30), t + timedelta(hours=1), False, True, "happy")
>>> slow = ReplyOutcome(t, t + timedelta(hours=3), t + timedelta(hours=1), True, False, "silent")
>>> rows = {r.approach: r for r in summarise([fast, slow])}
>>> rows["all"].cases, rows["on time"].happy, rows["late"].silent
(2, 1, 1)
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

#: How long after the reply a comment by the same author still counts as their reaction.
FOLLOW_UP_DAYS = 14

#: Reactions, in the order they are shown ("waiting": no comment yet, and the window is open).
REACTIONS = ("happy", "unhappy", "neutral", "silent", "waiting")


@dataclass(frozen=True)
class ReplyOutcome:
    """One answered case: when the comment came, when the reply went out, the response target,
    whether the cool-down was overridden, whether a voucher was sent, and the reaction."""

    commented_at: datetime
    replied_at: datetime
    respond_by: datetime | None
    cooldown_overridden: bool
    voucher_sent: bool
    reaction: str

    @property
    def on_time(self) -> bool:
        return self.respond_by is None or self.replied_at <= self.respond_by


def reaction(sentiment: str | None, kind: str | None) -> str:
    """The mood of a follow-up comment.

    >>> reaction("positive", "other"), reaction("neutral", "complaint"), reaction(None, None)
    ('happy', 'unhappy', 'neutral')
    """
    if kind in ("complaint", "rager", "troll", "misguided") or sentiment == "negative":
        return "unhappy"
    if kind == "praise" or sentiment == "positive":
        return "happy"
    return "neutral"


@dataclass(frozen=True)
class ApproachRow:
    """Answered cases answered one way, and how their authors reacted."""

    approach: str  # all | on time | late | cool-down kept | cool-down overridden | voucher | ...
    cases: int
    happy: int
    unhappy: int
    neutral: int
    silent: int
    waiting: int
    median_minutes: float | None  # from the comment to the reply

    def share(self, reaction: str) -> float:
        return getattr(self, reaction) / self.cases if self.cases else 0.0


def _row(approach: str, outcomes: Sequence[ReplyOutcome]) -> ApproachRow:
    counts = {r: sum(o.reaction == r for o in outcomes) for r in REACTIONS}
    minutes = [(o.replied_at - o.commented_at).total_seconds() / 60 for o in outcomes]
    return ApproachRow(
        approach,
        len(outcomes),
        counts["happy"],
        counts["unhappy"],
        counts["neutral"],
        counts["silent"],
        counts["waiting"],
        round(statistics.median(minutes), 1) if minutes else None,
    )


def summarise(outcomes: Sequence[ReplyOutcome]) -> list[ApproachRow]:
    """One row for all answered cases, then one per way of answering (rows with no case are
    left out)."""
    splits = [
        ("all", lambda o: True),
        ("on time", lambda o: o.on_time),
        ("late", lambda o: not o.on_time),
        ("cool-down kept", lambda o: not o.cooldown_overridden),
        ("cool-down overridden", lambda o: o.cooldown_overridden),
        ("voucher", lambda o: o.voucher_sent),
        ("no voucher", lambda o: not o.voucher_sent),
    ]
    rows = [_row(name, [o for o in outcomes if keep(o)]) for name, keep in splits]
    return [r for r in rows if r.cases]
