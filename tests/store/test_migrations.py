"""Data migrations on a real SQLite file: what a store at an older revision holds survives them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from crisisdesk import store
from crisisdesk.desk import Desk


def _rules(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT name, conditions FROM moderation_rules")).all()
    return {name: json.loads(conditions) for name, conditions in rows}


def test_offence_rule_thresholds_move_to_the_page_scale(tmp_path: Path) -> None:
    engine = store.make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    store.upgrade(engine, "0004")
    rules = {
        "balanced even odds": {"offensive_min": 0.5},
        "balanced strong": {"offensive_min": 0.8, "kinds": ["troll"]},
        "any score": {"offensive_min": 0.0},
        "no offence condition": {"kinds": ["spam"]},
    }
    with engine.begin() as conn:
        for name, conditions in rules.items():
            conn.execute(
                sa.text(
                    "INSERT INTO moderation_rules (name, enabled, conditions, actions, created_at)"
                    " VALUES (:name, 1, :conditions, '[]', '2026-01-01 00:00:00')"
                ),
                {"name": name, "conditions": json.dumps(conditions)},
            )

    store.upgrade(engine)
    moved = _rules(engine)
    # the odds times 8/92: a balanced 0.5 becomes the 8% base rate, 0.8 about 0.26
    assert moved["balanced even odds"] == {"offensive_min": 0.08}
    assert moved["balanced strong"]["offensive_min"] == pytest.approx(0.2581, abs=1e-4)
    assert moved["balanced strong"]["kinds"] == ["troll"]
    assert moved["any score"] == {"offensive_min": 0.0}
    assert moved["no offence condition"] == {"kinds": ["spam"]}

    command.downgrade(store.alembic_config(engine), "0004")
    back = _rules(engine)
    assert back["balanced even odds"]["offensive_min"] == pytest.approx(0.5, abs=1e-4)
    assert back["balanced strong"]["offensive_min"] == pytest.approx(0.8, abs=1e-3)
    engine.dispose()


def _columns(engine: sa.Engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def _triggers(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        return set(rows.scalars())


def test_permalinks_are_added_beside_existing_rows_and_removed_again(tmp_path: Path) -> None:
    engine = store.make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    store.upgrade(engine, "0005")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO pages (id, platform, platform_id, name, config, created_at)"
                " VALUES (1, 'facebook', '100', 'Shop', '{}', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO posts (id, platform, platform_id, page_id)"
                " VALUES (1, 'facebook', '100_1', 1)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO comments (platform, platform_id, page_id, post_id, created_at,"
                " changed_at, received_at, text, status, source, urgency, triage)"
                " VALUES ('facebook', 'c1', 1, 1, '2026-01-01 10:00:00', '2026-01-01 10:00:00',"
                " '2026-01-01 10:00:00', 'late again', 'visible', 'import', 0.0, 'new')"
            )
        )
    assert "permalink" not in _columns(engine, "comments")

    store.upgrade(engine)
    assert "permalink" in _columns(engine, "comments") and "permalink" in _columns(engine, "posts")
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT text, permalink FROM comments")).one() == (
            "late again",
            None,
        )
        conn.execute(sa.text("UPDATE comments SET permalink = 'https://facebook.com/c1'"))
        conn.execute(sa.text("UPDATE posts SET permalink = 'https://facebook.com/100_1'"))

    triggers = _triggers(engine)
    command.downgrade(store.alembic_config(engine), "0005")
    assert "permalink" not in _columns(engine, "comments")
    assert "permalink" not in _columns(engine, "posts")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT text FROM comments")).scalar_one() == "late again"
    # the search index's triggers survive: a downgrade that rebuilt the table would drop them
    assert _triggers(engine) == triggers
    store.upgrade(engine)
    assert store.current_revision(engine) == store.head_revision(engine)
    engine.dispose()


def test_permalink_migration_round_trips_on_each_backend(backend_desk: Desk) -> None:
    engine = backend_desk.engine
    command.downgrade(store.alembic_config(engine), "0005")
    assert "permalink" not in _columns(engine, "posts")
    store.upgrade(engine)
    assert "permalink" in _columns(engine, "posts") and "permalink" in _columns(engine, "comments")


def test_alerts_stored_before_announcements_were_recorded_count_as_announced(
    tmp_path: Path,
) -> None:
    # Nothing says which older alerts reached the team: a replay must not remove any of them.
    engine = store.make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    store.upgrade(engine, "0006")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO pages (platform, platform_id, name, config, created_at)"
                " VALUES ('facebook', 'p1', 'Forno', '{}', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO alerts (page_id, level, episode, at, created_at, evidence)"
                " VALUES (1, 'flame', 'e1', '2026-01-02 10:00:00', '2026-01-02 10:01:00', '{}')"
            )
        )
    store.upgrade(engine)
    with engine.connect() as conn:
        announced = conn.execute(sa.text("SELECT announced_at FROM alerts")).scalar_one()
    assert str(announced).startswith("2026-01-02 10:01:00")
    command.downgrade(store.alembic_config(engine), "0006")
    assert "announced_at" not in _columns(engine, "alerts")
    engine.dispose()


def test_connection_fetches_are_added_to_an_existing_store(tmp_path: Path) -> None:
    engine = store.make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    store.upgrade(engine, "0007")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO connections (id, platform, account_id, name, config, created_at,"
                " updated_at) VALUES (1, 'mastodon', '7', 'shop', '{}', '2026-01-01 00:00:00',"
                " '2026-01-01 00:00:00')"
            )
        )
    assert "connection_fetches" not in sa.inspect(engine).get_table_names()

    store.upgrade(engine, "0008")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO connection_fetches (connection_id, started_at, finished_at, source,"
                " inserted, updated, unchanged, rejected, reason, error) VALUES (1,"
                " '2026-01-02 10:00:00', '2026-01-02 10:01:00', 'cli', 3, 0, 1, 0, NULL, NULL)"
            )
        )
        assert conn.execute(sa.text("SELECT name FROM connections")).scalar_one() == "shop"
    # the connection's fetches go with it
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM connections WHERE id = 1"))
        assert conn.execute(sa.text("SELECT count(*) FROM connection_fetches")).scalar_one() == 0

    command.downgrade(store.alembic_config(engine), "0007")
    assert "connection_fetches" not in sa.inspect(engine).get_table_names()
    store.upgrade(engine)
    assert store.current_revision(engine) == store.head_revision(engine)
    engine.dispose()


def test_connection_fetches_migration_round_trips_on_each_backend(backend_desk: Desk) -> None:
    engine = backend_desk.engine
    command.downgrade(store.alembic_config(engine), "0007")
    assert "connection_fetches" not in sa.inspect(engine).get_table_names()
    store.upgrade(engine)
    foreign_keys = sa.inspect(engine).get_foreign_keys("connection_fetches")
    assert [(fk["referred_table"], fk["options"].get("ondelete")) for fk in foreign_keys] == [
        ("connections", "CASCADE")
    ]
