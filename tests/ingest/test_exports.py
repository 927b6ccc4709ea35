"""Exports people already have: Facebook's "Download your information" and tools' CSVs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from crisisdesk.connectors.exports import (
    ExportError,
    match_tool_layout,
    read_export,
)
from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord, Rejected


def _mojibake(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


DYI = {
    "comments_v2": [
        {
            "timestamp": 1714557600,
            "data": [
                {
                    "comment": {
                        "timestamp": 1714557600,
                        "comment": _mojibake("Il caffè è arrivato freddo 😡"),
                        "author": _mojibake("Niccolò Rossi"),
                    }
                }
            ],
            "title": _mojibake("Niccolò Rossi commented on Bar Centrale's post."),
        },
        {
            "timestamp": 1714557700,
            "attachments": [{"data": [{"media": {"uri": "x.jpg"}}]}],
            "title": "photo only",
        },
        {
            "timestamp": 1714557800,
            "data": [{"comment": {"timestamp": 1714557800, "comment": "Grazie!", "author": "Ada"}}],
            "title": "Ada replied",
        },
        {
            "timestamp": 1714557800,
            "data": [{"comment": {"timestamp": 1714557800, "comment": "Grazie!", "author": "Ada"}}],
            "title": "Ada replied",
        },
        {"timestamp": "not a time", "data": [{"comment": {"comment": "bad", "author": "Z"}}]},
    ]
}


def items(data: bytes, name: str, page: str | None = "bar") -> list[CommentRecord | Rejected]:
    return list(read_export(io.BytesIO(data), name, page=page))


def test_download_your_information_comments() -> None:
    out = items(json.dumps(DYI).encode(), "comments.json")
    records = [i for i in out if isinstance(i, CommentRecord)]
    rejected = [i for i in out if isinstance(i, Rejected)]
    assert [r.text for r in records] == ["Il caffè è arrivato freddo 😡", "Grazie!", "Grazie!"]
    assert records[0].author_name == "Niccolò Rossi" and records[0].platform == "facebook"
    assert records[0].page == "bar"
    assert records[1].platform_id != records[2].platform_id  # identical comments stay two
    assert len(rejected) == 1 and rejected[0].line == 5
    again = [
        i.platform_id
        for i in items(json.dumps(DYI).encode(), "comments.json")
        if isinstance(i, CommentRecord)
    ]
    assert again == [r.platform_id for r in records]


def test_import_twice_is_one_set_of_rows(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "comments.json"
    path.write_text(json.dumps(DYI))
    for _ in range(2):
        with path.open("rb") as raw:
            desk.ingest(read_export(raw, str(path), page="bar"))
    assert desk.stats()["comments"] == 3


def test_not_an_export_is_a_clear_error() -> None:
    with pytest.raises(ExportError, match="comments_v2"):
        items(b'{"messages": []}', "x.json")
    with pytest.raises(ExportError, match="not valid JSON"):
        items(b'{"comments_v2": [', "x.json")
    with pytest.raises(ExportError, match="no known tool"):
        items(b"a,b,c\n1,2,3\n", "x.csv")


HOOTSUITE = (
    "Conversation ID,Message ID,Medium,Channel,Channel Display Name,Contact Profile ID,"
    "Contact Primary Identifier,Created at,Message\n"
    "conv1,msg1,Facebook,123,Bar Centrale,u1,Ada,2024-05-01 10:00:00,Order is late\n"
    'conv1,msg2,Instagram,456,Bar IG,u2,Bo,2024-05-01 10:05:00,"Thanks, great"\n'
)
BRANDWATCH = (
    "Query Id;Query Name;Date;Title;Url;Page Type;Author;Full Name;Full Text\n"
    "1;Brand;2024-05-01 10:00:00.0;;https://x.com/a/status/1;twitter;@ana;Ana;This brand is broken\n"
    "1;Brand;not a date;;https://x.com/a/status/2;twitter;@bo;Bo;Hello\n"
)
AGORAPULSE = (
    "Date,Social profile,Network,Author,Content\n01/05/2024 22:30,Bar,Instagram,carla,Schifo\n"
)
SPROUT = "Timestamp,Network,Profile,From,Message\n05/01/2024 10:30 PM,Facebook,Bar,Dan,Where is my order?\n"


@pytest.mark.parametrize(
    ("csv_text", "layout", "expected"),
    [
        (
            HOOTSUITE,
            "hootsuite-inbox-messages",
            [("facebook", "msg1", "Order is late"), ("instagram", "msg2", "Thanks, great")],
        ),
        (
            BRANDWATCH,
            "brandwatch-mentions",
            [("twitter", "https://x.com/a/status/1", "This brand is broken")],
        ),
        (AGORAPULSE, "agorapulse-inbox", [("instagram", None, "Schifo")]),
        (SPROUT, "sprout-social-messages", [("facebook", None, "Where is my order?")]),
    ],
)
def test_tool_csv_layouts(
    csv_text: str, layout: str, expected: list[tuple[str, str | None, str]]
) -> None:
    header = csv_text.splitlines()[0]
    delimiter = ";" if ";" in header else ","
    matched = match_tool_layout(header.split(delimiter))
    assert matched is not None and matched.name == layout
    out = items(csv_text.encode("utf-8-sig"), "export.csv", page=None)
    records = [i for i in out if isinstance(i, CommentRecord)]
    assert [(r.platform, r.text) for r in records] == [(p, t) for p, _, t in expected]
    for record, (_, pid, _) in zip(records, expected, strict=True):
        if pid is not None:
            assert record.platform_id == pid
        else:
            assert record.platform_id.startswith(layout.split("-")[0])
    if layout == "agorapulse-inbox":
        assert records[0].created_at.isoformat() == "2024-05-01T22:30:00+00:00"
    if layout == "sprout-social-messages":
        assert records[0].created_at.isoformat() == "2024-05-01T22:30:00+00:00"
    if layout == "brandwatch-mentions":
        assert any(isinstance(i, Rejected) and i.line == 3 for i in out)
    # Saved as "Unicode" (UTF-16 with its byte-order mark), as spreadsheets offer, it reads the
    # same: split at the byte "\n", every line was garbage.
    wide = items(csv_text.encode("utf-16"), "export.csv", page=None)
    assert [
        (r.platform, r.platform_id, r.text, r.created_at)
        for r in wide
        if isinstance(r, CommentRecord)
    ] == [(r.platform, r.platform_id, r.text, r.created_at) for r in records]
    assert [(i.line, i.reason) for i in wide if isinstance(i, Rejected)] == [
        (i.line, i.reason) for i in out if isinstance(i, Rejected)
    ]


def test_plain_import_recognises_exports(tmp_path: Path) -> None:
    """`crisisdesk import` reads the same exports as `import-export`: the readers recognise a
    "Download your information" file and a tool's CSV by their shape."""
    from typer.testing import CliRunner

    from crisisdesk.cli import app

    dyi = tmp_path / "comments.json"
    dyi.write_text(json.dumps(DYI), encoding="utf-8")
    tool = tmp_path / "hootsuite.csv"
    tool.write_text(HOOTSUITE, encoding="utf-8")
    data = str(tmp_path / "d")
    result = CliRunner().invoke(app, ["import", str(tool), "--data-dir", data])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["import", str(dyi), "--data-dir", data])
    # The export holds one row without a usable time: reported, the others kept.
    assert result.exit_code == 3, result.output
    stats = json.loads(CliRunner().invoke(app, ["stats", "--json", "--data-dir", data]).stdout)
    assert stats["comments"] == 2 + 3  # two from the tool; three from the file, twins kept apart


