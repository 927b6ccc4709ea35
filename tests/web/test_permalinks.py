"""Links out to the platform on the comment page and the crisis views: named after the platform in
the reader's language, opened apart from the desk, and never anything but a web address."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.models import Comment, Post
from crisisdesk.web.app import CSP, create_app
from tests.web.conftest import log_in

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
FB_POST = "https://www.facebook.com/100/posts/pfbid02abc"
FB_COMMENT = FB_POST + "?comment_id=c1"
IG_MEDIA = "https://www.instagram.com/p/C6aBcDeFgHi/"


def seed(desk: Desk) -> None:
    desk.ingest(
        [
            CommentRecord(
                platform="facebook", platform_id="fb1", created_at=T0, text="My order is late",
                page="100", page_name="Forno", post_id="100_1", author_id="a1", author_name="Ann",
                permalink=FB_COMMENT, post_permalink=FB_POST,
            ),
            CommentRecord(
                platform="instagram", platform_id="ig1", created_at=T0, text="Still waiting",
                page="17841", page_name="Forno IG", post_id="m1", author_id="9001",
                author_name="bo", post_permalink=IG_MEDIA,
            ),
            CommentRecord(
                platform="facebook", platform_id="bare", created_at=T0, text="No links here",
                page="100", author_id="a2", author_name="Cy",
            ),
        ]
    )  # fmt: skip


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    seed(desk)
    for lang in ("en", "it"):
        desk.add_user(f"reader_{lang}", "correct-horse-battery", language=lang)
    with TestClient(create_app(desk)) as c:
        yield c


def page_of(desk: Desk, client: TestClient, platform_id: str) -> str:
    found = desk.find_comment(platform_id)
    assert found is not None
    r = client.get(f"/comments/{found.id}")
    assert r.status_code == 200
    assert r.headers["content-security-policy"] == CSP
    return r.text


def links_out(html: str) -> list[tuple[str, str]]:
    """``(href, text)`` of every link to the platform, checking each opens apart from the desk."""
    found = []
    for attrs, text in re.findall(r'<a class="permalink" ([^>]*)>(.*?)</a>', html, re.S):
        assert 'rel="noopener noreferrer"' in attrs and 'target="_blank"' in attrs
        href = re.search(r'href="([^"]*)"', attrs)
        assert href
        found.append((href.group(1), re.sub(r"<[^>]+>.*", "", text).strip()))
    return found


def test_comment_page_links_the_comment_and_its_post(client: TestClient, desk: Desk) -> None:
    log_in(client, "reader_en")
    html = page_of(desk, client, "fb1")
    assert links_out(html) == [
        (FB_COMMENT, "Open on Facebook"),
        (FB_POST, "Open the post on Facebook"),
    ]
    assert "(opens in a new tab)" in html
    assert 'id="comment-post"' in html and "On the post" in html


def test_comment_page_in_italian(client: TestClient, desk: Desk) -> None:
    log_in(client, "reader_it")
    assert [text for _, text in links_out(page_of(desk, client, "fb1"))] == [
        "Apri su Facebook",
        "Apri il post su Facebook",
    ]


def test_instagram_comments_link_only_their_post(client: TestClient, desk: Desk) -> None:
    log_in(client, "reader_en")
    assert links_out(page_of(desk, client, "ig1")) == [(IG_MEDIA, "Open the post on Instagram")]


def test_no_link_is_shown_where_none_is_known(client: TestClient, desk: Desk) -> None:
    log_in(client, "reader_en")
    html = page_of(desk, client, "bare")
    assert links_out(html) == [] and 'class="permalink"' not in html


def test_a_hostile_link_written_behind_the_desks_back_is_not_rendered(
    client: TestClient, desk: Desk
) -> None:
    """Ingest drops such links; a row changed by other means is held to the same rule."""
    with desk.session() as s, s.begin():
        s.execute(
            update(Comment)
            .where(Comment.platform_id == "fb1")
            .values(permalink='javascript:alert("x")//https://www.facebook.com/')
        )
        s.execute(
            update(Post)
            .where(Post.platform_id == "100_1")
            .values(permalink='https://ok.example/"><script>alert(1)</script>')
        )
    log_in(client, "reader_en")
    html = page_of(desk, client, "fb1")
    assert "javascript:" not in html and "<script>alert(1)" not in html
    assert links_out(html) == []


def test_crisis_and_alert_views_link_the_posts_they_name(flamed: Desk) -> None:
    post3 = "https://www.facebook.com/forno/posts/pfbid0post3"
    with flamed.session() as s, s.begin():
        s.execute(update(Post).where(Post.platform_id == "post3").values(permalink=post3))
    flamed.add_user("ann", "correct-horse-battery", language="en")
    page = flamed.pages()[0]
    with TestClient(create_app(flamed)) as client:
        log_in(client, "ann")
        crisis = client.get(f"/crisis/{page.id}")
        assert crisis.headers["content-security-policy"] == CSP
        # the post driving the flame, in the posts table
        row = re.search(r'<td class="post-text">(.*?)</td>', crisis.text, re.S)
        assert row and links_out(row.group(1)) == [(post3, "Open the post on Facebook")]
        # the burst raises an alert about post3 itself, besides the page's
        per_post = [a for a in flamed_alerts(flamed) if a["post_id"]]
        assert per_post and all(a["post_permalink"] == post3 for a in per_post)
        assert links_out(client.get("/alerts").text) == [(post3, "Open the post on Facebook")]


def flamed_alerts(desk: Desk) -> list[dict[str, object]]:
    from crisisdesk.signals.alerts import alert_dicts

    return alert_dicts(desk, limit=200)
