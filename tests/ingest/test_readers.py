"""Every importer, fed good, malformed and hostile files."""

from __future__ import annotations

import codecs
import io
import json
from pathlib import Path

import pytest

from crisisdesk.ingest.readers import ImportFormatError, ReadOptions, read_stream
from crisisdesk.ingest.record import CommentRecord, Rejected


def read(data: bytes, name: str, fmt: str | None = None, **options: object) -> list[object]:
    return list(read_stream(io.BytesIO(data), name, fmt, ReadOptions(**options)))  # type: ignore[arg-type]


def good(items: list[object]) -> list[CommentRecord]:
    return [i for i in items if isinstance(i, CommentRecord)]


def bad(items: list[object]) -> list[Rejected]:
    return [i for i in items if isinstance(i, Rejected)]


CSV = (
    "id,page,post_id,parent_id,author_id,author_name,created_at,text\n"
    "c1,brand,p1,,a1,Anna,2024-03-01T10:00:00Z,Consegna in ritardo\n"
    'c2,brand,p1,c1,a2,Bob,2024-03-01 10:05:00 +0100,"Same here, ""late"", again"\n'
)


def test_canonical_csv() -> None:
    items = read(CSV.encode(), "x.csv")
    records = good(items)
    assert [r.platform_id for r in records] == ["c1", "c2"]
    assert records[1].parent_id == "c1"
    assert records[1].text == 'Same here, "late", again'
    assert records[1].created_at.isoformat() == "2024-03-01T09:05:00+00:00"
    assert not bad(items)


def test_csv_only_required_columns_and_bom() -> None:
    data = "\ufeffid,created_at,text\n1,1700000000,hello\n".encode()
    (record,) = good(read(data, "x.csv"))
    assert record.platform_id == "1" and record.text == "hello" and record.page is None


def test_csv_column_mapping() -> None:
    data = b"comment_id,when,message,who\n9,2024-01-01T00:00:00,ciao,u1\n"
    items = read(
        data,
        "x.csv",
        column_map={
            "id": "comment_id",
            "created_at": "when",
            "text": "message",
            "author_id": "who",
        },
    )
    (record,) = good(items)
    assert (record.platform_id, record.text, record.author_id) == ("9", "ciao", "u1")


def test_csv_missing_required_column_is_a_clear_error() -> None:
    with pytest.raises(ImportFormatError, match="no 'text' column"):
        read(b"id,created_at\n1,2024-01-01\n", "x.csv")


def test_csv_mapping_to_absent_header() -> None:
    with pytest.raises(ImportFormatError, match="not in the file"):
        read(CSV.encode(), "x.csv", column_map={"text": "nope"})


def test_csv_bad_rows_rejected_with_line_numbers_good_rows_kept() -> None:
    data = (
        b"id,created_at,text\n"
        b"1,2024-01-01T00:00:00,ok one\n"
        b",2024-01-01T00:00:00,no id\n"
        b"3,yesterday,bad time\n"
        b"4,2024-01-01T00:00:00\n"
        b"5,2024-01-01T00:00:00,ok five\n"
    )
    items = read(data, "f.csv")
    assert [r.platform_id for r in good(items)] == ["1", "5"]
    rejected = {r.line: r.reason for r in bad(items)}
    assert set(rejected) == {3, 4, 5}
    assert "id" in rejected[3]
    assert "created_at" in rejected[4]
    assert "expected 3 fields" in rejected[5]
    assert str(bad(items)[0]).startswith("f.csv:3: ")


def test_csv_multiline_field_keeps_line_numbers() -> None:
    data = b'id,created_at,text\n1,2024-01-01,"line one\nline two"\n2,nope,x\n'
    items = read(data, "m.csv")
    assert good(items)[0].text == "line one\nline two"
    assert bad(items)[0].line == 4


def test_csv_wrong_encoding_rejects_only_that_row() -> None:
    data = "id,created_at,text\n1,2024-01-01,caffè\n".encode() + "2,2024-01-01,perché\n".encode(
        "latin-1"
    )
    items = read(data, "enc.csv")
    assert [r.platform_id for r in good(items)] == ["1"]
    assert "not valid utf-8" in bad(items)[0].reason
    # ...and the same file reads whole with the right encoding.
    latin = "id,created_at,text\n2,2024-01-01,perché\n".encode("latin-1")
    assert good(read(latin, "enc.csv", encoding="latin-1"))[0].text == "perché"


