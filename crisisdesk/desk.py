"""The Desk: the one core object that the CLI, the web app and the API adapt.

A Desk owns the settings, the store, the analysis pipeline and the signals that listen to ingest.
Adapters build one and call its methods; no SQL and no business rules live in route handlers or
CLI commands (the shape of Datasette's ``Datasette`` object).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, column, func, inspect, or_, select, table
from sqlalchemy.orm import Session, sessionmaker

from crisisdesk import store
from crisisdesk.analysis.base import Analyzer
from crisisdesk.ingest.readers import ImportFormatError, ReadOptions, read_stream
from crisisdesk.ingest.reanalyze import ReanalysisReport, reanalyze
from crisisdesk.ingest.record import CommentRecord, Rejected
from crisisdesk.ingest.upsert import BatchResult, Ingested, Ingestor
from crisisdesk.models import (
    Alert,
    Analysis,
    AuditEntry,
    Author,
    Case,
    Comment,
    CommentRevision,
    Page,
    Post,
    User,
    utcnow,
)
from crisisdesk.reasons import Reason, message_of
from crisisdesk.settings import Settings

log = logging.getLogger(__name__)

IngestListener = Callable[[Sequence[Ingested]], None]
# Files larger than this are imported with the analysis of the next batch in a second process.
PREFETCH_MIN_BYTES = 2_000_000


@dataclass
class ImportReport:
    """What an import did: counts, and every rejected row with where and why."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def add(self, result: BatchResult) -> None:
        self.inserted += result.inserted
        self.updated += result.updated
        self.unchanged += result.unchanged

    @property
    def exit_code(self) -> int:
        """0 all rows imported; 3 some rows rejected, the good ones kept; 2 nothing usable."""
        if self.accepted == 0:
            return 2
        if self.rejected or self.errors:
            return 3
        return 0


@dataclass
class InboxFilters:
    page: int | None = None
    kind: str | None = None
    sentiment: str | None = None
    language: str | None = None
    status: str | None = None
    q: str | None = None
    sort: str = "newest"  # newest | urgent


@dataclass
class InboxPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    total_hint: int | None = None


