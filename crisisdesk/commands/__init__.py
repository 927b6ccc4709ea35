"""Commands of each capability. Every module here has ``register(app: typer.Typer) -> None``,
which ``crisisdesk.cli`` calls at start-up; keep imports inside the command functions."""

from pathlib import Path
from typing import Annotated

import typer

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