WIDE_CSV = 'id,created_at,text\n1,2024-01-01,perché 😡\n2,2024-01-01,"due\nrighe"\n'


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        # Excel's "Unicode text": UTF-16 little-endian behind its byte-order mark, found alone
        (WIDE_CSV.encode("utf-16"), "utf-8"),
        (codecs.BOM_UTF16_BE + WIDE_CSV.encode("utf-16-be"), "utf-8"),
        (WIDE_CSV.encode("utf-32"), "utf-8"),
        (WIDE_CSV.encode("utf-16-le"), "utf-16-le"),  # no mark: named
        (WIDE_CSV.encode("utf-16"), "UTF-16"),
        # named without a mark: the byte order read from the bytes (Python's incremental
        # UTF-16 decoder refuses such a stream outright)
        (WIDE_CSV.encode("utf-16-le"), "utf-16"),
        (WIDE_CSV.encode("utf-32-le"), "utf32"),
        (WIDE_CSV.encode("utf-16-be"), "utf-16"),
        (WIDE_CSV.encode("utf-32-be"), "UTF-32"),
    ],
)
def test_csv_in_utf16_or_utf32_reads_whole(data: bytes, encoding: str) -> None:
    # Lines were split at the byte "\n", half a UTF-16 character: every row was garbage.
    items = read(data, "wide.csv", encoding=encoding)
    assert [(r.platform_id, r.text) for r in good(items)] == [
        ("1", "perché 😡"),
        ("2", "due\nrighe"),
    ]
    assert not bad(items)


def test_wide_files_of_every_format_and_across_chunks() -> None:
    # Chunks of the transcoder end inside characters, emoji (surrogate pairs) included.
    rows = [
        {"id": str(i), "created_at": "2024-01-01", "text": f"è{'😡' * (i % 7)}{i}"}
        for i in range(4000)
    ]
    ndjson = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    for data, name in (
        (ndjson.encode("utf-16"), "x.ndjson"),
        (json.dumps(rows, ensure_ascii=False).encode("utf-32"), "x.json"),
        ("\n".join(r["text"] for r in rows).encode("utf-16"), "x.txt"),
    ):
        assert len(data) > 65536  # more than one chunk
        assert [r.text for r in good(read(data, name))] == [r["text"] for r in rows], name


def test_wide_file_with_a_broken_end_keeps_its_rows() -> None:
    # An odd last byte is half a character: it reads as U+FFFD, and no row is lost.
    data = WIDE_CSV.encode("utf-16") + "3,2024-01-01,x".encode("utf-16-le") + b"y"
    (first, second, last) = good(read(data, "odd.csv"))
    assert (first.text, second.text) == ("perché 😡", "due\nrighe")
    assert (last.platform_id, last.text) == ("3", "x\ufffd")


def test_byte_order_mark_does_not_override_a_named_encoding() -> None:
    # "ÿþ" opening a Latin-1 file is text, not UTF-16's mark
    data = "ÿþ\nciao\n".encode("latin-1")
    assert [r.text for r in good(read(data, "x.txt", encoding="latin-1"))] == ["ÿþ", "ciao"]


def test_lines_ending_in_a_carriage_return_alone() -> None:
    # Excel for Mac's "CSV (Macintosh)": split at "\n" the file was one line, and the CSV parser
    # refused the header with a traceback.
    data = WIDE_CSV.replace("\n", "\r").encode()
    items = read(data, "mac.csv")
    assert [(r.platform_id, r.text) for r in good(items)] == [
        ("1", "perché 😡"),
        ("2", "due\nrighe"),
    ]
    assert [r.text for r in good(read(b"uno\rdue\r", "mac.txt"))] == ["uno", "due"]
    # a first line longer than the bytes looked at first: the first line end found tells, in
    # whichever chunk it comes
    from crisisdesk.ingest.readers import _CarriageReturnLines

    for first in (b"x" * 5_000, b"x" * 200_000):
        late = _CarriageReturnLines(io.BytesIO(first + b"\rdue\r"), decided=False)
        assert io.BufferedReader(late).read() == first + b"\ndue\n"
        unix = _CarriageReturnLines(io.BytesIO(first + b"\ndue\rtre\n"), decided=False)
        assert io.BufferedReader(unix).read() == first + b"\ndue\rtre\n"
    long = "x" * 5_000
    assert [r.text for r in good(read(f"{long}\rdue\r".encode(), "mac.txt"))] == [long, "due"]
    assert [r.text for r in good(read(f"{long}\ndue\rtre\n".encode(), "unix.txt"))] == [
        long,
        "due",
        "tre",
    ]
    # lines of both kinds in the first bytes: each comment on its own, "\r\n" one line end
    mixed = b"uno\r\ndue\rtre\nquattro\r\rcinque"
    assert [r.text for r in good(read(mixed, "mixed.txt"))] == [
        "uno",
        "due",
        "tre",
        "quattro",
        "cinque",
    ]


def test_a_header_the_csv_parser_refuses_is_a_clear_error() -> None:
    with pytest.raises(ImportFormatError, match="bad.csv: unreadable header: "):
        read(b"id\rx,created_at,text\n1,2024-01-01,ok\n", "bad.csv")


