"""Commands of the reply workflow: API tokens, cases and voucher redemption from a terminal."""

from __future__ import annotations

from typing import Annotated

import typer

from crisisdesk.commands import DataDir, web_word, workflow_refusal
from crisisdesk.i18n import cli_language, say, say_reason

# Refusals of a redemption the person can act on, said from the command line's catalog; others
# in the web desk's words, as any other refusal of the workflow.
_REDEEM_REFUSALS = frozenset({"already_redeemed", "expired", "not_found", "bad_code"})


def _state_key(typed: str) -> str:
    """The case state typed as its key or as its name in any interface language ("in pausa"),
    as the listing shows it; anything else is returned as typed, for the workflow to refuse."""
    from crisisdesk.web.i18n import CATALOGS
    from crisisdesk.workflow.cases import STATES
    from crisisdesk.workflow.rules import fold

    wanted = " ".join(fold(typed).split())
    for state in STATES:
        names = {state, *(c.get(f"state.{state}", "") for c in CATALOGS.values())}
        if wanted in {" ".join(fold(n).split()) for n in names if n}:
            return state
    return typed


def register(app: typer.Typer) -> None:
    token_app = typer.Typer(help="API tokens for the JSON API (/api/v1).", no_args_is_help=True)
    app.add_typer(token_app, name="token")

    @token_app.command("create")
    def token_create(
        name: Annotated[str, typer.Argument(help="What the token is for (a script, a tool).")],
        data_dir: DataDir = None,
    ) -> None:
        """Create an API token. It is printed once, on the last line; only its hash is stored.

        Clients send it as "Authorization: Bearer <token>".
        """
        from crisisdesk.cli import _desk, _fail

        desk = _desk(data_dir)
        try:
            token = desk.create_token(name)
        except ValueError as exc:
            _fail(say_reason(exc))
        finally:
            desk.close()
        typer.echo(say("token.created", name=repr(name.strip())))
        typer.echo(token)

    @app.command("cases")
    def cases(
        state: Annotated[str | None, typer.Option(help="Only cases in this state.")] = None,
        data_dir: DataDir = None,
    ) -> None:
        """List cases with both clocks, the nearest response target first."""
        from crisisdesk.cli import _desk, _fail
        from crisisdesk.workflow.cases import STATES, WorkflowError

        desk = _desk(data_dir)
        try:
            rows = desk.workflow.cases(state=None if state is None else _state_key(state))
        except WorkflowError as exc:
            if exc.code == "bad_state":
                _fail(
                    say("cases.bad_state", states=", ".join(web_word(f"state.{s}") for s in STATES))
                )
            _fail(workflow_refusal(exc))
        finally:
            desk.close()
        for row in rows:
            case, clocks = row["case"], row["clocks"]
            flags = " ".join(
                say(f"cases.{flag}")
                for flag, on in (("cooling", clocks.cooling), ("late", clocks.late_warning),
                                 ("overdue", clocks.overdue)) if on
            )  # fmt: skip
            text = " ".join(row["comment"].text.split())[:60]
            respond = case.respond_by.strftime("%Y-%m-%d %H:%M") if case.respond_by else "-"
            shown = web_word(f"state.{case.state}")
            typer.echo(
                f"{case.id}\t{shown}\t{respond}\t{row['page_name']}\t{text}\t{flags}".rstrip()
            )

    @app.command("redeem")
    def redeem(
        code: Annotated[str, typer.Argument(help="The voucher code, as the customer gives it.")],
        data_dir: DataDir = None,
    ) -> None:
        """Redeem a voucher once. Exit code 1 if it was already used, has expired or is unknown."""
        from crisisdesk.cli import _desk
        from crisisdesk.workflow.cases import WorkflowError

        desk = _desk(data_dir)
        try:
            voucher = desk.vouchers.redeem(code, actor="cli")
        except WorkflowError as exc:
            refusal = (
                say(f"redeem.{exc.code}") if exc.code in _REDEEM_REFUSALS else workflow_refusal(exc)
            )
            typer.echo(say("error", message=refusal), err=True)
            raise typer.Exit(1) from None
        finally:
            desk.close()
        from crisisdesk.web.i18n import number

        value = number(voucher.value, cli_language(), 2)
        typer.echo(say("redeem.done", code=voucher.code, value=value, currency=voucher.currency))
