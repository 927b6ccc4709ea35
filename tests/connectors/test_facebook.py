"""The Graph API client and the Facebook connector against a local server speaking the Graph
API's documented shapes: listings with ``data`` and ``paging`` (cursors and ``next``), error
objects ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``, and the usage
headers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from crisisdesk.connectors import PermissionMissing, RateLimited, TokenExpired
from crisisdesk.connectors.facebook import FacebookConnector
from crisisdesk.connectors.graph import GraphClient, appsecret_proof
from crisisdesk.connectors.store import install_connectors, save_connection
from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord, Rejected
from crisisdesk.models import Comment, Post
from tests.connectors.conftest import APP_SECRET, FakePlatform, Seen, connector_settings

V = "/v21.0"
TOKEN = "EAAB-page-token-secret"


def graph(platform: FakePlatform, http: httpx.Client, delays: list[float]) -> GraphClient:
    return GraphClient(
        http,
        TOKEN,
        base_url=platform.url,
        version="v21.0",
        app_secret=APP_SECRET,
        base_delay=0.5,
        sleep=delays.append,
    )


def _err(code: int, message: str, kind: str = "OAuthException", subcode: int | None = None) -> dict:
    error: dict = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbC"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def _comment(cid: str, text: str, at: str, parent: str | None = None) -> dict:
    item = {
        "id": cid,
        "message": text,
        "created_time": at,
        "from": {"id": f"u-{cid}", "name": f"User {cid}"},
        "is_hidden": False,
    }
    if parent:
        item["parent"] = {"id": parent}
    return item


def _time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


def in_order(seen: Seen, comments: list[dict]) -> list[dict]:
    """Comments in the order the request asks for (``order``: chronological by default)."""
    ordered = sorted(comments, key=lambda c: _time(c["created_time"]))
    return ordered[::-1] if seen.q("order") == "reverse_chronological" else ordered


def posts_in_range(seen: Seen, posts: list[dict]) -> list[dict]:
    """A page's posts, newest first, published between ``since`` and ``until`` (epoch seconds)."""
    since, until = seen.q("since"), seen.q("until")
    return sorted(
        (
            p
            for p in posts
            if (since is None or _time(p["created_time"]).timestamp() >= int(since))
            and (until is None or _time(p["created_time"]).timestamp() <= int(until))
        ),
        key=lambda p: _time(p["created_time"]),
        reverse=True,
    )


def serve_page(platform: FakePlatform) -> None:
    """Page 100 with two posts on two listing pages; post 100_1's comments on two pages."""
    base = platform.url
    platform.add(
        "GET",
        f"{V}/100/posts",
        lambda seen: (
            (
                200,
                {
                    "data": [{"id": "100_2", "created_time": "2024-05-02T09:00:00+0000"}],
                    "paging": {"cursors": {"before": "B", "after": "A2"}},
                },
                {},
            )
            if seen.q("after") == "A1"
            else (
                200,
                {
                    "data": [{"id": "100_1", "created_time": "2024-05-01T09:00:00+0000"}],
                    "paging": {
                        "cursors": {"before": "B", "after": "A1"},
                        # The Graph API puts the token in next links; it must not be re-sent there.
                        "next": f"{base}{V}/100/posts?access_token=LEAKED&after=A1&limit=100",
                    },
                },
                {},
            )
        ),
    )
    thread = [
        _comment("c1", "My order is late", "2024-05-01T10:00:00+0000"),
        _comment("c2", "Same here", "2024-05-01T10:05:00+0000", parent="c1"),
        _comment("c3", "Thanks, great!", "2024-05-01T11:00:00+0000"),
    ]
    platform.add(
        "GET",
        f"{V}/100_1/comments",
        lambda seen: (200, platform.listing(seen, in_order(seen, thread), page_size=2), {}),
    )
    platform.add(
        "GET",
        f"{V}/100_2/comments",
        (200, {"data": [_comment("c4", "Old news", "2024-04-01T10:00:00+0000")], "paging": {}}, {}),
    )