@pytest.mark.parametrize("encoding", ["nonsense", "rot13", "hex"])
def test_an_unknown_encoding_is_a_clear_error(encoding: str) -> None:
    # It surfaced as a LookupError traceback from the first line's decoding.
    with pytest.raises(ImportFormatError, match=f"unknown text encoding {encoding}"):
        ReadOptions(encoding=encoding)


def test_csv_truncated_file() -> None:
    data = b'id,created_at,text\n1,2024-01-01,fine\n2,2024-01-01,"unterminated quote'
    items = read(data, "t.csv")
    assert [r.platform_id for r in good(items)] == ["1"]
    assert bad(items) and bad(items)[0].line == 3


def test_huge_field_rejected_not_crashing() -> None:
    data = b"id,created_at,text\n1,2024-01-01," + b"a" * 300_000 + b"\n2,2024-01-01,ok\n"
    items = read(data, "h.csv")
    assert [r.platform_id for r in good(items)] == ["2"]
    assert len(bad(items)) == 1


def test_script_tags_are_kept_as_text() -> None:
    data = b'id,created_at,text\n1,2024-01-01,"<script>alert(1)</script><img src=x onerror=alert(2)>"\n'
    (record,) = good(read(data, "x.csv"))
    assert record.text == "<script>alert(1)</script><img src=x onerror=alert(2)>"


def test_nul_bytes_and_control_characters_in_ids() -> None:
    data = b"id,created_at,text\nab\x01c,2024-01-01,x\n2,2024-01-01,te\x00xt\n"
    items = read(data, "x.csv")
    assert good(items)[0].text == "text"
    assert "control characters" in bad(items)[0].reason


def test_json_array_streams_and_reports_truncation() -> None:
    rows = [{"id": str(i), "created_at": "2024-01-01T00:00:00Z", "text": f"t{i}"} for i in range(3)]
    data = json.dumps(rows, indent=1).encode()
    assert [r.platform_id for r in good(read(data, "a.json"))] == ["0", "1", "2"]
    truncated = data[: data.rindex(b'"t2"')]
    items = read(truncated, "a.json")
    assert [r.platform_id for r in good(items)] == ["0", "1"]
    assert "truncated" in bad(items)[0].reason


def test_json_invalid_object_is_a_format_error() -> None:
    with pytest.raises(ImportFormatError, match="not valid JSON"):
        read(b'{"data": [', "x.json")


def test_ndjson_bad_lines() -> None:
    data = b'{"id": "1", "created_at": "2024-01-01", "text": "a"}\nnot json\n[1]\n\n{"id": "2", "created_at": "2024-01-01", "text": "b"}\n'
    items = read(data, "x.ndjson")
    assert [r.platform_id for r in good(items)] == ["1", "2"]
    assert [r.line for r in bad(items)] == [2, 3]


def test_graph_listing_with_replies() -> None:
    listing = {
        "data": [
            {
                "id": "111_1",
                "message": "Where is my order?",
                "created_time": "2024-05-01T10:00:00+0000",
                "from": {"id": "u1", "name": "Ann"},
                "comments": {
                    "data": [
                        {
                            "id": "111_2",
                            "message": "Same",
                            "created_time": "2024-05-01T10:01:00+0000",
                            "from": {"id": "u2", "name": "Ben"},
                        }
                    ]
                },
            },
            {"id": "111_3", "created_time": "garbage"},
        ],
        "paging": {"cursors": {"before": "a", "after": "b"}},
    }
    items = read(json.dumps(listing).encode(), "g.json", page="123")
    records = good(items)
    assert [(r.platform, r.platform_id, r.parent_id) for r in records] == [
        ("facebook", "111_1", None),
        ("facebook", "111_2", "111_1"),
    ]
    assert records[0].page == "123" and records[0].author_name == "Ann"
    assert len(bad(items)) == 1


def webhook(
    verb: str, comment_id: str = "9_1", message: str = "hi", t: int = 1714557600
) -> dict[str, object]:
    return {
        "object": "page",
        "entry": [
            {
                "id": "PAGE1",
                "time": t,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": verb,
                            "comment_id": comment_id,
                            "post_id": "PAGE1_9",
                            "parent_id": "PAGE1_9",
                            "from": {"id": "u7", "name": "Zoe"},
                            "message": message,
                            "created_time": t,
                        },
                    },
                    {"field": "feed", "value": {"item": "reaction", "verb": "add"}},
                ],
            }
        ],
    }


def test_webhook_payload() -> None:
    (record,) = good(read(json.dumps(webhook("add")).encode(), "w.json"))
    assert record.platform == "facebook" and record.page == "PAGE1"
    assert record.post_id == "PAGE1_9" and record.parent_id is None
    assert record.verb == "add" and record.author_name == "Zoe"


