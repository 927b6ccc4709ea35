"""Commands about who is behind the comments: coordination networks and author cards."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crisisdesk.commands import DataDir
from crisisdesk.i18n import say, say_reason


def register(app: typer.Typer) -> None:
    @app.command("coordination")
    def coordination(
        file: Annotated[
            Path,
            typer.Argument(
                help="CSV in the Coordination Network Toolkit's format: message_id,user_id,"
                "username,repost_id,reply_id,message,timestamp,urls (header row required)."
            ),
        ],
        network: Annotated[
            str,
            typer.Option(
                "--network", help="co_retweet | co_tweet | co_similar | co_link | co_reply"
            ),
        ] = "co_retweet",
        window: Annotated[
            float, typer.Option("--window", help="Time window in seconds (plus or minus).")
        ] = 60.0,
        min_weight: Annotated[
            int, typer.Option("--min-weight", help="Print only edges with at least this weight.")
        ] = 1,
        similarity: Annotated[
            float,
            typer.Option("--similarity", help="co_similar: Jaccard threshold on token sets."),
        ] = 0.8,
        min_tokens: Annotated[
            int,
            typer.Option("--min-tokens", help="co_similar: texts with fewer tokens match nothing."),
        ] = 1,
        jobs: Annotated[
            int,
            typer.Option(
                "--jobs", help="co_similar: processes to use (default: up to 2, one per core)."
            ),
        ] = 0,
    ) -> None:
        """Print the directed coordination network of FILE as user_1,user_2,weight lines.

        The weight of user_1 -> user_2 is the number of distinct messages of user_1 for which
        user_2 posted a matching message within plus or minus WINDOW seconds.
        """
        import csv
        import sys

        from crisisdesk.cli import _fail
        from crisisdesk.signals.coordination import (
            NETWORKS,
            CoordinationInputError,
            co_similar_edges,
            make_network,
            read_toolkit_csv,
            time_sorted,
        )

        name = "co_similar" if network == "co_similar_tweet" else network
        if name not in NETWORKS:
            _fail(say("coordination.network", networks=", ".join(NETWORKS), network=repr(network)))
        if window < 0:
            _fail(say("coordination.window"))
        if min_weight < 1:
            _fail(say("coordination.min_weight"))
        if not 0.0 < similarity <= 1.0:
            _fail(say("coordination.similarity"))
        import gc

        # A one-shot batch of many small acyclic objects: the cyclic collector only costs time.
        gc.disable()
        try:
            with file.open(encoding="utf-8", newline="") as handle:
                messages = time_sorted(read_toolkit_csv(handle, str(file)))
        except CoordinationInputError as exc:
            _fail(say_reason(exc))
        except UnicodeDecodeError as exc:
            # The offset as a string: a byte position is not a count to group in thousands.
            _fail(say("not_utf8.at", path=file, reason=exc.reason, start=str(exc.start)))
        except OSError as exc:
            _fail(f"{file}: {exc.strerror or exc}")
        if name == "co_similar":
            import os

            edges = co_similar_edges(
                messages,
                window,
                similarity=similarity,
                min_tokens=min_tokens,
                min_weight=min_weight,
                jobs=jobs if jobs > 0 else min(2, os.cpu_count() or 1),
            )
        else:
            component = make_network(name, window, evidence=False)
            for message in messages:
                component.learn_one(message)
            edges = component.edges(min_weight)
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(("user_1", "user_2", "weight"))
        for (a, b), w in sorted(edges.items()):
            writer.writerow((a, b, w))

    @app.command("competitors")
    def competitors(
        page: Annotated[str, typer.Argument(help="The page: its desk id or its platform id.")],
        set_file: Annotated[
            Path | None,
            typer.Option(
                "--set",
                help="JSON file with the list to store: [{name, handles, domains, products}].",
            ),
        ] = None,
        data_dir: DataDir = None,
    ) -> None:
        """Show (or replace) a page's competitors, used to flag comments that push them."""
        import json

        from crisisdesk.cli import _desk, _fail
        from crisisdesk.signals.competitors import (
            competitors_for,
            parse_competitors,
            set_competitors,
        )

        desk = _desk(data_dir)
        try:
            found = [p for p in desk.pages() if str(p.id) == page or p.platform_id == page]
            if not found:
                _fail(say("page.unknown", page=repr(page)))
            target = found[0]
            if set_file is not None:
                try:
                    raw = json.loads(set_file.read_text(encoding="utf-8"))
                except OSError as exc:
                    _fail(f"{set_file}: {exc.strerror or exc}")
                except UnicodeDecodeError:
                    _fail(say("not_utf8", path=set_file))
                except ValueError as exc:  # the parser's words say where; the sentence is ours
                    _fail(say("file.not_json", name=set_file, detail=exc))
                parsed = parse_competitors(raw)
                if isinstance(raw, list) and len(parsed) != len(raw):
                    _fail(say("competitors.needs_name", path=set_file))
                set_competitors(desk, target.id, parsed, actor="cli")
            typer.echo(
                json.dumps([c.as_dict() for c in competitors_for(desk, target.id)], indent=2)
            )
        finally:
            desk.close()

    @app.command("author")
    def author(
        author_id: Annotated[int, typer.Argument(help="The author's desk id.")],
        page: Annotated[
            int | None, typer.Option("--page", help="Apply the verdicts given for this page id.")
        ] = None,
        data_dir: DataDir = None,
    ) -> None:
        """Print an author's card (history, patterns, fake and competitor risk with reasons) as JSON."""
        import json

        from crisisdesk.cli import _desk, _fail
        from crisisdesk.signals.authors import author_card

        desk = _desk(data_dir)
        try:
            card = author_card(desk, author_id, page_id=page)
            if card is None:
                _fail(say("author.unknown", author=str(author_id)))
            assert card is not None
            typer.echo(json.dumps(card.as_dict(), indent=2, ensure_ascii=False, default=str))
        finally:
            desk.close()
