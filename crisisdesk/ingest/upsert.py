"""The one write path for comments: an idempotent, batched upsert.

Every source's records come here. A batch is one transaction: pages, posts and authors it mentions
are created if new, comments are inserted or updated by ``(platform, platform_id)``, new and changed
texts are analysed (one vectorised call per batch), and the analyses are stored with their model
version. Rules, applied in event time so that repeated and out-of-order deliveries are harmless:

- the same comment again with the same text changes nothing;
- a newer text replaces the current one and the old text goes to ``comment_revisions``; an older
  text arriving late is kept as a revision only;
- ``remove`` marks the comment removed (nothing is deleted) and later stale deliveries do not bring
  it back; ``hide``/``unhide`` apply only if newer than the last status change;
- a permalink (of the comment or of its post) is kept once known: a delivery without one, such as
  a webhook after a backfill, leaves it alone; a delivery with another one replaces it, since the
  platform's latest link is the one that opens. A post's text follows the same rule: a webhook
  carries none and must not erase what a backfill learnt, and the latest text is the post as it
  reads now.

SQLAlchemy Core is used instead of the ORM here because imports write tens of thousands of rows a
second and the unit of work's per-object bookkeeping would dominate.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    insert,
    or_,
    select,
    tuple_,
    update,
)

from crisisdesk.analysis.base import Analysis, Analyzer
from crisisdesk.ingest.record import CommentRecord
from crisisdesk.models import Analysis as AnalysisRow
from crisisdesk.models import Author, Comment, CommentRevision, Page, Post, utcnow

log = logging.getLogger(__name__)

DEFAULT_PAGE = "default"
# The columns of a post that deliveries fill in and may update, never clear.
POST_FACTS = ("permalink", "message")

# Mapped classes' tables, typed as Table for SQLAlchemy Core statements.
_pages: Table = Page.__table__  # type: ignore[assignment]
_posts: Table = Post.__table__  # type: ignore[assignment]
_authors: Table = Author.__table__  # type: ignore[assignment]
_comments: Table = Comment.__table__  # type: ignore[assignment]
_revisions: Table = CommentRevision.__table__  # type: ignore[assignment]
_analyses: Table = AnalysisRow.__table__  # type: ignore[assignment]


@dataclass
class Ingested:
    """What happened to one record, for the signals that run after the write."""

    comment_id: int
    record: CommentRecord
    page_id: int
    post_id: int | None
    author_id: int | None
    is_new: bool
    text_changed: bool
    first_time_author: bool
    analysis: Analysis | None
    # Older than its author's earliest comment known until this batch: the comment counted as
    # that author's first was not, so the first-time shares already computed from it are off
    # (history delivered out of order; see FlameMonitor.end_import).
    precedes_author: bool = False


@dataclass
class BatchResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    items: list[Ingested] = field(default_factory=list)


@dataclass
class _State:
    """The current row of a comment while a batch is applied to it."""

    id: int | None
    values: dict[str, Any]
    is_new: bool
    dirty: bool = False
    text_changed: bool = False
    revisions: list[dict[str, Any]] = field(default_factory=list)


def _chunks(items: Sequence[Any], size: int = 400) -> Iterable[Sequence[Any]]:
    # Keeps IN lists under SQLite's bound-parameter limit.
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Ingestor:
    """Writes batches of records; keeps small id caches for pages, posts and authors."""

    def __init__(self, engine: Engine, analyzer: Analyzer | None) -> None:
        self.engine = engine
        self.analyzer = analyzer
        self._page_ids: dict[tuple[str, str], int] = {}
        self._post_ids: dict[tuple[str, str], int] = {}
        # The permalink and text each known post has in the store, so a backfill repeating them
        # on every comment of a post costs no write.
        self._post_facts: dict[tuple[str, str], dict[str, str | None]] = {}

    def write(
        self, records: Sequence[CommentRecord], prefetched: dict[str, Analysis] | None = None
    ) -> BatchResult:
        """Write one batch in one transaction. ``prefetched`` holds analyses already computed
        for some texts (by :mod:`crisisdesk.ingest.prefetch`); the others are analysed here."""
        if not records:
            return BatchResult()
        try:
            with self.engine.begin() as conn:
                return self._write(conn, records, prefetched or {})
        except Exception:
            # Ids cached during a rolled-back transaction may not exist.
            self._page_ids.clear()
            self._post_ids.clear()
            self._post_facts.clear()
            raise

    # -- dimension rows -------------------------------------------------------------------

    def _page_map(
        self, conn: Connection, records: Sequence[CommentRecord]
    ) -> dict[tuple[str, str], int]:
        names: dict[tuple[str, str], str] = {}
        for r in records:
            key = (r.platform, r.page or DEFAULT_PAGE)
            if key not in self._page_ids:
                names.setdefault(key, r.page_name or r.page or "Imported comments")
        missing = list(names)
        for chunk in _chunks(missing):
            rows = conn.execute(
                select(_pages.c.id, _pages.c.platform, _pages.c.platform_id).where(
                    tuple_(_pages.c.platform, _pages.c.platform_id).in_(chunk)
                )
            )
            for row in rows:
                self._page_ids[(row.platform, row.platform_id)] = row.id
        to_insert = [k for k in missing if k not in self._page_ids]
        for platform, platform_id in to_insert:
            self._page_ids[(platform, platform_id)] = conn.execute(
                insert(_pages)
                .values(
                    platform=platform,
                    platform_id=platform_id,
                    name=names[(platform, platform_id)],
                    config={},
                    created_at=utcnow(),
                )
                .returning(_pages.c.id)
            ).scalar_one()
        return self._page_ids

    def _post_map(
        self, conn: Connection, records: Sequence[CommentRecord], pages: dict[tuple[str, str], int]
    ) -> dict[tuple[str, str], int]:
        wanted: dict[tuple[str, str], int] = {}
        # What this batch says about each post; a record without a link or a text says nothing.
        given: dict[tuple[str, str], dict[str, str]] = {}
        for r in records:
            if r.post_id:
                key = (r.platform, r.post_id)
                if key not in self._post_ids:
                    wanted.setdefault(key, pages[(r.platform, r.page or DEFAULT_PAGE)])
                for column, value in (("permalink", r.post_permalink), ("message", r.post_message)):
                    if value:
                        given.setdefault(key, {})[column] = value
        keys = list(wanted)
        for chunk in _chunks(keys):
            rows = conn.execute(
                select(
                    _posts.c.id,
                    _posts.c.platform,
                    _posts.c.platform_id,
                    *(_posts.c[column] for column in POST_FACTS),
                ).where(tuple_(_posts.c.platform, _posts.c.platform_id).in_(chunk))
            )
            for row in rows:
                self._post_ids[(row.platform, row.platform_id)] = row.id
                self._post_facts[(row.platform, row.platform_id)] = {
                    column: row._mapping[column] for column in POST_FACTS
                }
        for key in keys:
            if key not in self._post_ids:
                facts = {column: given.get(key, {}).get(column) for column in POST_FACTS}
                self._post_ids[key] = conn.execute(
                    insert(_posts)
                    .values(platform=key[0], platform_id=key[1], page_id=wanted[key], **facts)
                    .returning(_posts.c.id)
                ).scalar_one()
                self._post_facts[key] = facts
        for column in POST_FACTS:
            changed = [
                {"_id": self._post_ids[key], "value": told[column]}
                for key, told in given.items()
                if column in told and self._post_facts.get(key, {}).get(column) != told[column]
            ]
            if changed:
                conn.execute(
                    update(_posts)
                    .where(_posts.c.id == bindparam("_id"))
                    .values({column: bindparam("value")}),
                    changed,
                )
        for key, told in given.items():
            self._post_facts.setdefault(key, {}).update(told)
        return self._post_ids

    def _author_rows(
        self, conn: Connection, records: Sequence[CommentRecord]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        names: dict[tuple[str, str], str | None] = {}
        for r in records:
            if r.author_id:
                names[(r.platform, r.author_id)] = r.author_name or names.get(
                    (r.platform, r.author_id)
                )
        found: dict[tuple[str, str], dict[str, Any]] = {}
        keys = list(names)
        for chunk in _chunks(keys):
            rows = conn.execute(
                select(_authors).where(
                    tuple_(_authors.c.platform, _authors.c.platform_id).in_(chunk)
                )
            )
            for row in rows:
                found[(row.platform, row.platform_id)] = dict(row._mapping)
        missing = [key for key in keys if key not in found]
        if missing:
            # One multi-row insert, then one read back per chunk: a per-author INSERT ...
            # RETURNING costs a round trip each, and an import brings thousands of new authors.
            conn.execute(
                insert(_authors),
                [
                    {
                        "platform": key[0],
                        "platform_id": key[1],
                        "name": names[key],
                        "comment_count": 0,
                        "banned": False,
                    }
                    for key in missing
                ],
            )
            for chunk in _chunks(missing):
                rows = conn.execute(
                    select(_authors).where(
                        tuple_(_authors.c.platform, _authors.c.platform_id).in_(chunk)
                    )
                )
                for row in rows:
                    found[(row.platform, row.platform_id)] = dict(row._mapping)
        inserted = set(missing)
        for key in keys:
            if key not in inserted and names[key] and found[key]["name"] != names[key]:
                found[key]["name"] = names[key]
                found[key]["_renamed"] = True
        return found

    # -- comments -------------------------------------------------------------------------

    def _write(
        self,
        conn: Connection,
        records: Sequence[CommentRecord],
        prefetched: dict[str, Analysis],
    ) -> BatchResult:
        pages = self._page_map(conn, records)
        posts = self._post_map(conn, records, pages)
        authors = self._author_rows(conn, records)

        keys = list({(r.platform, r.platform_id) for r in records})
        states: dict[tuple[str, str], _State] = {}
        for chunk in _chunks(keys):
            for row in conn.execute(
                select(_comments).where(
                    tuple_(_comments.c.platform, _comments.c.platform_id).in_(chunk)
                )
            ):
                values = dict(row._mapping)
                states[(row.platform, row.platform_id)] = _State(
                    id=values["id"], values=values, is_new=False
                )

        result = BatchResult()
        touched: list[tuple[CommentRecord, _State]] = []
        for record in records:
            key = (record.platform, record.platform_id)
            page_id = pages[(record.platform, record.page or DEFAULT_PAGE)]
            post_id = posts.get((record.platform, record.post_id)) if record.post_id else None
            author = authors.get((record.platform, record.author_id)) if record.author_id else None
            state = states.get(key)
            if state is None:
                state = _State(
                    id=None, values=_new_values(record, page_id, post_id, author), is_new=True
                )
                state.text_changed = bool(record.text) and record.verb not in ("remove",)
                states[key] = state
            else:
                _apply(state, record, post_id, author)
            touched.append((record, state))

        to_analyse = [s for s in {id(s): s for _, s in touched}.values() if s.text_changed]
        analyses: dict[int, Analysis] = {}
        if self.analyzer is not None and to_analyse:
            missing = [s for s in to_analyse if s.values["text"] not in prefetched]
            fresh = (
                self.analyzer.analyze_many([s.values["text"] for s in missing]) if missing else []
            )
            computed = {id(s): a for s, a in zip(missing, fresh, strict=True)}
            results = [computed.get(id(s)) or prefetched[s.values["text"]] for s in to_analyse]
            for state, analysis in zip(to_analyse, results, strict=True):
                analyses[id(state)] = analysis
                state.values.update(analysis_columns(analysis))

        new_states = [s for s in {id(s): s for _, s in touched}.values() if s.is_new]
        if new_states:
            # A plain multi-row insert, then the ids read back by key: RETURNING with a
            # guaranteed order makes SQLAlchemy send one INSERT per row on SQLite.
            rows = [{k: v for k, v in s.values.items() if k != "id"} for s in new_states]
            conn.execute(insert(_comments), rows)
            by_key = {(s.values["platform"], s.values["platform_id"]): s for s in new_states}
            for chunk in _chunks(list(by_key)):
                for row in conn.execute(
                    select(_comments.c.id, _comments.c.platform, _comments.c.platform_id).where(
                        tuple_(_comments.c.platform, _comments.c.platform_id).in_(chunk)
                    )
                ):
                    state = by_key[(row.platform, row.platform_id)]
                    state.id = row.id
                    state.values["id"] = row.id
        changed = [s for s in {id(s): s for _, s in touched}.values() if not s.is_new and s.dirty]
        if changed:
            columns = (
                "text", "changed_at", "status", "status_changed_at", "removed_at", "post_id",
                "parent_platform_id", "author_id", "created_at", "language", "sentiment", "kind",
                "urgency", "permalink",
            )  # fmt: skip
            conn.execute(
                update(_comments)
                .where(_comments.c.id == bindparam("_id"))
                .values({c: bindparam(c) for c in columns}),
                [{"_id": s.id, **{c: s.values[c] for c in columns}} for s in changed],
            )
        revisions = [
            {"comment_id": s.id, **rev}
            for s in {id(s): s for _, s in touched}.values()
            for rev in s.revisions
        ]
        if revisions:
            revisions = _new_revisions_only(conn, revisions)
        if revisions:
            conn.execute(insert(_revisions), revisions)
        if analyses:
            conn.execute(
                insert(_analyses),
                [analysis_row(s.id, analyses[id(s)]) for s in to_analyse if s.id is not None],
            )
        first_time, earlier = self._update_authors(conn, touched, authors, new_states)
        self._link_parents(conn, new_states)

        seen: set[int] = set()
        for record, state in touched:
            assert state.id is not None
            is_first_report = id(state) not in seen
            seen.add(id(state))
            if state.is_new and is_first_report:
                result.inserted += 1
            elif state.dirty and is_first_report:
                result.updated += 1
            elif is_first_report:
                result.unchanged += 1
            result.items.append(
                Ingested(
                    comment_id=state.id,
                    record=record,
                    page_id=state.values["page_id"],
                    post_id=state.values["post_id"],
                    author_id=state.values["author_id"],
                    is_new=state.is_new and is_first_report,
                    text_changed=state.text_changed and is_first_report,
                    first_time_author=state.id in first_time,
                    analysis=analyses.get(id(state)) if is_first_report else None,
                    precedes_author=state.id in earlier,
                )
            )
        return result

    def _update_authors(
        self,
        conn: Connection,
        touched: list[tuple[CommentRecord, _State]],
        authors: dict[tuple[str, str], dict[str, Any]],
        new_states: list[_State],
    ) -> tuple[set[int], set[int]]:
        """Count new comments per author; return the ids of comments that are their author's
        first on our pages, and of those older than their author's earliest known comment."""
        by_id = {a["id"]: a for a in authors.values()}
        first_time: set[int] = set()
        earlier: set[int] = set()
        changed: dict[int, dict[str, Any]] = {
            a["id"]: a for a in authors.values() if a.pop("_renamed", False)
        }
        # Ties on the time are broken by the platform's id, not by the rows' order in the batch,
        # so that the same history delivered in another order marks the same comment as first.
        for state in sorted(
            new_states, key=lambda s: (s.values["created_at"], s.values["platform_id"])
        ):
            author_id = state.values["author_id"]
            if author_id is None:
                continue
            author = by_id[author_id]
            at = state.values["created_at"]
            assert state.id is not None
            if author["comment_count"] == 0:
                first_time.add(state.id)
            elif author["first_seen"] is not None and at < author["first_seen"]:
                earlier.add(state.id)
            author["comment_count"] += 1
            author["first_seen"] = (
                at if author["first_seen"] is None else min(author["first_seen"], at)
            )
            author["last_seen"] = (
                at if author["last_seen"] is None else max(author["last_seen"], at)
            )
            changed[author_id] = author
        if changed:
            conn.execute(
                update(_authors)
                .where(_authors.c.id == bindparam("_id"))
                .values(
                    name=bindparam("name"),
                    comment_count=bindparam("comment_count"),
                    first_seen=bindparam("first_seen"),
                    last_seen=bindparam("last_seen"),
                ),
                [
                    {
                        "_id": a["id"],
                        "name": a["name"],
                        "comment_count": a["comment_count"],
                        "first_seen": a["first_seen"],
                        "last_seen": a["last_seen"],
                    }
                    for a in changed.values()
                ],
            )
        return first_time, earlier

    def _link_parents(self, conn: Connection, new_states: list[_State]) -> None:
        """Fill ``parent_id`` for new replies whose parent is stored, and for stored replies whose
        parent just arrived."""
        if not new_states:
            return
        parent = _comments.alias("parent")
        new_ids = [s.id for s in new_states]
        new_platform_ids = [s.values["platform_id"] for s in new_states]
        lookup = (
            select(parent.c.id)
            .where(
                and_(
                    parent.c.platform == _comments.c.platform,
                    parent.c.platform_id == _comments.c.parent_platform_id,
                )
            )
            .scalar_subquery()
        )
        for ids, pids in zip(_chunks(new_ids), _chunks(new_platform_ids), strict=True):
            conn.execute(
                update(_comments)
                .where(
                    _comments.c.parent_id.is_(None),
                    _comments.c.parent_platform_id.is_not(None),
                    or_(_comments.c.id.in_(ids), _comments.c.parent_platform_id.in_(pids)),
                )
                .values(parent_id=lookup)
            )


