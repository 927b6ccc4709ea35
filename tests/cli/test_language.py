"""The command line speaks Italian or English, as the environment says; machine output does not
change with the language."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from crisisdesk.cli import app
from crisisdesk.desk import Desk
from crisisdesk.ingest.record import CommentRecord
from tests.signals.test_flame import T0, burst, feed, history

runner = CliRunner()

GOOD = "id,created_at,text,author_id\n1,2024-01-01T10:00:00Z,consegna in ritardo,a\n2,2024-01-01T10:01:00Z,thanks a lot,b\n"

# Without any language variable: the runner's env removes the names mapped to None.
NO_LANGUAGE: dict[str, str | None] = dict.fromkeys(
    ("CRISISDESK_LANG", "LC_ALL", "LC_MESSAGES", "LANG")
)
ITALIAN_OVERRIDE = {**NO_LANGUAGE, "CRISISDESK_LANG": "it"}
ITALIAN_LOCALE = {**NO_LANGUAGE, "LANG": "it_IT.UTF-8"}


@pytest.fixture(autouse=True)
def _keyword_analyzer(monkeypatch: pytest.MonkeyPatch) -> None:
    import crisisdesk.desk
    from tests.conftest import KeywordAnalyzer

    monkeypatch.setattr(crisisdesk.desk.Desk, "analyzer", property(lambda self: KeywordAnalyzer()))


def invoke(env: Mapping[str, str | None], *args: str) -> Result:
    return runner.invoke(app, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize("env", [ITALIAN_OVERRIDE, ITALIAN_LOCALE], ids=["override", "locale"])
def test_italian_messages(env: dict[str, str | None], tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    f = tmp_path / "c.csv"
    f.write_text(GOOD)
    imported = invoke(env, "import", str(f), str(tmp_path / "nope.csv"), "--data-dir", data)
    assert imported.exit_code == 3  # the good file kept, the missing one reported
    assert "errore: " in imported.stderr and "file inesistente" in imported.stderr
    assert "importati — nuovi: 2, aggiornati: 0, invariati: 0; scartati: 0" in imported.stderr
    assert invoke(env, "connections", "--data-dir", data).stdout.startswith("nessun account")
    missing = invoke(env, "disconnect", "bluesky", "x.bsky.social", "--data-dir", data)
    assert missing.exit_code == 2
    assert missing.stderr == "errore: nessun collegamento bluesky x.bsky.social\n"
    assert invoke(env, "alerts", "--data-dir", data).stdout == "nessuna allerta\n"


def test_english_without_language_variables(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text(GOOD)
    result = invoke(NO_LANGUAGE, "import", str(f), "--data-dir", str(tmp_path / "d"))
    assert "imported 2 new, 0 updated, 0 unchanged; 0 rejected" in result.stderr


@pytest.mark.parametrize(
    "env",
    [
        {**ITALIAN_LOCALE, "CRISISDESK_LANG": "en"},  # the override wins over the locale
        {**ITALIAN_LOCALE, "LC_ALL": "C"},  # LC_ALL wins over LANG, as in the C library
        {**NO_LANGUAGE, "CRISISDESK_LANG": "xx"},  # a language without a catalog
    ],
    ids=["override", "lc-all", "unknown"],
)
def test_english_otherwise(env: dict[str, str | None], tmp_path: Path) -> None:
    result = invoke(env, "disconnect", "bluesky", "x", "--data-dir", str(tmp_path / "d"))
    assert result.stderr == "error: no connection bluesky x\n"


def test_machine_output_does_not_change_with_the_language(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    f = tmp_path / "c.csv"
    f.write_text(GOOD)
    assert invoke(NO_LANGUAGE, "import", str(f), "--data-dir", data).exit_code == 0
    for args in (
        ("stats", "--json"),
        ("alerts", "--json"),
        ("flame", "--json"),
        ("page", "list", "--json"),
        ("competitors", "default"),
        ("author", "1"),
    ):
        english = invoke(NO_LANGUAGE, *args, "--data-dir", data)
        italian = invoke(ITALIAN_LOCALE, *args, "--data-dir", data)
        assert english.exit_code == italian.exit_code == 0
        assert english.stdout == italian.stdout, args
        json.loads(english.stdout)


def test_csv_output_and_exit_codes_do_not_change_with_the_language(tmp_path: Path) -> None:
    series = tmp_path / "series.csv"
    series.write_text("timestamp,value\n2024-01-01 00:00:00,3\n2024-01-01 00:05:00,40\nlater,4\n")
    network = tmp_path / "network.csv"
    network.write_text(
        "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n"
        "1,u1,ada,,,same words here,0,\n2,u2,bob,,,same words here,10,\n"
    )
    for args in (
        ("spikes", str(series)),  # two rows written, then exit 2 on the third
        ("coordination", str(network), "--network", "co_tweet"),
    ):
        english = invoke(NO_LANGUAGE, *args)
        italian = invoke(ITALIAN_OVERRIDE, *args)
        assert english.exit_code == italian.exit_code, args
        assert english.stdout == italian.stdout and english.stdout.count("\n") >= 2, args
    assert (
        "u1,u2,1"
        in invoke(ITALIAN_OVERRIDE, "coordination", str(network), "--network", "co_tweet").stdout
    )


def test_flame_alerts_and_their_machine_output(desk: Desk) -> None:
    """Levels are named with the web desk's words; reasons are the monitor's Italian ones."""
    desk.flame  # noqa: B018 - the desk's monitor listens from here on
    past = history()
    desk.ingest(past)
    quiet = CommentRecord(
        platform="facebook", platform_id="q1", created_at=T0, text="ok", page="P2", page_name="Bar"
    )
    desk.ingest([quiet])
    feed(desk, burst(past[-1].created_at + timedelta(minutes=10)))
    data = str(desk.settings.data_path)
    for args in (("alerts", "--json"), ("flame", "--json")):
        english = invoke(NO_LANGUAGE, *args, "--data-dir", data)
        assert english.stdout == invoke(ITALIAN_OVERRIDE, *args, "--data-dir", data).stdout
    newest = json.loads(invoke(NO_LANGUAGE, "alerts", "--json", "--data-dir", data).stdout)[0]
    italian_level = {"watch": "attenzione", "flame": "flame", "crisis": "crisi"}[newest["level"]]

    alerts = invoke(ITALIAN_OVERRIDE, "alerts", "--limit", "1", "--data-dir", data).stdout
    assert f" {italian_level} " in alerts and "negativi" in alerts and "negative" not in alerts
    alerts_en = invoke(NO_LANGUAGE, "alerts", "--limit", "1", "--data-dir", data).stdout
    assert f" {newest['level']} " in alerts_en and "negative" in alerts_en

    flame = invoke(ITALIAN_OVERRIDE, "flame", "--data-dir", data).stdout.splitlines()
    assert re.fullmatch(r"calma +0,00  Bar", flame[0]), flame
    assert flame[1].split()[0] in ("attenzione", "flame", "crisi") and "," in flame[1].split()[1]
    flame_en = invoke(NO_LANGUAGE, "flame", "--data-dir", data).stdout.splitlines()
    assert re.fullmatch(r"calm +0\.00  Bar", flame_en[0]), flame_en


def test_stats_labels(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    f = tmp_path / "c.csv"
    f.write_text(GOOD)
    assert invoke(NO_LANGUAGE, "import", str(f), "--data-dir", data).exit_code == 0
    italian = invoke(ITALIAN_LOCALE, "stats", "--data-dir", data).stdout.split("\n")
    assert [line.split() for line in italian if line] == [
        ["pagine", "1"], ["post", "0"], ["commenti", "2"], ["autori", "2"], ["allerte", "0"],
        ["casi", "1"],
    ]  # fmt: skip
    english = invoke(NO_LANGUAGE, "stats", "--data-dir", data).stdout
    assert "comments   2\n" in english and "commenti" not in english


def test_analyze_jsonl_does_not_change_with_the_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("ANALYZER", "SENTIMENT_MODEL", "TOXICITY_MODEL"):
        monkeypatch.delenv(f"CRISISDESK_{name}", raising=False)
    path = tmp_path / "comments.txt"
    path.write_text("Il treno è in ritardo anche oggi\nWhat time do you open?\n", encoding="utf-8")
    runs = [
        invoke(env, "analyze", str(path), "--format", "jsonl")
        for env in (NO_LANGUAGE, ITALIAN_OVERRIDE, ITALIAN_LOCALE)
    ]
    assert {r.exit_code for r in runs} == {0}
    assert runs[0].stdout == runs[1].stdout == runs[2].stdout
    assert len([json.loads(line) for line in runs[0].stdout.splitlines()]) == 2


@pytest.mark.parametrize(
    ("platform", "prompts", "english"),
    [
        (
            "facebook",
            ("ID della pagina: ", "Token di accesso della pagina: ", "ID dell'app di Meta: "),
            "Page id: ",
        ),
        ("instagram", ("ID dell'account Instagram: ", "Token di accesso: "), "Access token: "),
        ("bluesky", ("Handle dell'account: ", "Password per app: "), "App password: "),
        ("mastodon", ("URL del server: ", "Token di accesso: "), "Server URL: "),
    ],
)
def test_connect_prompts_in_italian(
    platform: str, prompts: tuple[str, ...], english: str, tmp_path: Path
) -> None:
    # Refused after the prompts (no token key, or not a web address): nothing reaches a platform.
    env = {**ITALIAN_OVERRIDE, "CRISISDESK_TOKEN_KEY": None}
    args = ["connect", platform, "--data-dir", str(tmp_path / "d")]
    result = runner.invoke(app, args, env=env, input="a\nb\nc\n")
    assert result.exit_code == 2
    for prompt in prompts:
        assert prompt in result.output
    in_english = runner.invoke(app, args, env={**env, "CRISISDESK_LANG": "en"}, input="a\nb\nc\n")
    assert english in in_english.output and prompts[0] not in in_english.output


def test_connect_does_not_prompt_for_what_is_given(tmp_path: Path) -> None:
    env = {**ITALIAN_OVERRIDE, "CRISISDESK_TOKEN_KEY": None}
    args = ["connect", "bluesky", "--handle", "a.bsky.social", "--app-password", "p"]
    result = runner.invoke(app, [*args, "--data-dir", str(tmp_path / "d")], env=env, input="")
    assert result.exit_code == 2 and result.output.startswith("errore: ")


def test_page_commands_in_italian(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    saved = invoke(
        ITALIAN_OVERRIDE, "page", "set", "facebook:7", "--name", "Forno", "--cooldown", "reclamo=30",
        "--contact", "consegne=Luca", "--data-dir", data,
    )  # fmt: skip
    assert saved.exit_code == 0 and saved.stdout == "pagina facebook:7 (Forno) salvata\n"
    listed = invoke(ITALIAN_OVERRIDE, "page", "list", "--data-dir", data).stdout
    assert '    pausa di riflessione (minuti): {"complaint": 30.0}\n' in listed
    assert '    responsabili: {"delivery": "Luca"}\n' in listed
    listed_en = invoke(NO_LANGUAGE, "page", "list", "--data-dir", data).stdout
    assert '    cooldown_minutes: {"complaint": 30.0}\n' in listed_en
    refusals = {
        ("no-colon",): "la pagina si scrive PIATTAFORMA:ID, ricevuto 'no-colon'",
        ("facebook:7", "--contact", "nobody"): "--contact vuole chiave=valore, ricevuto 'nobody'",
        ("facebook:7", "--contact", "pizza=Gino"): "--contact: tema sconosciuto 'pizza': usate "
        "uno tra consegne, pagamenti, prodotto, personale, tutto il resto",
        ("facebook:7", "--cooldown", "pranzo=5"): "--cooldown: tipo sconosciuto 'pranzo'",
        (
            "facebook:7",
            "--cooldown",
            "reclamo=presto",
        ): "i minuti di --cooldown devono essere numeri",
        ("facebook:7", "--response-target", "-5"): "--response-target deve essere maggiore di zero",
        ("facebook:7", "--currency", "BTC"): "--currency deve essere una tra EUR",
    }
    for args, said in refusals.items():
        refused = invoke(ITALIAN_OVERRIDE, "page", "set", *args, "--data-dir", data)
        assert refused.exit_code == 2 and refused.stderr.startswith("errore: " + said), args
    english = invoke(
        NO_LANGUAGE, "page", "set", "facebook:7", "--contact", "pizza=Gino", "--data-dir", data
    )
    assert "unknown topic 'pizza': use one of delivery, billing" in english.stderr


def test_author_and_coordination_errors_in_italian(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    f = tmp_path / "c.csv"
    f.write_text(GOOD)
    assert invoke(NO_LANGUAGE, "import", str(f), "--data-dir", data).exit_code == 0
    no_author = invoke(ITALIAN_OVERRIDE, "author", "12345", "--data-dir", data)
    assert no_author.exit_code == 2 and no_author.stderr == "errore: nessun autore 12345\n"
    no_page = invoke(ITALIAN_OVERRIDE, "competitors", "nope", "--data-dir", data)
    assert no_page.stderr.startswith("errore: nessuna pagina 'nope'; le pagine che il desk")
    nameless = tmp_path / "competitors.json"
    nameless.write_text('[{"handles": ["x"]}]')
    refused = invoke(
        ITALIAN_OVERRIDE, "competitors", "default", "--set", str(nameless), "--data-dir", data
    )
    assert refused.stderr == f"errore: {nameless}: ogni voce deve avere almeno un nome\n"

    network = tmp_path / "n.csv"
    network.write_bytes(b"message_id,user_id\n\xff\n")
    for args, said in {
        ("--network", "co_nothing"): "--network deve essere uno tra co_retweet",
        ("--window", "-1"): "--window deve essere di 0 secondi o più",
        ("--min-weight", "0"): "--min-weight deve essere almeno 1",
        ("--similarity", "2"): "--similarity deve essere maggiore di 0 e al massimo 1",
        (): f"{network}: non è testo UTF-8 (",
    }.items():
        result = invoke(ITALIAN_OVERRIDE, "coordination", str(network), *args)
        assert result.exit_code == 2 and result.stderr.startswith("errore: " + said), args


def test_spike_errors_in_italian(tmp_path: Path) -> None:
    series = tmp_path / "s.csv"
    for body, said in {
        "": "s.csv:1: file vuoto, serve un'intestazione 'timestamp,value'",
        "time,count\n": "s.csv:1: l'intestazione deve nominare 'timestamp' e 'value'",
        "timestamp,value\n2024-01-01 00:00:00\n": "s.csv:2: colonne attese: 2, trovate: 1",
        "timestamp,value\nieri,4\n": "s.csv:2: timestamp non valido 'ieri'",
        "timestamp,value\n2024-01-01 00:00:00,tre\n": "s.csv:2: il valore 'tre' non è un numero",
        "timestamp,value\n2024-01-01 00:00:00,inf\n": "s.csv:2: il valore 'inf' non è finito",
        "timestamp,value\n2024-01-02 00:00:00,1\n2024-01-01 00:00:00,2\n": "s.csv:3: il "
        "timestamp 2024-01-01 00:00:00 è precedente a quello della riga prima",
    }.items():
        series.write_text(body)
        result = invoke(ITALIAN_OVERRIDE, "spikes", str(series))
        assert result.exit_code == 2 and said in result.stderr, body
    series.write_bytes(b"timestamp,value\n\xff\n")
    assert invoke(ITALIAN_OVERRIDE, "spikes", str(series)).stderr.endswith(": non è testo UTF-8\n")


def test_cases_token_and_redeem_in_italian(desk: Desk) -> None:
    from tests.workflow.wf_support import seed

    seed(desk)  # cases of 2024: on the real clock their response target is long past
    comment = desk.find_comment("c-en")
    assert comment is not None
    code = desk.vouchers.create(comment.id, value=5, valid_days=3650, actor="ann").code
    data = str(desk.settings.data_path)

    listed = invoke(ITALIAN_OVERRIDE, "cases", "--data-dir", data).stdout.splitlines()
    assert len(listed) == 3
    assert all(line.split("\t")[1] == "nuovo" and line.endswith("IN RITARDO") for line in listed)
    listed_en = invoke(NO_LANGUAGE, "cases", "--data-dir", data).stdout.splitlines()
    assert all(line.split("\t")[1] == "new" and line.endswith("OVERDUE") for line in listed_en)
    # The state as the listing names it, in either language, selects the same cases.
    assert invoke(ITALIAN_OVERRIDE, "cases", "--state", "Nuovo", "--data-dir", data).stdout == (
        invoke(ITALIAN_OVERRIDE, "cases", "--state", "new", "--data-dir", data).stdout
    )
    bad = invoke(ITALIAN_OVERRIDE, "cases", "--state", "boh", "--data-dir", data)
    assert bad.exit_code == 2
    assert bad.stderr.startswith("errore: lo stato deve essere uno tra nuovo, in pausa, ")

    token = invoke(ITALIAN_OVERRIDE, "token", "create", "script", "--data-dir", data)
    said, secret = token.stdout.splitlines()
    assert said == "Token 'script' creato. Conservatelo adesso: non potrà essere mostrato di nuovo."
    assert secret.startswith("cdk_")

    redeemed = invoke(ITALIAN_OVERRIDE, "redeem", code, "--data-dir", data)
    assert redeemed.exit_code == 0 and redeemed.stdout == f"Buono {code} usato: 5,00 EUR\n"
    again = invoke(ITALIAN_OVERRIDE, "redeem", code, "--data-dir", data)
    assert again.exit_code == 1
    assert again.stderr == "errore: questo buono è già stato usato: non si può usare due volte\n"
    unknown = invoke(NO_LANGUAGE, "redeem", "ZZZZ-ZZZZ", "--data-dir", data)
    assert unknown.exit_code == 1 and unknown.stderr.startswith("error: ")
    assert "errore" not in unknown.stderr


def test_analyze_table_in_italian(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("ANALYZER", "SENTIMENT_MODEL", "TOXICITY_MODEL"):
        monkeypatch.delenv(f"CRISISDESK_{name}", raising=False)
    path = tmp_path / "comments.txt"
    path.write_text("Il treno è in ritardo anche oggi\nWhat time do you open?\n", encoding="utf-8")
    italian = invoke(ITALIAN_OVERRIDE, "analyze", str(path)).stdout.splitlines()
    english = invoke(NO_LANGUAGE, "analyze", str(path)).stdout.splitlines()
    assert len(italian) == len(english) == 2
    for line in italian:
        assert line.split()[1] in ("negativo", "neutro", "positivo"), line
        assert re.search(r" off=\d,\d\d iro=\d,\d\d ", line), line
    for line in english:
        assert line.split()[1] in ("negative", "neutral", "positive"), line
        assert re.search(r" off=\d\.\d\d iro=\d\.\d\d ", line), line


def test_connect_refusals_in_italian(tmp_path: Path) -> None:
    args = ["connect", "mastodon", "--data-dir", str(tmp_path / "d")]
    # Not a web address: refused before anything is sent, in the Connections page's words.
    typed = ["--base-url", "ftp://example.social", "--token", "t"]
    result = runner.invoke(app, [*args, *typed], env=ITALIAN_OVERRIDE)
    assert result.exit_code == 2
    assert "deve essere un indirizzo web che inizia con https://" in result.output
    english = runner.invoke(app, [*args, *typed], env={**NO_LANGUAGE, "CRISISDESK_LANG": "en"})
    assert english.exit_code == 2 and "https://" in english.output
    assert "indirizzo" not in english.output
