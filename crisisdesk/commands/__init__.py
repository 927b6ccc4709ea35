"""Commands of each capability. Every module here has ``register(app: typer.Typer) -> None``,
which ``crisisdesk.cli`` calls at start-up; keep imports inside the command functions."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from crisisdesk.desk import ImportReport
    from crisisdesk.ingest.record import Rejected
    from crisisdesk.workflow.cases import WorkflowError

# The --data-dir option every command that opens the desk takes; declared once, here, because
# annotations are resolved in each command module's globals and crisisdesk.cli imports them.
DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Where the database and state live (default ./crisisdesk-data, or CRISISDESK_DATA_DIR).",
        show_default=False,
    ),
]


def web_word(key: str) -> str:
    """The web desk's word for ``key`` (``level.flame``, ``state.cooling``) in the command line's
    language: read from the web's catalogs, so the terminal and the pages name a thing alike."""
    from crisisdesk.i18n import cli_language
    from crisisdesk.web.i18n import translator

    return translator(cli_language())(key)


def workflow_refusal(exc: "WorkflowError") -> str:
    """A refusal of the workflow in the command line's language, in the web desk's words for it
    (its catalog keeps them under the workflow's English sentence, so the two cannot drift); a
    refusal the web has no words for stays as the workflow wrote it."""
    from crisisdesk.i18n import cli_language
    from crisisdesk.web.i18n import translate_message

    return translate_message(exc.message, cli_language())


def rejected_line(rejected: "Rejected") -> str:
    """A rejected row as ``FILE:LINE: reason``, the reason in the reader's language (its English
    form, kept in the report, is what the API and the logs show)."""
    from crisisdesk.i18n import say_reason

    return f"{rejected.source}:{rejected.line}: {say_reason(rejected.reason)}"


def finish_import(report: "ImportReport", summary: str, *, summary_to_stderr: bool) -> NoReturn:
    """Print an import's errors and rejected rows (stderr) and its counts under the catalog
    key ``summary``, then exit with the report's code (0, 3 or 2)."""
    from crisisdesk.i18n import say, say_reason

    for error in report.errors:
        typer.echo(say("error", message=say_reason(error)), err=True)
    for rejected in report.rejected:
        typer.echo(rejected_line(rejected), err=True)
    counts = say(
        summary,
        inserted=report.inserted,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=len(report.rejected),
    )
    typer.echo(counts, err=summary_to_stderr)
    raise typer.Exit(report.exit_code)
