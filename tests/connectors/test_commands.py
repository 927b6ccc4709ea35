"""The connector commands through the CLI runner, against the local Graph API server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crisisdesk.cli import app
from tests.connectors.conftest import APP_SECRET, TOKEN_KEY, FakePlatform
from tests.connectors.test_facebook import V, serve_page

runner = CliRunner()
TOKEN = "EAAB-cli-page-token"


@pytest.fixture(autouse=True)
def _keyword_analyzer(monkeypatch: pytest.MonkeyPatch) -> None:
    import crisisdesk.desk
    from tests.conftest import KeywordAnalyzer

    monkeypatch.setattr(crisisdesk.desk.Desk, "analyzer", property(lambda self: KeywordAnalyzer()))


def env(platform: FakePlatform, data_dir: Path) -> dict[str, str]:
    return {
        "CRISISDESK_DATA_DIR": str(data_dir),
        "CRISISDESK_TOKEN_KEY": TOKEN_KEY,
        "CRISISDESK_GRAPH_API_URL": platform.url,
        "CRISISDESK_FACEBOOK_APP_SECRET": APP_SECRET,
    }


def serve_checks(platform: FakePlatform) -> None:
    platform.add("GET", f"{V}/me", (200, {"id": "100", "name": "Bar Centrale"}, {}))
    platform.add("GET", f"{V}/100", (200, {"id": "100", "name": "Bar Centrale"}, {}))
    platform.add(
        "GET",
        f"{V}/me/permissions",
        (
            200,
            {
                "data": [
                    {"permission": "pages_read_engagement", "status": "granted"},
                    {"permission": "pages_read_user_content", "status": "granted"},
                    {"permission": "pages_manage_engagement", "status": "granted"},
                    {"permission": "pages_messaging", "status": "declined"},
                ]
            },
            {},
        ),
    )


def test_connect_then_sync(platform: FakePlatform, data_dir: Path) -> None:
    serve_checks(platform)
    serve_page(platform)
    e = env(platform, data_dir)
    result = runner.invoke(
        app,
        ["connect", "facebook", "--page-id", "100", "--app-id", "42"],
        input=TOKEN + "\n",
        env=e,
    )
    assert result.exit_code == 0, result.output
    assert "Bar Centrale" in result.output and "pages_messaging" in result.output
    assert TOKEN not in result.output
    listed = runner.invoke(app, ["connections"], env=e)
    assert "facebook\t100\tBar Centrale" in listed.output and TOKEN not in listed.output
    synced = runner.invoke(app, ["sync", "--since", "2024-04-15"], env=e)
    assert synced.exit_code == 0, synced.output
    assert "3 new" in synced.output
    again = runner.invoke(app, ["sync", "--since", "2024-04-15"], env=e)
    assert "0 new" in again.output and "3 unchanged" in again.output
    assert runner.invoke(app, ["sync", "--since", "yesterday"], env=e).exit_code == 2


def test_connect_refuses_an_expired_token(platform: FakePlatform, data_dir: Path) -> None:
    platform.add(
        "GET",
        f"{V}/me",
        (
            400,
            {"error": {"message": "Session has expired", "type": "OAuthException", "code": 190}},
            {},
        ),
    )
    e = env(platform, data_dir)
    result = runner.invoke(
        app,
        ["connect", "facebook", "--page-id", "100", "--app-id", "42", "--page-token", TOKEN],
        env=e,
    )
    assert result.exit_code == 2 and "expired" in result.output
    assert "no connections" in runner.invoke(app, ["connections"], env=e).output


def test_connect_without_a_token_key_explains(platform: FakePlatform, data_dir: Path) -> None:
    e = env(platform, data_dir)
    del e["CRISISDESK_TOKEN_KEY"]
    result = runner.invoke(
        app,
        ["connect", "facebook", "--page-id", "100", "--app-id", "42", "--page-token", TOKEN],
        env=e,
    )
    assert result.exit_code == 2 and "CRISISDESK_TOKEN_KEY" in result.output


def test_import_export_command(platform: FakePlatform, data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "comments.json"
    path.write_text(
        json.dumps(
            {
                "comments_v2": [
                    {
                        "timestamp": 1714557600,
                        "data": [
                            {
                                "comment": {
                                    "timestamp": 1714557600,
                                    "comment": "late again",
                                    "author": "Ada",
                                }
                            }
                        ],
                    }
                ]
            }
        )
    )
    result = runner.invoke(
        app, ["import-export", str(path), "--page", "bar"], env=env(platform, data_dir)
    )
    assert result.exit_code == 0 and "1 new" in result.output


def test_app_secret_given_as_option_is_stored_encrypted_and_used(
    platform: FakePlatform, data_dir: Path
) -> None:
    from crisisdesk.connectors.graph import appsecret_proof
    from crisisdesk.connectors.store import build_connector, load_connections
    from crisisdesk.desk import Desk
    from crisisdesk.settings import Settings

    serve_checks(platform)
    e = env(platform, data_dir)
    del e["CRISISDESK_FACEBOOK_APP_SECRET"]
    result = runner.invoke(
        app,
        ["connect", "facebook", "--page-id", "100", "--app-id", "42", "--page-token", TOKEN]
        + ["--app-secret", "opt-secret-99"],
        env=e,
    )
    assert result.exit_code == 0, result.output
    proof = appsecret_proof(TOKEN, "opt-secret-99")
    assert platform.seen("GET", f"{V}/me")[0].q("appsecret_proof") == proof
    desk = Desk(
        Settings(
            {"data_dir": str(data_dir), "token_key": TOKEN_KEY, "graph_api_url": platform.url},
            environ={},
        )
    )
    try:
        (row,) = load_connections(desk)
        assert "opt-secret-99" not in json.dumps(row.config)
        import httpx

        with httpx.Client() as http:
            connector = build_connector(desk, row, http)
            connector.graph.get("me")
        assert platform.seen("GET", f"{V}/me")[-1].q("appsecret_proof") == proof
    finally:
        desk.close()


def test_sync_lookback_days_sets_how_old_the_posts_searched_are(
    platform: FakePlatform, data_dir: Path
) -> None:
    serve_checks(platform)
    serve_page(platform)
    e = env(platform, data_dir)
    runner.invoke(
        app,
        ["connect", "facebook", "--page-id", "100", "--app-id", "42"],
        input=TOKEN + "\n",
        env=e,
    )
    since = "2024-04-15T00:00:00+00:00"
    start = 1713139200  # 2024-04-15 UTC
    assert (
        runner.invoke(app, ["sync", "--since", since, "--lookback-days", "7"], env=e).exit_code == 0
    )
    assert platform.seen("GET", f"{V}/100/posts")[0].q("since") == str(start - 7 * 86400)
    platform.requests.clear()
    assert (
        runner.invoke(app, ["sync", "--since", since, "--lookback-days", "0"], env=e).exit_code == 0
    )
    assert platform.seen("GET", f"{V}/100/posts")[0].q("since") is None


def _fetches(platform: FakePlatform, data_dir: Path) -> list[Any]:
    """The recorded fetches of page 100, newest first, read by a desk of its own."""
    from crisisdesk.connectors.store import get_connection, recent_fetches
    from crisisdesk.desk import Desk
    from crisisdesk.settings import Settings

    desk = Desk(
        Settings(
            {"data_dir": str(data_dir), "token_key": TOKEN_KEY, "graph_api_url": platform.url},
            environ={},
        )
    )
    try:
        row = get_connection(desk, "facebook", "100")
        assert row is not None
        return recent_fetches(desk, [row.id]).get(row.id, [])
    finally:
        desk.close()


def _connect(platform: FakePlatform, e: dict[str, str]) -> None:
    serve_checks(platform)
    result = runner.invoke(
        app,
        ["connect", "facebook", "--page-id", "100", "--app-id", "42"],
        input=TOKEN + "\n",
        env=e,
    )
    assert result.exit_code == 0, result.output


def test_sync_records_each_fetch_and_connections_lists_the_last(
    platform: FakePlatform, data_dir: Path
) -> None:
    serve_page(platform)
    e = env(platform, data_dir)
    _connect(platform, e)
    listed = runner.invoke(app, ["connections"], env=e)
    assert "facebook\t100\tBar Centrale\tnever fetched" in listed.output
    assert runner.invoke(app, ["sync", "--since", "2024-04-15"], env=e).exit_code == 0
    (fetch,) = _fetches(platform, data_dir)
    assert fetch.source == "cli" and fetch.reason is None
    assert (fetch.inserted, fetch.updated, fetch.unchanged, fetch.rejected) == (3, 0, 0, 0)
    assert runner.invoke(app, ["sync", "--since", "2024-04-15"], env=e).exit_code == 0
    again, first = _fetches(platform, data_dir)
    assert first.id == fetch.id and (again.inserted, again.unchanged) == (0, 3)

    listed = runner.invoke(app, ["connections"], env=e)
    assert listed.exit_code == 0
    line = listed.output.strip()
    # the fields scripts read come first, unchanged
    assert line.startswith("facebook\t100\tBar Centrale\tlast fetch ")
    when = again.finished_at.strftime("%Y-%m-%d %H:%M UTC")
    assert line.endswith(
        f"last fetch {when} (command line): 0 new, 0 updated, 3 unchanged, 0 rejected"
    )
    italian = runner.invoke(app, ["connections"], env={**e, "CRISISDESK_LANG": "it"}).output
    assert f"ultimo scaricamento {when} (riga di comando): nuovi: 0" in italian


def test_a_refused_sync_records_the_reason_and_no_secret(
    platform: FakePlatform, data_dir: Path
) -> None:
    e = env(platform, data_dir)
    _connect(platform, e)
    message = f"Error validating access token {TOKEN}: Session has expired"
    error = {"error": {"message": message, "type": "OAuthException", "code": 190}}
    platform.add("GET", f"{V}/100/posts", (400, error, {}))
    for _ in range(3):
        synced = runner.invoke(app, ["sync", "--since", "2024-04-15"], env=e)
        assert synced.exit_code == 2 and TOKEN not in synced.output
    fetches = _fetches(platform, data_dir)
    assert [(f.source, f.reason) for f in fetches] == [("cli", "expired")] * 3
    assert all(f.error and "[hidden]" in f.error and TOKEN not in f.error for f in fetches)
    listed = runner.invoke(app, ["connections"], env=e).output
    assert "(command line): failed (expired): " in listed and "[hidden]" in listed
    assert "warning: the last 3 fetches all failed" in listed
    assert TOKEN not in listed and APP_SECRET not in listed
    # in Italian the reason is said with the Connections page's words, not its code
    italian = runner.invoke(app, ["connections"], env={**e, "CRISISDESK_LANG": "it"}).output
    assert "(riga di comando): fallito: La piattaforma ha rifiutato il token" in italian
    assert "Dettagli: " in italian and "(expired)" not in italian and TOKEN not in italian


def test_a_refused_sync_in_italian(platform: FakePlatform, data_dir: Path) -> None:
    """A failed fetch is said as the Connections page says it: its words for the reason, then
    the platform's own, which only the platform could translate."""
    e = env(platform, data_dir)
    _connect(platform, e)
    error = {"error": {"message": "Session has expired", "type": "OAuthException", "code": 190}}
    platform.add("GET", f"{V}/100/posts", (400, error, {}))
    args = ["sync", "--since", "2024-04-15"]
    italian = runner.invoke(app, args, env={**e, "CRISISDESK_LANG": "it"})
    english = runner.invoke(app, args, env={**e, "CRISISDESK_LANG": "en"})
    assert italian.exit_code == english.exit_code == 2
    assert italian.stdout == english.stdout == ""
    said, platform_said = italian.stderr.rstrip("\n").split(" Dettagli: ")
    assert said == (
        "errore: facebook Bar Centrale: La piattaforma ha rifiutato il token: è scaduto o è stato "
        "revocato. Creane uno nuovo e incollalo di nuovo."
    )
    assert "Session has expired" in platform_said
    assert english.stderr.startswith("error: facebook Bar Centrale: ")
    assert "Session has expired" in english.stderr and "Dettagli" not in english.stderr


