"""Commands of the platform connectors: connect accounts, sync them, replay the webhook spool,
import the exports people already have."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from crisisdesk.commands import DataDir, finish_import, rejected_line, web_word
from crisisdesk.i18n import DEFAULT_LANGUAGE, cli_language, say, say_reason

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from crisisdesk.connectors.accounts import FetchStatus

connect_app = typer.Typer(
    help="Connect a platform account (the token is checked, then stored encrypted).",
    no_args_is_help=True,
)


def _fail(message: str, code: int = 2) -> NoReturn:
    from crisisdesk.cli import _fail as fail

    fail(message, code)


def _open_desk(data_dir: Path | None) -> Any:
    from crisisdesk.cli import _desk

    return _desk(data_dir)


def _refusal(reason: str | None, english: str, detail: str | None) -> str:
    """Why an account was not connected or not fetched. English keeps the connector's own
    sentence, which names the field or the command; other languages say it with the Connections
    page's words, then the platform's (which only the platform can translate)."""

    if cli_language() == DEFAULT_LANGUAGE or not reason:
        return english
    text = web_word(f"connections.error.{reason}")
    if detail:
        text += f" {web_word('connections.error.platform_said')} {detail}"
    return text


def _refused(exc: Any) -> NoReturn:
    """Say why an account was not connected (a ``ConnectRefused``), and exit."""
    _fail(_refusal(getattr(exc, "reason", None), str(exc), getattr(exc, "detail", None)))


def _ask(given: str | None, key: str, *, hide: bool = False, default: str | None = None) -> str:
    """``given`` if the option was passed, else the answer to the prompt under catalog ``key``.

    Prompted here rather than by ``typer.Option(prompt=...)``: that text is fixed when the module
    is imported, before the environment of the run says which language to speak.
    """
    if given is not None:
        return given
    answer: str = typer.prompt(say(key), default=default, hide_input=hide, show_default=False)
    return answer


def _report(connected: Any) -> None:
    typer.echo(
        say(
            "connect.report",
            platform=connected.platform,
            account=connected.account_id,
            name=connected.name,
        )
    )


@connect_app.command("facebook")
def connect_facebook(
    page_id: Annotated[
        str | None, typer.Option(help="The Facebook page's id.", show_default=False)
    ] = None,
    page_token: Annotated[
        str | None, typer.Option(help="A page access token.", show_default=False)
    ] = None,
    app_id: Annotated[
        str | None, typer.Option(help="Your Meta app's id.", show_default=False)
    ] = None,
    app_secret: Annotated[
        str,
        typer.Option(
            help="Meta app secret (default CRISISDESK_FACEBOOK_APP_SECRET); used for "
            "appsecret_proof and to verify webhooks.",
            show_default=False,
        ),
    ] = "",
    data_dir: DataDir = None,
) -> None:
    """Connect a Facebook page: checks the token (GET /me, /{page-id}, /me/permissions)."""
    from crisisdesk.connectors.accounts import ConnectRefused, connect_facebook, require_token_key

    page_id = _ask(page_id, "connect.page_id_prompt")
    page_token = _ask(page_token, "connect.page_token_prompt", hide=True)
    app_id = _ask(app_id, "connect.app_id_prompt", default="")
    desk = _open_desk(data_dir)
    try:
        require_token_key(desk)
    except ConnectRefused as exc:
        _refused(exc)
    secret = app_secret or desk.settings.facebook_app_secret.reveal()
    if not secret and sys.stdin.isatty():
        secret = typer.prompt(
            say("connect.app_secret_prompt"), default="", hide_input=True, show_default=False
        )
    try:
        connected = connect_facebook(desk, page_id, page_token, app_id=app_id, app_secret=secret)
    except ConnectRefused as exc:
        _refused(exc)
    typer.echo(
        say("connect.token_works", speaker=connected.speaker, name=connected.name, page=page_id)
    )
    if connected.missing:
        typer.echo(say("connect.missing", permissions=", ".join(connected.missing)), err=True)
    _report(connected)
    if not desk.settings.facebook_app_secret:
        typer.echo(say("connect.webhook_hint"), err=True)


@connect_app.command("instagram")
def connect_instagram(
    account_id: Annotated[
        str | None, typer.Option(help="The professional account's id.", show_default=False)
    ] = None,
    token: Annotated[
        str | None, typer.Option(help="A token for the account.", show_default=False)
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Connect an Instagram professional account through the same Meta app."""
    from crisisdesk.connectors.accounts import ConnectRefused, connect_instagram

    account_id = _ask(account_id, "connect.instagram_id_prompt")
    token = _ask(token, "connect.access_token_prompt", hide=True)
    try:
        _report(connect_instagram(_open_desk(data_dir), account_id, token))
    except ConnectRefused as exc:
        _refused(exc)


