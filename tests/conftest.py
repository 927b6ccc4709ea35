"""Shared fixtures: a real SQLite desk in a temporary directory.

Most desk tests use :class:`KeywordAnalyzer`, a tiny deterministic analyser, so that store and web
behaviour is tested independently of the shipped models (which have their own tests).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from crisisdesk.analysis.base import Analysis
from crisisdesk.desk import Desk
from crisisdesk.settings import Settings


class KeywordAnalyzer:
    """Deterministic test analyser: a few keywords decide kind and sentiment."""

    version = "keyword-test-1"

    def __init__(self) -> None:
        self.calls = 0

    def analyze(self, text: str, lang_hint: str | None = None) -> Analysis:
        return self.analyze_many([text], [lang_hint])[0]

    def analyze_many(
        self, texts: Sequence[str], lang_hints: Iterable[str | None] | None = None
    ) -> list[Analysis]:
        self.calls += 1
        out = []
        for text in texts:
            low = text.lower()
            negative = any(w in low for w in ("late", "ritardo", "vergogna", "broken", "schifo"))
            positive = any(w in low for w in ("great", "grazie", "buonissimo", "thanks"))
            kind = "complaint" if negative else "praise" if positive else "other"
            if "?" in text:
                kind = "question" if not negative else kind
            sentiment = "negative" if negative else "positive" if positive else "neutral"
            scores = {"negative": 0.1, "neutral": 0.1, "positive": 0.1}
            scores[sentiment] = 0.8
            italian = any(w in low for w in (" il ", " la ", "grazie", "ritardo", "è "))
            out.append(
                Analysis(
                    language="it" if italian else "en",
                    sentiment=sentiment,
                    sentiment_scores=scores,
                    offensive=0.9 if "schifo" in low else 0.0,
                    irony=0.0,
                    question="?" in text,
                    spam=0.0,
                    kind=kind,
                    reasons=[f"keyword test: {kind}"],
                    model_version=self.version,
                )
            )
        return out


def attach(desk: Desk, component: Any) -> None:
    """Make ``component`` the only listener of its kind (the Desk may already wire one in).

    A coordination monitor also replaces the one the desk's flame level feeds: two monitors
    learning the same comments into the same saved pages would each take the other's save for
    another process's and learn the comments again on top of it."""
    from crisisdesk.signals.coordination import CoordinationMonitor

    if isinstance(component, CoordinationMonitor):
        desk.flame.coordination_monitor = None
        desk.flame.coordination_source = None
    desk.listeners[:] = [
        listener
        for listener in desk.listeners
        if not isinstance(getattr(listener, "__self__", None), type(component))
    ]
    desk.listeners.append(component.on_ingested)


@pytest.fixture(autouse=True)
def _english_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line speaks the language of the environment, and the tests read its English
    messages: pin English, so a developer whose LANG is it_IT.UTF-8 gets the same results. Tests
    of another language override it through the runner's ``env``."""
    monkeypatch.setenv("CRISISDESK_LANG", "en")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(
        {"data_dir": str(data_dir), "secret_key": "test-secret-key-0123456789"}, environ={}
    )


@pytest.fixture
def analyzer() -> KeywordAnalyzer:
    return KeywordAnalyzer()


@pytest.fixture
def desk(settings: Settings, analyzer: KeywordAnalyzer) -> Iterator[Desk]:
    d = Desk(settings, analyzer=analyzer)
    d.upgrade()
    yield d
    d.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_desk(
    request: pytest.FixtureRequest, data_dir: Path, analyzer: KeywordAnalyzer
) -> Iterator[Desk]:
    """A desk on each supported database: SQLite always; PostgreSQL when
    ``CRISISDESK_TEST_POSTGRES_URL`` points at a server (``scripts/postgres`` starts one), in a
    fresh database per test. CI sets ``CRISISDESK_REQUIRE_POSTGRES=1`` so a missing server fails."""
    overrides: dict[str, str] = {"data_dir": str(data_dir), "secret_key": "test-secret-key-0123"}
    dropper = None
    if request.param == "postgresql":
        url = os.environ.get("CRISISDESK_TEST_POSTGRES_URL")
        if not url:
            if os.environ.get("CRISISDESK_REQUIRE_POSTGRES") == "1":
                pytest.fail("CRISISDESK_TEST_POSTGRES_URL is not set")
            pytest.skip("no PostgreSQL server (set CRISISDESK_TEST_POSTGRES_URL; scripts/postgres)")
        import sqlalchemy as sa

        name = "crisisdesk_test_" + uuid.uuid4().hex[:12]
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        overrides["database_url"] = url.rsplit("/", 1)[0] + "/" + name

        def dropper() -> None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
            admin.dispose()

    d = Desk(Settings(overrides, environ={}), analyzer=analyzer)
    d.upgrade()
    yield d
    d.close()
    if dropper is not None:
        dropper()
