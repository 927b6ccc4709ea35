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


def _fetch_rows(engine: sa.Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT id, started_at, finished_at, source, inserted, unchanged, reason, error"
                " FROM connection_fetches ORDER BY id"
            )
        )
        return [tuple(row) for row in rows]


def test_completed_fetches_are_kept_when_fetches_are_recorded_from_their_start(
    tmp_path: Path,
) -> None:
    engine = store.make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    store.upgrade(engine, "0009")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO connections (id, platform, account_id, name, config, created_at,"
                " updated_at) VALUES (1, 'mastodon', '7', 'shop', '{}', '2026-01-01 00:00:00',"
                " '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO connection_fetches (connection_id, started_at, finished_at, source,"
                " inserted, updated, unchanged, rejected, reason, error) VALUES"
                " (1, '2026-01-02 10:00:00', '2026-01-02 10:01:00', 'cli', 3, 0, 1, 0, NULL, NULL),"
                " (1, '2026-01-02 11:00:00', '2026-01-02 11:00:05', 'web', 0, 0, 0, 0, 'expired',"
                " 'Session has expired')"
            )
        )
    before = _fetch_rows(engine)

    store.upgrade(engine)
    assert _fetch_rows(engine) == before
    columns = {c["name"]: c for c in sa.inspect(engine).get_columns("connection_fetches")}
    assert columns["finished_at"]["nullable"] and "alive_at" in columns
    indexes = sa.inspect(engine).get_indexes("connection_fetches")
    assert [(i["name"], i["column_names"]) for i in indexes] == [
        ("ix_connection_fetches_connection_started", ["connection_id", "started_at"])
    ]
    foreign_keys = sa.inspect(engine).get_foreign_keys("connection_fetches")
    assert [fk["options"].get("ondelete") for fk in foreign_keys] == ["CASCADE"]
    # a fetch running when the desk is downgraded is completed as the earlier version can say it
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO connection_fetches (connection_id, started_at, alive_at, source,"
                " inserted, updated, unchanged, rejected) VALUES"
                " (1, '2026-01-02 12:00:00', '2026-01-02 12:03:00', 'cli', 0, 0, 0, 0)"
            )
        )
    command.downgrade(store.alembic_config(engine), "0009")
    *kept, running = _fetch_rows(engine)
    assert kept == before
    assert running[2:] == (
        "2026-01-02 12:03:00",  # its last sign of life
        "cli",
        0,
        0,
        "internal",
        "the fetch was interrupted before it ended",
    )
    columns = {c["name"]: c for c in sa.inspect(engine).get_columns("connection_fetches")}
    assert not columns["finished_at"]["nullable"] and "alive_at" not in columns
    store.upgrade(engine)
    assert store.current_revision(engine) == store.head_revision(engine)
    engine.dispose()


def test_running_fetches_migration_round_trips_on_each_backend(backend_desk: Desk) -> None:
    from datetime import UTC, datetime

    from crisisdesk.connectors.store import recent_fetches, record_fetch, start_fetch
    from crisisdesk.models import Connection

    engine = backend_desk.engine
    with backend_desk.session() as s, s.begin():
        connection = Connection(platform="mastodon", account_id="1", name="shop", config={})
        s.add(connection)
        s.flush()
        connection_id = connection.id
    at = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    record_fetch(backend_desk, connection_id, source="cli", started_at=at, finished_at=at)
    start_fetch(backend_desk, connection_id, source="web", started_at=at)
    command.downgrade(store.alembic_config(engine), "0009")
    with engine.connect() as conn:
        reasons = conn.execute(sa.text("SELECT reason FROM connection_fetches ORDER BY id"))
        assert list(reasons.scalars()) == [None, "internal"]
    store.upgrade(engine)
    start_fetch(backend_desk, connection_id, source="cli", started_at=at)
    fetches = recent_fetches(backend_desk, [connection_id])[connection_id]
    assert [f.finished_at is None for f in fetches] == [True, False, False]


# -- the signals' saved state, one row per page from 0009 ---------------------------------------


