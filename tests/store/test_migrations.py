"""Data migrations on a real SQLite file: what a store at an older revision holds survives them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from crisisdesk import store


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
