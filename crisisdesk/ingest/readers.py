"""Streaming readers for every file format the desk imports.

Each reader yields :class:`CommentRecord` or :class:`Rejected` items one at a time, in file order,
holding at most one row (or one JSON array element) in memory, so a file of millions of comments
imports in constant memory. A bad row never stops the file: it becomes a ``Rejected`` with its line
number and the reason, and the rows around it are kept.

Formats: ``csv`` (canonical columns, others mapped), ``json`` (an array of canonical objects, a
Graph API listing ``{"data": [...], "paging": ...}`` or a page webhook payload), ``ndjson``
(one canonical object, Graph comment or webhook payload per line) and ``text`` (one comment a line).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from crisisdesk.ingest.layouts import match_layout
from crisisdesk.ingest.normalise import (
    CANONICAL_FIELDS,
    OPTIONAL_FIELDS,
    RowError,
    from_canonical,
    from_facebook_change,
    from_graph_comment,
    from_plain_text,
)
from crisisdesk.ingest.record import MAX_TEXT_CHARS, CommentRecord, Rejected
from crisisdesk.reasons import Reason, message_of

FORMATS = ("csv", "json", "ndjson", "text")
KNOWN_FIELDS = frozenset(CANONICAL_FIELDS) | frozenset(OPTIONAL_FIELDS)
Item = CommentRecord | Rejected

# Whole JSON objects (a Graph listing page, a webhook delivery) are read at once; this bounds them.
MAX_JSON_OBJECT_BYTES = 64 * 1024 * 1024
_CHUNK = 1 << 16


#: Shared with the webhook deliveries' reader, which refuses the same thing.
ENTRY_NOT_OBJECT = Reason("row.webhook_entry", "webhook entry must be an object")


def field_count(expected: int, found: int) -> Reason:
    """A CSV row with more or fewer fields than its header (any CSV reader of the desk)."""
    return Reason(
        "row.field_count",
        "expected {expected} fields, found {found}",
        expected=expected,
        found=found,
    )


def _bad_encoding(encoding: str) -> Reason:
    return Reason(
        "row.encoding_hint",
        "not valid {encoding}; convert the file or pass --encoding",
        encoding=encoding,
    )


class ImportFormatError(ValueError):
    """The file as a whole cannot be read (unknown format, bad mapping); raised with a
    :class:`~crisisdesk.reasons.Reason`, as a row's :class:`RowError` is."""


