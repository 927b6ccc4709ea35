"""Posts named by their text wherever the desk names a post: the crisis view, the alerts and the
comment page. The text is the page's own post, or whatever an imported file says it is, so it is
shown as text, never as markup."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from crisisdesk.desk import Desk
from crisisdesk.signals.flame import monitor_for
from crisisdesk.web.app import create_app
from tests.signals.test_flame import feed, history
from tests.web.conftest import hostile_burst, log_in

# The burning post's text, with markup at its start so that it falls inside the part shown.
POST3 = (
    '<script>alert("post")</script> New opening hours from Monday & what changes for '
    "deliveries, the terrace and the Sunday brunch, explained at length for everyone " * 3
)


@pytest.fixture
def burning(desk: Desk) -> Desk:
    """A page in a flame over post3, whose text only the first comment of the burst carries (as a
    backfill would), the others coming without it (as webhooks do)."""
    monitor_for(desk)
    past = history()
    desk.ingest(past)
    records = hostile_burst(past[-1].created_at + timedelta(minutes=10))
    records[0].post_message = POST3
    feed(desk, records)
    desk.add_user("ann", "correct-horse-battery", language="en")
    return desk


@pytest.fixture
def client(burning: Desk) -> TestClient:
    client = TestClient(create_app(burning))
    log_in(client, "ann")
    return client


def assert_shown_as_text(html: str) -> None:
    assert '<script>alert("post")' not in html
    assert "&lt;script&gt;alert(&#34;post&#34;)&lt;/script&gt; New opening hours" in html


def test_the_crisis_view_names_the_burning_post_by_its_text(
    client: TestClient, burning: Desk
) -> None:
    page = burning.pages()[0]
    html = client.get(f"/crisis/{page.id}").text
    cells = re.findall(r'<td class="post-text">(.*?)</td>', html, re.S)
    burning_cell = next(c for c in cells if "New opening hours" in c)
    assert_shown_as_text(burning_cell)
    # cut for the table, not the whole post, and not its id
    assert "…" in burning_cell and "post3" not in burning_cell
    assert "explained at length for everyone <" not in burning_cell
    assert len(re.sub(r"<[^>]+>", "", burning_cell)) < 400


def test_alerts_about_the_post_name_it_by_its_text(client: TestClient, burning: Desk) -> None:
    html = client.get("/alerts").text
    refs = re.findall(r'<span class="post-ref">(.*?)</span>', html, re.S)
    assert refs and all("New opening hours" in r and "post3" not in r for r in refs)
    assert_shown_as_text(html)


def test_alerts_about_the_whole_page_say_so(client: TestClient, burning: Desk) -> None:
    # A page's alert and its post's alert, raised together, read as the same alert twice.
    html = client.get("/alerts").text
    headers = re.findall(r'<li class="alert-item.*?</header>', html, re.S)
    about_post = [h for h in headers if 'class="post-ref"' in h]
    about_page = [h for h in headers if 'class="post-ref"' not in h]
    assert about_post and about_page
    assert all('<span class="page-ref">the whole page</span>' in h for h in about_page)
    assert not any("page-ref" in h for h in about_post)
    page = burning.pages()[0]
    view = client.get(f"/crisis/{page.id}").text
    assert "the whole page:" in view


def test_the_comment_page_says_which_post_the_comment_is_on(
    client: TestClient, burning: Desk
) -> None:
    # a comment of the burst that came without the post's text
    found = burning.find_comment("b1")
    assert found is not None
    html = client.get(f"/comments/{found.id}").text
    line = re.search(r'<p class="post-context" id="comment-post">(.*?)</p>', html, re.S)
    assert line and "On the post" in line.group(1)
    assert_shown_as_text(line.group(1))
    assert "post3" not in line.group(1)