def _new_values(
    record: CommentRecord, page_id: int, post_id: int | None, author: dict[str, Any] | None
) -> dict[str, Any]:
    status = "visible"
    if record.verb == "remove":
        status = "removed"
    elif record.verb == "hide" or record.is_hidden:
        status = "hidden"
    return {
        "platform": record.platform,
        "platform_id": record.platform_id,
        "page_id": page_id,
        "post_id": post_id,
        "parent_platform_id": record.parent_id,
        "parent_id": None,
        "author_id": author["id"] if author else None,
        "created_at": record.created_at,
        "changed_at": record.created_at,
        "received_at": utcnow(),
        "text": record.text,
        "status": status,
        "status_changed_at": record.created_at if status != "visible" else None,
        "removed_at": record.created_at if status == "removed" else None,
        "source": record.source[:32],
        "language": None,
        "sentiment": None,
        "kind": None,
        "urgency": 0.0,
        "triage": "new",
        "permalink": record.permalink,
    }


def _apply(
    state: _State, record: CommentRecord, post_id: int | None, author: dict[str, Any] | None
) -> None:
    v = state.values
    at = record.created_at
    # Fill what an earlier, thinner delivery did not know.
    for column, value in (
        ("post_id", post_id),
        ("parent_platform_id", record.parent_id),
        ("author_id", author["id"] if author else None),
    ):
        if value is not None and v[column] is None:
            v[column] = value
            state.dirty = True
    if record.permalink and record.permalink != v["permalink"]:
        v["permalink"] = record.permalink
        state.dirty = True
    if record.verb == "add" and at < v["created_at"]:
        v["created_at"] = at
        state.dirty = True

    if record.verb == "remove":
        if v["status"] != "removed":
            v["status"] = "removed"
            v["removed_at"] = at
            v["status_changed_at"] = at
            state.dirty = True
        return
    if record.verb in ("hide", "unhide") or record.is_hidden is not None:
        wanted = "hidden" if (record.verb == "hide" or record.is_hidden) else "visible"
        if record.verb == "unhide":
            wanted = "visible"
        last = v["status_changed_at"]
        if v["status"] != "removed" and (last is None or at >= last):
            # The newest decision wins, even one that changes nothing: an explicit unhide of a
            # visible comment must still outrank an older hide delivered after it. A snapshot
            # (``is_hidden`` on a listing) only counts when it changes the status, so that
            # fetching the same listing twice changes nothing.
            explicit = record.verb in ("hide", "unhide")
            if v["status"] != wanted or (explicit and last != at):
                v["status"] = wanted
                v["status_changed_at"] = at
                state.dirty = True
        if record.verb in ("hide", "unhide"):
            return
    if (
        v["status"] == "removed"
        and v["removed_at"] is not None
        and at <= v["removed_at"]
        and v["text"]
    ):
        return
    text = record.text
    if not text or text == v["text"]:
        return
    if not v["text"]:
        # A removal or a thin delivery came first; this is the first text we see.
        v["text"] = text
        state.dirty = state.text_changed = True
        return
    if at >= v["changed_at"]:
        state.revisions.append(
            {"text": v["text"], "valid_from": v["changed_at"], "replaced_at": at}
        )
        v["text"] = text
        v["changed_at"] = at
        state.dirty = state.text_changed = True
    elif not any(r["text"] == text for r in state.revisions):
        # An older text arriving late: history only (repeats are dropped before the insert).
        state.revisions.append({"text": text, "valid_from": at, "replaced_at": v["changed_at"]})


