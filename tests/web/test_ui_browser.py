"""Every page of the web app in a real headless Chromium (Debian's ``chromium``), in English and
Italian, on a desk with hostile comments and a flame: no CSP violation, no script error, every
page and asset answered with 200, hostile text shown as text, and the interface follows the
language switch. A phone-width pass checks that no page is wider than the screen.

Skipped when no Chromium is installed, unless ``CRISISDESK_REQUIRE_BROWSER=1`` (CI sets it), in
which case a missing browser is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import pytest

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.signals.flame import monitor_for
from crisisdesk.web.app import create_app
from crisisdesk.web.routes import crisis
from tests.signals.test_flame import burst, feed, history
from tests.web.conftest import launch_chromium, serving

pytestmark = pytest.mark.browser

# Would set a flag if any of it ran: as an element's handler, as a script, or as a style.
HOSTILE = (
    '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    "<style>body{display:none}</style> the order was late, vergogna"
)
PASSWORD = "correct-horse-battery"


@dataclass
class Scene:
    """What the desk holds, so the test knows where to look."""

    base: str
    page_id: int
    hostile_id: int
    normal_id: int


@pytest.fixture
def scene(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scene]:
    # The live banner's event stream notices a closed tab at its next keep-alive: keep that short
    # so the server stops promptly at the end of the test.
    monkeypatch.setattr(crisis, "KEEPALIVE_SECONDS", 0.5)
    monitor_for(desk)
    past = history(days=1.0)
    desk.ingest(past)
    angry = burst(past[-1].created_at + timedelta(minutes=10), n=40)
    for record in angry[::5]:
        record.text = HOSTILE
        record.author_name = '<b onmouseover="window.__pwned=3">Mallory</b>'
    feed(desk, angry)
    normal = CommentRecord(
        platform="facebook", platform_id="normal-1", created_at=angry[-1].created_at,
        text="Grazie, la colomba era buonissima!", page="P1", page_name="Forno",
        post_id="post1", author_id="regular1", author_name="Regular 1",
    )  # fmt: skip
    desk.ingest([normal])
    hostile = desk.find_comment(angry[0].platform_id)
    found_normal = desk.find_comment("normal-1")
    assert hostile is not None and found_normal is not None
    assert monitor_for(desk).level_of(hostile.page_id) in ("flame", "crisis")
    desk.add_user("ann", PASSWORD, language="en")

    with serving(create_app(desk)) as url:
        yield Scene(url, hostile.page_id, hostile.id, found_normal.id)


@dataclass
class Watch:
    """Everything the browser reports that a clean page must not produce."""

    base: str
    problems: list[str] = field(default_factory=list)
    responses: list[tuple[int, str]] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("dialog", self._dialog)
        page.on("response", self._response)
        page.on("requestfailed", self._failed)
        # Reported through the console, where the listener above picks it up; init scripts are
        # injected by the browser itself, so the page's CSP does not block this one.
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation', e => console.error("
            "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sample));"
        )

    def _dialog(self, dialog: Any) -> None:
        self.problems.append("dialog: " + dialog.message)  # an alert() from comment text
        dialog.dismiss()

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text}")

    def _response(self, response: Any) -> None:
        if response.url.startswith(self.base):
            self.responses.append((response.status, response.url))

    def _failed(self, request: Any) -> None:
        # Leaving a page cancels what it still loads (the live banner's event stream, a panel's
        # stylesheet): the browser reports that as aborted, which is not an error of the page.
        if "ERR_ABORTED" not in (request.failure or ""):
            self.problems.append(f"request failed: {request.url} {request.failure}")


def visit(page: Any, url: str) -> None:
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, (url, response and response.status)
    if "/comments/" in url:
        # The panels are HTMX fragments: wait until both have replaced their placeholder.
        page.wait_for_selector("#panel-case #case-panel")
        page.wait_for_selector("#panel-author .author-panel")


def check_page(page: Any, url: str) -> None:
    """What every page must hold: nothing from comment text turned into markup or ran."""
    assert page.evaluate("window.__pwned") is None, url
    assert page.locator("img[src=x], script:not([src]), style, b[onmouseover]").count() == 0, url
    # Every form field has a name a screen reader can announce.
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
            .map(e => e.outerHTML.slice(0, 80))"""
    )
    assert not unlabelled, (url, unlabelled)
    # The stylesheet really applied (a blocked or missing app.css would leave this transparent).
    top = page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor")
    assert top not in ("rgba(0, 0, 0, 0)", "transparent"), url