def test_backfill_follows_paging_and_never_resends_the_token_in_urls(
    cdesk: Desk, platform: FakePlatform, http: httpx.Client
) -> None:
    serve_page(platform)
    delays: list[float] = []
    fb = FacebookConnector(graph(platform, http, delays), "100", page_name="Shop")
    report = cdesk.ingest(fb.backfill(since=datetime(2024, 4, 15, tzinfo=UTC)))
    assert report.inserted == 3 and not report.rejected  # c4 is before --since
    for seen in platform.requests:
        assert seen.headers["authorization"] == f"Bearer {TOKEN}"
        assert "access_token" not in seen.query
        assert seen.q("appsecret_proof") == appsecret_proof(TOKEN, APP_SECRET)
    first = platform.seen("GET", f"{V}/100/posts")[0]
    # Posts are searched from 90 days before --since: old posts can carry new comments.
    assert first.q("since") == str(int(datetime(2024, 1, 16, tzinfo=UTC).timestamp()))
    comment_calls = platform.seen("GET", f"{V}/100_1/comments")
    assert [r.q("after") for r in comment_calls] == [None, "cursor-2"]
    assert {r.q("order") for r in comment_calls} == {"reverse_chronological"}
    with cdesk.session() as s:
        rows = {c.platform_id: c for c in s.scalars(select(Comment))}
    assert rows["c2"].parent_id == rows["c1"].id
    assert rows["c1"].kind == "complaint"
    # Backfill again: the same comments, nothing new.
    again = cdesk.ingest(fb.backfill(since=datetime(2024, 4, 15, tzinfo=UTC)))
    assert again.inserted == 0 and again.unchanged == 3


def test_rate_limit_errors_back_off_then_succeed(
    platform: FakePlatform, http: httpx.Client
) -> None:
    usage = json.dumps({"call_count": 100, "total_time": 40, "total_cputime": 20})
    platform.add(
        "GET",
        f"{V}/me",
        (
            400,
            _err(4, "Application request limit reached", "OAuthException"),
            {"X-App-Usage": usage},
        ),
        (400, _err(17, "User request limit reached"), {}),
        (200, {"id": "100", "name": "Shop"}, {}),
    )
    delays: list[float] = []
    g = graph(platform, http, delays)
    assert g.get("me", {"fields": "id,name"}) == {"id": "100", "name": "Shop"}
    assert len(delays) == 2
    assert delays[0] >= 1.0 + 10 * 2.9 - 0.01  # the usage header at 100% sets the first wait
    assert delays[1] >= 1.0  # then exponential back-off


def test_business_use_case_header_sets_the_wait(platform: FakePlatform, http: httpx.Client) -> None:
    buc = json.dumps(
        {"123": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 3}]}
    )
    platform.add(
        "POST",
        f"{V}/c1",
        (400, _err(32, "Page request limit reached"), {"X-Business-Use-Case-Usage": buc}),
        (200, {"success": True}, {}),
    )
    delays: list[float] = []
    assert graph(platform, http, delays).post("c1", {"is_hidden": True}) == {"success": True}
    assert delays == [180.0]


def test_persistent_rate_limit_gives_up_with_a_clear_error(
    platform: FakePlatform, http: httpx.Client
) -> None:
    platform.add(
        "GET", f"{V}/me", (400, _err(613, "Calls to this api have exceeded the rate limit"), {})
    )
    delays: list[float] = []
    g = graph(platform, http, delays)
    g.max_retries = 3
    with pytest.raises(RateLimited, match="rate limiting"):
        g.get("me")
    assert len(delays) == 3 and delays == sorted(delays)


def test_high_usage_slows_down_before_being_refused(
    platform: FakePlatform, http: httpx.Client
) -> None:
    platform.add(
        "GET", f"{V}/me", (200, {"id": "1"}, {"X-App-Usage": json.dumps({"call_count": 95})})
    )
    delays: list[float] = []
    g = graph(platform, http, delays)
    g.get("me")
    assert delays == []
    g.get("me")
    assert len(delays) == 1 and 10 < delays[0] < 20


