"""Turning loosely shaped rows (CSV, JSON, platform payloads) into :class:`CommentRecord`.

One function per shape, all ending in the same checks, so a comment's id, time and text are
validated the same way whatever door it came through.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from crisisdesk.ingest.links import web_link
from crisisdesk.ingest.record import (
    MAX_ID_CHARS,
    MAX_NAME_CHARS,
    MAX_POST_MESSAGE_CHARS,
    MAX_TEXT_CHARS,
    VERBS,
    CommentRecord,
)
from crisisdesk.reasons import Reason

CANONICAL_FIELDS = (
    "id",
    "page",
    "post_id",
    "parent_id",
    "author_id",
    "author_name",
    "created_at",
    "text",
)
REQUIRED_FIELDS = ("id", "created_at", "text")
# Accepted beside the canonical ones, so an export of the desk can be imported back as it is.
OPTIONAL_FIELDS = (
    "platform",
    "page_name",
    "verb",
    "is_hidden",
    "permalink",
    "post_permalink",
    "post_message",
)


class RowError(ValueError):
    """A row that cannot be used; the message is shown to the user after ``FILE:LINE:``.

    It is raised with a :class:`~crisisdesk.reasons.Reason`, so that the rejected row's English
    reason stays what the API and the logs show while the command line can say it in the
    reader's language."""


