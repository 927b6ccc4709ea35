"""Errors that come from the layers below the command line (settings, model loading, lookups,
dates, users and tokens, importers) are said in the reader's language; exit codes and machine
output do not change with it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

import crisisdesk
from crisisdesk.cli import app

runner = CliRunner()

# Without any language variable (the runner's env removes the names mapped to None), and with
# the word-list analyser, which loads no model file: these tests are about the words around it.
NO_LANGUAGE: dict[str, str | None] = {
    **dict.fromkeys(("CRISISDESK_LANG", "LC_ALL", "LC_MESSAGES", "LANG")),
    **dict.fromkeys(("CRISISDESK_SENTIMENT_MODEL", "CRISISDESK_TOXICITY_MODEL")),
    "CRISISDESK_ANALYZER": "lexicon",
}
ITALIAN = {**NO_LANGUAGE, "CRISISDESK_LANG": "it"}
ENGLISH = {**NO_LANGUAGE, "CRISISDESK_LANG": "en"}


def invoke(env: Mapping[str, str | None], *args: str) -> Result:
    return runner.invoke(app, list(args), env=env, catch_exceptions=False)


def both(*args: str, **env: str) -> tuple[Result, Result]:
    """The command in Italian and in English, with the same exit code and the same stdout."""
    italian = invoke({**ITALIAN, **env}, *args)
    english = invoke({**ENGLISH, **env}, *args)
    assert italian.exit_code == english.exit_code, args
    assert italian.stdout == english.stdout, args
    return italian, english


def test_settings_errors(tmp_path: Path) -> None:
    data = tmp_path / "d"
    it, en = both("stats", "--data-dir", str(data), CRISISDESK_PAGE_SIZE="tanti")
    assert it.exit_code == 2
    assert it.stderr == "errore: impostazione page_size: serve un numero intero, ricevuto 'tanti'\n"
    assert en.stderr == "error: setting page_size: expected a whole number, got 'tanti'\n"
    # a batch of no rows would import nothing forever: refused when the desk starts
    it, en = both("stats", "--data-dir", str(data), CRISISDESK_IMPORT_BATCH_SIZE="0")
    assert it.exit_code == 2
    assert it.stderr == (
        "errore: impostazione import_batch_size: serve un numero intero da 1 a 100.000, ricevuto 0\n"
    )
    assert en.stderr == (
        "error: setting import_batch_size: expected a whole number from 1 to 100,000, got 0\n"
    )

    # analyze builds its settings itself: a bad value was a traceback there.
    comments = tmp_path / "comments.txt"
    comments.write_text("ciao\n", encoding="utf-8")
    it, en = both("analyze", str(comments), CRISISDESK_SMTP_STARTTLS="forse")
    assert it.exit_code == 2
    assert it.stderr == "errore: impostazione smtp_starttls: serve true o false, ricevuto 'forse'\n"
    assert en.stderr == "error: setting smtp_starttls: expected true/false, got 'forse'\n"

    data.mkdir()
    config = data / "crisisdesk.toml"
    config.write_text("[crisisdesk]\npage_sise = 20\n", encoding="utf-8")
    it, en = both("stats", "--data-dir", str(data))
    assert it.stderr == f"errore: {config}: impostazioni sconosciute: page_sise\n"
    assert en.stderr == f"error: {config}: unknown settings: page_sise\n"
    config.write_text("page_size = \n", encoding="utf-8")
    it, en = both("stats", "--data-dir", str(data))
    # The TOML parser's own words say where; the sentence around them is the reader's.
    assert it.stderr.startswith(f"errore: {config}: non è TOML valido: ")
    assert en.stderr.startswith(f"error: {config}: not valid TOML: ")
    config.unlink()

    # The listing of connections reads the time zone: a bad one was a traceback there.
    it, en = both("connections", "--data-dir", str(data), CRISISDESK_TIMEZONE="Europe/Atlantide")
    assert it.exit_code == 2
    assert it.stderr == (
        "errore: timezone: fuso orario sconosciuto 'Europe/Atlantide' "
        "(serve un nome IANA come Europe/Rome o UTC)\n"
    )
    assert en.stderr == (
        "error: timezone: unknown time zone 'Europe/Atlantide' "
        "(an IANA name such as Europe/Rome or UTC)\n"
    )

    # The web app writes its dates in that zone: serve refuses it before starting.
    it, en = both(
        "serve",
        "--data-dir",
        str(data),
        CRISISDESK_TIMEZONE="Europe/Atlantide",
        CRISISDESK_SECRET_KEY="a secret for this test only",
    )
    assert it.exit_code == 2 and it.stderr.startswith("errore: timezone: fuso orario sconosciuto")
    assert en.stderr.startswith("error: timezone: unknown time zone 'Europe/Atlantide'")

    # A data directory that cannot be made (a file is in the way): the system's words stay.
    blocked = tmp_path / "a-file"
    blocked.write_text("", encoding="utf-8")
    it, en = both("stats", "--data-dir", str(blocked / "d"))
    assert it.exit_code == 2
    assert it.stderr.startswith(f"errore: {blocked / 'd'}: qui non si può tenere il database: ")
    assert en.stderr.startswith(f"error: {blocked / 'd'}: the database cannot be kept here: ")


def test_model_loading_errors(tmp_path: Path) -> None:
    comments = tmp_path / "comments.txt"
    comments.write_text("ciao\n", encoding="utf-8")
    it, en = both("analyze", str(comments), "--format", "jsonl", CRISISDESK_ANALYZER="veloce")
    assert it.exit_code == 2 and it.stdout == ""
    assert it.stderr == (
        "errore: backend di analisi sconosciuto 'veloce'; scegliete uno tra fast, lexicon, "
        "transformers\n"
    )
    assert en.stderr == (
        "error: unknown analyzer backend 'veloce'; choose one of fast, lexicon, transformers\n"
    )

    data = str(tmp_path / "d")
    it, en = both("reanalyze", "--data-dir", data, CRISISDESK_ANALYZER="transformers")
    assert it.exit_code == 2
    assert it.stderr == (
        "errore: il backend transformers ha bisogno di sentiment_model e/o toxicity_model "
        "(cartelle locali di modelli Hugging Face)\n"
    )
    assert en.stderr.startswith("error: the transformers backend needs sentiment_model")


def test_unknown_page(tmp_path: Path) -> None:
    it, en = both("reanalyze", "--page", "nope", "--data-dir", str(tmp_path / "d"))
    assert it.exit_code == 2
    assert it.stderr == (
        "errore: nessuna pagina 'nope'; le pagine che il desk conosce sono elencate da "
        "`crisisdesk page list`\n"
    )
    assert en.stderr == (
        "error: no page 'nope'; see the pages the desk knows with `crisisdesk page list`\n"
    )


def test_dates_of_options(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    it, en = both("sync", "--since", "ieri", "--data-dir", data)
    assert it.exit_code == 2
    assert it.stderr == "errore: --since: non è una data o un'ora valida: 'ieri'\n"
    assert en.stderr == "error: --since: the time is not a date and time: 'ieri'\n"
    it, en = both("sync", "--until", "9" * 20, "--data-dir", data)
    assert it.stderr == f"errore: --until: la data è fuori dall'intervallo ammesso: '{'9' * 20}'\n"
    assert en.stderr == f"error: --until: the time is out of range: '{'9' * 20}'\n"


def test_users_and_tokens(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    password = "a long enough password"
    it, en = both("user", "add", "a b", "--password", password, "--data-dir", data)
    assert it.exit_code == 2
    assert it.stderr == (
        "errore: il nome utente deve avere da 2 a 100 caratteri, solo lettere, cifre e . _ @ -\n"
    )
    assert en.stderr == "error: user names are 2-100 letters, digits, or . _ @ -\n"
    it, en = both("user", "add", "ada", "--password", "short", "--data-dir", data)
    assert it.stderr == "errore: la password deve avere almeno 10 caratteri\n"
    assert en.stderr == "error: passwords need at least 10 characters\n"
    added = invoke(ITALIAN, "user", "add", "ada", "--password", password, "--data-dir", data)
    assert added.exit_code == 0
    it, en = both("user", "add", "ada", "--password", password, "--data-dir", data)
    assert it.stderr == "errore: l'utente 'ada' esiste già\n"
    assert en.stderr == "error: user 'ada' already exists\n"
    it, en = both("token", "create", " ", "--data-dir", data)
    assert it.exit_code == 2
    assert it.stderr == "errore: il token ha bisogno di un nome\n"
    assert en.stderr == "error: a token needs a name\n"


ROWS = (
    "id,created_at,text\n"
    "1,2024-05-01T10:00:00Z,buongiorno\n"
    "2,,senza data\n"
    "3,ieri,data a parole\n"
    "4,2024-05-01T10:00:00Z\n"
    '5,2024-05-01T10:00:00Z,"troppi",campi\n'
)


def test_rejected_rows(tmp_path: Path) -> None:
    from crisisdesk.ingest.readers import read_stream
    from crisisdesk.ingest.record import Rejected

    path = tmp_path / "rows.csv"
    path.write_text(ROWS, encoding="utf-8")
    italian = invoke(ITALIAN, "import", str(path), "--data-dir", str(tmp_path / "it"))
    english = invoke(ENGLISH, "import", str(path), "--data-dir", str(tmp_path / "en"))
    assert italian.exit_code == english.exit_code == 3  # the good row kept, the others told
    assert italian.stderr.splitlines()[:4] == [
        f"{path}:3: mancano campi obbligatori: created_at",
        f"{path}:4: created_at non è una data con ora valida: 'ieri'",
        f"{path}:5: campi attesi: 3, trovati: 2",
        f"{path}:6: campi attesi: 3, trovati: 4",
    ]
    expected = [
        f"{path}:3: missing required field(s): created_at",
        f"{path}:4: created_at is not a date and time: 'ieri'",
        f"{path}:5: expected 3 fields, found 2",
        f"{path}:6: expected 3 fields, found 4",
    ]
    assert english.stderr.splitlines()[:4] == expected
    # The rejected rows themselves still say it in English, with a code beside it.
    with path.open("rb") as raw:
        rejected = [item for item in read_stream(raw, str(path)) if isinstance(item, Rejected)]
    assert [str(r) for r in rejected] == expected
    assert [getattr(r.reason, "code", None) for r in rejected] == [
        "row.required", "row.time_format", "row.field_count", "row.field_count",
    ]  # fmt: skip
    stats = [
        invoke(env, "stats", "--json", "--data-dir", str(tmp_path / lang)).stdout
        for env, lang in ((ITALIAN, "it"), (ENGLISH, "en"))
    ]
    assert stats[0] == stats[1] and json.loads(stats[0])["comments"] == 1

    # analyze writes its results as before; only the lines on stderr change language.
    it, en = both("analyze", str(path), "--format", "jsonl")
    assert it.exit_code == 3 and len(it.stdout.splitlines()) == 1
    assert (
        it.stderr.splitlines()[1] == f"{path}:4: created_at non è una data con ora valida: 'ieri'"
    )
    assert en.stderr.splitlines()[1] == f"{path}:4: created_at is not a date and time: 'ieri'"


def test_files_that_cannot_be_read(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    headers = tmp_path / "headers.csv"
    headers.write_text("id,created_at,message\n1,2024-05-01T10:00:00Z,ciao\n", encoding="utf-8")
    it, en = both("import", str(headers), "--data-dir", data)
    assert it.exit_code == 2
    assert it.stderr.splitlines()[0] == (
        f"errore: {headers}: manca la colonna 'text' (intestazioni: id, created_at, message); "
        "indicate quale usare con --column text=VOSTRA_COLONNA"
    )
    assert en.stderr.splitlines()[0] == (
        f"error: {headers}: no 'text' column (headers: id, created_at, message); "
        "map one with --column text=THEIR_HEADER"
    )

    # A known export without comments is named, in the reader's words.
    insights = tmp_path / "insights.csv"
    insights.write_text("Post ID,Page ID,Publish time,Permalink,Comments\n1,2,3,4,5\n")
    # (import-export writes its counts to stdout, for a person: not compared.)
    it = invoke(ITALIAN, "import-export", str(insights), "--data-dir", data)
    en = invoke(ENGLISH, "import-export", str(insights), "--data-dir", data)
    assert it.exit_code == en.exit_code == 2
    assert it.stderr == (
        f"errore: {insights}: questo è un export Insights per post di Meta Business Suite (una "
        "riga per post, con i conteggi ma senza il testo dei commenti), non un export di "
        "commenti; importate invece l'export della posta in arrivo o dei messaggi dello "
        "strumento\n"
    )
    assert en.stderr.startswith(
        f"error: {insights}: this is a Meta Business Suite per-post Insights export (one row"
    )

    network = tmp_path / "network.csv"
    network.write_text("message_id,user_id,timestamp\n1,u1,0\n", encoding="utf-8")
    it, en = both("coordination", str(network))
    assert it.exit_code == 2
    assert it.stderr.startswith(f"errore: {network}:1: mancano le colonne username, repost_id, ")
    assert en.stderr.startswith(f"error: {network}:1: missing column(s) username, repost_id, ")

    listing = tmp_path / "competitors.json"
    listing.write_text("[{'name': 'Rival'}]", encoding="utf-8")
    mapped = invoke(ITALIAN, "import", str(headers), "--column", "text=message", "--data-dir", data)
    assert mapped.exit_code == 0
    it, en = both("competitors", "1", "--set", str(listing), "--data-dir", data)
    assert it.exit_code == 2
    assert it.stderr.startswith(f"errore: {listing}: JSON non valido: Expecting property name")
    assert en.stderr.startswith(f"error: {listing}: not valid JSON: Expecting property name")


def test_options_and_a_second_worker(tmp_path: Path) -> None:
    series = tmp_path / "series.csv"
    series.write_text("timestamp,value\n2024-05-01 10:00:00,3\n", encoding="utf-8")
    it, en = both("spikes", str(series), "--transform", "cubo")
    assert it.exit_code == 2
    assert it.stderr == "errore: --transform deve essere uno tra raw, sqrt, log, ricevuto 'cubo'\n"
    assert en.stderr == "error: --transform must be one of raw, sqrt, log, got 'cubo'\n"

    from crisisdesk.connectors.spool import Spool
    from crisisdesk.connectors.webhook import spool_path
    from crisisdesk.desk import Desk
    from crisisdesk.settings import Settings

    desk = Desk(Settings({"data_dir": str(tmp_path / "d")}, environ={}))
    desk.upgrade()
    spool = Spool(spool_path(desk))
    claim = spool.hold_worker_lock()
    assert claim is not None
    try:
        it, en = both("webhook-worker", "--data-dir", str(tmp_path / "d"))
    finally:
        claim.close()
        desk.close()
    assert it.exit_code == 2
    assert it.stderr.endswith(f"errore: un altro webhook-worker sta già elaborando {spool.root}\n")
    assert en.stderr.endswith(f"error: another webhook worker already processes {spool.root}\n")


def test_the_import_report_keeps_the_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the desk reports is reader-free: the English the API and the logs show, with the
    code the command line says it by, whatever language the environment speaks."""
    from crisisdesk.desk import Desk
    from crisisdesk.settings import Settings

    monkeypatch.setenv("CRISISDESK_LANG", "it")
    path = tmp_path / "rows.json"
    path.write_text('{"id": 1', encoding="utf-8")
    desk = Desk(Settings({"data_dir": str(tmp_path / "d")}, environ={}))
    desk.upgrade()
    try:
        report = desk.import_file(path)
    finally:
        desk.close()
    assert report.errors == [f"{path}:1: not valid JSON: Expecting ',' delimiter (truncated file?)"]
    assert getattr(report.errors[0], "code", None) == "file.json"


