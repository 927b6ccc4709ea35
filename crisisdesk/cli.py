"""The ``crisisdesk`` command: a thin adapter that parses options, builds a Desk and calls it."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from crisisdesk import __version__
from crisisdesk.commands import DataDir, finish_import, rejected_line
from crisisdesk.i18n import cli_language, grouped, say, say_or, say_reason

app = typer.Typer(
    help="crisisdesk: a crisis desk for the people who run social media pages.\n\n"
    "Triage comments, see a flame coming, check who is behind it, cool down, reply like a person.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Database chores.", no_args_is_help=True)
user_app = typer.Typer(help="Manage the people who sign in to the desk.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")


def _desk(data_dir: Path | None, **overrides: Any) -> Any:
    from crisisdesk.desk import Desk
    from crisisdesk.settings import Settings

    try:
        settings = Settings({"data_dir": str(data_dir) if data_dir else None, **overrides})
    except ValueError as exc:
        _fail(say_reason(exc))
    desk = Desk(settings)
    try:
        desk.upgrade()
    except OSError as exc:  # the data directory cannot be made: a file in the way, no permission
        _fail(say("data_dir.unusable", path=settings.data_path, error=exc.strerror or exc))
    return desk


def _check_zone(desk: Any) -> None:
    """The web pages write dates in the ``timezone`` setting: refuse a bad one before the server
    starts, in the reader's words, rather than with the web app's traceback."""
    from crisisdesk.settings import display_zone

    try:
        display_zone(str(desk.settings.timezone))
    except ValueError as exc:
        _fail(say_reason(exc))


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(say("error", message=message), err=True)
    raise typer.Exit(code)


def _ready_analyzer(load: Callable[[], Any]) -> Any:
    """The analyser ``load`` builds, with its model files read now: a backend, a model directory
    or a shipped model file that cannot be used is refused here, in the reader's words, before
    any result is written (the transformers backend would read its files on the first batch)."""
    try:
        analyzer = load()
        analyzer.analyze_many([])
    except (ValueError, RuntimeError, OSError) as exc:  # unknown backend, missing extra, bad file
        _fail(say_reason(exc))
    return analyzer


def _column_map(columns: list[str]) -> dict[str, str]:
    from crisisdesk.ingest.normalise import CANONICAL_FIELDS, OPTIONAL_FIELDS

    mapping: dict[str, str] = {}
    for spec in columns:
        canonical, sep, theirs = spec.partition("=")
        if not sep or not canonical or not theirs:
            _fail(say("column.syntax", spec=repr(spec)))
        if canonical not in CANONICAL_FIELDS + OPTIONAL_FIELDS:
            _fail(say("column.unknown", name=repr(canonical), fields=", ".join(CANONICAL_FIELDS)))
        mapping[canonical] = theirs
    return mapping


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit(0)


@app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="Files to import (CSV, JSON, NDJSON, text).")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="csv, json, ndjson or text (default: guessed per file)."),
    ] = None,
    column: Annotated[
        list[str],
        typer.Option(
            "--column",
            help="Map a header of yours to a canonical field: --column text=message. Repeatable.",
        ),
    ] = [],  # noqa: B006 - typer needs a literal default
    platform: Annotated[
        str, typer.Option(help="Platform the ids belong to (facebook, instagram, ...).")
    ] = "import",
    page: Annotated[str | None, typer.Option(help="Page for rows that do not name one.")] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of the files.")] = "utf-8",
    data_dir: DataDir = None,
) -> None:
    """Import comments. The same comment twice is one row; edits keep history.

    Exit codes: 0 all rows imported; 3 some rows rejected (each on stderr as FILE:LINE: reason,
    the good rows kept); 2 nothing usable.

    Canonical CSV columns: id,page,post_id,parent_id,author_id,author_name,created_at,text
    (only id, created_at and text are required; permalink and post_permalink, the comment's and
    its post's web addresses, and post_message, the post's text, are optional). JSON may be an
    array of such objects, a Graph API comment listing or a page webhook payload.
    """
    from crisisdesk.desk import ImportReport
    from crisisdesk.ingest.readers import FORMATS, ImportFormatError, ReadOptions

    if fmt is not None and fmt not in FORMATS:
        _fail(say("format.one_of", formats=", ".join(FORMATS)))
    try:
        options = ReadOptions(
            platform=platform, page=page, column_map=_column_map(column), encoding=encoding
        )
    except ImportFormatError as exc:
        _fail(say_reason(exc))
    desk = _desk(data_dir)
    # Read now, or a model file that cannot be used would stop the import half-way, unexplained.
    _ready_analyzer(lambda: desk.analyzer)
    report = ImportReport()
    show_progress = sys.stderr.isatty()
    for path in files:
        if not path.is_file():
            report.errors.append(say("no_such_file", path=path))
            continue
        if show_progress:
            from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                transient=True,
                # Refreshed from the import's own progress calls, not by a thread: a large
                # import forks an analysis worker, which is only safe single-threaded.
                auto_refresh=False,
            ) as progress:
                task = progress.add_task(path.name, total=path.stat().st_size)
                desk.import_file(
                    path,
                    fmt=fmt,
                    options=options,
                    report=report,
                    on_progress=lambda n, task=task: progress.update(
                        task, completed=n, refresh=True
                    ),
                )
        else:
            desk.import_file(path, fmt=fmt, options=options, report=report)
    finish_import(report, "import.summary", summary_to_stderr=True)


@app.command()
def analyze(
    file: Annotated[
        Path,
        typer.Argument(help="Comments: plain text (one a line) or any import format; - for stdin."),
    ],
    output: Annotated[str, typer.Option("--format", help="table, jsonl or csv.")] = "table",
    lang: Annotated[str, typer.Option(help="Language hint (it, en, ...); auto detects.")] = "auto",
    input_format: Annotated[
        str | None, typer.Option("--input-format", help="Input format if not guessed.")
    ] = None,
    column: Annotated[list[str], typer.Option("--column", help="As for import.")] = [],  # noqa: B006
    encoding: Annotated[str, typer.Option(help="Text encoding of the file.")] = "utf-8",
) -> None:
    """Analyse comments without a database: one result per comment, in input order."""
    from crisisdesk.analysis import load_analyzer
    from crisisdesk.ingest.readers import ImportFormatError, ReadOptions, read_stream
    from crisisdesk.ingest.record import Rejected
    from crisisdesk.settings import Settings

    if output not in ("table", "jsonl", "csv"):
        _fail(say("analyze.format"))
    try:
        settings = Settings()
    except ValueError as exc:
        _fail(say_reason(exc))
    options_kw: dict[str, Any] = {}
    if settings.sentiment_model:
        options_kw["sentiment_model"] = settings.sentiment_model
    if settings.toxicity_model:
        options_kw["toxicity_model"] = settings.toxicity_model
    analyzer = _ready_analyzer(lambda: load_analyzer(settings.analyzer, **options_kw))
    hint = None if lang == "auto" else lang
    try:
        options = ReadOptions(column_map=_column_map(column), encoding=encoding)
    except ImportFormatError as exc:
        _fail(say_reason(exc))
    name = "<stdin>" if str(file) == "-" else str(file)
    fmt = input_format or ("text" if str(file) == "-" else None)
    out = sys.stdout
    writer: Any = None
    rejected = 0
    emitted = 0
    if output == "table":
        from crisisdesk.analysis.base import KINDS, SENTIMENTS
        from crisisdesk.commands import web_word
        from crisisdesk.web.i18n import number

        lang = cli_language()
        # The web desk's words; the widths fit every name of the language, since rows stream.
        sentiments = {s: web_word(f"sentiment.{s}") for s in SENTIMENTS}
        kinds = {k: web_word(f"kind.{k}") for k in KINDS}
        s_width = max([9, *map(len, sentiments.values())])
        k_width = max([10, *map(len, kinds.values())])

    def flush(batch: list[Any]) -> None:
        nonlocal writer, emitted
        if not batch:
            return
        results = analyzer.analyze_many([r.text for r in batch], [hint] * len(batch))
        for record, result in zip(batch, results, strict=True):
            row = {"id": record.platform_id, "text": record.text, **result.to_dict()}
            emitted += 1
            if output == "jsonl":
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            elif output == "csv":
                flat = {
                    k: (json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v)
                    for k, v in row.items()
                }
                if writer is None:
                    writer = csv.DictWriter(out, fieldnames=list(flat))
                    writer.writeheader()
                writer.writerow(flat)
            else:
                text = record.text.replace("\n", " ")
                text = text if len(text) <= 48 else text[:47] + "…"
                sentiment = sentiments.get(result.sentiment, result.sentiment)
                kind = kinds.get(result.kind, result.kind)
                offensive, irony = number(result.offensive, lang, 2), number(result.irony, lang, 2)
                out.write(
                    f"{result.language:<3} {sentiment:<{s_width}} off={offensive} "
                    f"iro={irony} {kind:<{k_width}} {text}\n"
                )

    try:
        raw = sys.stdin.buffer if name == "<stdin>" else file.open("rb")
    except OSError as exc:
        _fail(f"{file}: {exc.strerror or exc}")
    batch: list[Any] = []
    try:
        for item in read_stream(raw, name, fmt, options):
            if isinstance(item, Rejected):
                rejected += 1
                typer.echo(rejected_line(item), err=True)
                continue
            batch.append(item)
            if len(batch) >= 512:
                flush(batch)
                batch = []
        flush(batch)
    except ImportFormatError as exc:
        _fail(say_reason(exc))
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()
    if emitted == 0:
        raise typer.Exit(2)
    raise typer.Exit(3 if rejected else 0)


@app.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Counts of pages, posts, comments, authors, alerts and cases."""
    counts = _desk(data_dir).stats()
    if as_json:
        typer.echo(json.dumps(counts))
    else:
        lang = cli_language()
        labels = {key: say_or(f"stats.{key}", key) for key in counts}
        width = max([10, *(len(label) + 1 for label in labels.values())])
        for key, value in counts.items():
            typer.echo(f"{labels[key]:<{width}} {grouped(value, lang)}")


