"""``crisisdesk page``: settings the playbook reads, set from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crisisdesk.cli import app

runner = CliRunner()


def test_set_and_list(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    result = runner.invoke(
        app,
        [
            "page", "set", "facebook:123", "--name", "Forno <b>Aurora</b>", "--language", "it",
            "--competitor", "Panificio Rivale; @rivale; rivale.it", "--competitor", "Forno Due",
            "--contact", "delivery=Luca (logistics)", "--contact", "default=Sara",
            "--cause", "delivery", "--cause", "product",
            "--cooldown", "complaint=20", "--cooldown", "troll=30",
            "--response-target", "45", "--data-dir", data,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["page", "list", "--json", "--data-dir", data])
    pages = json.loads(listed.stdout)
    assert len(pages) == 1
    page = pages[0]
    assert page["name"] == "Forno <b>Aurora</b>" and page["language"] == "it"
    assert page["config"] == {
        "competitors": [
            {
                "name": "Panificio Rivale",
                "handles": ["rivale"],
                "domains": ["rivale.it"],
                "products": [],
            },
            {"name": "Forno Due", "handles": [], "domains": [], "products": []},
        ],
        "contacts": {"delivery": "Luca (logistics)", "default": "Sara"},
        "causes": ["delivery", "product"],
        "cooldown_minutes": {"complaint": 20.0, "troll": 30.0},
        "response_target_minutes": 45.0,
    }
    # A later call changes only what it names.
    runner.invoke(app, ["page", "set", "facebook:123", "--cooldown", "10", "--data-dir", data])
    page = json.loads(runner.invoke(app, ["page", "list", "--json", "--data-dir", data]).stdout)[0]
    assert page["config"]["cooldown_minutes"] == 10.0
    assert page["config"]["causes"] == ["delivery", "product"]


def test_bad_options_are_refused(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    for args in (
        ["page", "set", "no-colon"],
        ["page", "set", "facebook:1", "--contact", "nobody"],
        ["page", "set", "facebook:1", "--cooldown", "complaint=soon"],
        ["page", "set", "facebook:1", "--response-target", "-5"],
    ):
        result = runner.invoke(app, [*args, "--data-dir", data])
        assert result.exit_code == 2, (args, result.output)
        assert "error:" in result.output


def test_kinds_and_topics_by_their_italian_names(tmp_path: Path) -> None:
    """The cool-down and the contacts are looked up by English keys: an Italian name is stored
    as its key, and a name the desk does not know is refused, not saved to be ignored."""
    data = str(tmp_path / "d")
    result = runner.invoke(
        app,
        ["page", "set", "facebook:7", "--cooldown", "reclamo=30", "--cooldown", "Troll=0",
         "--contact", "consegne=Luca", "--contact", "tutto il resto=Sara", "--data-dir", data],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = json.loads(runner.invoke(app, ["page", "list", "--json", "--data-dir", data]).stdout)[0]
    assert page["config"]["cooldown_minutes"] == {"complaint": 30.0, "troll": 0.0}
    assert page["config"]["contacts"] == {"delivery": "Luca", "default": "Sara"}
    refused = runner.invoke(
        app, ["page", "set", "facebook:7", "--contact", "pizza=Gino", "--data-dir", data]
    )
    assert refused.exit_code == 2 and "unknown topic 'pizza'" in refused.output


def test_currency_of_a_page(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    ok = runner.invoke(app, ["page", "set", "facebook:8", "--currency", "gbp", "--data-dir", data])
    assert ok.exit_code == 0, ok.output
    page = json.loads(runner.invoke(app, ["page", "list", "--json", "--data-dir", data]).stdout)[0]
    assert page["config"]["currency"] == "GBP"
    bad = runner.invoke(app, ["page", "set", "facebook:8", "--currency", "BTC", "--data-dir", data])
    assert bad.exit_code == 2 and "--currency must be one of" in bad.output