def _saved_rows(engine: sa.Engine) -> dict[str, tuple[str, bytes]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT name, version, state FROM signal_state")).all()
    return {name: (version, bytes(blob)) for name, version, blob in rows}


def _flame_and_campaign(desk: Desk) -> None:
    """A flame on one page and a coordinated campaign on another, so both signals save state."""
    from datetime import timedelta

    from tests.signals.test_coordination import campaign
    from tests.signals.test_flame import burst, feed, history

    past = history(days=1.5)
    feed(desk, past + burst(past[-1].created_at + timedelta(minutes=10)), batch=40)
    campaign(desk, page="P2")


def _signals(desk: Desk) -> tuple[dict[str, Any], dict[int, Any]]:
    """The flame state and each page's coordination, as the desk reads them after a restart."""
    desk.flame.levels_of([])  # reads the saved state
    assert not desk.flame.out_of_order  # and it is not behind the stored comments
    coordination = {
        p.id: (
            desk.coordination.score(p.id),
            [c.as_dict() for c in desk.coordination.clusters(p.id)],
        )
        for p in desk.pages()
    }
    return desk.flame.detector.to_state(), coordination


def test_a_signal_state_saved_in_one_row_is_read_back_after_the_upgrade(tmp_path: Path) -> None:
    """The previous version saved the flame state (JSON) and the coordination networks (a
    pickle of every page's) in one row each. After the upgrade, a desk reads every page's state
    back as it was, and nothing is replayed."""
    import pickle
    import zlib

    from crisisdesk.settings import Settings
    from tests.conftest import KeywordAnalyzer

    settings = Settings({"data_dir": str(tmp_path / "data")}, environ={})
    desk = Desk(settings, analyzer=KeywordAnalyzer())
    desk.upgrade()
    _flame_and_campaign(desk)
    state, coordination = _signals(desk)
    assert any(score > 0.9 for score, _ in coordination.values())
    assert {"flame", "crisis"} & {desk.flame.level_of(p.id) for p in desk.pages()}
    legacy_flame = {**state, "version": "flame-1"}
    legacy_coordination = pickle.dumps(desk.coordination.pages, protocol=pickle.HIGHEST_PROTOCOL)
    engine = desk.engine
    names = set(_saved_rows(engine))
    assert names == {"flame"} | {
        f"{s}/page/{p.id}" for s in ("flame", "coordination") for p in desk.pages()
    }

    command.downgrade(store.alembic_config(engine), "0008")
    # the downgrade puts each signal's rows back together, as the previous version wrote them
    joined = _saved_rows(engine)
    assert set(joined) == {"flame", "coordination"}
    assert joined["flame"][0] == "flame-1"
    assert json.loads(zlib.decompress(joined["flame"][1])) == json.loads(json.dumps(legacy_flame))
    assert joined["coordination"][0] == "1"
    assert set(pickle.loads(joined["coordination"][1])) == {p.id for p in desk.pages()}
    # the rows as the previous version itself wrote them
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM signal_state"))
        conn.execute(
            sa.text(
                "INSERT INTO signal_state (name, version, state, updated_at)"
                " VALUES ('flame', 'flame-1', :flame, '2026-01-01 00:00:00'),"
                " ('coordination', '1', :coordination, '2026-01-01 00:00:00')"
            ),
            {
                "flame": zlib.compress(json.dumps(legacy_flame).encode("utf-8")),
                "coordination": legacy_coordination,
            },
        )
    desk.close()

    again = Desk(settings, analyzer=KeywordAnalyzer())
    try:
        again.upgrade()
        assert set(_saved_rows(again.engine)) == names
        assert _signals(again) == (state, coordination)
    finally:
        again.close()


def test_an_unreadable_signal_state_is_dropped_and_replayed(tmp_path: Path) -> None:
    from crisisdesk.settings import Settings
    from tests.conftest import KeywordAnalyzer

    settings = Settings({"data_dir": str(tmp_path / "data")}, environ={})
    desk = Desk(settings, analyzer=KeywordAnalyzer())
    desk.upgrade()
    _flame_and_campaign(desk)
    _, coordination = _signals(desk)
    command.downgrade(store.alembic_config(desk.engine), "0008")
    with desk.engine.begin() as conn:
        conn.execute(sa.text("UPDATE signal_state SET state = :junk"), {"junk": b"not a state"})
    desk.close()

    again = Desk(settings, analyzer=KeywordAnalyzer())
    try:
        again.upgrade()
        assert _saved_rows(again.engine) == {}
        # the stored comments are beyond the (missing) state: the pages are replayed
        assert again.flame.out_of_order
        again.flame.settle_late()
        assert {p.id: again.flame.level_of(p.id) for p in again.pages()} == {
            p.id: desk.flame.level_of(p.id) for p in desk.pages()
        }
        assert _signals(again)[1] == coordination
    finally:
        again.close()


def test_signal_state_migration_round_trips_on_each_backend(backend_desk: Desk) -> None:
    from tests.conftest import KeywordAnalyzer

    _flame_and_campaign(backend_desk)
    expected = _signals(backend_desk)
    engine = backend_desk.engine
    command.downgrade(store.alembic_config(engine), "0008")
    assert set(_saved_rows(engine)) == {"flame", "coordination"}
    assert "seq" not in _columns(engine, "signal_state")
    store.upgrade(engine)
    again = Desk(backend_desk.settings, analyzer=KeywordAnalyzer())
    try:
        assert _signals(again) == expected
    finally:
        again.close()


def test_alert_ids_are_not_handed_out_again_after_the_newest_are_deleted(tmp_path: Path) -> None:
    # The live banner's relay counts alerts as seen by id: a replay that deletes the newest
    # alerts must not free their ids for the next ones.
    engine = store.make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    store.upgrade(engine, "0010")
    add = sa.text(
        "INSERT INTO alerts (page_id, level, episode, at, created_at, evidence)"
        " VALUES (1, 'flame', :episode, '2026-01-02 10:00:00', '2026-01-02 10:01:00', '{}')"
    )
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO pages (platform, platform_id, name, config, created_at)"
                " VALUES ('facebook', 'p1', 'Forno', '{}', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(add, {"episode": "e1"})
        conn.execute(add, {"episode": "e2"})
    store.upgrade(engine)
    with engine.begin() as conn:
        kept = conn.execute(sa.text("SELECT id, episode FROM alerts ORDER BY id")).all()
        conn.execute(sa.text("DELETE FROM alerts WHERE id = 2"))
        conn.execute(add, {"episode": "e3"})
        newest = conn.execute(sa.text("SELECT id FROM alerts WHERE episode = 'e3'")).scalar_one()
    assert [tuple(row) for row in kept] == [(1, "e1"), (2, "e2")]
    assert newest == 3  # not 2 again
    assert {ix["name"] for ix in sa.inspect(engine).get_indexes("alerts")} == {
        "ix_alerts_page_id",
        "ix_alerts_episode",
    }
    command.downgrade(store.alembic_config(engine), "0010")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alerts")).scalar_one() == 2
    engine.dispose()