def test_other_workflow_refusals_use_the_web_desks_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cases and redeem say the refusals they expect from the command line's catalog; any other
    refusal of the workflow reaching them is said as the web desk says it (no command reaches
    one today, so this is the helper they share, with a real refusal)."""
    from crisisdesk.commands import workflow_refusal
    from crisisdesk.desk import Desk
    from crisisdesk.settings import Settings
    from crisisdesk.workflow.cases import WorkflowError

    desk = Desk(Settings({"data_dir": str(tmp_path / "d")}, environ={}))
    desk.upgrade()
    try:
        with pytest.raises(WorkflowError) as refused:
            desk.vouchers.send("ZZZZ-ZZZZ", actor="cli")
    finally:
        desk.close()
    monkeypatch.setenv("CRISISDESK_LANG", "it")
    assert workflow_refusal(refused.value) == "buono inesistente"
    monkeypatch.setenv("CRISISDESK_LANG", "en")
    assert workflow_refusal(refused.value) == "no such voucher"


SHIPPED_LANGUAGE_MODEL = Path(crisisdesk.__file__).parent / "analysis" / "models" / "language.npz"


def _models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped manifest in a directory the fast analyser reads instead of the
    shipped one, with no model file beside it yet: each test puts in the file it is about."""
    from crisisdesk.analysis import linear

    models = tmp_path / "models"
    models.mkdir()
    manifest = (linear.MODELS_DIR / "manifest.json").read_text(encoding="utf-8")
    (models / "manifest.json").write_text(manifest, encoding="utf-8")
    monkeypatch.setattr(linear, "MODELS_DIR", models)
    return models