@connect_app.command("bluesky")
def connect_bluesky(
    handle: Annotated[
        str | None, typer.Option(help="e.g. shop.bsky.social", show_default=False)
    ] = None,
    app_password: Annotated[
        str | None, typer.Option(help="Settings → App passwords.", show_default=False)
    ] = None,
    service: Annotated[str, typer.Option(help="The account's PDS.")] = "https://bsky.social",
    data_dir: DataDir = None,
) -> None:
    """Connect a Bluesky account with an app password."""
    from crisisdesk.connectors.accounts import ConnectRefused, connect_bluesky

    handle = _ask(handle, "connect.handle_prompt")
    app_password = _ask(app_password, "connect.app_password_prompt", hide=True)
    try:
        _report(connect_bluesky(_open_desk(data_dir), handle, app_password, service=service))
    except ConnectRefused as exc:
        _refused(exc)


@connect_app.command("mastodon")
def connect_mastodon(
    base_url: Annotated[
        str | None, typer.Option(help="e.g. https://mastodon.social", show_default=False)
    ] = None,
    token: Annotated[
        str | None, typer.Option(help="Preferences → Development.", show_default=False)
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Connect a Mastodon account with an access token."""
    from crisisdesk.connectors.accounts import ConnectRefused, connect_mastodon

    base_url = _ask(base_url, "connect.server_prompt")
    token = _ask(token, "connect.access_token_prompt", hide=True)
    try:
        _report(connect_mastodon(_open_desk(data_dir), base_url, token))
    except ConnectRefused as exc:
        _refused(exc)


def _progress(label: str) -> Any:
    """A counter that rewrites one progress line on a terminal (and prints nothing otherwise)."""
    tty = sys.stderr.isatty()
    count = 0

    def tap(items: Any) -> Any:
        nonlocal count
        for item in items:
            count += 1
            if tty and count % 50 == 0:
                typer.echo(
                    "\r" + say("sync.progress", label=label, count=count), nl=False, err=True
                )
            yield item
        if tty:
            typer.echo("\r" + say("sync.progress", label=label, count=count), err=True)

    return tap


def _when(value: str | None, option: str) -> datetime | None:
    """The date or time of ``option``, or a refusal naming the option, in the reader's words."""
    from crisisdesk.connectors.facebook import parse_when

    if not value:
        return None
    try:
        return parse_when(value)
    except ValueError as exc:
        _fail(f"{option}: {say_reason(exc)}")


def _sync_once(
    desk: Any, rows: list[Any], http: Any, start: Any, end: Any, lookback: Any
) -> tuple[int, int, int]:
    """Fetch each connection once; how many failed, how many were fetched, and how many were
    skipped because another process is fetching them."""
    from crisisdesk.connectors.accounts import sync_connection

    failures = 0
    synced = 0
    skipped = 0
    for row in rows:
        outcome = sync_connection(
            desk, row, http, since=start, until=end, lookback=lookback, tap=_progress, source="cli"
        )
        if outcome.running is not None:
            # Two syncs from cron overlapping, or "Fetch now" on the web: the other one is
            # reading this account right now, and a second reader would only spend the
            # platform's rate limit on the same comments. sync_connection looked and claimed
            # in one step, so two runs starting together cannot both get here for one account.
            source = say(f"connections.source.{outcome.running.source}")
            typer.echo(say("sync.busy", label=outcome.label, source=source), err=True)
            skipped += 1
            continue
        if not outcome.ok:
            failures += 1
            # As the Connections page says a failed fetch: its words for the reason, then the
            # platform's own (or, for a missing token key, the desk's help on setting it).
            error = _refusal(outcome.reason, outcome.error or "", outcome.error)
            failed = say("sync.failed", label=outcome.label, error=error)
            typer.echo(say("error", message=failed), err=True)
            continue
        synced += 1
        report = outcome.report
        for rejected in report.rejected:
            typer.echo(rejected_line(rejected), err=True)
        typer.echo(
            say(
                "sync.summary",
                label=outcome.label,
                inserted=report.inserted,
                updated=report.updated,
                unchanged=report.unchanged,
                rejected=len(report.rejected),
            )
        )
        if report.rejected:
            failures += 1
    return failures, synced, skipped


def _last_fetch(last: FetchStatus | None, zone: ZoneInfo) -> str:
    """One line's worth on a connection's last recorded fetch (or the one running now, from here
    or the web), in the desk's time zone."""
    if last is None:
        return say("connections.never_fetched")
    if last.finished_at is None:
        return say(
            "connections.fetching",
            when=last.started_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
            source=say(f"connections.source.{last.source}"),
        )
    if last.reason:
        # The platform's words may span lines; a listing keeps one account per line.
        error = " ".join((last.error or "").split())
        # English names the reason's code beside the connector's own sentence; other languages
        # say the reason with the Connections page's words, as that page does
        reason = last.reason
        if cli_language() != DEFAULT_LANGUAGE:
            reason = web_word(f"connections.error.{last.reason}")
        # an interrupted fetch has no words of its own beyond its reason
        key = "connections.fetch_failed" if error else "connections.fetch_failed_bare"
        outcome = say(key, reason=reason, error=error)
    else:
        outcome = say(
            "connections.fetch_counts",
            inserted=last.inserted,
            updated=last.updated,
            unchanged=last.unchanged,
            rejected=last.rejected,
        )
    return say(
        "connections.last_fetch",
        when=last.finished_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        source=say(f"connections.source.{last.source}"),
        outcome=outcome,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(connect_app, name="connect")

    @app.command("connections")
    def connections(data_dir: DataDir = None) -> None:
        """List connected accounts (tokens are never shown), with their last fetch (or the one
        running now) and a warning when fetching has not worked for a day or failed three times
        in a row."""
        from crisisdesk.connectors.accounts import fetch_healths
        from crisisdesk.connectors.store import load_connections
        from crisisdesk.settings import display_zone

        desk = _open_desk(data_dir)
        try:
            zone = display_zone(str(desk.settings.timezone))
        except ValueError as exc:
            _fail(say_reason(exc))
        rows = load_connections(desk)
        if not rows:
            typer.echo(say("connections.none"))
        healths = fetch_healths(desk, [row.id for row in rows])
        for row in rows:
            cursor = f" cursor={row.cursor}" if row.cursor else ""
            # Added after the fields scripts already read, tab-separated like them.
            health = healths[row.id]
            extra = [_last_fetch(health.last, zone)]
            extra += [
                say("connections.failing", count=health.failures_in_a_row)
                if warning == "failing"
                else say("connections.stale")
                for warning in health.warnings
            ]
            typer.echo(
                "\t".join([row.platform, row.account_id, f"{row.name or ''}{cursor}", *extra])
            )

    @app.command("disconnect")
    def disconnect(
        platform: Annotated[str, typer.Argument(help="facebook, instagram, bluesky or mastodon")],
        account_id: Annotated[str, typer.Argument(help="The account id shown by `connections`.")],
        data_dir: DataDir = None,
    ) -> None:
        """Forget a connection and its token."""
        from crisisdesk.connectors.store import delete_connection

        desk = _open_desk(data_dir)
        if not delete_connection(desk, platform, account_id):
            _fail(say("disconnect.unknown", platform=platform, account=account_id))
        typer.echo(say("disconnect.done", platform=platform, account=account_id))

    @app.command("sync")
    def sync(
        since: Annotated[
            str | None, typer.Option(help="Backfill from this date or time (ISO), Meta platforms.")
        ] = None,
        until: Annotated[str | None, typer.Option(help="Backfill up to this date or time.")] = None,
        lookback_days: Annotated[
            int,
            typer.Option(
                help="Backfill looks for new comments on posts published up to this many days "
                "before --since; 0 looks at every post (one request per post at least).",
                min=0,
            ),
        ] = 90,
        platform: Annotated[str | None, typer.Option(help="Only this platform.")] = None,
        account: Annotated[str | None, typer.Option(help="Only this account id.")] = None,
        every: Annotated[
            int,
            typer.Option(
                help="Repeat every N seconds (polling Bluesky and Mastodon); 0 runs once.", min=0
            ),
        ] = 0,
        data_dir: DataDir = None,
    ) -> None:
        """Fetch comments from connected accounts: backfill for Facebook and Instagram (the
        comments written in the time range, on posts up to --lookback-days older), new replies and
        mentions since the last run for Bluesky and Mastodon. Everything goes through the one
        ingest path, so re-running is harmless; an account another process is fetching right now
        is skipped.

        Exit codes: 0 all synced (or skipped); 3 some accounts or rows failed; 2 nothing synced."""
        from crisisdesk.connectors.store import (
            load_connections,
            new_http_client,
        )

        start = _when(since, "--since")
        end = _when(until, "--until")
        desk = _open_desk(data_dir)
        rows = [
            r
            for r in load_connections(desk, platform)
            if account is None or r.account_id == account
        ]
        if not rows:
            _fail(say("sync.none"))
        failures = 0
        synced = 0
        skipped = 0
        with new_http_client() as http:
            while True:
                lookback = timedelta(days=lookback_days) if lookback_days else None
                failures, synced, skipped = _sync_once(desk, rows, http, start, end, lookback)
                if not every:
                    break
                time.sleep(every)
                rows = [
                    r
                    for r in load_connections(desk, platform)
                    if account is None or r.account_id == account
                ]
        if synced == 0 and not skipped:
            raise typer.Exit(2)
        if failures:
            raise typer.Exit(3)

    @app.command("webhook-replay")
    def webhook_replay(data_dir: DataDir = None) -> None:
        """Process webhook deliveries waiting in the spool (the server does this on start)."""
        from crisisdesk.connectors.webhook import processor_for

        desk = _open_desk(data_dir)
        processor = processor_for(desk)
        try:
            done = processor.drain()
        except Exception as exc:  # the store refused every delivery: they stay in the spool
            # Why, in the reader's words when a layer below said it with a reason (a model file
            # that cannot be read); a database's own words stay as it wrote them.
            _fail(say("webhook.refused", error=say_reason(exc)))
            return
        typer.echo(say("webhook.replayed", done=done, rejected=processor.rejected))

    @app.command("webhook-worker")
    def webhook_worker(
        poll: Annotated[
            float, typer.Option(help="Seconds between looks at the spool.", min=0.05)
        ] = 0.2,
        data_dir: DataDir = None,
    ) -> None:
        """Process webhook deliveries in this process, continuously (Ctrl-C stops), so that analysis
        does not share a process (and its GIL) with the web server: acknowledgements stay fast.
        While it runs, web servers on the same data directory only spool and acknowledge."""
        from crisisdesk.connectors.webhook import processor_for

        desk = _open_desk(data_dir)
        processor = processor_for(desk)
        processor.poll_seconds = poll
        typer.echo(say("webhook.worker_start", spool=processor.spool.incoming), err=True)
        try:
            processor.run_forever()
        except RuntimeError as exc:
            _fail(say_reason(exc))
        typer.echo(say("webhook.worker_done", processed=processor.processed), err=True)

    @app.command("import-export")
    def import_export(
        files: Annotated[
            list[Path],
            typer.Argument(
                help="Facebook 'Download your information' comment files (JSON) or CSV exports "
                "of social media tools (see docs/exports.md)."
            ),
        ],
        page: Annotated[
            str | None, typer.Option(help="The page the comments belong to (its id or name).")
        ] = None,
        timezone: Annotated[
            str | None,
            typer.Option(
                help="Time zone of the times the file writes without one (tools use the zone "
                "chosen when exporting), e.g. Europe/Rome. Default: the desk's timezone setting."
            ),
        ] = None,
        data_dir: DataDir = None,
    ) -> None:
        """Import the exports people already have. Exit codes as `crisisdesk import`."""
        from crisisdesk.connectors.exports import ExportError, read_export
        from crisisdesk.desk import ImportReport
        from crisisdesk.reasons import message_of
        from crisisdesk.settings import display_zone

        desk = _open_desk(data_dir)
        try:
            zone = display_zone(timezone if timezone is not None else desk.settings.timezone)
        except ValueError as exc:
            _fail(say_reason(exc))
        report = ImportReport()
        with desk.importing_history():
            for path in files:
                try:
                    with path.open("rb") as raw:
                        desk.ingest(read_export(raw, str(path), page=page, zone=zone), report)
                except OSError as exc:
                    report.errors.append(f"{path}: {exc.strerror or exc}")
                except ExportError as exc:
                    report.errors.append(message_of(exc))
        finish_import(report, "import_export.summary", summary_to_stderr=False)
