"""The Instagram connector against a local server speaking the Instagram Platform's documented
shapes (media listings, comments with nested ``replies``, ``hide``, ``/replies``, messages)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from crisisdesk.connectors import PermissionMissing
from crisisdesk.connectors.graph import GraphClient
from crisisdesk.connectors.instagram import InstagramConnector
from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.models import Comment, Post
from tests.connectors.conftest import Answer, FakePlatform, Seen

V = "/v21.0"
IG = "17841400000000001"


def connector(platform: FakePlatform, http: httpx.Client) -> InstagramConnector:
    graph = GraphClient(
        http, "IGQ-token", base_url=platform.url, version="v21.0", sleep=lambda s: None
    )
    return InstagramConnector(graph, IG)


def test_backfill_reads_media_comments_and_replies(
    cdesk: Desk, platform: FakePlatform, http: httpx.Client
) -> None:
    platform.add(
        "GET",
        f"{V}/{IG}/media",
        lambda seen: (
            (200, {"data": [{"id": "m2", "timestamp": "2024-05-02T09:00:00+0000"}]}, {})
            if seen.q("after") == "M2"
            else (
                200,
                {
                    "data": [{"id": "m1", "timestamp": "2024-05-01T09:00:00+0000"}],
                    "paging": {
                        "cursors": {"after": "M2"},
                        "next": f"{platform.url}{V}/{IG}/media?after=M2",
                    },
                },
                {},
            )
        ),
    )
    platform.add(
        "GET",
        f"{V}/m1/comments",
        (
            200,
            {
                "data": [
                    {
                        "id": "17900000000000001",
                        "text": "Where is my order?",
                        "timestamp": "2024-05-01T10:00:00+0000",
                        "username": "ana",
                        "from": {"id": "9001", "username": "ana"},
                        "hidden": False,
                        "replies": {
                            "data": [
                                {
                                    "id": "17900000000000002",
                                    "text": "@ana same, so late",
                                    "timestamp": "2024-05-01T10:02:00+0000",
                                    "username": "bo",
                                    "from": {"id": "9002", "username": "bo"},
                                }
                            ]
                        },
                    }
                ]
            },
            {},
        ),
    )
    platform.add("GET", f"{V}/m2/comments", (200, {"data": []}, {}))
    report = cdesk.ingest(connector(platform, http).backfill())
    assert report.inserted == 2 and not report.rejected
    with cdesk.session() as s:
        rows = {c.platform_id: c for c in s.scalars(select(Comment))}
    top, reply = rows["17900000000000001"], rows["17900000000000002"]
    assert top.platform == "instagram" and reply.parent_id == top.id
    assert "replies{" in (platform.seen("GET", f"{V}/m1/comments")[0].q("fields") or "")


def test_actions(platform: FakePlatform, http: httpx.Client) -> None:
    platform.add("POST", f"{V}/c1/replies", (200, {"id": "c1r"}, {}))
    platform.add("POST", f"{V}/c1", (200, {"success": True}, {}))
    platform.add("DELETE", f"{V}/c1", (200, {"success": True}, {}))
    platform.add(
        "POST", f"{V}/{IG}/messages", (200, {"recipient_id": "9001", "message_id": "m"}, {})
    )
    ig = connector(platform, http)
    assert ig.reply("c1", "Thanks for telling us")["id"] == "c1r"
    ig.hide("c1")
    ig.unhide("c1")
    ig.delete("c1")
    ig.private_reply("c1", "A voucher for you")
    assert platform.seen("POST", f"{V}/c1/replies")[0].form == {"message": "Thanks for telling us"}
    assert [s.form for s in platform.seen("POST", f"{V}/c1")] == [
        {"hide": "true"},
        {"hide": "false"},
    ]
    assert platform.seen("POST", f"{V}/{IG}/messages")[0].json == {
        "recipient": {"comment_id": "c1"},
        "message": {"text": "A voucher for you"},
    }


def _reply(n: int) -> dict:
    return {
        "id": f"1790000000000010{n}",
        "text": f"@ana reply {n}",
        "timestamp": f"2024-05-01T10:1{n}:00+0000",
        "username": f"user{n}",
        "from": {"id": f"90{n}", "username": f"user{n}"},
        "parent_id": "17900000000000100",
    }


def test_backfill_follows_the_paging_of_nested_replies(
    cdesk: Desk, platform: FakePlatform, http: httpx.Client
) -> None:
    replies = [_reply(n) for n in range(1, 6)]
    top = {
        "id": "17900000000000100",
        "text": "Where is my order?",
        "timestamp": "2024-05-01T10:00:00+0000",
        "username": "ana",
        "from": {"id": "9001", "username": "ana"},
    }

    def comments(seen: Seen) -> Answer:
        # Field expansion brings the first page of replies (three of five) with its paging.
        first_page = Seen("GET", f"{V}/{top['id']}/replies", {"limit": ["3"]}, {}, b"")
        return (200, {"data": [{**top, "replies": platform.listing(first_page, replies)}]}, {})

    platform.add(
        "GET", f"{V}/{IG}/media", (200, {"data": [{"id": "m1", "timestamp": top["timestamp"]}]}, {})
    )
    platform.add("GET", f"{V}/m1/comments", comments)
    platform.add(
        "GET",
        f"{V}/{top['id']}/replies",
        (400, {"error": {"message": "User request limit reached", "code": 17}}, {}),
        lambda seen: (200, platform.listing(seen, replies), {}),
    )
    delays: list[float] = []
    ig = connector(platform, http)
    ig.graph.sleep = delays.append
    got = list(ig.backfill())
    assert [r.platform_id for r in got if isinstance(r, CommentRecord)] == [
        top["id"],
        *(r["id"] for r in replies),
    ]
    assert len(got) == 6  # each reply once, nothing rejected
    asked = platform.seen("GET", f"{V}/{top['id']}/replies")
    assert [s.q("after") for s in asked] == ["cursor-3", "cursor-3"]  # once after the back-off
    assert len(delays) == 1
    assert "replies" not in (asked[-1].q("fields") or "") and "access_token" not in asked[-1].query
    report = cdesk.ingest(iter(got))
    assert report.inserted == 6
    with cdesk.session() as s:
        rows = {c.platform_id: c for c in s.scalars(select(Comment))}
    assert {rows[r["id"]].parent_id for r in replies} == {rows[top["id"]].id}


def test_replies_edge_keeps_the_clear_permission_error(
    platform: FakePlatform, http: httpx.Client
) -> None:
    platform.add("GET", f"{V}/{IG}/media", (200, {"data": [{"id": "m1"}]}, {}))
    platform.add(
        "GET",
        f"{V}/m1/comments",
        (
            200,
            {
                "data": [
                    {
                        "id": "c1",
                        "text": "hi",
                        "timestamp": "2024-05-01T10:00:00+0000",
                        "username": "ana",
                        "replies": {
                            "data": [
                                {"id": "r1", "text": "yo", "timestamp": "2024-05-01T10:01:00+0000"}
                            ],
                            "paging": {
                                "cursors": {"after": "R2"},
                                "next": f"{platform.url}{V}/c1/replies?after=R2",
                            },
                        },
                    }
                ]
            },
            {},
        ),
    )
    platform.add(
        "GET",
        f"{V}/c1/replies",
        (400, {"error": {"message": "(#10) Permission denied", "code": 10}}, {}),
    )
    with pytest.raises(PermissionMissing, match="instagram_manage_comments"):
        list(connector(platform, http).backfill())


def test_backfill_range_selects_comments_on_older_media(
    platform: FakePlatform, http: httpx.Client
) -> None:
    since = datetime(2024, 5, 10, tzinfo=UTC)
    # a post from April, listed because it is within the look-back; one comment before the range
    platform.add(
        "GET",
        f"{V}/{IG}/media",
        (200, {"data": [{"id": "m1", "timestamp": "2024-04-20T09:00:00+0000"}]}, {}),
    )
    platform.add(
        "GET",
        f"{V}/m1/comments",
        (
            200,
            {
                "data": [
                    {"id": "c_old", "text": "Nice", "timestamp": "2024-04-21T10:00:00+0000"},
                    {
                        "id": "c_new",
                        "text": "Still no reply?",
                        "timestamp": "2024-05-11T10:00:00+0000",
                    },
                ]
            },
            {},
        ),
    )
    got = list(connector(platform, http).backfill(since=since))
    assert [r.platform_id for r in got if isinstance(r, CommentRecord)] == ["c_new"]
    media_call = platform.seen("GET", f"{V}/{IG}/media")[0]
    assert media_call.q("since") == str(int((since - timedelta(days=90)).timestamp()))
    platform.requests.clear()
    unbounded = connector(platform, http)
    unbounded.posts_lookback = None
    assert len(list(unbounded.backfill(since=since))) == 1
    assert platform.seen("GET", f"{V}/{IG}/media")[0].q("since") is None


def test_backfill_links_comments_to_their_medias_permalink(
    cdesk: Desk, platform: FakePlatform, http: httpx.Client
) -> None:
    media = [
        {
            "id": "m1",
            "caption": "New menu",
            "timestamp": "2024-05-01T09:00:00+0000",
            "permalink": "https://www.instagram.com/p/C6aBcDeFgHi/",
            "comments_count": 2,
        },
        {
            "id": "m2",
            "timestamp": "2024-05-01T09:10:00+0000",
            "permalink": "javascript:alert(1)",
            "comments_count": 1,
        },
    ]
    platform.add("GET", f"{V}/{IG}/media", (200, {"data": media}, {}))
    top = {
        "id": "17900000000000301",
        "text": "Where is my order?",
        "timestamp": "2024-05-01T10:00:00+0000",
        "from": {"id": "9001", "username": "ana"},
        "replies": {"data": [_reply(1) | {"parent_id": "17900000000000301"}]},
    }
    platform.add("GET", f"{V}/m1/comments", (200, {"data": [top]}, {}))
    other = {
        "id": "17900000000000302",
        "text": "hello",
        "timestamp": "2024-05-01T10:05:00+0000",
        "from": {"id": "9003", "username": "cy"},
    }
    platform.add("GET", f"{V}/m2/comments", (200, {"data": [other]}, {}))
    report = cdesk.ingest(connector(platform, http).backfill())
    assert report.inserted == 3
    assert "permalink" in (platform.seen("GET", f"{V}/{IG}/media")[0].q("fields") or "")
    with cdesk.session() as s:
        links = {p.platform_id: p.permalink for p in s.scalars(select(Post))}
        rows = {c.platform_id: c for c in s.scalars(select(Comment))}
    assert links == {"m1": "https://www.instagram.com/p/C6aBcDeFgHi/", "m2": None}
    # Instagram gives comments no address: the media's is the post's, never the comment's
    assert {c.permalink for c in rows.values()} == {None}
    assert rows["17900000000000101"].post_id == rows["17900000000000301"].post_id


def test_backfill_stores_each_medias_caption_as_its_posts_text(
    cdesk: Desk, platform: FakePlatform, http: httpx.Client
) -> None:
    media = [
        {
            "id": "m1",
            "caption": "Our new menu is here 🍝 #forno",
            "timestamp": "2024-05-01T09:00:00+0000",
            "comments_count": 1,
        },
        {"id": "m2", "timestamp": "2024-05-01T09:10:00+0000", "comments_count": 1},
    ]

    def listed(seen: Seen) -> tuple[int, dict, dict]:
        # only what the request names, as the Graph API answers
        wanted = set((seen.q("fields") or "").split(","))
        return 200, {"data": [{k: v for k, v in m.items() if k in wanted} for m in media]}, {}

    platform.add("GET", f"{V}/{IG}/media", listed)
    for n, media_id in enumerate(("m1", "m2")):
        item = {
            "id": f"1790000000000040{n}",
            "text": "Is it vegan?",
            "timestamp": f"2024-05-01T10:0{n}:00+0000",
            "from": {"id": f"900{n}", "username": f"user{n}"},
        }
        platform.add("GET", f"{V}/{media_id}/comments", (200, {"data": [item]}, {}))
    report = cdesk.ingest(connector(platform, http).backfill())
    assert report.inserted == 2 and not report.rejected
    with cdesk.session() as s:
        texts = {p.platform_id: p.message for p in s.scalars(select(Post))}
    assert texts == {"m1": "Our new menu is here 🍝 #forno", "m2": None}
