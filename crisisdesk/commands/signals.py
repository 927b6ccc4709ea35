"""Commands for the flame early warning: ``crisisdesk spikes`` and ``crisisdesk alerts``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from crisisdesk.commands import DataDir, web_word
from crisisdesk.i18n import cli_language, say


class SeriesError(ValueError):
    """A malformed row in a ``timestamp,value`` file, as ``FILE:LINE: reason``."""


def read_series(fh: TextIO, name: str) -> Iterator[tuple[str, datetime, float]]:
    """Rows of a NAB-format file: the timestamp as written, parsed, and the value.

    Timestamps must not go backwards: the detector is streaming and reads rows in order.
    """
    import csv

    reader = csv.reader(fh)
    try:
        header = next(reader)
    except StopIteration:
        raise SeriesError(say("series.empty", name=name)) from None
    cols = [h.strip().lower() for h in header]
    if "timestamp" not in cols or "value" not in cols:
        raise SeriesError(say("series.header", name=name, header=repr(header)))
    ti, vi = cols.index("timestamp"), cols.index("value")
    previous: datetime | None = None
    for row in reader:
        # A line number as a string: it is a position, not a count to group in thousands.
        line = str(reader.line_num)
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) <= max(ti, vi):
            raise SeriesError(
                say("series.columns", name=name, line=line, expected=len(cols), got=len(row))
            )
        raw_t, raw_v = row[ti].strip(), row[vi].strip()
        try:
            at = datetime.fromisoformat(raw_t)
        except ValueError:
            raise SeriesError(
                say("series.timestamp", name=name, line=line, value=repr(raw_t))
            ) from None
        if at.tzinfo is not None:
            at = at.astimezone(UTC).replace(tzinfo=None)
        try:
            value = float(raw_v)
        except ValueError:
            raise SeriesError(
                say("series.not_number", name=name, line=line, value=repr(raw_v))
            ) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise SeriesError(say("series.not_finite", name=name, line=line, value=repr(raw_v)))
        if previous is not None and at < previous:
            raise SeriesError(say("series.backwards", name=name, line=line, value=raw_t))
        previous = at
        yield raw_t, at, value


def register(app: typer.Typer) -> None:
    _register_flame(app)

    @app.command()
    def spikes(
        file: Annotated[
            Path, typer.Argument(help="A timestamp,value CSV (NAB format); - for stdin.")
        ],
        weekly: Annotated[
            bool, typer.Option(help="Learn a rhythm per weekday and hour, not per hour only.")
        ] = False,
        transform: Annotated[
            str, typer.Option(help="raw, sqrt or log: the scale on which counts are compared.")
        ] = "raw",
    ) -> None:
        """Score a count series for unusual rises; writes timestamp,value,anomaly_score.

        Streaming: each row's score uses that row and the rows before it only. Exit codes: 0 done;
        2 a malformed row (FILE:LINE: reason on stderr; rows before it were written).
        """
        from crisisdesk.cli import _fail
        from crisisdesk.signals.spikes import TRANSFORMS, SpikeDetector

        if transform not in TRANSFORMS:
            _fail(
                say("spikes.transform", transforms=", ".join(TRANSFORMS), transform=repr(transform))
            )
        detector = SpikeDetector(weekly=weekly, transform=transform)
        name = "<stdin>" if str(file) == "-" else str(file)
        try:
            fh = sys.stdin if name == "<stdin>" else file.open(encoding="utf-8", newline="")
        except OSError as exc:
            _fail(f"{file}: {exc.strerror or exc}")
        out = sys.stdout
        out.write("timestamp,value,anomaly_score\n")
        try:
            for raw_t, at, value in read_series(fh, name):
                x = {"timestamp": at, "value": value}
                score = detector.score_one(x)
                detector.learn_one(x)
                shown = int(value) if value.is_integer() else value
                out.write(f"{raw_t},{shown},{score:.6f}\n")
        except SeriesError as exc:
            out.flush()
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        except UnicodeDecodeError:
            out.flush()
            _fail(say("not_utf8", path=name))
        finally:
            if fh is not sys.stdin:
                fh.close()

    @app.command()
    def alerts(
        page: Annotated[int | None, typer.Option(help="Only this page (its numeric id).")] = None,
        limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
        data_dir: DataDir = None,
    ) -> None:
        """Flame alerts: when, where, level and why."""
        from crisisdesk.cli import _desk, _fail
        from crisisdesk.signals.alerts import alert_dicts

        if limit < 1:
            _fail(say("alerts.limit"))
        desk = _desk(data_dir)
        try:
            rows = alert_dicts(desk, page_id=page, limit=limit)
        finally:
            desk.close()
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            typer.echo(say("alerts.none"))
            return
        width = _level_width()
        for row in rows:
            typer.echo(_table_row(row, width))


def _register_flame(app: typer.Typer) -> None:
    @app.command()
    def flame(
        rebuild: Annotated[
            bool,
            typer.Option(
                "--rebuild",
                help="Replay the stored comments in event-time order first, coordination "
                "included (after importing history out of order: newest first, or one page "
                "after another).",
            ),
        ] = False,
        page: Annotated[
            int | None, typer.Option(help="Only this page (its numeric id), with --rebuild.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
        data_dir: DataDir = None,
    ) -> None:
        """The flame level of every page now (calm, watch, flame, crisis)."""
        from crisisdesk.cli import _desk
        from crisisdesk.signals.flame import monitor_for

        desk = _desk(data_dir)
        try:
            monitor = monitor_for(desk)
            if rebuild:
                pages = [page] if page is not None else None
                # the coordination networks are replayed alongside: the level reads their score
                written = monitor.rebuild(pages)
                typer.echo(say("flame.rebuilt", written=written), err=True)
            rows = [
                {
                    "page_id": p.id,
                    "page_name": p.name,
                    "level": monitor.level_of(p.id),
                    "heat": round(monitor.heat_of(p.id), 3),
                }
                for p in desk.pages()
            ]
        finally:
            desk.close()
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        from crisisdesk.web.i18n import number

        lang, width = cli_language(), _level_width()
        for row in rows:
            level, heat = _level_name(row["level"]), number(row["heat"], lang, 2)
            typer.echo(f"{level:<{width}} {heat}  {row['page_name']}")


def _level_name(level: str) -> str:
    return web_word(f"level.{level}")


def _level_width() -> int:
    """The level column's width: the longest level name of the language, so lines align."""
    from crisisdesk.signals.flame import LEVELS

    return max([7, *(len(_level_name(level)) for level in LEVELS)])


def _table_row(row: dict[str, Any], width: int) -> str:
    where = row["page_name"] + (
        say("alerts.post", post=row.get("post") or row["post_id"]) if row.get("post_id") else ""
    )
    evidence = row.get("evidence") or {}
    # The flame monitor stores its reasons in English and as reasons_<lang> for other readers.
    said = evidence.get(f"reasons_{cli_language()}")
    reasons = "; ".join(said or row.get("reasons") or [])
    level = _level_name(row["level"])
    return f"{row['at'][:16].replace('T', ' ')}  {level:<{width}} {where:<30} {reasons}"
