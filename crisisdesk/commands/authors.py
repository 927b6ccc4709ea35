"""Commands about who is behind the comments: coordination networks and author cards."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


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
            _fail(f"--network must be one of {', '.join(NETWORKS)}, got {network!r}")
        if window < 0:
            _fail("--window must be >= 0 seconds")
        if min_weight < 1:
            _fail("--min-weight must be >= 1")
        if not 0.0 < similarity <= 1.0:
            _fail("--similarity must be in (0, 1]")
        try:
            with file.open(encoding="utf-8", newline="") as handle:
                messages = time_sorted(read_toolkit_csv(handle, str(file)))
        except CoordinationInputError as exc:
            _fail(str(exc))
        except UnicodeDecodeError as exc:
            _fail(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})")
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
