"""The web app through an ASGI client, on a real SQLite desk."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.web.app import create_app

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> "quoted" & done'
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def seed(desk: Desk) -> None:
    desk.ingest(
        [
            CommentRecord(
                platform="facebook", platform_id="root", created_at=T0, text="Order is late, vergogna",
                page="P1", page_name="Forno", post_id="post1", author_id="a1", author_name="Ann",
            ),
            CommentRecord(
                platform="facebook", platform_id="evil", created_at=T0 + timedelta(minutes=1),
                text=HOSTILE, page="P1", post_id="post1", parent_id="root", author_id="a2",
                author_name="<b>Mallory</b>",
            ),
            CommentRecord(
                platform="facebook", platform_id="nice", created_at=T0 + timedelta(minutes=2),
                text="grazie, buonissimo", page="P2", page_name="Rail", author_id="a1", author_name="Ann",
            ),
        ]
    )  # fmt: skip


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    seed(desk)
    desk.add_user("ann", "correct-horse-battery", language="en")
    with TestClient(create_app(desk)) as c:
        yield c


def csrf(client: TestClient, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)


def login(client: TestClient) -> None:
    token = csrf(client)
    r = client.post(
        "/login",
        data={"username": "ann", "password": "correct-horse-battery", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_healthz_needs_no_login(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_inbox_requires_login(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_login_without_csrf_is_refused(client: TestClient) -> None:
    r = client.post("/login", data={"username": "ann", "password": "correct-horse-battery"})
    assert r.status_code == 403
    # a page for a person, in their language, that says what to do; scripts get JSON
    assert 'id="error-page"' in r.text and "reload the page" in r.text
    italian = client.post("/login", data={"username": "ann"}, headers={"accept-language": "it"})
    assert italian.status_code == 403 and "ricarica la pagina" in italian.text
    htmx = client.post("/login", data={"username": "ann"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 403 and htmx.json() == {"error": "csrf token missing or wrong"}


def test_wrong_password(client: TestClient) -> None:
    token = csrf(client)
    r = client.post(
        "/login", data={"username": "ann", "password": "nope-nope-nope", "csrf_token": token}
    )
    assert r.status_code == 401 and "Wrong user name" in r.text


def test_session_cookie_flags(client: TestClient) -> None:
    token = csrf(client)
    r = client.post(
        "/login",
        data={"username": "ann", "password": "correct-horse-battery", "csrf_token": token},
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_open_redirect_is_blocked(client: TestClient) -> None:
    token = csrf(client)
    r = client.post(
        "/login",
        data={
            "username": "ann",
            "password": "correct-horse-battery",
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_hostile_text_is_escaped_everywhere_with_strict_csp(client: TestClient, desk: Desk) -> None:
    login(client)
    inbox = client.get("/")
    evil = desk.find_comment("evil")
    assert evil is not None
    page = client.get(f"/comments/{evil.id}")
    for r in (inbox, page):
        assert r.status_code == 200
        assert "<script>alert" not in r.text
        assert "<img src=x" not in r.text
        assert "<b>Mallory</b>" not in r.text
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        # No inline script at all: every <script> has a src.
        assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", r.text))
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text


def test_comment_page_shows_thread_and_author_history(client: TestClient, desk: Desk) -> None:
    login(client)
    root = desk.find_comment("root")
    assert root is not None
    r = client.get(f"/comments/{root.id}")
    assert "Order is late" in r.text
    assert "&lt;img src=x" in r.text  # the reply in the thread, escaped
    assert "grazie, buonissimo" in r.text  # Ann's other comment on another page
    assert "keyword test: complaint" in r.text  # the analysis reasons are shown
    assert client.get("/comments/999999").status_code == 404


def test_filters_and_search(client: TestClient, desk: Desk) -> None:
    login(client)
    assert "grazie" in client.get("/?kind=praise").text
    assert "Order is late" not in client.get("/?kind=praise").text
    assert "Order is late" in client.get("/?sentiment=negative").text
    assert "Order is late" in client.get("/?q=VERGOGNA").text
    assert "grazie" not in client.get("/?q=vergogna").text
    assert "grazie" in client.get("/?q=ann").text  # search by author name
    assert (
        "Order is late" in client.get("/?q=100%25").text
        or "No comments match" in client.get("/?q=100%25").text
    )
    pages = {p.name: p.id for p in desk.pages()}
    only_rail = client.get(f"/?page={pages['Rail']}").text
    assert "grazie" in only_rail and "Order is late" not in only_rail
    assert client.get("/?kind=<script>").status_code == 200  # unknown values are ignored


def test_paging_with_cursor(client: TestClient, desk: Desk) -> None:
    desk.settings._values["page_size"] = 2
    login(client)
    first = client.get("/")
    match = re.search(r'href="/\?(?:[^"]*&amp;)?cursor=([^"]+)"', first.text)
    assert match, "a next-page link is shown"
    second = client.get(
        "/?cursor=" + match.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"}
    )
    assert second.status_code == 200
    assert "Order is late" in second.text and "<html" not in second.text
    assert client.get("/?cursor=garbage").status_code == 400


def test_language_switch_and_default_from_browser(client: TestClient) -> None:
    r = client.get("/login", headers={"Accept-Language": "it-IT,it;q=0.9"})
    assert "Accedi" in r.text and 'lang="it"' in r.text
    login(client)
    token = csrf(client, "/")
    client.post("/lang", data={"lang": "it", "csrf_token": token, "next": "/"})
    assert "Posta in arrivo" in client.get("/").text
    # The analysis's reasons follow the interface language; the commenter's words do not change.
    root = desk_comment_id(client, "root")
    assert "keyword test: reclamo" in client.get(f"/comments/{root}").text
    client.post("/lang", data={"lang": "en", "csrf_token": token, "next": "/"})
    assert "Inbox" in client.get("/").text
    assert "keyword test: complaint" in client.get(f"/comments/{root}").text


def desk_comment_id(client: TestClient, platform_id: str) -> int:
    desk = client.app.state.desk  # type: ignore[attr-defined]
    found = desk.find_comment(platform_id)
    assert found is not None
    return int(found.id)


def test_logout(client: TestClient) -> None:
    login(client)
    token = csrf(client, "/")
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/", follow_redirects=False).status_code == 303


def test_demo_user_is_signed_in_automatically(desk: Desk) -> None:
    desk.add_user("demo", "demo-password-123")
    with TestClient(create_app(desk, demo_user="demo")) as c:
        r = c.get("/")
        assert r.status_code == 200 and "Demo" in r.text


def test_static_assets_revalidate_and_pages_are_not_stored(client: TestClient) -> None:
    asset = client.get("/static/app.css")
    assert asset.status_code == 200 and asset.headers["cache-control"] == "no-cache"
    etag = asset.headers["etag"]
    again = client.get("/static/app.css", headers={"If-None-Match": etag})
    assert again.status_code == 304
    login(client)
    assert client.get("/").headers["cache-control"] == "no-store"
