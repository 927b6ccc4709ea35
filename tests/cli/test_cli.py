"""The command line through its runner, on real SQLite files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from crisisdesk.cli import app

runner = CliRunner()

GOOD = "id,created_at,text,author_id\n1,2024-01-01T10:00:00Z,consegna in ritardo,a\n2,2024-01-01T10:01:00Z,thanks a lot,b\n"


@pytest.fixture(autouse=True)
def _keyword_analyzer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Store tests use the deterministic test analyser instead of loading model files."""
    import crisisdesk.desk
    from tests.conftest import KeywordAnalyzer

    monkeypatch.setattr(crisisdesk.desk.Desk, "analyzer", property(lambda self: KeywordAnalyzer()))


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, list(args), env=env, catch_exceptions=False)


def test_help_explains() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("import", "analyze", "stats", "serve", "demo", "db", "user"):
        assert command in result.output
    result = runner.invoke(app, ["import", "--help"])
    assert "Exit codes" in result.output and "--column" in result.output


def test_import_then_stats(tmp_path: Path) -> None:
    data = tmp_path / "d"
    f = tmp_path / "c.csv"
    f.write_text(GOOD)
    result = invoke("import", str(f), "--data-dir", str(data))
    assert result.exit_code == 0, result.output
    stats = invoke("stats", "--json", "--data-dir", str(data))
    counts = json.loads(stats.stdout)
    # The complaint ("consegna in ritardo") opens a case; the thanks does not.
    assert counts == {"pages": 1, "posts": 0, "comments": 2, "authors": 2, "alerts": 0, "cases": 1}
    # Importing the same file again changes nothing.
    assert invoke("import", str(f), "--data-dir", str(data)).exit_code == 0
    again = json.loads(invoke("stats", "--json", "--data-dir", str(data)).stdout)
    assert again["comments"] == 2


def test_data_dir_from_environment(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text(GOOD)
    env = {"CRISISDESK_DATA_DIR": str(tmp_path / "envdata")}
    assert invoke("import", str(f), env=env).exit_code == 0
    assert (tmp_path / "envdata" / "crisisdesk.sqlite").is_file()


def test_partial_import_exit_3_reports_file_line(tmp_path: Path) -> None:
    f = tmp_path / "mixed.csv"
    f.write_text(GOOD + "3,not-a-date,x,c\n")
    result = invoke("import", str(f), "--data-dir", str(tmp_path / "d"))
    assert result.exit_code == 3
    assert f"{f}:4: created_at is not a date" in result.stderr
    counts = json.loads(invoke("stats", "--json", "--data-dir", str(tmp_path / "d")).stdout)
    assert counts["comments"] == 2


def test_nothing_usable_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("foo,bar\n1,2\n")
    result = invoke("import", str(f), "--data-dir", str(tmp_path / "d"))
    assert result.exit_code == 2
    assert "no 'id' column" in result.stderr
    missing = invoke("import", str(tmp_path / "nope.csv"), "--data-dir", str(tmp_path / "d"))
    assert missing.exit_code == 2


def test_column_mapping_option(tmp_path: Path) -> None:
    f = tmp_path / "theirs.csv"
    f.write_text("cid,when,body\n1,2024-01-01,ciao\n")
    bad = invoke("import", str(f), "--column", "nonsense", "--data-dir", str(tmp_path / "d"))
    assert bad.exit_code == 2
    result = invoke(
        "import", str(f), "--column", "id=cid", "--column", "created_at=when",
        "--column", "text=body", "--data-dir", str(tmp_path / "d"),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr


def test_db_upgrade_and_user_add(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    assert "revision" in invoke("db", "upgrade", "--data-dir", data).stdout
    short = invoke("user", "add", "ann", "--password", "short", "--data-dir", data)
    assert short.exit_code == 2 and "at least" in short.stderr
    ok = invoke(
        "user", "add", "ann", "--data-dir", data, env={"CRISISDESK_PASSWORD": "a-long-password"}
    )
    assert ok.exit_code == 0
    dup = invoke("user", "add", "ann", "--password", "another-long-one", "--data-dir", data)
    assert dup.exit_code == 2 and "already exists" in dup.stderr


def test_serve_refuses_placeholder_secret(tmp_path: Path) -> None:
    result = invoke("serve", "--data-dir", str(tmp_path / "d"), env={"CRISISDESK_SECRET_KEY": ""})
    assert result.exit_code == 2 and "secret key" in result.stderr


def test_demo_refuses_public_interface(tmp_path: Path) -> None:
    result = invoke("demo", "--host", "0.0.0.0", "--data-dir", str(tmp_path / "d"))
    assert result.exit_code == 2 and "127.0.0.1" in result.stderr


def test_reanalyze_after_a_model_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    import crisisdesk.desk
    from tests.conftest import KeywordAnalyzer

    class NewerKeywords(KeywordAnalyzer):
        """A later model that no longer takes thanks for praise."""

        version = "keyword-test-2"

        def analyze_many(self, texts: Any, lang_hints: Any = None) -> Any:
            return [
                replace(a, kind="other", sentiment="neutral") if a.kind == "praise" else a
                for a in super().analyze_many(texts, lang_hints)
            ]

    data = str(tmp_path / "d")
    f = tmp_path / "c.csv"
    f.write_text(GOOD)
    assert invoke("import", str(f), "--data-dir", data).exit_code == 0
    same = invoke("reanalyze", "--data-dir", data)
    assert same.exit_code == 0, same.output
    assert same.stdout.strip() == "All 2 comments already read by keyword-test-1"

    monkeypatch.setattr(crisisdesk.desk.Desk, "analyzer", property(lambda self: NewerKeywords()))
    result = invoke("reanalyze", "--data-dir", data, "--batch-size", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "Reanalysed 2 of 2 comments (kind changed: 1, sentiment changed: 1); "
        "replaced keyword-test-1 (2)"
    )
    # Progress on stderr, a line per batch.
    assert result.stderr.splitlines() == [
        "examined 1, reanalysed 1",
        "examined 2, reanalysed 2",
    ]
    assert invoke("reanalyze", "--data-dir", data).stdout.strip() == (
        "All 2 comments already read by keyword-test-2"
    )
    redo = invoke("reanalyze", "--all", "--page", "default", "--data-dir", data)
    assert redo.stdout.strip() == (
        "Reanalysed 2 of 2 comments (kind changed: 0, sentiment changed: 0); "
        "replaced keyword-test-2 (2)"
    )
    # Reading history again opens no case: still only the one from the import.
    assert json.loads(invoke("stats", "--json", "--data-dir", data).stdout)["cases"] == 1


def test_reanalyze_unknown_page(tmp_path: Path) -> None:
    result = invoke("reanalyze", "--page", "nope", "--data-dir", str(tmp_path / "d"))
    assert result.exit_code == 2
    assert "error: no page 'nope'" in result.stderr
    bad = runner.invoke(app, ["reanalyze", "--batch-size", "0", "--data-dir", str(tmp_path)])
    assert bad.exit_code == 2
