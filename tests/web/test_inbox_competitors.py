"""Inbox rows say when a comment links to or pushes one of the page's competitors."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.signals.competitors import Competitor, set_competitors
from tests.web.conftest import signed_in

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
TEXTS = {
    "plug": "Just take <Kestrel> Coaches, cheaper and on time: kestrelcoaches.example",
    "mention": "Saw a <Kestrel> Coaches bus at the station today",
    "plain": "What time does the first bus leave on Sunday?",
}


def seed(desk: Desk) -> None:
    desk.ingest(
        [
            CommentRecord(
                platform="facebook",
                platform_id=pid,
                created_at=T0 + timedelta(minutes=n),
                text=text,
                page="P1",
                page_name="Rail",
                author_id=f"a{n}",
                author_name=f"Person {n}",
            )
            for n, (pid, text) in enumerate(TEXTS.items())
        ]
    )
    page = desk.pages()[0]
    rival = Competitor("<Kestrel> Coaches", domains=["kestrelcoaches.example"])
    set_competitors(desk, page.id, [rival], actor="test")


def rows(page: str) -> dict[str, str]:
    """Each inbox row's HTML, by the comment text it shows."""
    out = {}
    for row in re.findall(r'<tr class="row .*?</tr>', page, flags=re.S):
        for key, text in TEXTS.items():
            if html.escape(text, quote=True) in row or html.escape(text, quote=False) in row:
                out[key] = row
    return out


def test_inbox_tags_comments_that_push_a_competitor(desk: Desk) -> None:
    seed(desk)
    with signed_in(desk, "en") as client:
        found = rows(client.get("/").text)
    assert set(found) == set(TEXTS)
    tag = re.search(r'<span class="tag competitor" title="([^"]*)">([^<]*)</span>', found["plug"])
    assert tag, found["plug"]
    assert tag[2] == "competitor: &lt;Kestrel&gt; Coaches"  # escaped, like all page text
    assert "links to &lt;Kestrel&gt; Coaches (kestrelcoaches.example)" == tag[1]
    # a bare mention is for the author card; an ordinary question has nothing
    assert "tag competitor" not in found["mention"]
    assert "tag competitor" not in found["plain"]


def test_inbox_competitor_tag_in_italian(desk: Desk) -> None:
    seed(desk)
    with signed_in(desk, "it") as client:
        found = rows(client.get("/").text)
    assert "concorrente: &lt;Kestrel&gt; Coaches" in found["plug"]
    assert "link a &lt;Kestrel&gt; Coaches" in found["plug"]


def test_inbox_without_competitors_has_no_tags(desk: Desk) -> None:
    seed(desk)
    set_competitors(desk, desk.pages()[0].id, [], actor="test")
    with signed_in(desk, "en") as client:
        assert "tag competitor" not in client.get("/").text


def test_case_panel_warns_before_apologising_to_a_competitor_push(desk: Desk) -> None:
    seed(desk)
    plug, plain = desk.find_comment("plug"), desk.find_comment("plain")
    assert plug is not None and plain is not None
    with signed_in(desk, "it") as client:
        client.post(f"/comments/{plug.id}/case/open", data={}, headers={"hx-request": "true"})
        panel = client.get(f"/comments/{plug.id}/case").text
        calm = client.get(f"/comments/{plain.id}/case").text
    assert 'id="competitor-warning"' in panel and "Prima di scusarti controlla" in panel
    assert "link a &lt;Kestrel&gt; Coaches (kestrelcoaches.example)" in panel
    assert 'id="competitor-warning"' not in calm