class Desk:
    """The crisis desk.

    >>> import tempfile
    >>> desk = Desk(Settings({"data_dir": tempfile.mkdtemp()}, environ={}))
    >>> desk.upgrade()
    >>> desk.stats()["comments"]
    0
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        analyzer: Analyzer | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._analyzer = analyzer
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._ingestor: Ingestor | None = None
        self.listeners: list[IngestListener] = []
        # The clock every workflow rule reads; tests move it instead of sleeping.
        self.clock: Callable[[], datetime] = utcnow
        # Platform connectors by (platform, page platform id), filled from stored connections.
        self.connectors: dict[tuple[str, str], Any] = {}
        self.notifier: Any = None
        self._search_table: bool | None = None
        self._connectors_installed = False

        from crisisdesk.signals.coordination import CoordinationMonitor
        from crisisdesk.signals.flame import FlameMonitor
        from crisisdesk.workflow.cases import Workflow
        from crisisdesk.workflow.moderation import Moderation
        from crisisdesk.workflow.rules import RulesEngine
        from crisisdesk.workflow.voucher_book import VoucherBook

        # The signals and the workflow, in the order each committed batch reaches them: the
        # flame level, which feeds the coordination networks comment by comment before it reads
        # their score (so the score is as of each comment, whatever the batch), then cases, then
        # the team's moderation rules (which may escalate a case).
        self.coordination = CoordinationMonitor(self, lazy=True)
        self.flame = FlameMonitor(self)
        self.flame.coordination_source = self.coordination.score
        self.flame.coordination_monitor = self.coordination
        self.workflow = Workflow(self, clock=lambda: self.clock())
        self.moderation = Moderation(self)
        self.vouchers = VoucherBook(self)
        self.rules = RulesEngine(self, coordination=self.coordination)
        self.listeners += [
            self.flame.on_ingested,
            self.workflow.on_ingested,
            self.rules.on_ingested,
        ]
        if self.settings.csv("webhook_urls") or self.settings.smtp_host:
            from crisisdesk.notify.dispatcher import Notifier

            self.notifier = Notifier(self.settings)

    # -- plumbing -------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = store.make_engine(self.settings.resolved_database_url)
        return self._engine

    def session(self) -> Session:
        if self._sessions is None:
            self._sessions = store.session_factory(self.engine)
        return self._sessions()

    @property
    def analyzer(self) -> Analyzer:
        """The analysis pipeline, loaded on first use (model files are not read at start-up)."""
        if self._analyzer is None:
            from crisisdesk.analysis import load_analyzer

            options: dict[str, Any] = {}
            if self.settings.sentiment_model:
                options["sentiment_model"] = self.settings.sentiment_model
            if self.settings.toxicity_model:
                options["toxicity_model"] = self.settings.toxicity_model
            self._analyzer = load_analyzer(self.settings.analyzer, **options)
        return self._analyzer

    def upgrade(self) -> None:
        """Create or migrate the schema to the current version."""
        store.upgrade(self.engine)

    def close(self) -> None:
        close_notifier = getattr(self.notifier, "close", None)
        if close_notifier is not None:
            close_notifier()
        if self._connectors_installed:
            from crisisdesk.connectors.store import close_connectors

            close_connectors(self)
        if self._engine is not None:
            self._engine.dispose()

    # -- ingest ---------------------------------------------------------------------------

    def ingest(
        self,
        items: Iterable[CommentRecord | Rejected],
        report: ImportReport | None = None,
        *,
        batch_size: int | None = None,
        prefetch: bool = False,
    ) -> ImportReport:
        """Write records through the one upsert path, a transaction per batch.

        A failing batch is reported and the import goes on: earlier batches stay committed and
        a re-run is harmless because the upsert is idempotent. ``prefetch`` analyses the next
        batch in a second process while this one is written (large imports on several cores).
        """
        report = report or ImportReport()
        size = batch_size or int(self.settings.import_batch_size)
        # The flame level reads its saved state before this process writes comments: read
        # after, the first batch's comments would look like ones the state missed, and their
        # pages would be replayed for nothing.
        self.flame.restore()
        if self._ingestor is None:
            self._ingestor = Ingestor(self.engine, self.analyzer)
        prefetcher = self._prefetcher() if prefetch else None
        in_flight: tuple[list[CommentRecord], list[str], Future[Any]] | None = None

        def write(batch: list[CommentRecord]) -> None:
            nonlocal in_flight, prefetcher
            future: Future[Any] | None = None
            texts: list[str] = []
            if prefetcher is not None:
                texts = list(
                    dict.fromkeys(r.text for r in batch if r.text and r.verb in ("add", "edited"))
                )
                try:
                    future = prefetcher.submit(texts)
                except Exception:  # the worker died: go on in this process
                    log.exception("analysis worker unavailable; analysing in this process")
                    prefetcher.close()
                    prefetcher = None
            if in_flight is not None:
                self._write_prefetched(*in_flight, report)
                in_flight = None
            if future is None:
                self._write_batch(batch, report)
            else:
                in_flight = (batch, texts, future)

        try:
            batch: list[CommentRecord] = []
            for item in items:
                if isinstance(item, Rejected):
                    report.rejected.append(item)
                    continue
                batch.append(item)
                if len(batch) >= size:
                    write(batch)
                    batch = []
            if batch:
                write(batch)
            if in_flight is not None:
                self._write_prefetched(*in_flight, report)
        finally:
            if prefetcher is not None:
                prefetcher.close()
        return report

    def _prefetcher(self) -> Any:
        """A worker process for analysis, when it can help and is safe: a second core, and no
        other thread in this process (see :mod:`crisisdesk.ingest.prefetch`)."""
        if (os.cpu_count() or 1) < 2 or threading.active_count() > 1:
            return None
        from crisisdesk.ingest.prefetch import AnalysisPrefetcher

        try:
            return AnalysisPrefetcher(self.analyzer)
        except (OSError, RuntimeError, ValueError):  # no fork here: analyse in-process
            log.warning("analysis worker unavailable; analysing in this process")
            return None

    def _write_prefetched(
        self,
        batch: list[CommentRecord],
        texts: list[str],
        future: Future[Any],
        report: ImportReport,
    ) -> None:
        from crisisdesk.ingest.prefetch import by_text

        try:
            prefetched = by_text(texts, future.result())
        except Exception:  # a dead worker costs speed, not comments
            # (and the next submit to a broken pool fails the same way, batch by batch)
            log.exception("analysis worker failed; analysing this batch in-process")
            prefetched = None
        self._write_batch(batch, report, prefetched)

    def _write_batch(
        self,
        batch: list[CommentRecord],
        report: ImportReport,
        prefetched: dict[str, Any] | None = None,
    ) -> None:
        result = self._ingestor.write(batch, prefetched)  # type: ignore[union-attr]
        report.add(result)
        for listener in self.listeners:
            try:
                listener(result.items)
            except Exception:  # a broken signal must never lose comments
                log.exception("ingest listener %r failed", listener)

    def import_file(
        self,
        path: Path,
        *,
        fmt: str | None = None,
        options: ReadOptions | None = None,
        report: ImportReport | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Import one file, streaming; ``on_progress`` receives the bytes read so far."""
        from crisisdesk.ingest.readers import CountingReader

        report = report or ImportReport()
        with self.importing_history():
            try:
                with path.open("rb") as raw:
                    counting = CountingReader(raw)
                    items = read_stream(counting, str(path), fmt, options)
                    if on_progress is not None:
                        items = _tap(items, lambda: on_progress(counting.bytes_read))
                    # A file worth a second process (the worker takes a second to start).
                    big = path.stat().st_size > PREFETCH_MIN_BYTES
                    self.ingest(items, report, prefetch=big)
            except ImportFormatError as exc:
                report.errors.append(message_of(exc))
            except OSError as exc:
                report.errors.append(f"{path}: {exc.strerror or exc}")
        return report

    @contextmanager
    def importing_history(self) -> Iterator[None]:
        """Ingest history in the block: a file, or a fetch from a platform. Either may deliver
        its comments in any order (newest first, grouped by page or post): at the end the flame
        levels and the coordination networks are settled in event-time order, so the alerts do
        not depend on the order of delivery, and only then are recent ones announced. Blocks
        may overlap, in one thread or several: the last to end settles them all (see
        FlameMonitor.begin_import and end_import).

        The block's history is what this thread ingests inside it. Other threads' batches
        (webhooks) are live: their alerts are announced at once, on every page, also while a
        long fetch is open. Other processes on the same store see the block open too, and treat
        their batches as this process treats its live ones."""
        self.flame.begin_import()
        try:
            yield
        finally:
            try:
                self.flame.end_import()
            except Exception:  # the comments are stored; a failed replay must not fail the import
                log.exception("flame and coordination replay after the import failed")

    def reanalyze(
        self,
        page: str | None = None,
        *,
        everything: bool = False,
        batch_size: int = 1000,
        on_progress: Callable[[ReanalysisReport], None] | None = None,
        actor: str = "cli",
    ) -> ReanalysisReport:
        """Read stored comments again with the current analyser (after a model or settings
        change); opens no case and runs no rule. See :mod:`crisisdesk.ingest.reanalyze`."""
        return reanalyze(
            self,
            page,
            everything=everything,
            batch_size=batch_size,
            on_progress=on_progress,
            actor=actor,
        )

    # -- reading --------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        with self.session() as s:
            return {
                "pages": s.scalar(select(func.count()).select_from(Page)) or 0,
                "posts": s.scalar(select(func.count()).select_from(Post)) or 0,
                "comments": s.scalar(select(func.count()).select_from(Comment)) or 0,
                "authors": s.scalar(select(func.count()).select_from(Author)) or 0,
                "alerts": s.scalar(select(func.count()).select_from(Alert)) or 0,
                "cases": s.scalar(select(func.count()).select_from(Case)) or 0,
            }

    def pages(self) -> list[Page]:
        with self.session() as s:
            return list(s.scalars(select(Page).order_by(Page.name)))

    def configure_page(
        self,
        platform: str,
        platform_id: str,
        *,
        name: str | None = None,
        language: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> Page:
        """Create or update a page the team manages; ``config`` keys are merged, and a key given
        as None is removed (the desk's default applies again)."""
        with self.session() as s, s.begin():
            page = s.scalars(
                select(Page).where(Page.platform == platform, Page.platform_id == platform_id)
            ).first()
            if page is None:
                page = Page(
                    platform=platform, platform_id=platform_id, name=name or platform_id, config={}
                )
                s.add(page)
            if name:
                page.name = name
            if language:
                page.language = language
            if config:
                merged = {**(page.config or {}), **config}
                page.config = {k: v for k, v in merged.items() if v is not None}
            s.flush()
            return page

    def facets(self) -> dict[str, list[str]]:
        """Values that the inbox filters offer."""
        with self.session() as s:
            languages = [v for v in s.scalars(select(Comment.language).distinct().limit(50)) if v]
        from crisisdesk.analysis.base import KINDS, SENTIMENTS

        return {
            "kind": list(KINDS),
            "sentiment": list(SENTIMENTS),
            "language": sorted(languages),
            "status": ["visible", "hidden", "removed"],
        }

    def inbox(
        self, filters: InboxFilters, *, cursor: str | None = None, limit: int | None = None
    ) -> InboxPage:
        """One page of the inbox, keyset-paginated so page 1,000 costs what page 1 costs.

        Each row carries its case's state (``case_state``, None without a case). In the urgent
        order, comments whose case is closed (replied, resolved, dismissed) come after all the
        open ones: a complaint settled weeks ago must not sit above tonight's crisis.
        """
        limit = limit or int(self.settings.page_size)
        query = (
            select(Comment, Author.name, Author.platform_id, Page.name, Case.state)
            .join(Page, Page.id == Comment.page_id)
            .outerjoin(Author, Author.id == Comment.author_id)
        )
        if filters.page:
            query = query.where(Comment.page_id == filters.page)
        if filters.kind:
            query = query.where(Comment.kind == filters.kind)
        if filters.sentiment:
            query = query.where(Comment.sentiment == filters.sentiment)
        if filters.language:
            query = query.where(Comment.language == filters.language)
        if filters.status:
            query = query.where(Comment.status == filters.status)
        if filters.q:
            query = query.where(self._search_condition(filters.q))
        if filters.sort == "urgent":
            rows, next_cursor = self._urgent_rows(query, cursor, limit)
        else:
            if cursor:
                t, i = _decode_cursor(cursor, 2)
                at = datetime.fromisoformat(t)
                query = query.where(
                    or_(Comment.created_at < at, (Comment.created_at == at) & (Comment.id < int(i)))
                )
            # cases.comment_id is unique: one index lookup per row shown, and the comments' own
            # index still drives the order.
            query = query.outerjoin(Case, Case.comment_id == Comment.id)
            query = query.order_by(Comment.created_at.desc(), Comment.id.desc()).limit(limit + 1)
            with self.session() as s:
                rows = list(s.execute(query).all())
            next_cursor = None
            if len(rows) > limit:
                last = rows[limit - 1][0]
                next_cursor = f"{last.created_at.isoformat()}|{last.id}"
        out = [
            {
                "comment": c,
                "author_name": author_name,
                "author_platform_id": author_pid,
                "page_name": page_name,
                "case_state": case_state,
            }
            for c, author_name, author_pid, page_name, case_state in rows[:limit]
        ]
        return InboxPage(rows=out, next_cursor=next_cursor)

    def _urgent_rows(
        self, query: Any, cursor: str | None, limit: int
    ) -> tuple[list[Any], str | None]:
        """The urgent order: open comments, then those of closed cases, each by urgency.

        Sorting on "is the case closed" in SQL would sort every matching comment for each page.
        Instead there are two keyset walks down the urgency index, the open comments first; once
        they run out the page is filled from the closed ones, which the database can reach from
        the cases table. The cursor says which walk it continues (``open|...`` or
        ``closed|...``).
        """
        from crisisdesk.workflow.cases import OPEN_STATES, STATES

        closed_states = [state for state in STATES if state not in OPEN_STATES]
        # Open: walk the urgency index, one lookup by the unique cases.comment_id per row.
        # Closed: few comments ever get a case, so start from the cases (indexed by state).
        open_query = query.outerjoin(Case, Case.comment_id == Comment.id).where(
            or_(Case.id.is_(None), Case.state.in_(OPEN_STATES))
        )
        closed_query = query.join(Case, Case.comment_id == Comment.id).where(
            Case.state.in_(closed_states)
        )
        walk, after = "open", None
        if cursor:
            parts = cursor.split("|")
            if len(parts) == 4 and parts[0] in ("open", "closed"):
                walk, after = parts[0], parts[1:]
            else:  # a cursor from before the closed cases sank continues the open walk
                after = _decode_cursor(cursor, 3)

        def page(q: Any, after: list[str] | None, n: int) -> list[Any]:
            if after:
                u, t, i = float(after[0]), datetime.fromisoformat(after[1]), int(after[2])
                q = q.where(
                    or_(
                        Comment.urgency < u,
                        (Comment.urgency == u) & (Comment.created_at < t),
                        (Comment.urgency == u) & (Comment.created_at == t) & (Comment.id < i),
                    )
                )
            order = (Comment.urgency.desc(), Comment.created_at.desc(), Comment.id.desc())
            with self.session() as s:
                return list(s.execute(q.order_by(*order).limit(n)).all())

        rows: list[Any] = []
        if walk == "open":
            rows = page(open_query, after, limit + 1)
            after = None
        if len(rows) <= limit:
            rows += page(closed_query, after, limit + 1 - len(rows))
        if len(rows) <= limit:
            return rows, None
        last, state = rows[limit - 1][0], rows[limit - 1][4]
        walk = "open" if state is None or state in OPEN_STATES else "closed"
        return rows, f"{walk}|{last.urgency}|{last.created_at.isoformat()}|{last.id}"

    def _search_condition(self, q: str) -> Any:
        """Case-insensitive substring match on the text and the author's name.

        Where the store has a search index (migration 0002: an FTS5 trigram table on SQLite, a
        trigram index on PostgreSQL) the text match uses it; the results are the same either way.
        """
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        by_author = Comment.author_id.in_(
            select(Author.id).where(Author.name.ilike(like, escape="\\"))
        )
        plain = like == f"%{q}%"
        if plain and len(q) >= 3 and self._has_search_table():
            # The trigram index serves LIKE patterns of three or more characters; it cannot take
            # an ESCAPE clause, hence only for queries without wildcard characters.
            search = table("comments_search", column("rowid"), column("text"))
            in_text = Comment.id.in_(select(search.c.rowid).where(search.c.text.like(like)))
        else:
            in_text = Comment.text.ilike(like, escape="\\")
        return or_(in_text, by_author)

    def _has_search_table(self) -> bool:
        if self._search_table is None:
            self._search_table = self.engine.dialect.name == "sqlite" and inspect(
                self.engine
            ).has_table("comments_search")
        return self._search_table

    def comment_view(self, comment_id: int) -> dict[str, Any] | None:
        """A comment with its latest analysis, its thread, its history and its author's history."""
        with self.session() as s:
            comment = s.get(Comment, comment_id)
            if comment is None:
                return None
            page = s.get(Page, comment.page_id)
            post = s.get(Post, comment.post_id) if comment.post_id else None
            author = s.get(Author, comment.author_id) if comment.author_id else None
            analysis = s.scalars(
                select(Analysis)
                .where(Analysis.comment_id == comment.id)
                .order_by(Analysis.id.desc())
                .limit(1)
            ).first()
            root = comment
            for _ in range(20):  # climb to the top of the thread, bounded against cycles
                if root.parent_id is None:
                    break
                parent = s.get(Comment, root.parent_id)
                if parent is None:
                    break
                root = parent
            thread = [root] + list(
                s.scalars(
                    select(Comment)
                    .where(Comment.parent_id == root.id)
                    .order_by(Comment.created_at, Comment.id)
                    .limit(200)
                )
            )
            if comment not in thread:
                thread.append(comment)
            revisions = list(
                s.scalars(
                    select(CommentRevision)
                    .where(CommentRevision.comment_id == comment.id)
                    .order_by(CommentRevision.valid_from)
                )
            )
            history: list[Comment] = []
            if author is not None:
                history = list(
                    s.scalars(
                        select(Comment)
                        .where(Comment.author_id == author.id, Comment.id != comment.id)
                        .order_by(Comment.created_at.desc())
                        .limit(50)
                    )
                )
            case = s.scalars(select(Case).where(Case.comment_id == comment.id)).first()
            return {
                "comment": comment,
                "page": page,
                "post": post,
                "author": author,
                "analysis": analysis,
                "thread": thread,
                "revisions": revisions,
                "author_history": history,
                "case": case,
            }

    def find_comment(self, platform_id: str, platform: str | None = None) -> Comment | None:
        with self.session() as s:
            query = select(Comment).where(Comment.platform_id == platform_id)
            if platform:
                query = query.where(Comment.platform == platform)
            return s.scalars(query.limit(1)).first()

    # -- collaborators ----------------------------------------------------------------------

    @property
    def connectors_loaded(self) -> bool:
        """Whether the stored connections were already turned into connectors in this process
        (a connection saved afterwards must then be installed by whoever saves it)."""
        return self._connectors_installed

    def load_connectors(self) -> None:
        """Turn the stored connections into connectors, once per process.

        Stored connections become connectors on first use, not at start-up: most commands never
        act on a platform and should not decrypt tokens."""
        if not self._connectors_installed:
            self._connectors_installed = True
            from crisisdesk.connectors.store import install_connectors

            install_connectors(self)

    def connector_for(self, page: Page) -> Any:
        """The connector that can act on ``page``'s platform, or None (act by hand)."""
        self.load_connectors()
        return self.connectors.get((page.platform, page.platform_id))

    def notify_escalation(
        self, case: Case, *, page_name: str, comment_text: str, note: str, topic: str | None
    ) -> None:
        if self.notifier is None:
            return
        from crisisdesk.notify.message import Notification

        url = (
            f"{self.settings.public_url.rstrip('/')}/comments/{case.comment_id}"
            if self.settings.public_url
            else None
        )
        self.notifier.notify(
            Notification(
                title=f"Escalated: {page_name}",
                text=f"Case {case.id} on {page_name} was escalated"
                + (f" to {case.responsible}" if case.responsible else "")
                + (f": {note}" if note else "")
                + f"\nComment: {comment_text[:280]}",
                level="escalation",
                url=url,
                episode_key=f"escalation:{case.id}:{utcnow().isoformat()}",
                kind="escalation",
                fields={"topic": topic or "", "responsible": case.responsible or ""},
            )
        )

    # -- users and audit ------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        password: str,
        *,
        display_name: str | None = None,
        role: str = "member",
        language: str | None = None,
    ) -> User:
        from crisisdesk.auth import hash_password, validate_password, validate_username

        validate_username(username)
        validate_password(password)
        with self.session() as s, s.begin():
            if s.scalars(select(User).where(User.username == username)).first():
                raise ValueError(
                    Reason("user.exists", "user {name} already exists", name=repr(username))
                )
            user = User(
                username=username,
                display_name=display_name or username,
                password_hash=hash_password(password),
                role=role,
                language=language,
            )
            s.add(user)
            s.add(
                AuditEntry(actor="cli", action="user.add", object_type="user", object_id=username)
            )
        return user

    def authenticate(self, username: str, password: str) -> User | None:
        from crisisdesk.auth import verify_password

        with self.session() as s:
            user = s.scalars(
                select(User).where(User.username == username, User.active.is_(True))
            ).first()
        if user is None:
            verify_password(None, password)  # same cost whether or not the user exists
            return None
        return user if verify_password(user.password_hash, password) else None

    def get_user(self, user_id: int) -> User | None:
        with self.session() as s:
            return s.get(User, user_id)

    def audit(
        self,
        action: str,
        *,
        actor: str,
        user_id: int | None = None,
        comment_id: int | None = None,
        object_type: str | None = None,
        object_id: str | None = None,
        reason: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        with self.session() as s, s.begin():
            s.add(
                AuditEntry(
                    at=utcnow(),
                    actor=actor,
                    user_id=user_id,
                    action=action,
                    comment_id=comment_id,
                    object_type=object_type,
                    object_id=object_id,
                    reason=reason,
                    detail=detail or {},
                )
            )

    def audit_entries(self, comment_id: int | None = None, limit: int = 500) -> list[AuditEntry]:
        with self.session() as s:
            query = (
                select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
            )
            if comment_id is not None:
                query = query.where(AuditEntry.comment_id == comment_id)
            return list(s.scalars(query))

    # -- API tokens -----------------------------------------------------------------------

    def create_token(self, name: str, *, user_id: int | None = None) -> str:
        """A new API token; only its hash is stored, so it is shown once."""
        import hashlib
        import secrets

        from crisisdesk.models import ApiToken

        if not name.strip():
            raise ValueError(Reason("token.no_name", "a token needs a name"))
        token = "cdk_" + secrets.token_urlsafe(32)
        with self.session() as s, s.begin():
            s.add(
                ApiToken(
                    name=name.strip()[:100],
                    token_hash=hashlib.sha256(token.encode()).hexdigest(),
                    user_id=user_id,
                )
            )
            s.add(
                AuditEntry(
                    actor="cli", action="token.create", object_type="token", object_id=name[:100]
                )
            )
        return token

    def check_token(self, token: str) -> Any:
        import hashlib

        from crisisdesk.models import ApiToken

        digest = hashlib.sha256(token.encode()).hexdigest()
        with self.session() as s, s.begin():
            row = s.scalars(
                select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked.is_(False))
            ).first()
            if row is not None:
                row.last_used_at = utcnow()
            return row


def _decode_cursor(cursor: str, parts: int) -> list[str]:
    values = cursor.split("|")
    if len(values) != parts:
        raise ValueError("bad cursor")
    return values


def _tap(items: Iterable[Any], callback: Callable[[], None], every: int = 500) -> Iterator[Any]:
    for n, item in enumerate(items, start=1):
        if n % every == 0:
            callback()
        yield item
    callback()
