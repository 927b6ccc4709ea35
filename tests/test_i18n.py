"""The command line's catalog: every message in every language, with the same placeholders."""

from __future__ import annotations

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