def _new_revisions_only(conn: Connection, revisions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop revisions already stored, so a repeated out-of-order delivery adds no history."""
    ids = list({r["comment_id"] for r in revisions})
    stored: set[tuple[int, str]] = set()
    for chunk in _chunks(ids):
        rows = conn.execute(
            select(_revisions.c.comment_id, _revisions.c.text).where(
                _revisions.c.comment_id.in_(chunk)
            )
        )
        stored.update((row.comment_id, row.text) for row in rows)
    fresh = []
    for rev in revisions:
        key = (rev["comment_id"], rev["text"])
        if key not in stored:
            stored.add(key)
            fresh.append(rev)
    return fresh


def analysis_columns(analysis: Analysis) -> dict[str, Any]:
    """The comment's own copy of its latest analysis: the inbox filters and sorts on these
    columns without a join. Import and :mod:`crisisdesk.ingest.reanalyze` both write them here."""
    return {
        "language": analysis.language,
        "sentiment": analysis.sentiment,
        "kind": analysis.kind,
        "urgency": analysis.urgency,
    }


def analysis_row(comment_id: int | None, analysis: Analysis) -> dict[str, Any]:
    """A row of ``analyses``: every reading is kept, readers take the latest by id."""
    return {
        "comment_id": comment_id,
        "model_version": analysis.model_version[:64],
        "created_at": utcnow(),
        "language": analysis.language,
        "sentiment": analysis.sentiment,
        "sentiment_scores": analysis.sentiment_scores,
        "offensive": analysis.offensive,
        "irony": analysis.irony,
        "question": analysis.question,
        "spam": analysis.spam,
        "kind": analysis.kind,
        "reasons": list(analysis.reasons),
    }
