"""The workflow's commands through the CLI runner, on real SQLite files."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from crisisdesk.cli import app
from crisisdesk.desk import Desk
from crisisdesk.settings import Settings
from crisisdesk.web.app import create_app
from tests.conftest import KeywordAnalyzer
from tests.workflow.wf_support import seed

runner = CliRunner()


@pytest.fixture(autouse=True)
def _keyword_analyzer(monkeypatch: pytest.MonkeyPatch) -> None:
    import crisisdesk.desk

    monkeypatch.setattr(crisisdesk.desk.Desk, "analyzer", property(lambda self: KeywordAnalyzer()))


def test_token_create_prints_a_working_token_on_its_last_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["token", "create", "zapier", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("cdk_") and " " not in token
    desk = Desk(Settings({"data_dir": str(tmp_path)}, environ={}))
    try:
        with TestClient(create_app(desk)) as client:
            ok = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
            assert ok.status_code == 200 and ok.json() == []
    finally:
        desk.close()
    assert runner.invoke(app, ["token", "create", " ", "--data-dir", str(tmp_path)]).exit_code == 2


def test_cases_and_redeem_commands(tmp_path: Path) -> None:
    desk = Desk(Settings({"data_dir": str(tmp_path)}, environ={}))
    desk.upgrade()
    try:
        seed(desk)
        comment = desk.find_comment("c-en")
        assert comment is not None
        # Seeded in 2024 on the test clock; the command runs on the real one.
        code = desk.vouchers.create(comment.id, value=5, valid_days=3650, actor="ann").code
    finally:
        desk.close()
    listed = runner.invoke(app, ["cases", "--data-dir", str(tmp_path)])
    assert listed.exit_code == 0 and len(listed.output.strip().splitlines()) == 3
    assert (
        runner.invoke(app, ["cases", "--state", "bogus", "--data-dir", str(tmp_path)]).exit_code
        == 2
    )
    first = runner.invoke(app, ["redeem", code.lower(), "--data-dir", str(tmp_path)])
    assert first.exit_code == 0 and code in first.output
    second = runner.invoke(app, ["redeem", code, "--data-dir", str(tmp_path)])
    assert second.exit_code == 1 and "already redeemed" in second.output
