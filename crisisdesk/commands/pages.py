"""``crisisdesk page``: the pages the team manages and their playbook settings."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from crisisdesk.commands import DataDir
from crisisdesk.i18n import DEFAULT_LANGUAGE, cli_language, say, say_or

page_app = typer.Typer(help="The pages the team manages and their settings.", no_args_is_help=True)


def _pairs(values: list[str], option: str, what: str) -> dict[str, str]:
    """``key=value`` options keyed by a kind or topic, by its English key or its label in any
    interface language ("reclamo=30"), stored under the English key the desk looks up."""
    from crisisdesk.cli import _fail
    from crisisdesk.workflow.rules import UnknownName, name_key, name_labels

    out: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip() or not rest.strip():
            _fail(say("page.pair_syntax", option=option, value=repr(value)))
        try:
            out[name_key(key, what)] = rest.strip()
        except UnknownName as exc:
            lang = cli_language()
            # Both are accepted; a reader of another language is offered the names of theirs.
            names = exc.valid if lang == DEFAULT_LANGUAGE else name_labels(exc.what, lang)
            _fail(
                say(
                    f"page.unknown_{exc.what}",
                    option=option,
                    typed=repr(exc.typed),
                    names=", ".join(names),
                )
            )
    return out


@page_app.command("list")
def list_pages(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    data_dir: DataDir = None,
) -> None:
    """List the pages with their settings."""
    from crisisdesk.cli import _desk

    desk = _desk(data_dir)
    pages = [
        {
            "id": p.id,
            "platform": p.platform,
            "platform_id": p.platform_id,
            "name": p.name,
            "language": p.language,
            "config": p.config or {},
        }
        for p in desk.pages()
    ]
    if as_json:
        typer.echo(json.dumps(pages, ensure_ascii=False, indent=2))
        return
    for p in pages:
        typer.echo(f"{p['platform']}:{p['platform_id']}\t{p['name']}\t{p['language'] or '-'}")
        for key, value in sorted(p["config"].items()):
            label = say_or(f"page.config.{key}", key)
            typer.echo(f"    {label}: {json.dumps(value, ensure_ascii=False)}")


@page_app.command("set")
def set_page(
    page: Annotated[str, typer.Argument(help="PLATFORM:ID, e.g. facebook:1234567890.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    language: Annotated[str | None, typer.Option(help="Main language (ISO code).")] = None,
    competitor: Annotated[
        list[str],
        typer.Option(
            help="A competitor (repeatable): its name, then handles (@name), web domains and "
            "products, separated by ';', e.g. 'Rival Bakery; @rival; rival.com'."
        ),
    ] = [],  # noqa: B006
    contact: Annotated[
        list[str],
        typer.Option(
            help="topic=person responsible inside the company (repeatable); "
            "'default=...' for anything else."
        ),
    ] = [],  # noqa: B006
    cause: Annotated[
        list[str], typer.Option(help="A cause offered when closing a case (repeatable).")
    ] = [],  # noqa: B006
    cooldown: Annotated[
        list[str],
        typer.Option(help="kind=minutes of cool-down before replying (repeatable), or minutes."),
    ] = [],  # noqa: B006
    response_target: Annotated[
        float | None, typer.Option(help="Minutes from arrival to the reply customers expect.")
    ] = None,
    currency: Annotated[
        str | None, typer.Option(help="The vouchers' currency on this page: EUR, USD, GBP, CHF.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Create or update a page. Lists given here replace the page's current list."""
    from crisisdesk.cli import _desk, _fail

    platform, sep, platform_id = page.partition(":")
    if not sep or not platform or not platform_id:
        _fail(say("page.syntax", page=repr(page)))
    config: dict[str, Any] = {}
    if competitor:
        from crisisdesk.signals.competitors import competitor_from_line

        config["competitors"] = [
            c.as_dict() for line in competitor if (c := competitor_from_line(line))
        ]
    if contact:
        config["contacts"] = _pairs(contact, "--contact", "topic")
    if cause:
        config["causes"] = [c.strip() for c in cause if c.strip()]
    if cooldown:
        if len(cooldown) == 1 and "=" not in cooldown[0]:
            per_kind: Any = cooldown[0]
        else:
            per_kind = _pairs(cooldown, "--cooldown", "kind")
        try:
            config["cooldown_minutes"] = (
                float(per_kind)
                if isinstance(per_kind, str)
                else {k: float(v) for k, v in per_kind.items()}
            )
        except ValueError:
            _fail(say("page.cooldown_numbers"))
    if response_target is not None:
        if response_target <= 0:
            _fail(say("page.response_target"))
        config["response_target_minutes"] = response_target
    if currency is not None:
        from crisisdesk.workflow.voucher_book import CURRENCIES

        if currency.upper() not in CURRENCIES:
            _fail(say("page.currency", currencies=", ".join(CURRENCIES)))
        config["currency"] = currency.upper()
    desk = _desk(data_dir)
    saved = desk.configure_page(platform, platform_id, name=name, language=language, config=config)
    page_key = f"{saved.platform}:{saved.platform_id}"
    typer.echo(say("page.saved", page=page_key, name=saved.name))


def register(app: typer.Typer) -> None:
    app.add_typer(page_app, name="page")