def test_every_page_in_both_languages_is_clean(browser_path: str, scene: Scene) -> None:
    from playwright.sync_api import sync_playwright

    base = scene.base
    paths = [
        "/",
        "/alerts",
        f"/crisis/{scene.page_id}",
        f"/comments/{scene.hostile_id}",
        f"/comments/{scene.normal_id}",
        "/cases",
        "/vouchers",
        "/lessons",
        "/pages",
        "/rules",
    ]
    watch = Watch(base)
    with sync_playwright() as p:
        browser = launch_chromium(p, browser_path)
        context = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 900})
        page = context.new_page()
        watch.attach(page)

        visit(page, base + "/login")
        assert page.locator("label", has_text="User name").count() == 1
        page.fill("input[name=username]", "ann")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(base + "/")

        # The inbox: the flame strip leads to the crisis view; hostile text is plain text.
        strip = page.locator("#flame-strip a")
        assert strip.count() == 1
        assert strip.get_attribute("href") == f"/crisis/{scene.page_id}"
        assert strip.locator(".level-pill").inner_text() in ("flame", "crisis")
        hostile_row = page.locator(f"td.text a[href='/comments/{scene.hostile_id}']")
        assert "<img src=x" in hostile_row.inner_text()
        first_row = page.locator("tr.row").first
        for cell in (".urgency", ".tag.lang", "[class*='tag kind-']", "[class*='tag sent-']"):
            assert first_row.locator(cell).count() == 1, cell
        check_page(page, "/")

        english: dict[str, str] = {}
        for path in paths:
            visit(page, base + path)
            check_page(page, path)
            english[path] = page.locator("header.top nav").inner_text()
            assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("header.top nav a[aria-current=page]").inner_text() == "Rules"

        # The hostile comment: its text is shown exactly, as text, in the comment and the panels.
        visit(page, base + f"/comments/{scene.hostile_id}")
        assert page.locator("#comment-text").inner_text() == HOSTILE
        assert page.locator("#comment-text *").count() == 0
        # The playbook's steps keep their numbers; the reply (step 3), whose cool-down runs while
        # steps 1 and 2 are done, follows the comment and comes before the long context.
        assert page.locator(".step-title .n").all_inner_texts() == ["1", "3", "2"]
        # In document order (what a phone shows top to bottom, and what a screen reader reads).
        assert page.evaluate(
            """() => {
                const ids = ['comment-text', 'cooldown-clock', 'reply-text', 'panel-author'];
                const els = ids.map(id => document.getElementById(id));
                return els.every((el, i) => i === 0 ||
                    (els[i - 1].compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING));
            }"""
        )

        # Switch to Italian with the selector in the top bar; the same page comes back.
        page.select_option("#lang-select", "it")
        page.wait_for_url(base + f"/comments/{scene.hostile_id}")
        page.wait_for_selector("html[lang=it]")
        assert page.locator("header.top nav a").first.inner_text() == "Posta in arrivo"
        for path in paths:
            visit(page, base + path)
            check_page(page, path)
            assert page.locator("html").get_attribute("lang") == "it"
            italian = page.locator("header.top nav").inner_text()
            assert italian != english[path], path
        visit(page, base + "/")
        assert page.locator("h1").inner_text() == "Posta in arrivo"
        assert page.locator("#flame-strip .level-pill").inner_text() in ("flame", "crisi")

        # A phone: nothing wider than the screen, the navigation still all there.
        page.set_viewport_size({"width": 390, "height": 844})
        for path in paths:
            visit(page, base + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
        for box in page.locator("header.top nav a").evaluate_all(
            "links => links.map(a => a.getBoundingClientRect().right)"
        ):
            assert box <= 390, box  # every navigation link reachable without scrolling sideways
        context.close()
        browser.close()

    assert not watch.problems, watch.problems
    # 304: assets revalidated from the browser cache by their ETag.
    bad = [(status, url) for status, url in watch.responses if status not in (200, 303, 304)]
    assert not bad, bad
    assets = {urlparse(url).path for status, url in watch.responses if "/static/" in url}
    for asset in (
        "/static/app.css",
        "/static/app.js",
        "/static/workflow.css",
        "/static/crisis.css",
    ):
        assert asset in assets, asset
