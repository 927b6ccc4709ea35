"""Commands of each capability. Every module here has ``register(app: typer.Typer) -> None``,
which ``crisisdesk.cli`` calls at start-up; keep imports inside the command functions."""
