"""The demo desk: its history includes answered and closed cases, so every page has something."""

from __future__ import annotations

from sqlalchemy import select

from crisisdesk.demo import DemoRunner
from crisisdesk.demo.scenario import PAST_CASES
from crisisdesk.desk import Desk
from crisisdesk.models import User, utcnow
from crisisdesk.settings import Settings


def test_the_demo_history_has_answered_and_closed_cases(settings: Settings) -> None:
    desk = Desk(settings)  # the shipped analyser, as the demo runs it
    desk.upgrade()
    try:
        DemoRunner(desk).prepare()
        assert desk.clock is utcnow  # the past was played on a clock of its own
        summary = desk.workflow.lessons_summary(weeks=8)
        assert sum(summary["counts"].values()) == len(PAST_CASES)
        worked = {row.approach: row for row in desk.workflow.what_worked(weeks=8)}
        everyone = worked["all"]
        assert everyone.cases == len(PAST_CASES)
        # no follow-up: silent once fourteen days have passed, too early to tell before
        no_follow_up = sum(1 for p in PAST_CASES if p.follow_up is None)
        assert everyone.silent + everyone.waiting == no_follow_up
        # the follow-ups are thanks and renewed complaints: both kinds of reaction show
        assert everyone.happy >= 1 and everyone.unhappy >= 1
        assert (
            everyone.happy + everyone.unhappy + everyone.neutral == len(PAST_CASES) - no_follow_up
        )
        assert worked["voucher"].cases == sum(1 for p in PAST_CASES if p.voucher)
        assert worked["cool-down overridden"].cases == sum(
            1 for p in PAST_CASES if p.reply_after_minutes < 15
        )
        # the demo user may try every screen, the page settings too
        with desk.session() as s:
            demo = s.scalar(select(User).where(User.username == DemoRunner.demo_username))
        assert demo is not None and demo.role == "admin"
    finally:
        desk.close()


def test_the_demo_posts_are_named_by_their_text(settings: Settings) -> None:
    from crisisdesk.demo import scenario_records
    from crisisdesk.demo.scenario import POSTS
    from crisisdesk.models import Post

    desk = Desk(settings)
    desk.upgrade()
    try:
        DemoRunner(desk).prepare()
        history, flame = scenario_records(utcnow())
        desk.ingest(history + [record for _, record in flame])
        with desk.session() as s:
            posts = {p.platform_id: p.message for p in s.scalars(select(Post))}
        assert posts and posts == {post: POSTS[post] for post in posts}
    finally:
        desk.close()