HOOTSUITE_MESSAGES = (
    "Conversation ID,Message ID,Medium,Channel,Direction,Message Type,Contact Primary Identifier,"
    "Created at,Content,Post URL\n"
    "c1,m1,Facebook,Bar,Inbound,Comment,Ada,2024-05-01 10:00:00,Order is late,https://fb/p1\n"
    "c1,m2,Facebook,Bar,Outbound,Comment,Bar Centrale,2024-05-01 10:20:00,Sorry Ada!,https://fb/p1\n"
    "c2,m3,Instagram,Bar IG,inbound,Comment,Bo,2024-05-01 11:00:00,Still waiting,https://ig/p2\n"
)


def test_hootsuite_messages_keep_the_publics_messages_only() -> None:
    """Hootsuite's Messages export holds the page's own replies too (Direction: Outbound): they
    are not comments to triage."""
    out = items(HOOTSUITE_MESSAGES.encode(), "hootsuite.csv", page=None)
    assert all(isinstance(i, CommentRecord) for i in out)
    records = [i for i in out if isinstance(i, CommentRecord)]
    assert [(r.platform_id, r.text) for r in records] == [
        ("m1", "Order is late"),
        ("m3", "Still waiting"),
    ]


BRANDWATCH_UI = (
    "Report:,Mentions export\n"
    "Brand:,Forno Aurora\n"
    "Query:,forno aurora\n"
    "Date Range:,2024-05-01 - 2024-05-02\n"
    "Generated:,2024-05-03\n"
    "\n"
    "Date,Title,Url,Domain,Author,Full Text,Thread Id\n"
    "2024-05-01 22:30:00.000,,https://x.com/a/status/1,twitter.com,@ana,Pane bruciato,1\n"
    "yesterday,,https://x.com/a/status/2,twitter.com,@bo,Boh,2\n"
)


