"""Trained linear models over hashed n-grams (placeholder until the models are trained)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_scorer(models_dir: str | Path | None = None) -> Any:
    return None