@app.command()
def reanalyze(
    page: Annotated[
        str | None, typer.Option("--page", help="Only this page (its platform id).")
    ] = None,
    everything: Annotated[
        bool,
        typer.Option("--all", help="Read every comment again, not only those of older models."),
    ] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Comments analysed and committed together.")
    ] = 1000,
    data_dir: DataDir = None,
) -> None:
    """Read the stored comments again with the current analyser.

    Run it after upgrading crisisdesk or changing the analyzer or model settings. Only comments
    read by another model version are redone (--all redoes them all); history is kept, no case
    is opened and no rule runs. Interrupted, it continues where it stopped when run again.
    """
    desk = _desk(data_dir)
    _ready_analyzer(lambda: desk.analyzer)

    def progress(so_far: Any) -> None:
        typer.echo(
            say("reanalyze.examined", examined=so_far.examined, reanalysed=so_far.reanalysed),
            err=True,
        )

    try:
        report = desk.reanalyze(
            page, everything=everything, batch_size=batch_size, on_progress=progress
        )
    except LookupError as exc:
        _fail(say_reason(exc))
    if report.up_to_date:
        typer.echo(say("reanalyze.up_to_date", examined=report.examined, version=report.version))
        return
    summary = say(
        "reanalyze.summary",
        reanalysed=report.reanalysed,
        examined=report.examined,
        kind_changed=report.kind_changed,
        sentiment_changed=report.sentiment_changed,
    )
    if report.replaced:
        lang = cli_language()
        summary += say(
            "reanalyze.replaced",
            versions=", ".join(f"{v} ({grouped(n, lang)})" for v, n in report.replaced.items()),
        )
    typer.echo(summary)


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """Create the database or migrate it to the current schema."""
    from crisisdesk import store

    desk = _desk(data_dir)
    typer.echo(say("db.revision", revision=store.current_revision(desk.engine)))


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="The name to sign in with.")],
    display_name: Annotated[
        str | None, typer.Option("--name", help="Name shown to colleagues.")
    ] = None,
    role: Annotated[str, typer.Option(help="member or admin.")] = "member",
    language: Annotated[str | None, typer.Option(help="Interface language: it or en.")] = None,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            help="Prefer the prompt or CRISISDESK_PASSWORD: a password on the command line "
            "lands in shell history.",
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Create a user who can sign in to `crisisdesk serve`."""
    if role not in ("member", "admin"):
        _fail(say("user.role"))
    secret = password or os.environ.get("CRISISDESK_PASSWORD")
    if not secret:
        if not sys.stdin.isatty():
            _fail(say("user.password_needed"))
        secret = typer.prompt(
            say("user.password_prompt"), hide_input=True, confirmation_prompt=True
        )
    desk = _desk(data_dir)
    try:
        desk.add_user(username, secret, display_name=display_name, role=role, language=language)
    except ValueError as exc:
        _fail(say_reason(exc))
    typer.echo(say("user.created", username=username))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: DataDir = None,
    webhook_worker: Annotated[
        bool,
        typer.Option(
            help="With webhooks configured (CRISISDESK_FACEBOOK_APP_SECRET), ingest their "
            "deliveries in a second process, so acknowledgements never wait for analysis."
        ),
    ] = True,
) -> None:
    """Run the web desk (sign-in required; create users with `crisisdesk user add`)."""
    import subprocess

    import uvicorn

    from crisisdesk.web.app import create_app

    desk = _desk(data_dir)
    if desk.settings.secret_is_placeholder():
        _fail(say("serve.secret"))
    _check_zone(desk)
    worker = None
    if webhook_worker and desk.settings.facebook_app_secret.reveal():
        # The same command a user could run by hand; it inherits the environment (settings).
        worker = subprocess.Popen(
            [sys.executable, "-m", "crisisdesk", "webhook-worker", "--data-dir",
             str(desk.settings.data_path)]
        )  # fmt: skip
    try:
        uvicorn.run(create_app(desk), host=host, port=port, log_level="info")
    finally:
        if worker is not None:
            worker.terminate()  # deliveries not yet ingested wait in the spool for the next start
            worker.wait(timeout=10)


@app.command()
def demo(
    host: Annotated[
        str, typer.Option(help="Address (the demo signs you in: loopback only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    replay: Annotated[
        Path | None,
        typer.Option(help="Replay your own export (CSV/JSON) instead of the built-in scenario."),
    ] = None,
    speed: Annotated[
        float, typer.Option(help="How many times faster than real time the flame unfolds.")
    ] = 60.0,
    column: Annotated[
        list[str], typer.Option("--column", help="As for import, with --replay.")
    ] = [],  # noqa: B006
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Where to keep the demo database (default: a new temporary directory).",
        ),
    ] = None,
    open_browser: Annotated[bool, typer.Option("--open/--no-open", help="Open a browser.")] = False,
) -> None:
    """Start the desk on a fresh database and replay a crisis so you can watch it work."""
    import ipaddress
    import secrets
    import tempfile

    import uvicorn

    from crisisdesk.demo import DemoRunner
    from crisisdesk.web.app import create_app

    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        _fail(say("demo.loopback"))
    if replay is not None and not replay.is_file():
        _fail(say("no_such_file", path=replay))
    directory = data_dir or Path(tempfile.mkdtemp(prefix="crisisdesk-demo-"))
    if data_dir is not None and (directory / "crisisdesk.sqlite").exists():
        (directory / "crisisdesk.sqlite").unlink()
    desk = _desk(directory, secret_key=secrets.token_urlsafe(32))
    _check_zone(desk)
    runner = DemoRunner(desk, replay=replay, speed=speed, column_map=_column_map(column))
    runner.prepare()
    url = f"http://{host}:{port}/"
    typer.echo(say("demo.started", url=url, directory=directory), err=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    web = create_app(desk, demo_user=runner.demo_username, on_startup=runner.start)
    uvicorn.run(web, host=host, port=port, log_level="warning")
    runner.stop()


def _register_command_modules() -> None:
    """Each capability keeps its commands in ``crisisdesk/commands/<name>.py`` with a
    ``register(app)`` function; importing them is cheap because they import lazily inside."""
    import importlib
    import pkgutil

    import crisisdesk.commands

    for info in sorted(pkgutil.iter_modules(crisisdesk.commands.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"crisisdesk.commands.{info.name}")
        module.register(app)


_register_command_modules()


def main() -> None:
    app(prog_name="crisisdesk")