def test_report_lines_above_the_header_are_skipped() -> None:
    out = items(BRANDWATCH_UI.encode(), "mentions.csv", page=None)
    records = [i for i in out if isinstance(i, CommentRecord)]
    assert [(r.platform_id, r.text) for r in records] == [
        ("https://x.com/a/status/1", "Pane bruciato")
    ]
    assert records[0].created_at.isoformat() == "2024-05-01T22:30:00+00:00"
    assert records[0].platform == "twitter"  # from the site the mention came from
    # rejected rows point at their line in the file, report lines counted
    assert [(i.line, "not a date" in i.reason) for i in out if isinstance(i, Rejected)] == [
        (9, True)
    ]
    # twenty lines of anything and no known header is still a clear error
    with pytest.raises(ExportError, match="no known tool"):
        items(("Report:,x\n" * 25 + BRANDWATCH_UI).encode(), "mentions.csv")


def test_export_times_without_a_zone_are_read_in_the_given_zone(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    from typer.testing import CliRunner

    from crisisdesk.cli import app

    rome = list(
        read_export(io.BytesIO(BRANDWATCH_UI.encode()), "m.csv", zone=ZoneInfo("Europe/Rome"))
    )
    first = next(i for i in rome if isinstance(i, CommentRecord))
    assert first.created_at.isoformat() == "2024-05-01T20:30:00+00:00"  # CEST is UTC+2

    path = tmp_path / "mentions.csv"
    path.write_text(BRANDWATCH_UI, encoding="utf-8")
    data = str(tmp_path / "d")
    runner = CliRunner()
    bad = runner.invoke(
        app, ["import-export", str(path), "--timezone", "Mars/Olympus", "--data-dir", data]
    )
    assert bad.exit_code == 2 and "unknown time zone 'Mars/Olympus'" in bad.output
    result = runner.invoke(
        app, ["import-export", str(path), "--timezone", "Europe/Rome", "--data-dir", data]
    )
    assert result.exit_code == 3 and "1 new" in result.output  # the undated row is reported
    import sqlite3

    with sqlite3.connect(Path(data) / "crisisdesk.sqlite") as db:
        stored = db.execute("select created_at from comments").fetchall()
    assert [str(t).replace("T", " ")[:19] for (t,) in stored] == ["2024-05-01 20:30:00"]


def test_plain_import_of_an_export_with_report_lines_points_to_import_export(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from crisisdesk.cli import app

    path = tmp_path / "mentions.csv"
    path.write_text(BRANDWATCH_UI, encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(path), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 2 and "crisisdesk import-export" in result.output


def test_tool_exports_keep_their_links_and_drop_hostile_ones() -> None:
    out = items(HOOTSUITE_MESSAGES.encode(), "hootsuite.csv", page=None)
    records = [i for i in out if isinstance(i, CommentRecord)]
    # the Post URL is the post the message was left on; a message has no address of its own
    assert [(r.permalink, r.post_permalink) for r in records] == [
        (None, "https://fb/p1"),
        (None, "https://ig/p2"),
    ]

    mentions = (
        "Date,Title,Url,Domain,Author,Full Text,Thread Id,Thread URL\n"
        "2024-05-01 22:30:00.000,,https://x.com/a/status/1,twitter.com,@ana,Pane bruciato,1,"
        "https://x.com/brand/status/0\n"
        "2024-05-01 22:31:00.000,,m-2,forum.example,@bo,Click,2,javascript:alert(1)\n"
    )
    out = items(mentions.encode(), "mentions.csv", page=None)
    first, hostile = [i for i in out if isinstance(i, CommentRecord)]
    assert first.permalink == "https://x.com/a/status/1"
    assert first.post_permalink == "https://x.com/brand/status/0"
    assert (hostile.text, hostile.permalink, hostile.post_permalink) == ("Click", None, None)


# -- layouts checked against published definitions or public code reading real files ---------
# The header rows below are the column names docs/exports.md cites for each tool; the data rows
# are made up. Times are zone-less, as the tools write them, and read in Europe/Rome (UTC+2 in
# May) so that a time read in the wrong zone shows.

HOOTSUITE_REAL = (
    "Conversation ID,Message ID,Medium,Channel,Channel Display Name,Contact Profile ID,"
    "Contact Primary Identifier,Contact Secondary Identifier,Direction,Message Type,Created at,"
    "Content,Post URL\n"
    "conv-7,msg-71,Facebook,1001,Forno Aurora,fb-555,Giulia Bianchi,giulia.b,Inbound,Comment,"
    '2024-05-01 22:30:00,"Il pane era crudo, che delusione",https://www.facebook.com/forno/posts/9\n'
    "conv-7,msg-72,Facebook,1001,Forno Aurora,fb-1001,Forno Aurora,,Outbound,Comment,"
    "2024-05-01 22:45:00,Ci scusi Giulia!,https://www.facebook.com/forno/posts/9\n"
    "conv-8,msg-81,Instagram,2002,Forno Aurora IG,ig-777,tom_eats,Tom,Inbound,Comment,"
    "2024-05-02 09:05:00,Best bread in town,https://www.instagram.com/p/abc/\n"
)


def _zoned(data: str, name: str) -> list[CommentRecord | Rejected]:
    from zoneinfo import ZoneInfo

    return list(read_export(io.BytesIO(data.encode()), name, zone=ZoneInfo("Europe/Rome")))


def test_hootsuite_messages_export_with_its_documented_header() -> None:
    out = _zoned(HOOTSUITE_REAL, "hootsuite-messages.csv")
    assert all(isinstance(i, CommentRecord) for i in out)
    records = [i for i in out if isinstance(i, CommentRecord)]
    # the page's own reply (Direction: Outbound) is not a comment to triage
    assert [
        (
            r.platform_id,
            r.platform,
            r.text,
            r.author_id,
            r.author_name,
            r.page,
            r.post_id,
            r.post_permalink,
            r.created_at.isoformat(),
        )
        for r in records
    ] == [
        (
            "msg-71",
            "facebook",
            "Il pane era crudo, che delusione",
            "fb-555",
            "Giulia Bianchi",
            "Forno Aurora",
            "conv-7",
            "https://www.facebook.com/forno/posts/9",
            "2024-05-01T20:30:00+00:00",
        ),
        (
            "msg-81",
            "instagram",
            "Best bread in town",
            "ig-777",
            "tom_eats",
            "Forno Aurora IG",
            "conv-8",
            "https://www.instagram.com/p/abc/",
            "2024-05-02T07:05:00+00:00",
        ),
    ]
    # a Messages row has no address of its own, only its post's
    assert all(r.permalink is None for r in records)


BRANDWATCH_REAL = (
    "Report:,Mentions export\n"
    "Brand:,Forno Aurora\n"
    "Query:,forno aurora\n"
    "Date Range:,2024-05-01 - 2024-05-02\n"
    "Generated:,2024-05-03\n"
    "\n"
    "Date,Title,Url,Domain,Author,Full Text,Thread Id,Thread URL\n"
    "2024-05-01 22:30:00.000,,https://x.com/giulia/status/11,x.com,giulia_b,"
    '"Forno Aurora, mai più: pane crudo",11,https://x.com/giulia/status/11\n'
    "2024-05-02 09:05:00.000,,https://www.facebook.com/forno/posts/9?comment_id=3,"
    "facebook.com,Tom Reed,Still the best bread in town,9,https://www.facebook.com/forno/posts/9\n"
)


def test_brandwatch_mentions_export_with_the_header_public_code_reads() -> None:
    out = _zoned(BRANDWATCH_REAL, "mentions.csv")
    records = [i for i in out if isinstance(i, CommentRecord)]
    assert not [i for i in out if isinstance(i, Rejected)]
    assert [
        (
            r.platform,
            r.text,
            r.author_id,
            r.author_name,
            r.permalink,
            r.post_permalink,
            r.created_at.isoformat(),
        )
        for r in records
    ] == [
        (
            "twitter",
            "Forno Aurora, mai più: pane crudo",
            "giulia_b",
            "giulia_b",
            "https://x.com/giulia/status/11",
            "https://x.com/giulia/status/11",
            "2024-05-01T20:30:00+00:00",
        ),
        (
            "facebook",
            "Still the best bread in town",
            "Tom Reed",
            "Tom Reed",
            "https://www.facebook.com/forno/posts/9?comment_id=3",
            "https://www.facebook.com/forno/posts/9",
            "2024-05-02T07:05:00+00:00",
        ),
    ]
    # without an id column the mention's address is its id
    assert records[0].platform_id == "https://x.com/giulia/status/11"


def test_a_header_no_layout_knows_is_a_clear_error_naming_the_headers() -> None:
    unknown = "Data;Autore;Testo del commento\n01/05/2024 22:30;Giulia;Pane crudo\n"
    with pytest.raises(ExportError, match="no known tool") as caught:
        _zoned(unknown, "commenti.csv")
    message = str(caught.value)
    assert "commenti.csv" in message and "Autore" in message and "--column" in message


def test_a_meta_per_post_insights_export_is_named_not_misread() -> None:
    """Meta Business Suite's per-post export has a Comments *count* and the post's text; read as
    comments it would turn every post into a comment. It is refused, and named."""
    posts = (
        "Post ID,Page ID,Page name,Title,Description,Publish time,Permalink,Post type,"
        "Reactions,Comments,Shares\n"
        "123_456,123,Forno Aurora,,Pane fresco ogni mattina,05/01/2024 08:00,"
        "https://www.facebook.com/123/posts/456,Photos,40,12,3\n"
    )
    with pytest.raises(ExportError, match="per-post Insights export") as caught:
        _zoned(posts, "posts.csv")
    assert "not an export of comments" in str(caught.value)


def test_hootsuite_conversations_export_is_refused_for_want_of_text() -> None:
    """Hootsuite's resolved-conversations export (headers as its help article defines them) has
    the Messages export's signature but one row per conversation and no text."""
    conversations = (
        "Conversation ID,Medium,Channel,Channel Display Name,Contact Profile ID,"
        "Contact Primary Identifier,Contact Secondary Identifier,Created at,"
        "Last Status Change Agent ID\n"
        "conv-7,Facebook,1001,Forno Aurora,fb-555,Giulia Bianchi,giulia.b,2024-05-01 22:30:00,a-1\n"
    )
    with pytest.raises(ExportError, match="no column for text"):
        _zoned(conversations, "conversations.csv")
