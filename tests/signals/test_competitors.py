"""Competitor lists and the comments that push them."""

from __future__ import annotations

from datetime import UTC, datetime

from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.signals.competitors import (
    Competitor,
    comment_flags,
    competitors_for,
    flag_comment,
    fold,
    friendly_threads,
    parse_competitors,
    set_competitors,
)

ACME = Competitor(
    "Caffè Nero", handles=["caffenero"], domains=["nero.example"], products=["Espresso Max"]
)


def kinds(text: str, **kw: str) -> list[str]:
    return [f.kind for f in flag_comment(text, [ACME], **kw)]


def test_push_while_attacking_us() -> None:
    flags = flag_comment(
        "Your coffee is awful, go to Caffe Nero instead", [ACME], sentiment="negative"
    )
    assert [(f.kind, f.competitor, f.reason) for f in flags] == [
        (
            "pushes_competitor",
            "Caffè Nero",
            "names Caffè Nero and sends people there while attacking us",
        )
    ]


def test_links_handles_products_and_plain_mentions() -> None:
    assert kinds("deal at https://www.shop.nero.example/offer") == ["competitor_link"]
    assert kinds("notnero.example is a different site") == []
    assert kinds("@caffenero does it better", kind="other") == ["pushes_competitor"]
    assert kinds("the Espresso Max is terrible here too", sentiment="negative") == [
        "pushes_competitor"
    ]
    assert kinds("I saw Caffè Nero opened next door", sentiment="neutral") == [
        "mentions_competitor"
    ]
    assert kinds("neron is not a competitor") == []


def test_parse_tolerates_messy_config() -> None:
    parsed = parse_competitors(
        ["Plain Name", {"name": "X", "domains": "https://www.x.example/path, y.example", "handles": ["@xx"]},
         {"no": "name"}, 42, ""]
    )  # fmt: skip
    assert [c.name for c in parsed] == ["Plain Name", "X"]
    assert parsed[1].domains == ["x.example", "y.example"] and parsed[1].handles == ["xx"]
    assert parse_competitors("nonsense") == []
    assert fold("PÂTISSERIE") == "patisserie"


def test_stored_per_page_and_threads(desk: Desk) -> None:
    t = datetime(2024, 5, 1, tzinfo=UTC)
    desk.ingest(
        [
            CommentRecord(platform="facebook", platform_id="c1", created_at=t, text="late and broken, try caffenero",
                          page="P1", post_id="p1", author_id="a"),
            CommentRecord(platform="facebook", platform_id="c2", created_at=t, text="nice", page="P1",
                          post_id="p2", author_id="b"),
        ]
    )  # fmt: skip
    page_id = desk.pages()[0].id
    assert competitors_for(desk, page_id) == []
    set_competitors(desk, page_id, [ACME], actor="ann")
    assert competitors_for(desk, page_id) == [ACME]
    assert desk.pages()[0].config["competitors"][0]["domains"] == ["nero.example"]
    c1 = desk.find_comment("c1")
    assert c1 is not None
    assert [f.kind for f in comment_flags(desk, c1.id)] == ["pushes_competitor"]
    threads = friendly_threads(desk, page_id)
    assert list(threads) == [f"post:{c1.post_id}"]
    assert desk.audit_entries()[0].action == "page.competitors"


def test_flag_reasons_are_english_text_with_a_code_that_survives_copies() -> None:
    import copy
    import json
    import pickle

    (flag,) = flag_comment("deal at https://nero.example/offer", [ACME])
    reason = flag.reason
    assert reason == "links to Caffè Nero (nero.example)"
    assert (reason.code, reason.params) == (
        "competitor.link",
        {"competitor": "Caffè Nero", "domain": "nero.example"},
    )
    # What the JSON API and the command line print is the English sentence, as before.
    assert json.loads(json.dumps(flag.as_dict()))["reason"] == reason
    for again in (pickle.loads(pickle.dumps(reason)), copy.deepcopy(reason)):
        assert again == reason and again.code == reason.code and again.params == reason.params