@dataclass
class ReadOptions:
    platform: str = "import"
    page: str | None = None
    column_map: dict[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        # Checked here, before a file is opened: an unknown name would otherwise surface as a
        # LookupError from the first line's decoding, in the middle of an import.
        check_encoding(self.encoding)


def check_encoding(encoding: str) -> None:
    """Raise :class:`ImportFormatError` unless ``encoding`` names a codec that decodes bytes to
    text ("rot13" and "hex" are codecs too, but not text encodings).

    >>> check_encoding("latin-1")
    >>> try:
    ...     check_encoding("rot13")
    ... except ImportFormatError as exc:
    ...     print(exc)
    unknown text encoding rot13
    """
    try:
        # one byte: an empty input is decoded without looking the codec up
        b"x".decode(encoding, "replace")
    except LookupError:
        raise ImportFormatError(
            Reason("file.unknown_encoding", "unknown text encoding {encoding}", encoding=encoding)
        ) from None


class CountingReader(io.RawIOBase):
    """Wraps a binary stream and counts the bytes read, for progress bars."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        return n


#: Byte-order marks of the encodings whose lines do not end in the byte "\n" alone, and the codec
#: each says; UTF-32's little-endian mark starts with UTF-16's, so it is tried first.
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def wide_encoding(head: bytes, encoding: str) -> tuple[str, int] | None:
    r"""The UTF-16 or UTF-32 codec a file is in, and the length of its byte-order mark: the
    default UTF-8 or one of those named, and the file opens with their mark (Excel's "Unicode
    text" is UTF-16 with one), or one of those named without it. None for every other file.

    >>> wide_encoding(codecs.BOM_UTF16_BE + "id".encode("utf-16-be"), "utf-8")
    ('utf-16-be', 2)
    >>> wide_encoding(b"i\x00d\x00", "UTF-16"), wide_encoding(b"\xff\xfeid", "latin-1")
    (('utf-16-le', 0), None)
    >>> wide_encoding(b"\x00i\x00d", "utf-16")
    ('utf-16-be', 0)
    """
    name = codecs.lookup(encoding).name
    for bom, codec in _WIDE_BOMS:
        if head.startswith(bom) and (name == "utf-8" or codec.startswith(name)):
            return codec, len(bom)
    if name in ("utf-16", "utf-32"):
        # named without a mark, the byte order is open (the codecs' own incremental decoders
        # refuse a stream without a mark): read from the bytes
        return f"{name}-{_byte_order(head, 2 if name == 'utf-16' else 4)}", 0
    if name.startswith(("utf-16", "utf-32")):
        return name, 0
    return None


def _byte_order(head: bytes, width: int) -> str:
    """ "be" or "le" for the start of a UTF-16 (``width`` 2) or UTF-32 (4) text without a mark.

    Latin letters, digits, punctuation and line ends are most of a comments file, and each has a
    zero high byte: the end of its units where that byte stands first is big-endian. Where
    nothing tells (a file of Chinese or of emoji alone), little-endian, as Windows writes them.
    """
    usable = len(head) - len(head) % width
    first = head[0:usable:width].count(0)
    last = head[width - 1 : usable : width].count(0)
    return "be" if first > last else "le"


class _ConvertedReader(io.RawIOBase):
    """A binary stream read through ``convert``, a chunk at a time."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._pending = b""
        self._offset = 0
        self._done = False

    def convert(self, chunk: bytes, final: bool) -> bytes:
        raise NotImplementedError

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._offset == len(self._pending) and not self._done:
            chunk = self._raw.read(_CHUNK)
            self._done = not chunk
            self._pending, self._offset = self.convert(chunk, self._done), 0
        n = min(len(buffer), len(self._pending) - self._offset)
        buffer[:n] = self._pending[self._offset : self._offset + n]
        self._offset += n
        return n


class TranscodedReader(_ConvertedReader):
    r"""A binary stream in UTF-16 or UTF-32, read as UTF-8, its byte-order mark (``skip``
    bytes) left out.

    The readers split lines at the byte "\n", which in those encodings is half or a quarter of
    a character: decoded line by line, every line was garbage. Bytes that do not decode, lone
    surrogates included, become U+FFFD, as a badly encoded line of a UTF-8 file does, and the
    row is kept.
    """

    def __init__(self, raw: IO[bytes], encoding: str, skip: int = 0) -> None:
        super().__init__(raw)
        raw.read(skip)
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")

    def convert(self, chunk: bytes, final: bool) -> bytes:
        return self._decoder.decode(chunk, final=final).encode("utf-8")


class _CarriageReturnLines(_ConvertedReader):
    r"""A file whose lines end in "\r" alone (classic Mac OS, and the "CSV (Macintosh)" that
    Excel for Mac still writes), read with "\n": split at "\n", it was one line, and a CSV
    header with a "\r" inside it was refused by the CSV parser.

    ``decided`` is False for a file whose first line is longer than what was looked at: the first
    chunk that holds a line end then tells, as the opening bytes tell the others (a "\r" and no
    "\n"); until then, and for a file with "\n" lines, the bytes pass unchanged.
    """

    def __init__(self, raw: IO[bytes], decided: bool = True) -> None:
        super().__init__(raw)
        self._converting: bool | None = True if decided else None

    def convert(self, chunk: bytes, final: bool) -> bytes:
        if self._converting is None and (b"\r" in chunk or b"\n" in chunk):
            self._converting = b"\n" not in chunk
        return chunk.replace(b"\r", b"\n") if self._converting else chunk


def guess_format(path: Path, head: bytes) -> str:
    """Guess a file's format from its name, then from its first bytes.

    >>> guess_format(Path("x.csv"), b"id,created_at,text")
    'csv'
    >>> guess_format(Path("dump"), b'  {"data": []}')
    'json'
    """
    suffix = path.suffix.lower()
    by_suffix = {
        ".csv": "csv",
        ".tsv": "csv",
        ".json": "json",
        ".ndjson": "ndjson",
        ".jsonl": "ndjson",
        ".txt": "text",
    }
    if suffix in by_suffix:
        return by_suffix[suffix]
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        first_line = stripped.split(b"\n", 1)[0].strip()
        return "ndjson" if first_line.endswith(b"}") and b"\n{" in stripped else "json"
    return "text"


def _decoded_lines(raw: IO[bytes], encoding: str, bad: set[int]) -> Iterator[str]:
    """Decode line by line so that one badly encoded line is rejected, not the whole file."""
    for number, line in enumerate(raw, start=1):
        if number == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        try:
            yield line.decode(encoding)
        except UnicodeDecodeError:
            bad.add(number)
            yield line.decode(encoding, errors="replace")


def read_csv(raw: IO[bytes], name: str, options: ReadOptions) -> Iterator[Item]:
    bad_lines: set[int] = set()
    lines = _decoded_lines(raw, options.encoding, bad_lines)
    first = next(lines, None)
    if first is None:
        return
    delimiter = "\t" if name.endswith(".tsv") or ("\t" in first and "," not in first) else ","
    try:
        header = next(csv.reader([first], delimiter=delimiter))
    except csv.Error as exc:
        raise ImportFormatError(
            Reason("file.header", "{name}: unreadable header: {detail}", name=name, detail=str(exc))
        ) from None
    header = [h.strip() for h in header]
    column_map = dict(options.column_map)
    platform = options.platform
    if not column_map and not {"id", "created_at", "text"} <= set(header):
        layout = match_layout(header)
        if layout is not None:
            column_map = dict(layout.mapping)
            if platform == "import":
                platform = layout.platform
        else:
            # Social media tools' exports (Hootsuite, Sprout Social, ...): docs/exports.md.
            from crisisdesk.connectors.exports import match_tool_layout, tool_records

            tool = match_tool_layout(header)
            if tool is not None:
                yield from tool_records(
                    header, lines, name, layout=tool, page=options.page, delimiter=delimiter
                )
                return
    missing_mapped = [theirs for theirs in column_map.values() if theirs not in header]
    if missing_mapped:
        raise ImportFormatError(
            Reason(
                "file.unmapped",
                "{name}: --column names header(s) not in the file: {headers}",
                name=name,
                headers=", ".join(missing_mapped),
            )
        )
    # canonical field -> column index; the user's mapping wins over a same-named header.
    sources = {h: i for i, h in enumerate(header) if h in KNOWN_FIELDS}
    for canonical, theirs in column_map.items():
        sources[canonical] = header.index(theirs)
    for required in ("id", "created_at", "text"):
        if required not in sources:
            params = {"name": name, "column": required, "headers": ", ".join(header)[:200]}
            if len(header) <= 2:
                # "Report:,Mentions" is the title line of a tool's export, not its header
                raise ImportFormatError(
                    Reason(
                        "file.no_column_report",
                        "{name}: no '{column}' column (headers: {headers}); map one with "
                        "--column {column}=THEIR_HEADER; a tool's export with report lines above "
                        "its header: crisisdesk import-export",
                        **params,
                    )
                )
            raise ImportFormatError(
                Reason(
                    "file.no_column",
                    "{name}: no '{column}' column (headers: {headers}); map one with "
                    "--column {column}=THEIR_HEADER",
                    **params,
                )
            )
    if platform != options.platform:
        options = ReadOptions(
            platform=platform,
            page=options.page,
            column_map=column_map,
            encoding=options.encoding,
            received_at=options.received_at,
        )
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    start_line = 2
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Rejected(
                name,
                start_line,
                Reason("row.malformed_csv", "malformed CSV: {detail}", detail=str(exc)),
            )
            start_line = reader.line_num + 2
            continue
        line = start_line
        start_line = reader.line_num + 2
        if not values or all(not v.strip() for v in values):
            continue
        if any(n in bad_lines for n in range(line, start_line)):
            yield Rejected(name, line, _bad_encoding(options.encoding))
            continue
        if len(values) != len(header):
            yield Rejected(name, line, field_count(len(header), len(values)))
            continue
        row = {canonical: values[index] for canonical, index in sources.items()}
        yield _canonical(row, name, line, options)


def _canonical(row: Mapping[str, Any], name: str, line: int, options: ReadOptions) -> Item:
    try:
        return from_canonical(
            row,
            platform=options.platform,
            source=f"file:{Path(name).name}",
            default_page=options.page,
        )
    except RowError as exc:
        return Rejected(name, line, message_of(exc))


#: A carriage return that ends a line of its own: not the first half of "\r\n".
_LONE_CR = re.compile(r"\r(?!\n)")


def _text_lines(raw: IO[bytes], encoding: str, bad: set[int]) -> Iterator[tuple[int, str]]:
    """The lines of a plain-text file, with the number of the "\n" line each is in.

    A carriage return alone ends a line wherever it comes, as Python's text mode reads it: a file
    that mixes "\r" and "\n" lines (pasted from several programs) is read one comment per
    line, not with several comments run into one.
    """
    for number, line in enumerate(_decoded_lines(raw, encoding, bad), start=1):
        line = line.rstrip("\r\n")
        for text in _LONE_CR.split(line) if "\r" in line else (line,):
            yield number, text


def read_text(raw: IO[bytes], name: str, options: ReadOptions) -> Iterator[Item]:
    bad_lines: set[int] = set()
    seen: dict[str, int] = {}
    for number, text in _text_lines(raw, options.encoding, bad_lines):
        if not text.strip():
            continue
        if number in bad_lines:
            yield Rejected(name, number, _bad_encoding(options.encoding))
            continue
        occurrence = seen.get(text, 0)
        seen[text] = occurrence + 1
        if len(seen) > 1_000_000:
            # Bounded memory: repeated lines beyond this point get fresh occurrence counts.
            seen.clear()
        try:
            yield from_plain_text(
                text,
                occurrence=occurrence,
                received_at=options.received_at,
                platform=options.platform,
                source=f"file:{Path(name).name}",
                default_page=options.page,
            )
        except RowError as exc:
            yield Rejected(name, number, message_of(exc))


def items_from_object(obj: Any, name: str, line: int, options: ReadOptions) -> Iterator[Item]:
    """Records from one JSON value: a canonical object, a Graph comment listing, a Graph comment,
    or a page webhook payload."""
    if not isinstance(obj, Mapping):
        yield Rejected(name, line, Reason("row.not_object", "expected a JSON object"))
        return
    if isinstance(obj.get("comments_v2"), list):
        # Facebook's "Download your information" comments file.
        from crisisdesk.connectors.exports import read_facebook_dyi

        yield from read_facebook_dyi(obj, name, page=options.page)
    elif "entry" in obj and obj.get("object") == "instagram":
        from crisisdesk.connectors.webhook import records_from_delivery

        yield from records_from_delivery(obj, name=name)
    elif "entry" in obj and obj.get("object") in ("page", None):
        yield from _webhook_items(obj, name, line)
    elif "data" in obj and isinstance(obj.get("data"), list):
        for item in obj["data"]:
            yield from _graph_items(item, name, line, options, parent=None)
    elif "created_time" in obj and "id" in obj and "created_at" not in obj:
        yield from _graph_items(obj, name, line, options, parent=None)
    else:
        yield _canonical(obj, name, line, options)


def _graph_items(
    item: Any, name: str, line: int, options: ReadOptions, parent: str | None
) -> Iterator[Item]:
    try:
        record = from_graph_comment(
            item,
            page=options.page,
            post_id=None,
            parent_id=parent,
            source=f"file:{Path(name).name}",
        )
    except RowError as exc:
        yield Rejected(name, line, message_of(exc))
        return
    yield record
    replies = item.get("comments") if isinstance(item, Mapping) else None
    if isinstance(replies, Mapping) and isinstance(replies.get("data"), list):
        for reply in replies["data"]:
            yield from _graph_items(reply, name, line, options, parent=record.platform_id)


def _webhook_items(obj: Mapping[str, Any], name: str, line: int) -> Iterator[Item]:
    entries = obj.get("entry")
    if not isinstance(entries, list):
        yield Rejected(name, line, Reason("row.entries_not_list", "webhook 'entry' must be a list"))
        return
    for entry in entries:
        if not isinstance(entry, Mapping):
            yield Rejected(name, line, ENTRY_NOT_OBJECT)
            continue
        page_id = entry.get("id")
        for change in entry.get("changes") or []:
            if not isinstance(change, Mapping) or change.get("field") != "feed":
                continue
            try:
                record = from_facebook_change(
                    str(page_id) if page_id is not None else None,
                    change.get("value") or {},
                    source=f"file:{Path(name).name}",
                )
            except RowError as exc:
                yield Rejected(name, line, message_of(exc))
                continue
            if record is not None:
                yield record


def read_ndjson(raw: IO[bytes], name: str, options: ReadOptions) -> Iterator[Item]:
    bad_lines: set[int] = set()
    for number, line in enumerate(_decoded_lines(raw, options.encoding, bad_lines), start=1):
        if not line.strip():
            continue
        if number in bad_lines:
            yield Rejected(
                name,
                number,
                Reason("row.encoding", "not valid {encoding}", encoding=options.encoding),
            )
            continue
        if len(line) > MAX_TEXT_CHARS * 8:
            yield Rejected(
                name, number, Reason("row.line_too_long", "line is too long to be one comment")
            )
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Rejected(
                name,
                number,
                Reason(
                    "row.json",
                    "not valid JSON: {detail} at column {column}",
                    detail=exc.msg,
                    column=str(exc.colno),
                ),
            )
            continue
        yield from items_from_object(obj, name, number, options)


def read_json(raw: IO[bytes], name: str, options: ReadOptions) -> Iterator[Item]:
    """A top-level array streams element by element; a top-level object is read whole."""
    text_stream = io.TextIOWrapper(raw, encoding=options.encoding, errors="strict")
    buffer = ""
    line = 1
    eof = False

    def fill() -> bool:
        nonlocal buffer, eof
        if eof:
            return False
        try:
            chunk = text_stream.read(_CHUNK)
        except UnicodeDecodeError:
            raise ImportFormatError(
                Reason(
                    "file.encoding",
                    "{name}:{line}: not valid {encoding}; convert the file or pass --encoding",
                    name=name,
                    line=str(line),
                    encoding=options.encoding,
                )
            ) from None
        if not chunk:
            eof = True
            return False
        buffer += chunk
        return True

    def skip_ws() -> None:
        nonlocal buffer, line
        while True:
            stripped = buffer.lstrip(" \t\r\n\ufeff")
            line += buffer.count("\n", 0, len(buffer) - len(stripped))
            buffer = stripped
            if buffer or not fill():
                return

    skip_ws()
    if not buffer:
        return
    if buffer[0] == "{":
        while fill():
            if len(buffer) > MAX_JSON_OBJECT_BYTES:
                raise ImportFormatError(
                    Reason(
                        "file.json_too_large",
                        "{name}: JSON object larger than {megabytes} MB; use NDJSON",
                        name=name,
                        megabytes=MAX_JSON_OBJECT_BYTES // 2**20,
                    )
                )
        try:
            obj = json.loads(buffer)
        except json.JSONDecodeError as exc:
            raise ImportFormatError(
                Reason(
                    "file.json",
                    "{name}:{line}: not valid JSON: {detail} (truncated file?)",
                    name=name,
                    line=str(exc.lineno),
                    detail=exc.msg,
                )
            ) from None
        yield from items_from_object(obj, name, 1, options)
        return
    if buffer[0] != "[":
        raise ImportFormatError(
            Reason(
                "file.json_shape",
                "{name}:{line}: expected a JSON array or object",
                name=name,
                line=str(line),
            )
        )
    buffer = buffer[1:]
    decoder = json.JSONDecoder()
    while True:
        skip_ws()
        if not buffer:
            yield Rejected(
                name,
                line,
                Reason("row.json_unclosed", "file ends before the closing ']' (truncated file?)"),
            )
            return
        if buffer[0] == "]":
            return
        if buffer[0] == ",":
            buffer = buffer[1:]
            continue
        while True:
            try:
                obj, end = decoder.raw_decode(buffer)
                break
            except json.JSONDecodeError as exc:
                if len(buffer) > MAX_JSON_OBJECT_BYTES or not fill():
                    yield Rejected(
                        name,
                        line,
                        Reason(
                            "row.json_truncated",
                            "not valid JSON: {detail} (truncated file?)",
                            detail=exc.msg,
                        ),
                    )
                    return
        yield from items_from_object(obj, name, line, options)
        line += buffer.count("\n", 0, end)
        buffer = buffer[end:]


READERS: dict[str, Callable[[IO[bytes], str, ReadOptions], Iterator[Item]]] = {
    "csv": read_csv,
    "json": read_json,
    "ndjson": read_ndjson,
    "text": read_text,
}


def read_stream(
    raw: IO[bytes] | io.RawIOBase,
    name: str,
    fmt: str | None = None,
    options: ReadOptions | None = None,
) -> Iterator[Item]:
    """Items from an open binary stream; ``fmt`` is guessed when not given."""
    options = options or ReadOptions()
    buffered: io.BufferedReader = (
        raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
    )
    wide = wide_encoding(buffered.peek(4096)[:4096], options.encoding)
    if wide is not None:
        buffered = io.BufferedReader(TranscodedReader(buffered, *wide))
        options = replace(options, encoding="utf-8")
    head = buffered.peek(4096)[:4096]
    if b"\r" in head and b"\n" not in head:
        buffered = io.BufferedReader(_CarriageReturnLines(buffered))
    elif b"\n" not in head and len(head) == 4096:  # a first line longer than the head
        buffered = io.BufferedReader(_CarriageReturnLines(buffered, decided=False))
    if fmt is None:
        fmt = guess_format(Path(name), head)
    if fmt not in READERS:
        raise ImportFormatError(
            Reason(
                "file.format",
                "unknown format {format}; use one of {formats}",
                format=repr(fmt),
                formats=", ".join(FORMATS),
            )
        )
    yield from READERS[fmt](buffered, name, options)
