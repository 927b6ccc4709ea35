"""Catalogs of interface text, shared by the web desk and the command line.

A catalog file is ``{"en": {key: text}, "it": {key: text}}``, one file per part of the
interface. The web keeps its files in ``web/locales``, the command line in ``locales``; both are
read by :func:`load_catalogs`, so a new language is one more section in each file. A missing key
falls back to English, then to the key itself, so a half-translated language still reads.

The command line picks its language from the environment, as command-line tools do: the
``CRISISDESK_LANG`` override first, then the POSIX locale variables. Machine output (``--json``,
jsonl, CSV, exit codes) never goes through here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

DEFAULT_LANGUAGE = "en"

#: Languages that write 0,5 and 1.234 where English writes 0.5 and 1,234.
DECIMAL_COMMA = frozenset({"it", "es", "fr", "de", "pt"})

_CLI_LOCALES = Path(__file__).parent / "locales"

# POSIX order: LC_ALL overrides LC_MESSAGES, which overrides LANG.
_LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def load_catalogs(
    directory: Path, into: dict[str, dict[str, str]] | None = None
) -> dict[str, dict[str, str]]:
    """Merge every ``*.json`` catalog file of ``directory`` into ``into`` (a new dict if None).

    >>> catalogs = load_catalogs(_CLI_LOCALES)
    >>> sorted(catalogs) == ["en", "it"]
    True
    """
    catalogs: dict[str, dict[str, str]] = {} if into is None else into
    for path in sorted(directory.glob("*.json")):
        for lang, catalog in json.loads(path.read_text(encoding="utf-8")).items():
            catalogs.setdefault(lang, {}).update(catalog)
    return catalogs


@cache
def cli_catalogs() -> dict[str, dict[str, str]]:
    # Read once per process, on the first message: commands that print nothing never read it.
    return load_catalogs(_CLI_LOCALES)


def _language_of(value: str) -> str:
    """``it_IT.UTF-8``, ``it-IT`` or ``IT`` -> ``it``; ``C`` and ``POSIX`` -> ``c``/``posix``."""
    return value.replace("-", "_").split("_")[0].split(".")[0].split("@")[0].lower()


def cli_language(environ: Mapping[str, str] | None = None) -> str:
    """The language the command line speaks: ``CRISISDESK_LANG`` if set, else the first locale
    variable set (LC_ALL, LC_MESSAGES, LANG), else English. A language without a catalog is
    English.

    >>> cli_language({"CRISISDESK_LANG": "it"}), cli_language({"LANG": "it_IT.UTF-8"})
    ('it', 'it')
    >>> cli_language({"CRISISDESK_LANG": "en", "LANG": "it_IT.UTF-8"}), cli_language({})
    ('en', 'en')
    >>> cli_language({"LC_ALL": "C", "LANG": "it_IT.UTF-8"}), cli_language({"LANG": "xx_YY"})
    ('en', 'en')
    """
    env = os.environ if environ is None else environ
    chosen = env.get("CRISISDESK_LANG", "").strip()
    if not chosen:
        # The first non-empty variable decides, even "C": that is how the C library reads them.
        chosen = next((env[name] for name in _LOCALE_VARIABLES if env.get(name)), "")
    lang = _language_of(chosen)
    return lang if lang in cli_catalogs() else DEFAULT_LANGUAGE


def grouped(n: int, lang: str) -> str:
    """A whole number with thousands grouped as readers of ``lang`` write it.

    >>> grouped(12345, "en"), grouped(12345, "it"), grouped(999, "it")
    ('12,345', '12.345', '999')
    """
    text = f"{n:,}"
    return text.replace(",", ".") if lang in DECIMAL_COMMA else text


def message(key: str, lang: str, /, **values: object) -> str:
    """Message ``key`` of the command line in ``lang``, with its ``{name}`` placeholders filled
    from ``values``; whole numbers are grouped in the reader's way.

    >>> message("reanalyze.examined", "it", examined=12000, reanalysed=800)
    'esaminati: 12.000, rianalizzati: 800'
    >>> message("reanalyze.examined", "en", examined=12000, reanalysed=800)
    'examined 12,000, reanalysed 800'
    """
    catalogs = cli_catalogs()
    template = catalogs.get(lang, {}).get(key) or catalogs[DEFAULT_LANGUAGE].get(key) or key
    shown = {
        name: grouped(v, lang) if isinstance(v, int) and not isinstance(v, bool) else v
        for name, v in values.items()
    }
    return template.format(**shown)


def say(key: str, /, **values: object) -> str:
    """:func:`message` in the language of the environment (:func:`cli_language`), read at each
    call so a command run from a test or a wrapper with another environment follows it."""
    return message(key, cli_language(), **values)


def say_or(key: str, fallback: str, /, **values: object) -> str:
    """:func:`say` for ``key`` if the catalog has it, else ``fallback``: for names that come from
    the data (a setting, a count) and may be newer than the catalog.

    >>> say_or("alerts.none", "-") != "-", say_or("stats.nothing_like_this", "nothing_like_this")
    (True, 'nothing_like_this')
    """
    if key not in cli_catalogs()[DEFAULT_LANGUAGE]:
        return fallback
    return say(key, **values)


def say_reason(text: object) -> str:
    """``text`` (a string, or an exception) in the language of the environment when it is a
    :class:`~crisisdesk.reasons.Reason` whose code is a catalog key: the catalog's sentence with
    the reason's values. Anything else is shown as it is: the system's and the platforms' words,
    which only they could translate, and reasons newer than the catalog.

    >>> from crisisdesk.reasons import Reason
    >>> missing = Reason("row.missing", "{field} is missing", field="id")
    >>> say_reason(ValueError(missing)) == say("row.missing", field="id")
    True
    >>> say_reason(OSError("Permission denied"))
    'Permission denied'
    """
    from crisisdesk.reasons import Reason, message_of

    reason = message_of(text) if isinstance(text, BaseException) else text
    if not isinstance(reason, Reason):
        return str(reason)
    values = {k: say_reason(v) if isinstance(v, Reason) else v for k, v in reason.params.items()}
    return say_or(reason.code, str(reason), **values)