def parse_time(value: Any) -> datetime:
    """Parse the timestamps found in exports and platform payloads, always to aware UTC.

    >>> parse_time("2015-02-24 11:35:52 -0800").isoformat()
    '2015-02-24T19:35:52+00:00'
    >>> parse_time(1700000000).isoformat()
    '2023-11-14T22:13:20+00:00'
    >>> parse_time("2024-05-01T10:00:00+0000").isoformat()
    '2024-05-01T10:00:00+00:00'
    """
    if isinstance(value, bool) or value is None:
        raise RowError(Reason("row.time_missing", "created_at is missing"))
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    text = str(value).strip()
    if not text:
        raise RowError(Reason("row.time_missing", "created_at is missing"))
    if text.lstrip("-").replace(".", "", 1).isdigit():
        return _from_epoch(float(text))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise RowError(
            Reason(
                "row.time_format",
                "created_at is not a date and time: {value}",
                value=repr(text[:40]),
            )
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _from_epoch(seconds: float) -> datetime:
    # Millisecond timestamps are common in exports; no comment predates 2001 in seconds.
    if seconds > 1e11:
        seconds /= 1000.0
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise RowError(
            Reason("row.time_range", "created_at is out of range: {value}", value=repr(seconds))
        ) from None


def _clean_id(value: Any, field: str, *, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RowError(Reason("row.missing", "{field} is missing", field=field))
        return None
    if isinstance(value, Mapping):
        raise RowError(Reason("row.not_string", "{field} must be a string or number", field=field))
    text = str(value).strip()
    if len(text) > MAX_ID_CHARS:
        raise RowError(
            Reason(
                "row.id_too_long",
                "{field} is longer than {limit} characters",
                field=field,
                limit=MAX_ID_CHARS,
            )
        )
    if any(ord(ch) < 32 for ch in text):
        raise RowError(
            Reason("row.control_characters", "{field} contains control characters", field=field)
        )
    return text


def _clean_text(value: Any, *, required: bool) -> str:
    if value is None:
        if required:
            raise RowError(Reason("row.missing", "{field} is missing", field="text"))
        return ""
    if not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        else:
            raise RowError(Reason("row.text_not_string", "text must be a string"))
    if len(value) > MAX_TEXT_CHARS:
        raise RowError(
            Reason(
                "row.text_too_long",
                "text is longer than {limit} characters ({length})",
                limit=MAX_TEXT_CHARS,
                length=len(value),
            )
        )
    # NUL bytes break PostgreSQL text columns and are never meaningful in a comment.
    return value.replace("\x00", "")


def _clean_name(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:MAX_NAME_CHARS] or None


def clean_post_message(value: Any) -> str | None:
    """A post's text as the desk keeps it: stripped, without NUL bytes, cut to
    :data:`~crisisdesk.ingest.record.MAX_POST_MESSAGE_CHARS`; ``None`` when there is none.

    A value that is not text is dropped rather than the comment refused: the post's text only
    helps people recognise the post.

    >>> clean_post_message("  New opening hours\\n"), clean_post_message(" "), clean_post_message({})
    ('New opening hours', None, None)
    >>> len(clean_post_message("x" * 50_000))
    2000
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").strip()
    return text[:MAX_POST_MESSAGE_CHARS].rstrip() or None


def _parse_bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes"}:
        return True
    if text in {"0", "false", "no"}:
        return False
    raise RowError(
        Reason(
            "row.is_hidden",
            "is_hidden must be true or false, got {value}",
            value=repr(str(value)[:20]),
        )
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def from_canonical(
    row: Mapping[str, Any],
    *,
    platform: str,
    source: str,
    default_page: str | None = None,
) -> CommentRecord:
    """A record from the canonical fields (CSV, JSON, NDJSON, the API)."""
    missing = [f for f in REQUIRED_FIELDS if row.get(f) in (None, "")]
    # An empty text is a real (if rare) comment only when the column is present.
    if "text" in missing and "text" in row and row["text"] == "":
        missing.remove("text")
    if missing:
        raise RowError(
            Reason("row.required", "missing required field(s): {fields}", fields=", ".join(missing))
        )
    verb = str(row.get("verb") or "add").strip().lower()
    if verb not in VERBS:
        raise RowError(Reason("row.verb", "verb must be one of {verbs}", verbs=", ".join(VERBS)))
    return CommentRecord(
        platform=_clean_id(row.get("platform"), "platform") or platform,
        platform_id=_clean_id(row.get("id"), "id", required=True) or "",
        created_at=parse_time(row.get("created_at")),
        text=_clean_text(row.get("text"), required=True),
        page=_clean_id(row.get("page"), "page") or default_page,
        page_name=_clean_name(row.get("page_name")),
        post_id=_clean_id(row.get("post_id"), "post_id"),
        parent_id=_clean_id(row.get("parent_id"), "parent_id"),
        author_id=_clean_id(row.get("author_id"), "author_id"),
        author_name=_clean_name(row.get("author_name")),
        verb=verb,  # checked against VERBS above
        is_hidden=_parse_bool(row.get("is_hidden")),
        source=source,
        # A link that is not a plain web address is dropped, not the comment: the link is extra.
        permalink=web_link(row.get("permalink")),
        post_permalink=web_link(row.get("post_permalink")),
        post_message=clean_post_message(row.get("post_message")),
    )


def from_plain_text(
    line: str,
    *,
    occurrence: int,
    received_at: datetime,
    platform: str,
    source: str,
    default_page: str | None,
) -> CommentRecord:
    """A record from one line of plain text.

    The id is derived from the text and how many times the same text came before it in the file,
    so importing the same file twice gives the same rows.
    """
    text = _clean_text(line, required=True)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
    return CommentRecord(
        platform=platform,
        platform_id=f"text-{digest}-{occurrence}",
        created_at=received_at,
        text=text,
        page=default_page,
        source=source,
    )


def from_graph_comment(
    item: Mapping[str, Any],
    *,
    page: str | None,
    post_id: str | None,
    parent_id: str | None = None,
    source: str = "graph",
) -> CommentRecord:
    """A record from one comment object of a Graph API listing (``GET /{object-id}/comments``),
    with its ``permalink_url`` when the listing asked for it."""
    if not isinstance(item, Mapping):
        raise RowError(Reason("row.comment_not_object", "a comment must be a JSON object"))
    author = _mapping(item.get("from"))
    parent = _mapping(item.get("parent"))
    hidden = item.get("is_hidden")
    return CommentRecord(
        platform="facebook",
        platform_id=_clean_id(item.get("id"), "id", required=True) or "",
        created_at=parse_time(item.get("created_time")),
        text=_clean_text(item.get("message"), required=False),
        page=page,
        post_id=post_id,
        parent_id=_clean_id(parent.get("id"), "parent.id") or parent_id,
        author_id=_clean_id(author.get("id"), "from.id"),
        author_name=_clean_name(author.get("name")),
        is_hidden=hidden if isinstance(hidden, bool) else None,
        source=source,
        permalink=web_link(item.get("permalink_url")),
    )


def from_facebook_change(
    page_id: str | None, value: Mapping[str, Any], *, source: str = "webhook"
) -> CommentRecord | None:
    """A record from one ``feed`` change of a page webhook; ``None`` for changes that are not
    about comments (posts, reactions)."""
    if not isinstance(value, Mapping):
        raise RowError(Reason("row.change_not_object", "change value must be a JSON object"))
    if value.get("item") != "comment":
        return None
    verb = str(value.get("verb") or "add")
    if verb not in VERBS:
        raise RowError(Reason("row.unknown_verb", "unknown verb {verb}", verb=repr(verb[:20])))
    author = _mapping(value.get("from"))
    post_id = _clean_id(value.get("post_id"), "post_id")
    parent_id = _clean_id(value.get("parent_id"), "parent_id")
    if parent_id == post_id:
        # Top-level comments name the post as their parent.
        parent_id = None
    hidden = value.get("is_hidden")
    # A comment change carries its post (``status_type``, ``permalink_url``, ``id``...) but no
    # link to the comment itself.
    post = _mapping(value.get("post"))
    if verb == "hide":
        hidden = True
    elif verb == "unhide":
        hidden = False
    return CommentRecord(
        platform="facebook",
        platform_id=_clean_id(value.get("comment_id"), "comment_id", required=True) or "",
        created_at=parse_time(value.get("created_time")),
        text=_clean_text(value.get("message"), required=False),
        page=page_id,
        post_id=post_id,
        parent_id=parent_id,
        author_id=_clean_id(author.get("id"), "from.id"),
        author_name=_clean_name(author.get("name")),
        verb=verb,
        is_hidden=hidden if isinstance(hidden, bool) else None,
        source=source,
        post_permalink=web_link(post.get("permalink_url")),
    )
