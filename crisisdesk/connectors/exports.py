"""The exports people already have: Facebook's "Download your information" and tools' CSVs.

Neither kind carries platform comment ids, and the CSV exports of social media tools each name
their columns their own way. This module turns both into
:class:`~crisisdesk.ingest.record.CommentRecord` through
:func:`~crisisdesk.ingest.normalise.from_canonical` (the checks every source gets):

- ids are derived from what the row does carry (author, time, text) plus how many identical rows
  came before in the file, so importing the same export twice gives the same rows;
- Facebook's JSON exports write UTF-8 text as if each byte were a Latin-1 character
  (``"caff\\u00c3\\u00a8"`` for "caffè"); that is undone;
- each tool layout lists, per canonical field, the headers it may appear under
  (case-insensitive); the mappings, and which are based on the tools' published documentation,
  are in ``docs/exports.md``.

Streaming: CSVs are read row by row; a "Download your information" file is one JSON object and is
read whole (bounded), as the platform writes it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import IO, Any

from crisisdesk.ingest.normalise import RowError, from_canonical, parse_time
from crisisdesk.ingest.readers import TranscodedReader, field_count, wide_encoding
from crisisdesk.ingest.record import CommentRecord, Rejected
from crisisdesk.reasons import Reason, message_of

Item = CommentRecord | Rejected
MAX_DYI_BYTES = 256 * 1024 * 1024
# A tool's CSV may start with a few report lines (title, query, date range) before its header.
MAX_PREAMBLE_LINES = 20


class ExportError(ValueError):
    """The file is not an export this module knows (raised with a
    :class:`~crisisdesk.reasons.Reason`)."""


def fix_mojibake(text: str) -> str:
    """Undo the Latin-1 reading of UTF-8 found in Facebook's JSON exports; leave other text alone.

    >>> fix_mojibake("caff\\u00c3\\u00a8 \\u00f0\\u009f\\u0098\\u00a1")
    'caffè 😡'
    >>> fix_mojibake("già")
    'già'
    """
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _derived_id(prefix: str, *parts: str, occurrence: int) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]
    return f"{prefix}-{digest}-{occurrence}"


# -- Facebook "Download your information" --------------------------------------------------


def read_facebook_dyi(obj: Mapping[str, Any], name: str, *, page: str | None) -> Iterator[Item]:
    """Comments from a "Download your information" comments file (``comments_v2``; older files
    call the list ``comments``)."""
    entries = obj.get("comments_v2", obj.get("comments"))
    if not isinstance(entries, list):
        raise ExportError(
            Reason(
                "export.no_comments",
                "{name}: no 'comments_v2' list: not a Facebook comments export",
                name=name,
            )
        )
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            yield Rejected(name, number, Reason("row.entry_not_object", "entry is not an object"))
            continue
        data = entry.get("data")
        comments = [
            d["comment"]
            for d in (data if isinstance(data, list) else [])
            if isinstance(d, Mapping) and isinstance(d.get("comment"), Mapping)
        ]
        if not comments:
            # Entries with only an attachment (a photo, a sticker) carry no text to triage.
            continue
        for comment in comments:
            text = fix_mojibake(str(comment.get("comment") or ""))
            author = fix_mojibake(str(comment.get("author") or "")).strip()
            when = comment.get("timestamp", entry.get("timestamp"))
            key = f"{author}\x1f{when}\x1f{text}"
            occurrence = seen.get(key, 0)
            seen[key] = occurrence + 1
            row = {
                "id": _derived_id("fbdyi", author, str(when), text, occurrence=occurrence),
                "created_at": when,
                "text": text,
                "page": page,
                "author_id": f"name:{author}" if author else None,
                "author_name": author or None,
            }
            try:
                yield from_canonical(row, platform="facebook", source=f"file:{Path(name).name}")
            except RowError as exc:
                yield Rejected(name, number, message_of(exc))


# -- tools' CSV exports --------------------------------------------------------------------


@dataclass(frozen=True)
class ToolLayout:
    """How one tool names its columns. ``fields`` maps a canonical field to the headers it may
    appear under; ``signature`` headers must all be present for the layout to be chosen."""

    name: str
    tool: str
    signature: frozenset[str]
    fields: dict[str, tuple[str, ...]]
    documented: bool = False
    day_first: bool = False
    notes: str = ""
    platform_values: dict[str, str] = field(default_factory=dict)
    # rows that are not the public's comments: header -> values (lower case), e.g. the page's
    # own replies in an inbox export
    skip_when: dict[str, frozenset[str]] = field(default_factory=dict)


NETWORKS = {
    "facebook": "facebook",
    "facebook page": "facebook",
    "fb": "facebook",
    "instagram": "instagram",
    "instagram business": "instagram",
    "ig": "instagram",
    "twitter": "twitter",
    "x": "twitter",
    "x (twitter)": "twitter",
    "linkedin": "linkedin",
    "youtube": "youtube",
    "tiktok": "tiktok",
    "bluesky": "bluesky",
    "mastodon": "mastodon",
    "threads": "threads",
    # Brandwatch names the site a mention came from
    "facebook.com": "facebook",
    "instagram.com": "instagram",
    "twitter.com": "twitter",
    "x.com": "twitter",
    "linkedin.com": "linkedin",
    "youtube.com": "youtube",
    "tiktok.com": "tiktok",
    "threads.net": "threads",
    "bsky.app": "bluesky",
}

TOOL_LAYOUTS: list[ToolLayout] = [
    ToolLayout(
        name="hootsuite-inbox-messages",
        tool="Hootsuite Inbox 2.0, Messages export",
        signature=frozenset({"conversation id", "medium", "created at"}),
        fields={
            "id": ("message id",),
            "post_id": ("conversation id",),
            "platform": ("medium",),
            "page": ("channel display name", "channel"),
            "author_id": ("contact profile id", "contact primary identifier"),
            "author_name": ("contact primary identifier", "contact secondary identifier"),
            "created_at": ("created at", "sent at"),
            "text": ("content", "message", "message text", "text"),
            "post_permalink": ("post url",),
        },
        documented=True,
        notes="Conversation ID, Medium, Channel, Channel Display Name, Contact Profile ID, "
        "Contact Primary Identifier and Created at follow Hootsuite's published export "
        "definitions; Message ID, Content and Direction are the names public code reading real "
        "Messages exports uses. Outbound rows (the page's own replies) are skipped.",
        skip_when={"direction": frozenset({"outbound"})},
    ),
    ToolLayout(
        name="sprout-social-messages",
        tool="Sprout Social, Smart Inbox / message export",
        signature=frozenset({"network", "message"}),
        fields={
            "id": ("message id", "guid"),
            "platform": ("network",),
            "page": ("profile", "profile name"),
            "author_id": ("from", "sender", "from username"),
            "author_name": ("from name", "from", "sender"),
            "created_at": ("timestamp", "date", "created time", "sent date"),
            "text": ("message", "message text", "text"),
        },
        notes="Column names assumed: neither Sprout's help centre nor public code reading a Smart "
        "Inbox export could be found to check them against.",
    ),
    ToolLayout(
        name="agorapulse-inbox",
        tool="Agorapulse, Inbox export",
        signature=frozenset({"social profile", "content"}),
        fields={
            "id": ("item id", "id"),
            "platform": ("network", "social network"),
            "page": ("social profile", "profile"),
            "author_id": ("author id", "author", "user"),
            "author_name": ("author", "author name", "user"),
            "created_at": ("date", "created at", "publication date"),
            "text": ("content", "text", "message"),
        },
        day_first=True,
        notes="Column names assumed: Agorapulse's help centre describes the inbox but no export "
        "column list could be found, nor public code reading one. Dates day first (assumed).",
    ),
    ToolLayout(
        name="brandwatch-mentions",
        tool="Brandwatch Consumer Research, Mentions export",
        signature=frozenset({"full text", "author", "date"}),
        fields={
            "id": ("resource id", "mention id", "url"),
            "platform": ("page type", "content source", "domain"),
            "page": ("query name",),
            "post_id": ("thread id", "thread url"),
            "author_id": ("author",),
            "author_name": ("full name", "author"),
            "created_at": ("date",),
            "text": ("full text", "snippet", "title"),
            "permalink": ("url",),
            "post_permalink": ("thread url",),
        },
        notes="Date, Author, Full Text, Title, Url, Domain, Thread Id and Thread URL are the names "
        "public code reading real exports uses; the rest are assumed. The report lines above the "
        "header are skipped.",
    ),
    ToolLayout(
        name="meta-business-suite-comments",
        tool="Meta Business Suite, comments exported to CSV",
        signature=frozenset({"comment", "commenter name"}),
        fields={
            "id": ("comment id",),
            "post_id": ("post id",),
            "page": ("page name", "page id"),
            "author_id": ("commenter id", "commenter name"),
            "author_name": ("commenter name",),
            "created_at": ("comment time", "created time", "date"),
            "text": ("comment", "comment text", "message"),
        },
        notes="Meta Business Suite has no documented comment CSV export (its Insights exports "
        "are per post or per page, without comment text); this layout reads hand-made or "
        "third-party files of that shape. Not checked against any real file.",
    ),
]


# Exports that are known, from public code reading real files, to hold no comments at all: the
# desk names them in its error so that whoever imports one learns which export to make instead,
# rather than being told only that the columns are unknown.
NOT_COMMENT_EXPORTS: tuple[tuple[frozenset[str], Reason], ...] = (
    (
        frozenset({"post id", "publish time", "permalink"}),
        Reason(
            "export.meta_post_insights",
            "a Meta Business Suite per-post Insights export (one row per post, with counts but no "
            "comment text)",
        ),
    ),
)


def not_comment_export(header: Sequence[str]) -> Reason | None:
    """What a header belongs to when it is a known export without comments, else None.

    >>> not_comment_export(["Post ID", "Page ID", "Publish time", "Permalink", "Comments"])[:22]
    'a Meta Business Suite '
    >>> not_comment_export(["Date", "Author", "Full Text"]) is None
    True
    """
    present = {h.strip().lower() for h in header}
    for signature, what in NOT_COMMENT_EXPORTS:
        if signature <= present:
            return what
    return None


def match_tool_layout(header: Sequence[str]) -> ToolLayout | None:
    """The tool layout whose signature the header contains (case-insensitive).

    >>> match_tool_layout(["Date", "Author", "Full Text", "Url"]).name
    'brandwatch-mentions'
    >>> match_tool_layout(["id", "created_at", "text"]) is None
    True
    """
    present = {h.strip().lower() for h in header}
    for layout in TOOL_LAYOUTS:
        if layout.signature <= present:
            return layout
    return None


_FORMATS_MONTH_FIRST = ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")
_FORMATS_DAY_FIRST = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d.%m.%Y %H:%M")
_FORMATS_COMMON = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%b %d, %Y %I:%M %p", "%d %b %Y %H:%M")


def parse_tool_time(value: str, *, day_first: bool, zone: tzinfo = UTC) -> datetime:
    """Dates as tools write them (ISO, US or European), in UTC. A time without a zone is read in
    ``zone``: tools write times in the zone chosen when the export was made.

    >>> parse_tool_time("05/01/2024 10:30 PM", day_first=False).isoformat()
    '2024-05-01T22:30:00+00:00'
    >>> parse_tool_time("01/05/2024 22:30", day_first=True).isoformat()
    '2024-05-01T22:30:00+00:00'
    >>> from zoneinfo import ZoneInfo
    >>> parse_tool_time("2024-05-01 22:30:00.000", day_first=True, zone=ZoneInfo("Europe/Rome"))
    datetime.datetime(2024, 5, 1, 20, 30, tzinfo=datetime.timezone.utc)
    >>> parse_tool_time("2024-05-01T22:30:00+00:00", day_first=True, zone=ZoneInfo("Europe/Rome"))
    datetime.datetime(2024, 5, 1, 22, 30, tzinfo=datetime.timezone.utc)
    """
    text = value.strip()
    if text.lstrip("-").replace(".", "", 1).isdigit():
        return parse_time(text)  # epoch seconds or milliseconds: no zone to apply
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        formats = (_FORMATS_DAY_FIRST if day_first else _FORMATS_MONTH_FIRST) + _FORMATS_COMMON
        for fmt in formats:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise RowError(
            Reason(
                "row.time_format",
                "created_at is not a date and time: {value}",
                value=repr(text[:40]),
            )
        )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def read_tool_csv(
    raw: IO[bytes],
    name: str,
    *,
    page: str | None,
    layout: ToolLayout | None = None,
    zone: tzinfo = UTC,
) -> Iterator[Item]:
    """Records from a tool's CSV export. The header is the first line that names a known
    layout's columns, within ``MAX_PREAMBLE_LINES``: lines above it are the tool's report title,
    query and date range, not data."""
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="", errors="replace")
    first_header: list[str] | None = None
    for number in range(1, MAX_PREAMBLE_LINES + 1):
        line = text.readline()
        if not line:
            break
        delimiter = max((",", ";", "\t"), key=line.count)
        header = next(csv.reader([line], delimiter=delimiter), [])
        first_header = first_header if first_header is not None else header
        chosen = layout or match_tool_layout(header)
        if chosen is not None:
            yield from tool_records(
                header,
                text,
                name,
                layout=chosen,
                page=page,
                delimiter=delimiter,
                first_line=number + 1,
                zone=zone,
            )
            return
    if first_header is None:
        return
    known = not_comment_export(first_header)
    if known is not None:
        raise ExportError(
            Reason(
                "export.not_comments",
                "{name}: this is {known}, not an export of comments; import a tool's inbox or "
                "messages export instead",
                name=name,
                known=known,
            )
        )
    raise ExportError(
        Reason(
            "export.unknown_columns",
            "{name}: a CSV whose columns match no known tool export (headers: {headers}); "
            "import it with `crisisdesk import --column ...`",
            name=name,
            headers=", ".join(first_header)[:200],
        )
    )


def tool_records(
    header: Sequence[str],
    lines: Iterable[str],
    name: str,
    *,
    layout: ToolLayout,
    page: str | None = None,
    delimiter: str = ",",
    first_line: int = 2,
    zone: tzinfo = UTC,
) -> Iterator[Item]:
    """Records from the data lines of a tool's CSV whose header was already read (the hook
    ``crisisdesk.ingest.readers.read_csv`` can call once ``match_tool_layout`` recognised it).
    ``first_line`` is the file line of the first data line; ``zone`` that of zone-less times."""
    index = {h.strip().lower(): i for i, h in enumerate(header)}
    skips = [(index[h], values) for h, values in layout.skip_when.items() if h in index]
    sources: dict[str, int] = {}
    for canonical, candidates in layout.fields.items():
        for candidate in candidates:
            if candidate in index:
                sources[canonical] = index[candidate]
                break
    for needed in ("created_at", "text"):
        if needed not in sources:
            raise ExportError(
                Reason(
                    "export.no_column",
                    "{name}: {tool}: no column for {field}",
                    name=name,
                    tool=layout.tool,
                    field=needed,
                )
            )
    reader = csv.reader(lines, delimiter=delimiter)
    seen: dict[str, int] = {}
    source = f"file:{Path(name).name}"
    for values in reader:
        line = reader.line_num + first_line - 1
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield Rejected(name, line, field_count(len(header), len(values)))
            continue
        if any(values[i].strip().lower() in skipped for i, skipped in skips):
            continue
        row: dict[str, Any] = {k: values[i].strip() for k, i in sources.items()}
        try:
            created = parse_tool_time(
                row.get("created_at", ""), day_first=layout.day_first, zone=zone
            )
        except RowError as exc:
            yield Rejected(name, line, message_of(exc))
            continue
        row["created_at"] = created.isoformat()
        if not row.get("id"):
            key = "\x1f".join(str(row.get(k, "")) for k in ("author_id", "created_at", "text"))
            occurrence = seen.get(key, 0)
            seen[key] = occurrence + 1
            row["id"] = _derived_id(
                layout.name.split("-")[0], key, row.get("page") or "", occurrence=occurrence
            )
        network = str(row.pop("platform", "") or "").strip().lower()
        platform = NETWORKS.get(network, network.replace(" ", "_")[:32] or "import")
        if page:
            row["page"] = page
        try:
            yield from_canonical(row, platform=platform, source=source)
        except RowError as exc:
            yield Rejected(name, line, message_of(exc))


# -- one entry point -----------------------------------------------------------------------


def read_export(
    raw: IO[bytes], name: str, *, page: str | None = None, zone: tzinfo = UTC
) -> Iterator[Item]:
    """Records from an export file: a "Download your information" JSON or a tool's CSV
    (``zone``: the zone of its times that carry none)."""
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[type-var]
    wide = wide_encoding(buffered.peek(4)[:4], "utf-8")
    if wide is not None:  # a "Unicode" CSV: UTF-16 behind its byte-order mark
        buffered = io.BufferedReader(TranscodedReader(buffered, *wide))
    head = buffered.peek(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        data = buffered.read(MAX_DYI_BYTES + 1)
        if len(data) > MAX_DYI_BYTES:
            raise ExportError(
                Reason(
                    "export.too_large",
                    "{name}: larger than {megabytes} MB",
                    name=name,
                    megabytes=MAX_DYI_BYTES // 2**20,
                )
            )
        try:
            obj = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ExportError(
                Reason(
                    "file.not_json", "{name}: not valid JSON: {detail}", name=name, detail=str(exc)
                )
            ) from None
        if not isinstance(obj, Mapping):
            raise ExportError(
                Reason("export.not_object", "{name}: expected a JSON object", name=name)
            )
        yield from read_facebook_dyi(obj, name, page=page)
        return
    yield from read_tool_csv(buffered, name, page=page, zone=zone)