def test_expired_token_and_missing_permission_are_explained(
    platform: FakePlatform, http: httpx.Client
) -> None:
    platform.add(
        "POST",
        f"{V}/c1/comments",
        (400, _err(190, "Error validating access token: Session has expired", subcode=463), {}),
    )
    platform.add(
        "POST",
        f"{V}/c1",
        (403, _err(200, "(#200) The user hasn't authorized the application", "OAuthException"), {}),
    )
    platform.add("DELETE", f"{V}/c1", (400, _err(10, "(#10) Permission denied"), {}))
    fb = FacebookConnector(graph(platform, http, []), "100")
    with pytest.raises(TokenExpired, match="connect the account again") as expired:
        fb.reply("c1", "Hello")
    assert TOKEN not in str(expired.value)
    with pytest.raises(PermissionMissing, match="pages_manage_engagement"):
        fb.hide("c1")
    with pytest.raises(PermissionMissing):
        fb.delete("c1")


def test_actions_speak_the_documented_contract(platform: FakePlatform, http: httpx.Client) -> None:
    platform.add("POST", f"{V}/c1/comments", (200, {"id": "c1_r1"}, {}))
    platform.add("POST", f"{V}/c1", (200, {"success": True}, {}))
    platform.add("DELETE", f"{V}/c1", (200, {"success": True}, {}))
    platform.add("POST", f"{V}/100/messages", (200, {"recipient_id": "u1", "message_id": "m1"}, {}))
    fb = FacebookConnector(graph(platform, http, []), "100")
    assert fb.reply("c1", "We're sorry, we're on it")["id"] == "c1_r1"
    fb.hide("c1")
    fb.unhide("c1")
    fb.delete("c1")
    assert fb.private_reply("c1", "Here is a voucher")["message_id"] == "m1"
    reply = platform.seen("POST", f"{V}/c1/comments")[0]
    assert reply.form == {"message": "We're sorry, we're on it"}
    assert [s.form for s in platform.seen("POST", f"{V}/c1")] == [
        {"is_hidden": "true"},
        {"is_hidden": "false"},
    ]
    assert len(platform.seen("DELETE", f"{V}/c1")) == 1
    private = platform.seen("POST", f"{V}/100/messages")[0]
    assert private.json == {
        "recipient": {"comment_id": "c1"},
        "message": {"text": "Here is a voucher"},
    }


def test_non_json_answer_is_a_clear_error(platform: FakePlatform, http: httpx.Client) -> None:
    platform.add("GET", f"{V}/me", (502, b"<html>Bad gateway</html>", {}))
    with pytest.raises(Exception, match="HTTP 502"):
        graph(platform, http, []).get("me")


def test_moderation_acts_through_the_installed_connector(
    cdesk: Desk, platform: FakePlatform, http: httpx.Client
) -> None:
    serve_page(platform)
    platform.add("POST", f"{V}/c1", (200, {"success": True}, {}))
    save_connection(cdesk, "facebook", "100", token=TOKEN, name="Shop")
    assert install_connectors(cdesk, http=http) == 1
    connector = cdesk.connectors[("facebook", "100")]
    cdesk.ingest(connector.backfill())
    comment = cdesk.find_comment("c1", "facebook")
    assert comment is not None
    outcome = cdesk.moderation.perform(comment.id, "hide", actor="test")
    assert outcome["status"] == "done"
    assert platform.seen("POST", f"{V}/c1")[0].form == {"is_hidden": "true"}
    with cdesk.session() as s:
        assert s.get(Comment, comment.id).status == "hidden"  # type: ignore[union-attr]


def test_sent_requests_carry_no_token_outside_the_header(
    platform: FakePlatform, http: httpx.Client
) -> None:
    platform.add("POST", f"{V}/c9/comments", lambda seen: (200, {"id": "x"}, {}))
    FacebookConnector(graph(platform, http, []), "100").reply("c9", "hi")
    seen: Seen = platform.requests[-1]
    assert TOKEN not in seen.body.decode() and TOKEN not in json.dumps(seen.query)


def test_transient_errors_are_retried_for_reads_only(
    platform: FakePlatform, http: httpx.Client
) -> None:
    transient = {
        "error": {"message": "An unexpected error has occurred", "code": 2, "is_transient": True}
    }
    platform.add("GET", f"{V}/me", (500, transient, {}), (200, {"id": "1"}, {}))
    platform.add("POST", f"{V}/c1/comments", (500, transient, {}), (200, {"id": "r"}, {}))
    delays: list[float] = []
    g = graph(platform, http, delays)
    assert g.get("me") == {"id": "1"} and len(delays) == 1
    with pytest.raises(Exception, match="code 2"):
        FacebookConnector(g, "100").reply("c1", "hello")
    assert len(platform.seen("POST", f"{V}/c1/comments")) == 1