def test_connections_lists_a_running_sync_then_an_interrupted_one(
    platform: FakePlatform, data_dir: Path
) -> None:
    """A sync running in another process (cron) shows as running; once its process is gone (its
    beat stopped), as interrupted."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import delete

    from crisisdesk.connectors.store import INTERRUPTED_AFTER, get_connection, start_fetch
    from crisisdesk.desk import Desk
    from crisisdesk.models import ConnectionFetch
    from crisisdesk.settings import Settings

    e = env(platform, data_dir)
    _connect(platform, e)
    other = Desk(Settings({"data_dir": str(data_dir), "token_key": TOKEN_KEY}, environ={}))
    try:
        row = get_connection(other, "facebook", "100")
        assert row is not None
        start_fetch(other, row.id, source="cli", started_at=datetime.now(UTC))
        listed = runner.invoke(app, ["connections"], env=e)
        assert listed.exit_code == 0
        when = _fetches(platform, data_dir)[0].started_at.strftime("%Y-%m-%d %H:%M UTC")
        assert listed.output.strip().endswith(
            f"Bar Centrale\tfetching since {when} (started from the command line)"
        )
        italian = runner.invoke(app, ["connections"], env={**e, "CRISISDESK_LANG": "it"}).output
        assert f"scaricamento in corso dal {when} (riga di comando)" in italian

        # Instead, a "Fetch now" whose web process was killed and has not beaten since.
        with other.session() as s, s.begin():
            s.execute(delete(ConnectionFetch))
        died = datetime.now(UTC) - INTERRUPTED_AFTER - timedelta(minutes=1)
        start_fetch(other, row.id, source="web", started_at=died)
    finally:
        other.close()
    listed = runner.invoke(app, ["connections"], env=e).output
    assert "(web): failed (interrupted)\n" in listed and "fetching since" not in listed
    italian = runner.invoke(app, ["connections"], env={**e, "CRISISDESK_LANG": "it"}).output
    assert "(web): fallito: Lo scaricamento è stato interrotto" in italian


def test_sync_skips_an_account_another_process_is_fetching(
    platform: FakePlatform, data_dir: Path
) -> None:
    """Two syncs from cron that overlap: the second leaves the account to the first, sends the
    platform nothing, and exits 0 (cron would otherwise mail an error every time)."""
    from datetime import UTC, datetime

    from crisisdesk.connectors.store import get_connection, start_fetch
    from crisisdesk.desk import Desk
    from crisisdesk.settings import Settings

    e = env(platform, data_dir)
    _connect(platform, e)
    before = len(platform.requests)
    other = Desk(Settings({"data_dir": str(data_dir), "token_key": TOKEN_KEY}, environ={}))
    try:
        row = get_connection(other, "facebook", "100")
        assert row is not None
        start_fetch(other, row.id, source="cli", started_at=datetime.now(UTC))
    finally:
        other.close()
    args = ["sync", "--since", "2024-04-15"]
    english = runner.invoke(app, args, env={**e, "CRISISDESK_LANG": "en"})
    italian = runner.invoke(app, args, env={**e, "CRISISDESK_LANG": "it"})
    assert english.exit_code == italian.exit_code == 0
    assert english.stderr == (
        "facebook Bar Centrale: skipped, another fetch is reading it now (command line)\n"
    )
    assert italian.stderr == (
        "facebook Bar Centrale: saltato, è già in corso un altro scaricamento (riga di comando)\n"
    )
    assert len(platform.requests) == before  # nothing was asked of the platform
    assert [f.finished_at for f in _fetches(platform, data_dir)] == [None]  # only the other's
