"""The command line's catalog: every message in every language, with the same placeholders."""

from __future__ import annotations

import ast
import json
import string
from pathlib import Path

import crisisdesk

CLI_CATALOG = Path(crisisdesk.__file__).parent / "locales" / "cli.json"


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_every_cli_message_is_in_english_and_italian() -> None:
    catalogs = json.loads(CLI_CATALOG.read_text(encoding="utf-8"))
    assert set(catalogs) == {"en", "it"}
    english, italian = catalogs["en"], catalogs["it"]
    assert set(english) == set(italian), set(english) ^ set(italian)
    for key, text in english.items():
        assert text.strip() and italian[key].strip(), key
        # A placeholder missing from one language would raise KeyError only in that language.
        assert _placeholders(text) == _placeholders(italian[key]), key
        # Placeholders are named, so a translation can put the values in its own order.
        assert all(name.isidentifier() for name in _placeholders(text)), key


def _reasons_in_the_package() -> list[tuple[str, str, str]]:
    """(file:line, code, template) of every ``Reason("code", "template", ...)`` the package
    writes out literally (the signals build theirs from tables the web's catalogs cover)."""
    package = Path(crisisdesk.__file__).parent
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Reason"
                and len(node.args) >= 2
            ):
                continue
            code, template = node.args[:2]
            if isinstance(code, ast.Constant) and isinstance(template, ast.Constant):
                where = f"{path.relative_to(package)}:{node.lineno}"
                found.append((where, code.value, template.value))
    return found


def test_every_reason_the_layers_raise_has_words_on_the_command_line() -> None:
    """An error raised with a Reason reaches the command line said from its catalog entry; one
    without an entry would stay English. The English entry is the sentence the layer writes, so
    a person reads on the command line what the API and the logs say."""
    english = json.loads(CLI_CATALOG.read_text(encoding="utf-8"))["en"]
    reasons = _reasons_in_the_package()
    assert len(reasons) > 50  # the walk found them
    for where, code, template in reasons:
        assert english.get(code) == template, (where, code)


def test_the_walk_reaches_the_model_files_refusals() -> None:
    """A shipped model file that is missing, unreadable or damaged is refused with a reason the
    command line says from its catalog: the walk above must find them, so that a new refusal of
    the models cannot go without words."""
    found = {code for where, code, _ in _reasons_in_the_package() if "linear.py" in where}
    assert {
        "model.file_missing",
        "model.file_unreadable",
        "model.file_damaged",
        "model.manifest_shape",
        "model.word_weights",
    } <= found
