"""moderation rules: offence thresholds on the page-comment scale

The shipped offence model's probabilities used to be those of a class-balanced training set (half
offensive); they are now for page comments, where about 8% of comments offend (the odds were
multiplied by 8/92). An inbox rule saved with ``offensive_min`` against the old scale would now
fire far less often. Its threshold is moved by the same factor, so it keeps catching the comments
it caught: 0.5 becomes 0.08, 0.8 becomes 0.26.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BASE_RATE = 0.08

_rules = sa.table(
    "moderation_rules", sa.column("id", sa.Integer()), sa.column("conditions", sa.JSON())
)


def _move(value: float, log_odds: float) -> float:
    if value <= 0.0 or value >= 1.0:
        return value  # "any score" and "never" stay what they were
    odds = math.log(value / (1 - value)) + log_odds
    return round(1 / (1 + math.exp(-odds)), 4)


def _rescale(log_odds: float) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_rules.c.id, _rules.c.conditions)).all()
    for row in rows:
        conditions: dict[str, Any] = dict(row.conditions or {})
        value = conditions.get("offensive_min")
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        conditions["offensive_min"] = _move(float(value), log_odds)
        conn.execute(sa.update(_rules).where(_rules.c.id == row.id).values(conditions=conditions))


def upgrade() -> None:
    _rescale(math.log(BASE_RATE / (1 - BASE_RATE)))


def downgrade() -> None:
    _rescale(-math.log(BASE_RATE / (1 - BASE_RATE)))
