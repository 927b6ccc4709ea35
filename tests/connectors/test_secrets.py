"""Tokens at rest: encrypted, never shown, and a clear error without the right key."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from crisisdesk.connectors.secrets import TokenBox, TokenKeyError, generate_key
from crisisdesk.connectors.store import (
    build_connector,
    install_connectors,
    load_connections,
    save_connection,
    save_cursor,
    token_of,
)
from crisisdesk.desk import Desk
from crisisdesk.models import Connection
from crisisdesk.settings import Settings
from tests.conftest import KeywordAnalyzer
from tests.connectors.conftest import connector_settings

TOKEN = "EAAB-very-secret-page-token"


def test_round_trip_and_masked_repr() -> None:
    box = TokenBox(generate_key())
    blob = box.encrypt(TOKEN)
    assert TOKEN.encode() not in blob
    secret = box.decrypt(blob)
    assert secret.reveal() == TOKEN
    assert TOKEN not in repr(secret) and TOKEN not in str(secret) and "key" in repr(box)


def test_missing_and_malformed_keys_say_what_to_do() -> None:
    with pytest.raises(TokenKeyError, match="CRISISDESK_TOKEN_KEY"):
        TokenBox("")
    with pytest.raises(TokenKeyError, match="not a valid Fernet key"):
        TokenBox("not-a-key")
    blob = TokenBox(generate_key()).encrypt(TOKEN)
    with pytest.raises(TokenKeyError, match="cannot be decrypted"):
        TokenBox(generate_key()).decrypt(blob)


def test_connection_store_keeps_only_ciphertext(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    desk = Desk(connector_settings(data_dir), analyzer=KeywordAnalyzer())
    desk.upgrade()
    try:
        save_connection(desk, "facebook", "100", token=TOKEN, name="Shop", config={"app_id": "42"})
        save_connection(desk, "facebook", "100", token=TOKEN + "-2", name="Shop")  # replaces
        (row,) = load_connections(desk)
        assert row.token_encrypted and TOKEN.encode() not in row.token_encrypted
        assert token_of(desk, row).reveal() == TOKEN + "-2"
        raw = (data_dir / "crisisdesk.sqlite").read_bytes()
        assert TOKEN.encode() not in raw
        save_cursor(desk, row.id, "2024-05-01T00:00:00Z")
        with desk.session() as s:
            assert s.scalars(select(Connection.cursor)).one() == "2024-05-01T00:00:00Z"
        connector = build_connector(desk, row, http=None)  # type: ignore[arg-type]
        assert TOKEN not in repr(connector) and TOKEN not in repr(connector.graph)
        assert TOKEN not in caplog.text
    finally:
        desk.close()


def test_without_the_key_connections_are_skipped_not_fatal(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    desk = Desk(connector_settings(data_dir), analyzer=KeywordAnalyzer())
    desk.upgrade()
    save_connection(desk, "facebook", "100", token=TOKEN)
    desk.close()
    keyless = Desk(Settings({"data_dir": str(data_dir)}, environ={}), analyzer=KeywordAnalyzer())
    try:
        with pytest.raises(TokenKeyError):
            save_connection(keyless, "facebook", "200", token=TOKEN)
        assert install_connectors(keyless) == 0
        assert keyless.connectors == {}
        assert "CRISISDESK_TOKEN_KEY" in caplog.text
    finally:
        keyless.close()