def test_plain_text_ids_are_stable() -> None:
    data = b"first\n\nsecond\nfirst\n"
    a = good(read(data, "c.txt"))
    b = good(read(data, "c.txt"))
    assert [r.text for r in a] == ["first", "second", "first"]
    assert [r.platform_id for r in a] == [r.platform_id for r in b]
    assert len({r.platform_id for r in a}) == 3


def test_known_layout_airline_export(tmp_path: Path) -> None:
    data = (
        b"tweet_id,airline_sentiment,airline,name,text,tweet_created\n"
        b"5703,negative,United,jdoe,@united lost my bag,2015-02-24 11:35:52 -0800\n"
    )
    (record,) = good(read(data, "Tweets.csv"))
    assert (record.platform, record.page, record.author_id) == ("twitter", "United", "jdoe")


def test_empty_file() -> None:
    assert read(b"", "x.csv") == []
    assert read(b"", "x.json") == []


def test_links_are_read_from_canonical_columns_and_hostile_ones_dropped() -> None:
    data = (
        "id,created_at,text,permalink,post_permalink\n"
        "c1,2024-03-01T10:00:00Z,late,https://www.facebook.com/1/posts/2?comment_id=3,"
        "https://www.facebook.com/1/posts/2\n"
        'c2,2024-03-01T10:01:00Z,click me,javascript:alert(document.cookie),"data:text/html,<b>"\n'
        "c3,2024-03-01T10:02:00Z,no links,,\n"
    )
    items = read(data.encode(), "links.csv")
    assert not bad(items)  # a bad link costs the link, never the comment
    first, hostile, plain = good(items)
    assert first.permalink == "https://www.facebook.com/1/posts/2?comment_id=3"
    assert first.post_permalink == "https://www.facebook.com/1/posts/2"
    assert (hostile.text, hostile.permalink, hostile.post_permalink) == ("click me", None, None)
    assert (plain.permalink, plain.post_permalink) == (None, None)


def test_graph_comment_and_webhook_links() -> None:
    listing = {
        "data": [
            {
                "id": "111_1",
                "message": "Where is my order?",
                "created_time": "2024-05-01T10:00:00+0000",
                "permalink_url": "https://www.facebook.com/111/posts/1?comment_id=1",
            },
            {
                "id": "111_2",
                "message": "x",
                "created_time": "2024-05-01T10:00:00+0000",
                "permalink_url": "JAVASCRIPT:alert(1)",
            },
        ]
    }
    linked, hostile = good(read(json.dumps(listing).encode(), "g.json"))
    assert linked.permalink == "https://www.facebook.com/111/posts/1?comment_id=1"
    assert hostile.permalink is None and hostile.platform_id == "111_2"

    payload = webhook("add")
    value = payload["entry"][0]["changes"][0]["value"]  # type: ignore[index]
    value["post"] = {
        "status_type": "mobile_status_update",
        "is_published": True,
        "permalink_url": "https://www.facebook.com/PAGE1/posts/9",
        "id": "PAGE1_9",
    }
    (record,) = good(read(json.dumps(payload).encode(), "w.json"))
    # the change names the post's link; the comment's own it does not carry
    assert record.post_permalink == "https://www.facebook.com/PAGE1/posts/9"
    assert record.permalink is None


def test_a_post_text_column_is_read_and_bounded() -> None:
    from crisisdesk.ingest.record import MAX_POST_MESSAGE_CHARS

    long_post = "x" * (MAX_POST_MESSAGE_CHARS + 500)
    data = (
        "id,created_at,text,post_id,post_message\n"
        'c1,2024-03-01T10:00:00Z,late,p1,"  New opening hours:\nfrom 7 to 19  "\n'
        'c2,2024-03-01T10:01:00Z,hi,p2,"<script>alert(1)</script>"\n'
        f"c3,2024-03-01T10:02:00Z,long,p3,{long_post}\n"
        "c4,2024-03-01T10:03:00Z,none,p4,\n"
    )
    items = read(data.encode(), "posts.csv")
    assert not bad(items)
    hours, hostile, long, plain = good(items)
    assert hours.post_message == "New opening hours:\nfrom 7 to 19"
    # kept as text; the web escapes it when it shows it
    assert hostile.post_message == "<script>alert(1)</script>"
    # a post text far longer than any post is cut, never a reason to refuse the comment
    assert long.text == "long" and long.post_message == "x" * MAX_POST_MESSAGE_CHARS
    assert plain.post_message is None


def test_a_post_text_column_can_be_mapped_from_another_header() -> None:
    data = "id,created_at,text,Post text\nc1,2024-03-01T10:00:00Z,late,Our new menu\n"
    (record,) = good(read(data.encode(), "x.csv", column_map={"post_message": "Post text"}))
    assert record.post_message == "Our new menu"
