"""Settings, declared once.

Each setting has a name, a default and a help line (as Datasette's ``SETTINGS``). Values are read,
highest precedence first, from explicit arguments (the CLI's flags), then ``CRISISDESK_<NAME>``
environment variables, then ``crisisdesk.toml`` in the data directory, then the default. Nothing is
read at import time: a :class:`Settings` is built by whoever builds the :class:`~crisisdesk.desk.Desk`.

Secrets are wrapped in :class:`Secret` so that they never reach logs, reprs or tracebacks. A value
that cannot be used is a ``ValueError`` raised with a :class:`~crisisdesk.reasons.Reason`, so the
command line can say it in the reader's language.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crisisdesk.reasons import Reason


class Secret:
    """A string that does not show itself in ``repr`` or ``str`` (as Starlette's ``Secret``)."""

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    secret: bool = False
    # Whole-number settings: the values that make sense. A batch of 0 rows would import nothing
    # forever, a page of 0 comments shows none; better refused when the desk starts.
    low: int | None = None
    high: int | None = None


PLACEHOLDER_SECRET = "change-me"

SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "./crisisdesk-data", "Directory holding the SQLite database and state."),
    Setting(
        "database_url",
        "",
        "SQLAlchemy URL; empty means a SQLite file in the data directory. "
        "Use postgresql+psycopg://... for PostgreSQL.",
    ),
    Setting(
        "secret_key",
        PLACEHOLDER_SECRET,
        "Signs session cookies and CSRF tokens. Must be changed outside the demo.",
        secret=True,
    ),
    Setting(
        "analyzer",
        "fast",
        "Analysis backend: 'fast' (shipped models), 'lexicon' (word lists only) or "
        "'transformers' (local Hugging Face models; pip install crisisdesk[transformers]).",
    ),
    Setting("sentiment_model", "", "Local Hugging Face model directory for sentiment."),
    Setting("toxicity_model", "", "Local Hugging Face model directory for offensiveness."),
    Setting(
        "cooldown_minutes",
        15,
        "Default cool-down before a reply may be published.",
        low=0,
        high=24 * 60,
    ),
    Setting(
        "response_target_minutes",
        60,
        "Default time from arrival to reply.",
        low=1,
        high=7 * 24 * 60,
    ),
    Setting("import_batch_size", 1000, "Rows per transaction when importing.", low=1, high=100_000),
    Setting("page_size", 50, "Comments per inbox page.", low=1, high=500),
    Setting(
        "timezone",
        "UTC",
        "Time zone of the dates on the web pages (IANA name, e.g. Europe/Rome); with JavaScript "
        "each browser shows them in its own.",
    ),
    Setting("webhook_urls", "", "Comma-separated URLs that receive alert notifications."),
    Setting("webhook_secret", "", "Signs outgoing webhook bodies (HMAC-SHA256).", secret=True),
    Setting("smtp_host", "", "SMTP server for alert e-mail; empty disables e-mail."),
    Setting("smtp_port", 587, "SMTP port.", low=1, high=65535),
    Setting("smtp_username", "", "SMTP user name."),
    Setting("smtp_password", "", "SMTP password.", secret=True),
    Setting("smtp_starttls", True, "Use STARTTLS with the SMTP server."),
    Setting("smtp_from", "", "From address of alert e-mail."),
    Setting("smtp_to", "", "Comma-separated recipients of alert e-mail."),
    Setting(
        "facebook_app_secret", "", "Meta app secret: verifies webhook signatures.", secret=True
    ),
    Setting(
        "facebook_verify_token", "", "Token for the webhook subscription handshake.", secret=True
    ),
    Setting("graph_api_url", "https://graph.facebook.com", "Base URL of the Graph API."),
    Setting("graph_api_version", "v21.0", "Graph API version."),
    Setting("token_key", "", "Key that encrypts platform tokens at rest.", secret=True),
    Setting("public_url", "", "Where the desk is reachable, for links in notifications."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def display_zone(name: str) -> ZoneInfo:
    """The ``timezone`` setting as a zone, or a clear error naming the setting.

    >>> display_zone("Europe/Rome").key, display_zone("").key
    ('Europe/Rome', 'UTC')
    """
    try:
        return ZoneInfo(name.strip() or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            Reason(
                "settings.timezone",
                "timezone: unknown time zone {name} (an IANA name such as Europe/Rome or UTC)",
                name=repr(name),
            )
        ) from None


def _coerce(setting: Setting, raw: Any) -> Any:
    default = setting.default
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(
            Reason(
                "settings.not_bool",
                "setting {name}: expected true/false, got {value}",
                name=setting.name,
                value=repr(raw),
            )
        )
    if isinstance(default, int):
        try:
            number = int(raw)
        except (TypeError, ValueError):
            raise ValueError(
                Reason(
                    "settings.not_whole",
                    "setting {name}: expected a whole number, got {value}",
                    name=setting.name,
                    value=repr(raw),
                )
            ) from None
        low = setting.low if setting.low is not None else number
        high = setting.high if setting.high is not None else number
        if not low <= number <= high:
            raise ValueError(
                Reason(
                    "settings.out_of_range",
                    "setting {name}: expected a whole number from {low} to {high}, got {value}",
                    name=setting.name,
                    low=low,
                    high=high,
                    value=number,
                )
            )
        return number
    value = "" if raw is None else str(raw)
    return Secret(value) if setting.secret else value


class Settings:
    """Resolved settings. Attribute access by name; secrets come back as :class:`Secret`.

    >>> s = Settings({"data_dir": "/tmp/x"}, environ={})
    >>> s.data_dir
    '/tmp/x'
    >>> s.cooldown_minutes
    15
    """

    def __init__(
        self,
        overrides: Mapping[str, Any] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        given = {k: v for k, v in (overrides or {}).items() if v is not None}
        unknown = set(given) - set(_BY_NAME)
        if unknown:
            raise ValueError(
                Reason(
                    "settings.unknown",
                    "unknown settings: {names}",
                    names=", ".join(sorted(unknown)),
                )
            )
        data_dir = (
            given.get("data_dir") or env.get("CRISISDESK_DATA_DIR") or _BY_NAME["data_dir"].default
        )
        file_values = _read_config_file(Path(data_dir) / "crisisdesk.toml")
        self._values: dict[str, Any] = {}
        self._origin: dict[str, str] = {}
        for setting in SETTINGS:
            env_key = "CRISISDESK_" + setting.name.upper()
            if setting.name in given:
                raw, origin = given[setting.name], "argument"
            elif env_key in env:
                raw, origin = env[env_key], "environment"
            elif setting.name in file_values:
                raw, origin = file_values[setting.name], "config file"
            else:
                raw, origin = setting.default, "default"
            self._values[setting.name] = _coerce(setting, raw)
            self._origin[setting.name] = origin

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def origin(self, name: str) -> str:
        return self._origin[name]

    def as_dict(self) -> dict[str, Any]:
        """Values for display: secrets stay masked."""
        return dict(self._values)

    @property
    def data_path(self) -> Path:
        return Path(self._values["data_dir"]).expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        url: str = self._values["database_url"]
        if url:
            return url
        return f"sqlite:///{self.data_path / 'crisisdesk.sqlite'}"

    def secret_is_placeholder(self) -> bool:
        key: Secret = self._values["secret_key"]
        return key.reveal() in {"", PLACEHOLDER_SECRET}

    def csv(self, name: str) -> list[str]:
        value = self._values[name]
        raw = value.reveal() if isinstance(value, Secret) else str(value)
        return [part.strip() for part in raw.split(",") if part.strip()]


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        # The parser's own words say where and what; only the sentence around them is ours.
        raise ValueError(
            Reason("settings.toml", "{path}: not valid TOML: {detail}", path=path, detail=str(exc))
        ) from None
    except OSError as exc:
        raise ValueError(
            Reason(
                "settings.unreadable",
                "{path}: cannot be read: {detail}",
                path=path,
                detail=exc.strerror or str(exc),
            )
        ) from None
    section = data.get("crisisdesk", data)
    unknown = set(section) - set(_BY_NAME)
    if unknown:
        raise ValueError(
            Reason(
                "settings.file_unknown",
                "{path}: unknown settings: {names}",
                path=path,
                names=", ".join(sorted(unknown)),
            )
        )
    return dict(section)
