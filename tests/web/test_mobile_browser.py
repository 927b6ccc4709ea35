"""The comment page and the crisis pages at a phone's width and at a desktop's, in a real headless
Chromium (Debian's ``chromium``).

On a phone the comment, its tags and the case's clocks must be on the screen the page opens with,
the reply box must come before the long context (analysis, thread, author card, history) and be
reached at once by the playbook's "reply" link, and nothing may be wider than the screen. On a
desktop the reply stays in its own column beside the comment and its context.

The comment under test has real context around it: a regular customer with a history on the page,
writing under a post in the middle of a flame, so the author card, the history and the thread are
as long as they get in a crisis.

Skipped when no Chromium is installed, unless ``CRISISDESK_REQUIRE_BROWSER=1`` (CI sets it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.signals.flame import monitor_for
from crisisdesk.web.app import create_app
from crisisdesk.web.routes import crisis
from tests.signals.test_flame import burst, feed, history
from tests.web.conftest import browser_log_in, launch_chromium, real_time_clock, serving

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
TEXT = (
    "Third time my order arrived late and nobody answers the phone. Vergogna, I want my money back!"
)


@dataclass
class Scene:
    base: str
    comment_id: int
    page_id: int
    #: a comment with hardly any context: no known author, alone under its post
    bare_id: int


@pytest.fixture
def scene(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scene]:
    # The live banner's event stream notices a closed tab at its next keep-alive: keep it short
    # so the server stops promptly at the end of the test.
    monkeypatch.setattr(crisis, "KEEPALIVE_SECONDS", 0.5)
    clock = real_time_clock(desk)
    monitor_for(desk)
    # A day of quiet history ending now (the case's clocks run on real time in the browser),
    # then a burst under post3, then a regular customer's complaint under the same post.
    past = history(start=clock.now - timedelta(days=1, hours=1), days=1.0)
    desk.ingest([r for r in past if r.created_at < clock.now - timedelta(minutes=30)])
    feed(desk, burst(clock.now - timedelta(minutes=25), n=30))
    desk.ingest(
        [
            CommentRecord(
                platform="facebook", platform_id="target", created_at=clock.now, text=TEXT,
                page="P1", page_name="Forno", post_id="post3", author_id="regular1",
                author_name="Regular 1",
            ),
            CommentRecord(
                platform="facebook", platform_id="bare", created_at=clock.now, text="Late again.",
                page="P1", page_name="Forno", post_id="post9",
            ),
        ]
    )  # fmt: skip
    comment, bare = desk.find_comment("target"), desk.find_comment("bare")
    assert comment is not None and bare is not None
    assert monitor_for(desk).level_of(comment.page_id) in ("flame", "crisis")
    desk.add_user("ann", "correct-horse-battery", language="en")
    with serving(create_app(desk)) as url:
        yield Scene(url, comment.id, comment.page_id, bare.id)


def open_comment(page: Any, scene: Scene, comment_id: int | None = None) -> None:
    page.goto(f"{scene.base}/comments/{comment_id or scene.comment_id}")
    # Both panels are HTMX fragments: measure once they have replaced their links, since each
    # one moves what follows it.
    page.wait_for_selector("#panel-case #case-panel")
    page.wait_for_selector("#panel-author .author-panel")


def box(page: Any, selector: str) -> dict[str, float]:
    """Where ``selector`` is in the viewport, in CSS pixels."""
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return {
        "top": found["y"],
        "bottom": found["y"] + found["height"],
        "left": found["x"],
        "right": found["x"] + found["width"],
    }


def page_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_phone_comment_clocks_on_first_screen_and_reply_before_the_context(
    browser_path: str, scene: Scene, tmp_path: object
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p, browser_path)
        context = browser.new_context(locale="en-GB", viewport=PHONE)
        page = context.new_page()
        browser_log_in(page, scene.base, "ann")

        for lang in ("en", "it"):
            open_comment(page, scene)
            assert page.locator("html").get_attribute("lang") == lang
            assert page.evaluate("window.scrollY") == 0
            screen = PHONE["height"]
            # The first screen: the comment, its kind and tags, and both clocks, counting.
            assert box(page, "#comment-text")["bottom"] <= screen, lang
            assert box(page, ".comment-main .tags")["bottom"] <= screen, lang
            assert box(page, "#cooldown-clock time[data-countdown]")["bottom"] <= screen, lang
            assert box(page, "#target-clock time[data-countdown]")["bottom"] <= screen, lang
            # The reply box comes before every part of the long context, on screen and in the
            # order a screen reader reads.
            reply = box(page, "#reply-text")
            for context_part in (".analysis", ".thread-box", "#panel-author", ".history-box"):
                assert reply["bottom"] < box(page, context_part)["top"], (lang, context_part)
            assert page.evaluate(
                """() => {
                    const reply = document.getElementById('reply-text');
                    return ['.analysis', '.thread-box', '#panel-author', '.history-box']
                        .map(s => document.querySelector(s))
                        .every(el => reply.compareDocumentPosition(el) &
                                     Node.DOCUMENT_POSITION_FOLLOWING);
                }"""
            )
            # One column: the draft box uses the phone's width.
            assert reply["right"] - reply["left"] >= PHONE["width"] * 0.75
            assert page_width(page) <= PHONE["width"], (lang, page_width(page))
            page.screenshot(path=f"{tmp_path}/comment-phone-{lang}.png")

            # The playbook's reply link, from the keyboard, brings the clock and the whole draft
            # box on screen together.
            page.focus("nav .steps a[href='#step-reply']")
            page.keyboard.press("Enter")
            page.wait_for_function("window.scrollY > 0")
            page.wait_for_timeout(100)
            target = box(page, "#target-clock")
            reply = box(page, "#reply-text")
            assert 0 <= target["top"] and target["bottom"] <= screen, target
            assert 0 <= reply["top"] and reply["bottom"] <= screen, reply
            page.screenshot(path=f"{tmp_path}/comment-phone-{lang}-reply.png")

            # The other pages a manager uses in a flame: nothing wider than the screen, and the
            # crisis view's tables (the last hour against the hour before, the posts) fit whole.
            for path in ("/", "/alerts", f"/crisis/{scene.page_id}", "/cases"):
                page.goto(scene.base + path)
                assert page_width(page) <= PHONE["width"], (lang, path, page_width(page))
            page.goto(f"{scene.base}/crisis/{scene.page_id}")
            for table in ("table.changes", "table.posts"):
                clipped = page.locator(table).evaluate(
                    "t => t.closest('.table-wrap').scrollWidth - t.closest('.table-wrap').clientWidth"
                )
                assert clipped == 0, (lang, table, clipped)

            if lang == "en":
                page.select_option("#lang-select", "it")
                page.wait_for_selector("html[lang=it]")
        context.close()
        browser.close()


def test_desktop_comment_keeps_the_reply_beside_the_comment_and_its_context(
    browser_path: str, scene: Scene, tmp_path: object
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p, browser_path)
        context = browser.new_context(locale="en-GB", viewport=DESKTOP)
        page = context.new_page()
        browser_log_in(page, scene.base, "ann")
        for comment_id in (scene.comment_id, scene.bare_id):
            open_comment(page, scene, comment_id)
            comment = box(page, ".comment-main")
            analysis = box(page, ".analysis")
            author = box(page, "#panel-author")
            reply = box(page, "#reply-text")
            # Two columns: the case panel right of the comment, starting level with it.
            assert reply["left"] >= comment["right"], (reply, comment)
            assert abs(box(page, "#step-reply")["top"] - box(page, "#step-understand")["top"]) <= 2
            # The context stays in the comment's column, right under it: a reply column taller
            # than the comment and its context (the bare comment's case) opens no gap there.
            for part in (analysis, author):
                assert abs(part["left"] - comment["left"]) <= 1, part
                assert part["right"] <= reply["left"], part
            assert 0 <= analysis["top"] - comment["bottom"] <= 40, (comment_id, analysis, comment)
            # The clocks and the draft box are on the first screen, as they were.
            assert box(page, "#target-clock")["bottom"] <= DESKTOP["height"]
            assert box(page, "#reply-text")["top"] <= DESKTOP["height"]
            assert page_width(page) <= DESKTOP["width"]
            page.screenshot(path=f"{tmp_path}/comment-desktop-{comment_id}.png", full_page=True)
        # The bare comment's case panel does outgrow its context, so the gap check meant it.
        assert box(page, "#case-panel")["bottom"] > box(page, ".history-box")["bottom"] + 200
        context.close()
        browser.close()
