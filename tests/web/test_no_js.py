"""The web UI without JavaScript: every HTMX trigger is also a real link or a real form.

A panel's address answers HTMX (``HX-Request``) with the bare fragment and a plain visit with a full
page in the layout; a panel's form posted without HTMX is redirected (303) to that page, which shows
the outcome; a refusal comes back at once, with what the person typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from crisisdesk.desk import Desk
from crisisdesk.web.app import create_app
from tests.web.conftest import browser_log_in, launch_chromium, serving
from tests.workflow.wf_support import GOOD_EN, HOSTILE, Clock, comment_id, seed

HX = {"HX-Request": "true"}


@pytest.fixture
def clock(desk: Desk) -> Clock:
    return seed(desk)


@pytest.fixture
def client(desk: Desk, clock: Clock) -> Iterator[TestClient]:
    """Signed in like a browser without JavaScript: the CSRF token travels in the form fields."""
    desk.add_user("ann", "correct-horse-battery", language="en")
    with TestClient(create_app(desk)) as c:
        r = c.post(
            "/login",
            data={"username": "ann", "password": "correct-horse-battery", "csrf_token": token(c)},
            follow_redirects=False,
        )
        assert r.status_code == 303
        yield c


def token(client: TestClient, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)


class Triggers(HTMLParser):
    """Each element carrying hx-get or hx-post, with the attributes that make it work without
    JavaScript: its tag, href, formaction, and the method and action of the form around it."""

    def __init__(self) -> None:
        super().__init__()
        self.form: dict[str, str | None] | None = None
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.form = a
        if "hx-get" in a or "hx-post" in a:
            form = self.form or {}
            self.found.append(
                {
                    **a,
                    "tag": tag,
                    "form-method": form.get("method"),
                    "form-action": form.get("action"),
                }
            )

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None


def triggers(html: str) -> list[dict[str, str | None]]:
    parser = Triggers()
    parser.feed(html)
    return parser.found


def assert_degrades(html: str) -> int:
    """Every hx-get is a link to the same address; every hx-post is a post form to the same
    address, or a submit button of a post form sending it there. Returns how many were seen."""
    found = triggers(html)
    for t in found:
        if t.get("hx-get"):
            assert t["tag"] == "a" and t.get("href") == t["hx-get"], t
        else:
            target = t.get("action") if t["tag"] == "form" else t.get("formaction")
            method = t.get("method") if t["tag"] == "form" else t["form-method"]
            assert target == t["hx-post"] and method == "post", t
            if t["tag"] != "form":
                assert t["tag"] == "button" and t.get("type") == "submit", t
    return len(found)


def test_every_htmx_trigger_is_a_real_link_or_form(client: TestClient, desk: Desk) -> None:
    desk.settings._values["page_size"] = 2  # so the inbox has its "more" link
    cid = comment_id(desk, "c-en")
    client.post(f"/comments/{cid}/case/open", data={"csrf_token": token(client, "/cases")})
    seen = 0
    for path in ("/", f"/comments/{cid}", f"/comments/{cid}/case", f"/comments/{cid}/author-card"):
        r = client.get(path)
        assert r.status_code == 200, path
        seen += assert_degrades(r.text)
    # The inbox's "more", both panels' placeholders, and the case panel's and card's forms.
    assert seen >= 12


def test_comment_page_links_to_each_panel_in_both_languages(client: TestClient, desk: Desk) -> None:
    cid = comment_id(desk, "c-en")
    html = client.get(f"/comments/{cid}").text
    assert f'<a href="/comments/{cid}/case" hx-get="/comments/{cid}/case"' in html
    assert ">Open the case and write the reply</a>" in html
    assert f'<a href="/comments/{cid}/author-card" hx-get="/comments/{cid}/author-card"' in html
    assert ">Open the author card: who wrote it</a>" in html
    client.post("/lang", data={"lang": "it", "next": "/", "csrf_token": token(client, "/")})
    html = client.get(f"/comments/{cid}").text
    assert ">Apri il caso e scrivi la risposta</a>" in html
    assert ">Apri la scheda dell&#39;autore: chi l&#39;ha scritto</a>" in html


def test_inbox_links_lead_to_the_comment_page(client: TestClient, desk: Desk) -> None:
    cid = comment_id(desk, "c-en")
    inbox = client.get("/").text
    assert f'<a href="/comments/{cid}">My order arrived late' in inbox
    page = client.get(f"/comments/{cid}")
    assert page.status_code == 200 and 'id="comment-text"' in page.text


def test_inbox_more_link_without_htmx_is_the_next_full_page(client: TestClient, desk: Desk) -> None:
    desk.settings._values["page_size"] = 2
    first = client.get("/").text
    match = re.search(r'<a class="button" href="(/\?cursor=[^"]+)"', first)
    assert match
    second = client.get(match.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and "<html" in second.text
    rows = re.findall(r'<td class="text"><a href="(/comments/\d+)"', second.text)
    assert rows and not set(rows) & set(
        re.findall(r'<td class="text"><a href="(/comments/\d+)"', first)
    )


def test_case_panel_is_a_full_page_without_htmx_and_a_fragment_with_it(
    client: TestClient, desk: Desk
) -> None:
    cid = comment_id(desk, "c-en")
    page = client.get(f"/comments/{cid}/case")
    assert page.status_code == 200 and "HX-Request" in page.headers["vary"]
    html = page.text
    assert html.startswith("<!doctype html>") and 'class="top"' in html  # the layout
    assert "<title>Case and reply · crisisdesk</title>" in html
    assert f'<a href="/comments/{cid}">← Back to the comment</a>' in html
    assert "My order arrived late and the bread was broken. Not happy." in html
    assert '<section class="panel" id="panel-case">' in html and 'id="case-panel"' in html
    assert 'id="cooldown-clock"' in html and re.search(r"<textarea[^>]*>Hi Anna,", html)
    # the clocks' first reading is the server's, so they are not blank without JavaScript
    clocks = re.findall(r"<time data-countdown=[^>]*>([^<]*)</time>", html)
    assert clocks and all(re.fullmatch(r"\d+:\d\d(:\d\d)?", c) for c in clocks), clocks
    fragment = client.get(f"/comments/{cid}/case", headers=HX)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["vary"]
    assert "<html" not in fragment.text and 'class="top"' not in fragment.text
    assert 'id="case-panel"' in fragment.text and "Back to the comment" not in fragment.text


def test_author_card_is_a_full_page_without_htmx_and_a_fragment_with_it(
    client: TestClient, desk: Desk
) -> None:
    cid = comment_id(desk, "evil")
    html = client.get(f"/comments/{cid}/author-card").text
    assert "<html" in html and "<title>Who wrote it · crisisdesk</title>" in html
    assert '<section class="panel" id="panel-author">' in html and 'class="risks"' in html
    assert "Fake account risk" in html and "Competitor risk" in html
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in html and "<b>Mallory" not in html
    # The hostile comment on top of the page is text, never markup.
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html and "<script>alert" not in html
    assert HOSTILE not in html and "style=" not in html
    fragment = client.get(f"/comments/{cid}/author-card", headers=HX).text
    assert "<html" not in fragment and "Fake account risk" in fragment


def test_panel_page_in_italian(client: TestClient, desk: Desk) -> None:
    client.post("/lang", data={"lang": "it", "next": "/", "csrf_token": token(client, "/")})
    cid = comment_id(desk, "c-it")
    html = client.get(f"/comments/{cid}/case").text
    assert '<html lang="it">' in html and "<title>Caso e risposta · crisisdesk</title>" in html
    assert "← Torna al commento</a>" in html and "Potrai pubblicare tra" in html
    html = client.get(f"/comments/{cid}/author-card").text
    assert "<title>Chi l&#39;ha scritto · crisisdesk</title>" in html
    assert "Rischio account falso" in html


def test_plain_moderation_post_redirects_to_the_case_page_showing_the_result(
    client: TestClient, desk: Desk
) -> None:
    cid = comment_id(desk, "evil")
    csrf = token(client, f"/comments/{cid}/case")
    r = client.post(
        f"/comments/{cid}/case/action",
        data={"action": "hide", "reason": "abuse", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/comments/{cid}/case"
    assert desk.find_comment("evil").status == "hidden"  # type: ignore[union-attr]
    html = client.get(r.headers["location"]).text
    assert "<html" in html and 'id="case-result"' in html
    assert "Do this on the platform" in html and "hide the comment" in html
    # Shown once: a reload of the page does not repeat it.
    assert 'id="case-result"' not in client.get(f"/comments/{cid}/case").text
    # Nor does it show up on another comment's panel.
    client.post(
        f"/comments/{cid}/case/action",
        data={"action": "unhide", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert 'id="case-result"' not in client.get(f"/comments/{comment_id(desk, 'c-en')}/case").text
    assert 'id="case-result"' not in client.get(f"/comments/{cid}/case").text


def test_plain_publish_refused_then_published_with_its_text_to_copy(
    client: TestClient, desk: Desk, clock: Clock
) -> None:
    cid = comment_id(desk, "c-en")
    csrf = token(client, f"/comments/{cid}/case")  # opening the panel starts the cool-down
    refused = client.post(
        f"/comments/{cid}/case/publish",
        data={"text": GOOD_EN, "csrf_token": csrf},
        follow_redirects=False,
    )
    # A refusal is the full page at once, with the reason, the real status and the text kept.
    assert refused.status_code == 409 and "<html" in refused.text
    assert 'data-error="cooldown"' in refused.text
    assert "Hi Anna, I&#39;m so sorry" in refused.text
    clock.advance(minutes=16)
    done = client.post(
        f"/comments/{cid}/case/publish",
        data={"text": GOOD_EN, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/comments/{cid}/case"
    html = client.get(done.headers["location"]).text
    assert "Do this on the platform" in html
    assert '<pre class="copy-text" id="copy-result">Hi Anna, I&#39;m so sorry' in html
    assert 'id="case-state">replied<' in html


def test_plain_check_shows_the_checks_and_keeps_the_text(client: TestClient, desk: Desk) -> None:
    cid = comment_id(desk, "c-en")
    html = client.get(f"/comments/{cid}/case").text
    assert 'type="submit" id="check-button" formaction="/comments/' in html
    r = client.post(
        f"/comments/{cid}/case/check",
        data={
            "text": "As we said, a refund.",
            "csrf_token": token(client, f"/comments/{cid}/case"),
        },
    )
    assert r.status_code == 200 and "<html" in r.text
    assert r.text.count('<li class="check') == 8 and "check-fail" in r.text
    assert re.search(r"<textarea[^>]*>As we said, a refund.</textarea>", r.text)


def test_plain_escalate_says_what_happened(client: TestClient, desk: Desk) -> None:
    cid = comment_id(desk, "c-en")
    r = client.post(
        f"/comments/{cid}/case/escalate",
        data={"note": "call her", "csrf_token": token(client, f"/comments/{cid}/case")},
    )  # the client follows the 303
    assert r.status_code == 200 and str(r.url).endswith(f"/comments/{cid}/case")
    assert 'id="escalation-result"' in r.text and "(topic: delivery);" in r.text
    # the trail, shown in the panel in words, the code kept as the title
    assert 'ann · <span title="case.escalate">escalated</span> · call her</li>' in r.text


def test_plain_post_still_needs_the_csrf_token(client: TestClient, desk: Desk) -> None:
    cid = comment_id(desk, "c-en")
    r = client.post(f"/comments/{cid}/case/action", data={"action": "hide"})
    assert r.status_code == 403
    assert desk.find_comment("c-en").status != "hidden"  # type: ignore[union-attr]


# -- in a real Chromium with JavaScript switched off ----------------------------------------------


@pytest.fixture
def live_server(desk: Desk, clock: Clock) -> Iterator[str]:
    desk.add_user("ann", "correct-horse-battery", language="en")
    with serving(create_app(desk)) as url:
        yield url


@pytest.mark.browser
def test_chromium_without_javascript_reaches_and_uses_the_panels(
    browser_path: str, live_server: str, desk: Desk
) -> None:
    from playwright.sync_api import sync_playwright

    cid = comment_id(desk, "c-en")
    with sync_playwright() as p:
        browser = launch_chromium(p, browser_path)
        page = browser.new_context(locale="en-GB", java_script_enabled=False).new_page()
        browser_log_in(page, live_server, "ann")

        # The inbox row opens the comment; its panels are links, not "Loading…" forever.
        page.click(f"td.text a[href='/comments/{cid}']")
        page.wait_for_url(f"{live_server}/comments/{cid}")
        assert "My order arrived late" in page.locator("#comment-text").inner_text()
        assert page.locator("#case-panel").count() == 0  # nothing ran to load it in place
        page.click("#panel-case a")
        page.wait_for_url(f"{live_server}/comments/{cid}/case")
        assert "My order arrived late" in page.locator("#comment-text").inner_text()
        assert page.locator("#case-panel #cooldown-clock").count() == 1

        # The check button posts the draft and the whole page comes back with the checks.
        page.fill("#reply-text", "As we said, a refund.")
        page.click("#check-button")
        # the click returns once the navigation starts: wait for the answer to be there
        page.wait_for_url(f"{live_server}/comments/{cid}/case/check")
        page.locator("#check-results li").first.wait_for()
        assert page.locator("#check-results li").count() == 8
        assert page.locator("#reply-text").input_value() == "As we said, a refund."

        # A moderation action posts, redirects back to the panel's page and says what to do.
        page.fill(".action-hide input[name=reason]", "abuse")
        page.click("#action-hide")
        page.wait_for_url(f"{live_server}/comments/{cid}/case")
        assert "Do this on the platform" in page.locator("#case-result").inner_text()

        # Back on the comment, the author card opens as its own page, with the risk section.
        page.click("p.back a")
        page.wait_for_url(f"{live_server}/comments/{cid}")
        page.click("#panel-author a")
        page.wait_for_url(f"{live_server}/comments/{cid}/author-card")
        assert "Fake account risk" in page.locator(".author-panel .risks").inner_text()
        browser.close()
