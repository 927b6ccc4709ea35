"""Commands of the reply workflow: API tokens, cases and voucher redemption from a terminal."""

from __future__ import annotations

from typing import Annotated

import typer

from crisisdesk.commands import DataDir
from crisisdesk.i18n import say


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
            _fail(str(exc))
        finally:
            desk.close()
        typer.echo(f"Token {name.strip()!r} created. Store it now: it cannot be shown again.")
        typer.echo(token)

    @app.command("cases")
    def cases(
        state: Annotated[str | None, typer.Option(help="Only cases in this state.")] = None,
        data_dir: DataDir = None,
    ) -> None:
        """List cases with both clocks, the nearest response target first."""
        from crisisdesk.cli import _desk, _fail
        from crisisdesk.workflow.cases import WorkflowError

        desk = _desk(data_dir)
        try:
            rows = desk.workflow.cases(state=state)
        except WorkflowError as exc:
            _fail(exc.message)
        finally:
            desk.close()
        for row in rows:
            case, clocks = row["case"], row["clocks"]
            flags = " ".join(
                f for f, on in (("COOLING", clocks.cooling), ("LATE", clocks.late_warning),
                                ("OVERDUE", clocks.overdue)) if on
            )  # fmt: skip
            text = " ".join(row["comment"].text.split())[:60]
            respond = case.respond_by.strftime("%Y-%m-%d %H:%M") if case.respond_by else "-"
            typer.echo(
                f"{case.id}\t{case.state}\t{respond}\t{row['page_name']}\t{text}\t{flags}".rstrip()
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
            typer.echo(say("error", message=exc.message), err=True)
            raise typer.Exit(1) from None
        finally:
            desk.close()
        typer.echo(f"Redeemed {voucher.code}: {voucher.value} {voucher.currency}")