def _damaged_model(path: Path) -> None:
    """An uncompressed model file with one byte of its weights changed: the zip's CRC-32 of the
    weights no longer matches them."""
    import numpy as np

    np.savez(path, weights=np.arange(64, dtype=np.float16), bias=np.zeros(1, np.float32))
    data = bytearray(path.read_bytes())
    at = data.index(np.arange(64, dtype=np.float16).tobytes()) + 10
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def test_model_files_that_cannot_be_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A shipped model file that is missing, cut short or damaged is refused in the reader's
    words, with the same exit code and no output in either language; only the zip reader's own
    words (what it found wrong) stay as it wrote them."""
    models = _models_dir(tmp_path, monkeypatch)
    comments = tmp_path / "comments.txt"
    comments.write_text("ciao\n", encoding="utf-8")
    fast = {"CRISISDESK_ANALYZER": "fast"}
    language = models / "language.npz"

    it, en = both("analyze", str(comments), "--format", "jsonl", **fast)
    assert it.exit_code == 2 and it.stdout == ""
    assert it.stderr == (
        f"errore: {language}: manca il file del modello; reinstallate crisisdesk per ripristinarlo\n"
    )
    assert en.stderr == (
        f"error: {language}: the model file is missing; reinstall crisisdesk to restore it\n"
    )

    # Cut short: the zip's directory, at its end, is gone.
    language.write_bytes(SHIPPED_LANGUAGE_MODEL.read_bytes()[:4096])
    data = str(tmp_path / "d")
    it, en = both("reanalyze", "--data-dir", data, **fast)
    assert it.exit_code == 2
    assert it.stderr == (
        f"errore: {language}: il file del modello è danneggiato (File is not a zip file); "
        "reinstallate crisisdesk per ripristinarlo\n"
    )
    assert en.stderr == (
        f"error: {language}: the model file is damaged (File is not a zip file); "
        "reinstall crisisdesk to restore it\n"
    )

    # A changed byte: the zip's own check finds it. import says so before reading any file (it
    # stopped half-way with a traceback).
    _damaged_model(language)
    it, en = both("import", str(comments), "--data-dir", data, **fast)
    assert it.exit_code == 2
    assert it.stderr.startswith(f"errore: {language}: il file del modello è danneggiato (Bad CRC")
    assert it.stderr.endswith("; reinstallate crisisdesk per ripristinarlo\n")
    assert en.stderr.startswith(f"error: {language}: the model file is damaged (Bad CRC-32 for")

    manifest = models / "manifest.json"
    manifest.write_text("[]", encoding="utf-8")
    it, en = both("analyze", str(comments), "--format", "jsonl", **fast)
    assert it.exit_code == 2 and it.stdout == ""
    assert it.stderr == (
        f"errore: {manifest}: l'elenco dei modelli non è un oggetto JSON; "
        "reinstallate crisisdesk per ripristinarlo\n"
    )
    assert en.stderr == (
        f"error: {manifest}: the manifest is not a JSON object; reinstall crisisdesk to restore it\n"
    )


def test_webhook_replay_when_the_store_refuses_the_deliveries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store refuses every delivery (here: it cannot read a model file to analyse them):
    they stay in the spool, and why is said in the reader's words."""
    from crisisdesk.connectors.spool import Spool
    from crisisdesk.connectors.webhook import spool_path
    from crisisdesk.desk import Desk
    from crisisdesk.settings import Settings

    models = _models_dir(tmp_path, monkeypatch)
    desk = Desk(Settings({"data_dir": str(tmp_path / "d")}, environ={}))
    desk.upgrade()
    spool = Spool(spool_path(desk))
    desk.close()
    change = {
        "field": "feed",
        "value": {
            "item": "comment",
            "verb": "add",
            "comment_id": "c1",
            "post_id": "100_1",
            "from": {"id": "u1", "name": "Ada"},
            "created_time": 1714560000,
            "message": "ciao",
        },
    }
    body = {"object": "page", "entry": [{"id": "100", "time": 1714560000, "changes": [change]}]}
    spool.put(json.dumps(body).encode())

    it, en = both("webhook-replay", "--data-dir", str(tmp_path / "d"), CRISISDESK_ANALYZER="fast")
    assert it.exit_code == 2 and it.stdout == ""
    language = models / "language.npz"
    assert it.stderr.endswith(
        "errore: l'archivio ha rifiutato le consegne, che restano in coda: "
        f"{language}: manca il file del modello; reinstallate crisisdesk per ripristinarlo\n"
    )
    assert en.stderr.endswith(
        "error: the store refused the deliveries, which stay in the spool: "
        f"{language}: the model file is missing; reinstall crisisdesk to restore it\n"
    )
    assert spool.count() == 1


def test_an_unknown_encoding_is_refused_before_reading(tmp_path: Path) -> None:
    # It was a LookupError traceback from the first line; analyze had no --encoding at all,
    # though its own error for a badly encoded line tells the reader to pass one.
    comments = tmp_path / "comments.txt"
    comments.write_bytes("caffè\n".encode("latin-1"))
    for command in ("import", "analyze"):
        extra = ["--data-dir", str(tmp_path / "d")] if command == "import" else []
        it, en = both(command, str(comments), "--encoding", "latino", *extra)
        assert it.exit_code == 2 and it.stdout == ""
        assert it.stderr == "errore: codifica del testo sconosciuta: latino\n"
        assert en.stderr == "error: unknown text encoding latino\n"
    wrong = invoke(ENGLISH, "analyze", str(comments), "--format", "jsonl")
    assert wrong.exit_code == 2  # its only line rejected: nothing to show
    assert "not valid utf-8; convert the file or pass --encoding" in wrong.stderr
    right = invoke(ENGLISH, "analyze", str(comments), "--format", "jsonl", "--encoding", "latin-1")
    assert right.exit_code == 0
    assert json.loads(right.stdout)["text"] == "caffè"
