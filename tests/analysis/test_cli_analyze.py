"""``crisisdesk analyze`` with the real shipped models, through the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crisisdesk.analysis import KINDS, SENTIMENTS
from crisisdesk.cli import app

runner = CliRunner()

COMMENTS = [
    "Il treno è in ritardo anche oggi, che schifo di servizio.",
    "Thank you so much for the wedding cake, everyone loved it!",
    "What time do you open on Sundays?",
    "Earn 500$ a day from home!!! Click here http://bit.ly/xx9",
    'Quotes "and" <tags> & ampersands',
]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("ANALYZER", "SENTIMENT_MODEL", "TOXICITY_MODEL"):
        monkeypatch.delenv(f"CRISISDESK_{name}", raising=False)


def test_plain_text_to_jsonl_in_input_order(tmp_path: Path) -> None:
    path = tmp_path / "comments.txt"
    path.write_text("\n".join(COMMENTS) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(path), "--format", "jsonl"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [r["text"] for r in rows] == COMMENTS
    for row in rows:
        assert row["sentiment"] in SENTIMENTS and row["kind"] in KINDS
        assert set(row["sentiment_scores"]) == set(SENTIMENTS)
        assert 0 <= row["offensive"] <= 1 and 0 <= row["irony"] <= 1 and 0 <= row["spam"] <= 1
        assert isinstance(row["question"], bool) and isinstance(row["reasons"], list)
        assert row["model_version"].startswith("fast-linear-")
    assert rows[0]["language"] == "it" and rows[1]["language"] == "en"
    assert rows[0]["sentiment"] == "negative"
    assert rows[2]["question"] is True and rows[2]["kind"] == "question"
    assert rows[3]["kind"] == "spam"


def test_language_hint_is_passed_through(tmp_path: Path) -> None:
    path = tmp_path / "comments.txt"
    path.write_text("ok\n", encoding="utf-8")
    result = runner.invoke(
        app, ["analyze", str(path), "--format", "jsonl", "--lang", "it"], catch_exceptions=False
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout.splitlines()[0])["language"] == "it"


def test_csv_import_format_and_table(tmp_path: Path) -> None:
    path = tmp_path / "comments.csv"
    path.write_text(
        'id,created_at,text,author_id\nc1,2024-01-01T10:00:00Z,"Grazie, buonissimo!",a\n'
        'c2,2024-01-01T10:01:00Z,"You idiots, shut up",b\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["analyze", str(path), "--format", "csv"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == ["c1", "c2"]
    assert rows[0]["kind"] == "praise" and rows[1]["kind"] == "troll"
    assert json.loads(rows[1]["reasons"])  # lists are JSON inside CSV cells
    table = runner.invoke(app, ["analyze", str(path)], catch_exceptions=False)
    assert table.exit_code == 0 and "praise" in table.stdout and "troll" in table.stdout