def test_the_token_never_reaches_the_logs(
    cdesk: Desk, platform: FakePlatform, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    serve_page(platform)
    platform.add("POST", f"{V}/c1", (400, _err(190, "Error validating access token"), {}))
    fb = FacebookConnector(graph(platform, http, []), "100")
    cdesk.ingest(fb.backfill())
    with pytest.raises(TokenExpired) as raised:
        fb.hide("c1")
    assert caplog.records  # httpx and the client did log
    assert TOKEN not in caplog.text and TOKEN not in repr(raised.value) and TOKEN not in repr(fb)


def test_paging_links_that_go_round_in_a_circle_stop(
    platform: FakePlatform, http: httpx.Client
) -> None:
    platform.add(
        "GET",
        f"{V}/100/posts",
        (
            200,
            {"data": [{"id": "p"}], "paging": {"next": f"{platform.url}{V}/100/posts?after=X"}},
            {},
        ),
    )
    with pytest.raises(Exception, match="circle"):
        list(graph(platform, http, []).paged("100/posts"))


def test_next_links_to_another_host_are_not_followed_with_the_token(
    platform: FakePlatform, http: httpx.Client
) -> None:
    platform.add(
        "GET",
        f"{V}/100/posts",
        lambda seen: (
            (200, {"data": [{"id": "p2"}]}, {})
            if seen.q("after") == "C2"
            else (
                200,
                {
                    "data": [{"id": "p1"}],
                    "paging": {
                        "cursors": {"after": "C2"},
                        "next": "https://evil.example/steal?after=C2",
                    },
                },
                {},
            )
        ),
    )
    items = list(graph(platform, http, []).paged("100/posts", {"limit": 1}))
    assert [i["id"] for i in items] == ["p1", "p2"]
    assert all(s.headers["host"].startswith("127.0.0.1") for s in platform.requests)


SINCE = datetime(2024, 5, 10, tzinfo=UTC)


def records(items: list[CommentRecord | Rejected]) -> dict[str, CommentRecord]:
    """The records of a backfill by platform id; a rejected row fails the test."""
    assert all(isinstance(r, CommentRecord) for r in items), items
    return {r.platform_id: r for r in items if isinstance(r, CommentRecord)}


def serve_old_posts(platform: FakePlatform) -> None:
    """Page 200: a recent post, a post from before --since whose thread goes on inside the window
    (read two comments a page, newest first when asked), and a post from last year."""
    posts = [
        {"id": "200_new", "created_time": "2024-05-11T08:00:00+0000"},
        {"id": "200_old", "created_time": "2024-04-20T09:00:00+0000"},
        {"id": "200_ancient", "created_time": "2023-11-01T09:00:00+0000"},
    ]
    threads = {
        "200_new": [],
        "200_old": [
            _comment("o1", "First!", "2024-04-20T10:00:00+0000"),
            _comment("o2", "Still waiting", "2024-05-05T10:00:00+0000"),
            _comment("o3", "Three weeks and no parcel", "2024-05-11T10:00:00+0000"),
            _comment("o4", "Me neither", "2024-05-12T10:00:00+0000", parent="o3"),
            _comment("o5", "Any news?", "2024-05-20T10:00:00+0000"),
        ],
        "200_ancient": [_comment("a1", "Bringing this back up", "2024-05-11T12:00:00+0000")],
    }
    platform.add(
        "GET",
        f"{V}/200/posts",
        lambda seen: (200, platform.listing(seen, posts_in_range(seen, posts)), {}),
    )
    for post_id, thread in threads.items():
        platform.add(
            "GET",
            f"{V}/{post_id}/comments",
            lambda seen, thread=thread: (
                200,
                platform.listing(seen, in_order(seen, thread), page_size=2),
                {},
            ),
        )


def test_backfill_finds_new_comments_on_posts_older_than_since(
    platform: FakePlatform, http: httpx.Client
) -> None:
    serve_old_posts(platform)
    fb = FacebookConnector(graph(platform, http, []), "200")
    until = datetime(2024, 5, 11, 23, 0, tzinfo=UTC)
    got = list(fb.backfill(since=SINCE, until=until))
    # o2 is before --since, o4 and o5 after --until: only o3 was written in the window.
    assert list(records(got)) == ["o3"] and len(got) == 1
    posts_call = platform.seen("GET", f"{V}/200/posts")[0]
    assert posts_call.q("since") == str(int((SINCE - timedelta(days=90)).timestamp()))
    assert posts_call.q("until") == str(int(until.timestamp()))


def test_backfill_stops_paging_comments_older_than_since(
    platform: FakePlatform, http: httpx.Client
) -> None:
    serve_old_posts(platform)
    fb = FacebookConnector(graph(platform, http, []), "200")
    got = records(list(fb.backfill(since=SINCE)))
    assert sorted(got) == ["o3", "o4", "o5"]
    assert got["o4"].parent_id == "o3"
    # Newest first, two a page: [o5, o4], [o3, o2] reaches o2, older than --since, so the page
    # holding o1 is never asked for.
    calls = platform.seen("GET", f"{V}/200_old/comments")
    assert [c.q("after") for c in calls] == [None, "cursor-2"]
    assert all(c.q("order") == "reverse_chronological" for c in calls)
    assert all(c.q("filter") == "stream" for c in calls)
    # The post from last year is beyond the 90-day look-back: not even listed.
    assert platform.seen("GET", f"{V}/200_ancient/comments") == []


def test_posts_lookback_is_configurable(platform: FakePlatform, http: httpx.Client) -> None:
    serve_old_posts(platform)
    short = FacebookConnector(graph(platform, http, []), "200", posts_lookback=timedelta(days=7))
    assert list(short.backfill(since=SINCE)) == []  # the post of 20 April is 20 days old
    assert platform.seen("GET", f"{V}/200_old/comments") == []
    platform.requests.clear()
    unbounded = FacebookConnector(graph(platform, http, []), "200", posts_lookback=None)
    got = records(list(unbounded.backfill(since=SINCE)))
    assert sorted(got) == ["a1", "o3", "o4", "o5"]
    assert platform.seen("GET", f"{V}/200/posts")[0].q("since") is None


def test_backfill_keeps_clear_errors_and_back_off_on_comment_listings(
    platform: FakePlatform, http: httpx.Client
) -> None:
    platform.add(
        "GET",
        f"{V}/300/posts",
        (200, {"data": [{"id": "300_1", "created_time": "2024-04-01T09:00:00+0000"}]}, {}),
    )
    platform.add(
        "GET",
        f"{V}/300_1/comments",
        (400, _err(613, "Calls to this api have exceeded the rate limit"), {}),
        (200, {"data": [_comment("r1", "Hello", "2024-05-11T10:00:00+0000")]}, {}),
    )
    delays: list[float] = []
    got = records(list(FacebookConnector(graph(platform, http, delays), "300").backfill(SINCE)))
    assert list(got) == ["r1"] and len(delays) == 1
    platform.add(
        "GET",
        f"{V}/300_1/comments",
        (403, _err(10, "(#10) Requires pages_read_user_content permission"), {}),
    )
    with pytest.raises(PermissionMissing, match="pages_read_user_content"):
        list(FacebookConnector(graph(platform, http, []), "300").backfill(since=SINCE))
    platform.add("GET", f"{V}/300_1/comments", (400, _err(190, "Session has expired"), {}))
    with pytest.raises(TokenExpired, match="connect the account again"):
        list(FacebookConnector(graph(platform, http, []), "300").backfill(since=SINCE))


def only_fields(seen: Seen, items: list[dict]) -> list[dict]:
    """``items`` with only the fields the request named, as the Graph API answers: a field that
    is not asked for is not sent (``from{id,name}`` names ``from``)."""
    wanted, depth, name = set(), 0, ""
    for ch in (seen.q("fields") or "") + ",":
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            wanted.add(name.strip())
            name = ""
        elif depth == 0:
            name += ch
    return [{k: v for k, v in item.items() if k in wanted} for item in items]


def test_backfill_stores_the_permalinks_of_comments_and_posts(
    cdesk: Desk, platform: FakePlatform, http: httpx.Client
) -> None:
    post = "https://www.facebook.com/100/posts/pfbid0abc"
    posts = [
        {"id": "100_1", "created_time": "2024-05-01T09:00:00+0000", "permalink_url": post},
        {
            "id": "100_2",
            "created_time": "2024-05-01T09:30:00+0000",
            "permalink_url": "javascript:alert(document.domain)",
        },
    ]
    platform.add(
        "GET",
        f"{V}/100/posts",
        lambda seen: (200, platform.listing(seen, only_fields(seen, posts)), {}),
    )
    linked = _comment("c1", "My order is late", "2024-05-01T10:00:00+0000")
    linked["permalink_url"] = f"{post}?comment_id=c1"
    hostile = _comment("c2", "Look here", "2024-05-01T10:01:00+0000")
    hostile["permalink_url"] = "data:text/html;base64,PHNjcmlwdD4="
    platform.add(
        "GET",
        f"{V}/100_1/comments",
        lambda seen: (200, platform.listing(seen, only_fields(seen, [linked, hostile])), {}),
    )
    platform.add(
        "GET",
        f"{V}/100_2/comments",
        lambda seen: (
            200,
            platform.listing(
                seen, only_fields(seen, [_comment("c3", "Hi", "2024-05-01T10:02:00+0000")])
            ),
            {},
        ),
    )
    fb = FacebookConnector(graph(platform, http, []), "100", page_name="Shop")
    report = cdesk.ingest(fb.backfill(since=datetime(2024, 4, 30, tzinfo=UTC)))
    assert report.inserted == 3 and not report.rejected
    assert "permalink_url" in (platform.seen("GET", f"{V}/100_1/comments")[0].q("fields") or "")
    with cdesk.session() as s:
        rows = {c.platform_id: c for c in s.scalars(select(Comment))}
        post_links = {p.platform_id: p.permalink for p in s.scalars(select(Post))}
    assert rows["c1"].permalink == f"{post}?comment_id=c1"
    # a link that is not a web address is dropped; the comment and its post stay
    assert rows["c2"].permalink is None and rows["c2"].text == "Look here"
    assert post_links == {"100_1": post, "100_2": None}


# -- a backfill delivers history newest first ---------------------------------------------------


def _graph_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def serve_flame(platform: FakePlatform, history: list[CommentRecord]) -> None:
    """Page 100 with ``history`` as Graph API comments on its posts, each post's comments read
    newest first when asked (``order=reverse_chronological``), as the connector asks."""
    threads: dict[str, list[dict]] = {}
    for r in history:
        threads.setdefault(f"100_{r.post_id}", []).append(
            {
                "id": r.platform_id,
                "message": r.text,
                "created_time": _graph_time(r.created_at),
                "from": {"id": r.author_id, "name": r.author_name},
            }
        )
    posts = [
        {"id": post_id, "created_time": _graph_time(min(_time(c["created_time"]) for c in thread))}
        for post_id, thread in threads.items()
    ]
    platform.add(
        "GET",
        f"{V}/100/posts",
        lambda seen: (200, platform.listing(seen, posts_in_range(seen, posts)), {}),
    )
    for post_id, thread in threads.items():
        platform.add(
            "GET",
            f"{V}/{post_id}/comments",
            lambda seen, thread=thread: (200, platform.listing(seen, in_order(seen, thread)), {}),
        )


def _alerts_as_read(desk: Desk) -> list[tuple[str, str, str, str]]:
    from crisisdesk.signals.alerts import alert_dicts

    return sorted(
        (a["page_name"], a["post"] or "", a["level"], a["at"]) for a in alert_dicts(desk, limit=500)
    )


def test_a_fetch_newest_first_raises_the_alerts_of_the_history_in_order(
    platform: FakePlatform, http: httpx.Client, tmp_path: Path
) -> None:
    """A quiet page then a burst, fetched the way the Graph API serves it (post by post, each
    post's comments newest first): once the fetch ends, the alerts are those of the same comments
    ingested in event order, and no page is left waiting for a replay."""
    from crisisdesk.connectors.accounts import sync_connection
    from crisisdesk.connectors.store import connection_by_id
    from tests.conftest import KeywordAnalyzer
    from tests.signals.test_flame import burst, history

    past = history(days=1.5)
    serve_flame(platform, past + burst(past[-1].created_at + timedelta(minutes=10)))

    def fresh(name: str) -> Desk:
        # small batches, so that what comes newest first reaches the flame level out of order
        settings = connector_settings(
            tmp_path / name, graph_api_url=platform.url, import_batch_size=40
        )
        desk = Desk(settings, analyzer=KeywordAnalyzer())
        desk.upgrade()
        return desk

    fetched, in_order = fresh("fetched"), fresh("in-order")
    try:
        saved = save_connection(fetched, "facebook", "100", token=TOKEN, name="Forno")
        connection = connection_by_id(fetched, saved.id)
        assert connection is not None
        outcome = sync_connection(fetched, connection, http)
        assert outcome.ok and outcome.report.inserted == len(past) + 45

        # the same records, as the connector reads them, in event order
        reader = FacebookConnector(graph(platform, http, []), "100", page_name="Forno")
        records = [r for r in reader.backfill() if isinstance(r, CommentRecord)]
        assert [r.created_at for r in records] != sorted(r.created_at for r in records)
        # in one batch: an early look at a half-filled bucket at each batch's end would make
        # the reference depend on where the batches end
        in_order.ingest(sorted(records, key=lambda r: r.created_at), batch_size=len(records))

        expected = _alerts_as_read(in_order)
        assert any(level in ("flame", "crisis") for _page, _post, level, _at in expected)
        assert _alerts_as_read(fetched) == expected
        assert fetched.flame.pending == set() and not fetched.flame.importing
    finally:
        fetched.close()
        in_order.close()


def test_a_fetch_the_platform_refuses_midway_still_ends_its_import(
    cdesk: Desk, platform: FakePlatform, http: httpx.Client
) -> None:
    from crisisdesk.connectors.accounts import sync_connection
    from crisisdesk.connectors.store import connection_by_id

    serve_page(platform)
    platform.add("GET", f"{V}/100_2/comments", (400, _err(190, "Session has expired"), {}))
    saved = save_connection(cdesk, "facebook", "100", token=TOKEN, name="Shop")
    connection = connection_by_id(cdesk, saved.id)
    assert connection is not None
    outcome = sync_connection(cdesk, connection, http)
    assert outcome.reason == "expired"
    assert not cdesk.flame.importing


def test_backfill_stores_the_text_of_each_post(
    cdesk: Desk, platform: FakePlatform, http: httpx.Client
) -> None:
    posts = [
        {
            "id": "100_1",
            "created_time": "2024-05-01T09:00:00+0000",
            "message": "From Monday we open at 7.\n\nThe new opening hours are on the door.",
        },
        # a photo posted without a caption: the Graph API leaves ``message`` out
        {"id": "100_2", "created_time": "2024-05-01T09:30:00+0000"},
        {"id": "100_3", "created_time": "2024-05-01T09:40:00+0000", "message": "   "},
    ]
    platform.add(
        "GET",
        f"{V}/100/posts",
        lambda seen: (200, platform.listing(seen, only_fields(seen, posts)), {}),
    )
    for n, post_id in enumerate(("100_1", "100_2", "100_3")):
        comments = [_comment(f"c{n}", "When do you open?", f"2024-05-01T10:0{n}:00+0000")]
        platform.add(
            "GET",
            f"{V}/{post_id}/comments",
            lambda seen, comments=comments: (
                200,
                platform.listing(seen, only_fields(seen, comments)),
                {},
            ),
        )
    fb = FacebookConnector(graph(platform, http, []), "100", page_name="Shop")
    report = cdesk.ingest(fb.backfill(since=datetime(2024, 4, 30, tzinfo=UTC)))
    assert report.inserted == 3 and not report.rejected
    with cdesk.session() as s:
        texts = {p.platform_id: p.message for p in s.scalars(select(Post))}
    assert texts == {
        "100_1": "From Monday we open at 7.\n\nThe new opening hours are on the door.",
        "100_2": None,
        "100_3": None,
    }
