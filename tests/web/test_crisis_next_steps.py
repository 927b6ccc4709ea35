"""What the crisis view and the alert cards offer next: the filtered inbox, the posts and the
comments that need a look, the loudest authors, readable figures and an honest chart."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from crisisdesk.desk import Desk
from crisisdesk.models import Author, Comment, Post
from crisisdesk.signals.alerts import alert_dicts, build_chart
from crisisdesk.signals.flame import monitor_for
from crisisdesk.web.app import create_app
from tests.web.conftest import HOSTILE
from tests.web.test_crisis import login

HOSTILE_POST = 'Our <i>new</i>\n\n menu & "prices"' + " very long" * 20


@pytest.fixture
def client(flamed: Desk) -> Iterator[TestClient]:
    flamed.add_user("ann", "correct-horse-battery", language="en")
    with TestClient(create_app(flamed)) as c:
        login(c)
        yield c


def switch_to_italian(client: TestClient) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/alerts").text)
    assert token
    client.post("/lang", data={"lang": "it", "next": "/alerts", "csrf_token": token.group(1)})


def test_crisis_view_links_to_the_inbox_of_the_page_most_urgent_first(
    client: TestClient, flamed: Desk
) -> None:
    pid = flamed.pages()[0].id
    text = client.get(f"/crisis/{pid}").text
    assert f'href="/?page={pid}&amp;sort=urgent"' in text
    assert "Open the inbox of this page, most urgent first" in text
    # the link leads to the inbox filtered that way
    inbox = client.get(f"/?page={pid}&sort=urgent")
    assert inbox.status_code == 200


def test_posts_driving_it_are_labelled_by_their_text(client: TestClient, flamed: Desk) -> None:
    pid = flamed.pages()[0].id
    with flamed.session() as s, s.begin():
        post = s.scalars(select(Post).where(Post.platform_id == "post3")).one()
        post.message = HOSTILE_POST
    text = client.get(f"/crisis/{pid}").text
    table = text[text.index('<table class="posts">') : text.index("</table>", text.index("posts"))]
    # whitespace folded, cut to a readable length, and escaped
    assert "Our &lt;i&gt;new&lt;/i&gt; menu &amp; &#34;prices&#34; very long" in table
    assert "<i>new</i>" not in text
    assert "very long" * 15 not in table.replace(" ", "")
    cells = re.findall(r'<td class="post-text">(.*?)</td>\s*<td>(\d+)</td>', table, re.S)
    assert cells and cells[0][0].endswith("…")
    with flamed.session() as s:
        hour_ago = s.scalar(select(Comment.created_at).order_by(Comment.created_at.desc()))
        assert hour_ago is not None
        on_post3 = s.scalars(
            select(Comment.id)
            .join(Post, Post.id == Comment.post_id)
            .where(Post.platform_id == "post3", Comment.created_at > hour_ago - timedelta(hours=1))
        ).all()
    assert int(cells[0][1]) == len(on_post3)  # its number of comments in the hour


def test_crisis_view_lists_the_comments_that_need_attention(
    client: TestClient, flamed: Desk
) -> None:
    pid = flamed.pages()[0].id
    with flamed.session() as s, s.begin():
        latest = s.scalar(select(Comment.created_at).order_by(Comment.created_at.desc()))
        assert latest is not None
        in_hour = select(Comment).where(Comment.created_at > latest - timedelta(hours=1))
        # a hostile comment, by a hostile name, is the most urgent of all
        hostile = next(c for c in s.scalars(in_hour) if c.text == HOSTILE)
        hostile.urgency = 10.0
        author = s.get(Author, hostile.author_id)
        assert author is not None
        author.name = "<b>Mallory</b>"
        s.flush()
        window = list(
            s.scalars(
                in_hour.order_by(
                    Comment.urgency.desc(), Comment.created_at.desc(), Comment.id.desc()
                )
            )
        )
        assert window[0].id == hostile.id
        handled, removed = window[1].id, window[2].id
        window[1].triage = "handled"
        window[2].status = "removed"
        expected = [window[0].id] + [c.id for c in window[3:7]]
    text = client.get(f"/crisis/{pid}").text
    section = text[text.index("Comments that need attention") :]
    section = section[: section.index("</section>")]
    assert re.findall(r'href="/comments/(\d+)"', section) == [str(i) for i in expected]
    assert f'href="/comments/{handled}"' not in section
    assert f'href="/comments/{removed}"' not in section
    # hostile comment text and author names are text, never markup
    assert "&lt;script&gt;alert" in section and "<script>" not in text
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in section and "<b>Mallory</b>" not in text
    assert HOSTILE not in text
    assert re.search(r'href="/authors/\d+\?page=' + str(pid) + '"', section)
    assert " style=" not in text


def test_alert_cards_link_to_the_crisis_view_and_the_filtered_inbox(
    client: TestClient, flamed: Desk
) -> None:
    pid = flamed.pages()[0].id
    text = client.get("/alerts").text
    cards = re.findall(
        r'<li class="alert-item.*?</li>\s*(?=<li class="alert-item|</ol>)', text, re.S
    )
    assert cards
    for card in cards:
        assert f'href="/crisis/{pid}">Crisis view</a>' in card
        assert f'href="/?page={pid}&amp;sort=urgent"' in card


def test_loudest_authors_are_named_and_linked_to_their_page(
    client: TestClient, flamed: Desk
) -> None:
    pid = flamed.pages()[0].id
    with flamed.session() as s:
        loud1 = s.scalars(select(Author).where(Author.platform_id == "bloud1")).one()
    assert loud1.name == "Newcomer bloud1"
    alerts = alert_dicts(flamed, page_id=pid)
    page_alert = next(a for a in alerts if a["post_id"] is None and a["loudest"])
    names = {a["name"]: a["author_id"] for a in page_alert["loudest"]}
    assert names.get("Newcomer bloud1") == loud1.id
    # "<b>Mallory</b>" is the name of many authors of the burst: not linked to any one of them
    assert "<b>Mallory</b>" in names and names["<b>Mallory</b>"] is None

    text = client.get("/alerts").text
    assert f'<a class="author" href="/authors/{loud1.id}?page={pid}">Newcomer bloud1</a>' in text
    assert '<span class="author">&lt;b&gt;Mallory&lt;/b&gt;</span>' in text
    assert client.get(f"/authors/{loud1.id}?page={pid}").status_code == 200


def test_evidence_shows_readable_figures_and_hides_internal_scores(
    client: TestClient, flamed: Desk
) -> None:
    text = client.get("/alerts").text
    alert = alert_dicts(flamed, limit=1)[0]
    f = alert["evidence"]["figures"]
    card = text[text.index(f'id="alert-{alert["id"]}"') :]
    card = card[: card.index("</ol>")]
    card = card[: card.index('id="alert-', 10)] if 'id="alert-' in card[10:] else card
    readable = card[card.index('<dl class="figures">') : card.index("</dl>")]
    assert f"Comments in the last {f['minutes']} minutes" in readable
    assert f"<dd>{f['comments']} (usually " in readable
    assert f"<dd>{round(f['negative_share'] * 100)}% (usually " in readable
    assert "Offensive" in readable and "From first-time authors" in readable
    assert f"<dt>Posts involved</dt><dd>{f['posts']}</dd>" in readable
    for internal in ("heat", "volume score", "usual in the window", "negative share"):
        assert internal not in readable
    # the detector's scores stay behind a closed technical block
    technical = card[card.index('<details class="technical">') :]
    assert "<summary>Technical detail (detector scores)</summary>" in technical
    assert "heat" in technical and "volume score" in technical

    switch_to_italian(client)
    italian = client.get("/alerts").text
    assert f"Commenti negli ultimi {f['minutes']} minuti" in italian
    assert "di solito" in italian and "Dettaglio tecnico" in italian


def test_crisis_view_in_italian(client: TestClient, flamed: Desk) -> None:
    switch_to_italian(client)
    text = client.get(f"/crisis/{flamed.pages()[0].id}").text
    assert "Apri l'inbox di questa pagina" in text or "Apri l&#39;inbox di questa pagina" in text
    assert "Commenti da guardare" in text


def test_negative_line_breaks_over_buckets_without_comments() -> None:
    def at(minute: int) -> str:
        return f"2024-05-06T{8 + minute // 60:02d}:{minute % 60:02d}:00+00:00"

    counts = [(4, 1), (2, 2), (0, 0), (0, 0), (5, 0), (0, 0), (3, 3)]
    buckets = [[at(5 * i), n, neg, "calm"] for i, (n, neg) in enumerate(counts)]
    chart = build_chart(buckets, [], [], width=700, height=124, bin_buckets=1)
    lines = chart["negative_lines"]
    assert len(lines) == 3  # three runs of buckets with comments, no line across the gaps
    assert [len(line.split()) for line in lines] == [2, 1, 1]
    # each point sits over its own bucket, at its share (plot height 100)
    assert lines[0] == "50.0,75.0 150.0,0.0"
    assert lines[1] == "450.0,100.0"
    assert lines[2] == "650.0,0.0"


def test_crisis_chart_draws_one_polyline_per_run(
    client: TestClient, flamed: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = flamed.pages()[0].id
    history_ = monitor_for(flamed).history(pid)
    chart = build_chart(history_["buckets"], [], [])
    text = client.get(f"/crisis/{pid}").text
    drawn = re.findall(r'<polyline class="negative-line" points="([^"]+)">', text)
    assert drawn == chart["negative_lines"]
    # the quiet history has quarter hours without a comment: the line is broken there
    assert len(drawn) > 1
