"""Webhook endpoint under load: acknowledgement latency, ingest lag, and kill -9 durability.

A real uvicorn server process runs the desk (the shipped ``fast`` analyser, and the flame monitor
as an ingest listener when it is available) on a fresh data directory. A client sends signed Meta
``feed`` deliveries, one new comment each, on an open-loop schedule (delivery *i* leaves at
``start + i / rate`` whatever the previous answers took, from several connections), with comment
texts taken from the Twitter US Airline Sentiment tweets. Measured:

1. acknowledgement latency (send to HTTP 200) p50/p95/p99/max, against the 50 ms p99 target;
2. ingest lag: time from the last acknowledgement until every comment is in the store (analysed),
   read from the SQLite file by the benchmark process;
3. durability: a second stream, the server killed with SIGKILL halfway through, restarted on the
   same data directory; every acknowledged comment must be in the store after the restart.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

SECRET = "bench-app-secret"
SERVER = r"""
import sys
import uvicorn
from crisisdesk.desk import Desk
from crisisdesk.settings import Settings
from crisisdesk.web.app import create_app

data_dir, port, secret, process = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
settings = Settings(
    {"data_dir": data_dir, "secret_key": "bench-secret-key-0123456789",
     "facebook_app_secret": secret, "facebook_verify_token": "bench"},
    environ={},
)
desk = Desk(settings)
desk.upgrade()
desk.analyzer  # load the models before serving
if process == "no":
    # Baseline: the endpoint alone (spool, no ingest behind it), to separate its own cost from
    # contention with analysis in the same process.
    import crisisdesk.connectors.webhook as webhook
    webhook.WebhookProcessor.start = lambda self: None
try:
    from crisisdesk.signals.flame import monitor_for
    monitor_for(desk)
    print("flame monitor wired", file=sys.stderr, flush=True)
except Exception as exc:
    print(f"flame monitor not wired: {exc}", file=sys.stderr, flush=True)
uvicorn.run(create_app(desk), host="127.0.0.1", port=port, log_level="warning", access_log=False)
"""


WORKER = r"""
import signal
import sys
from crisisdesk.connectors.webhook import processor_for
from crisisdesk.desk import Desk
from crisisdesk.settings import Settings

desk = Desk(Settings({"data_dir": sys.argv[1]}, environ={}))
desk.upgrade()
desk.analyzer
try:
    from crisisdesk.signals.flame import monitor_for
    monitor_for(desk)
except Exception:
    pass
processor = processor_for(desk)
processor.poll_seconds = 0.05
signal.signal(signal.SIGTERM, lambda *_: processor.stop(0))
processor.run_forever()
"""


class Worker:
    """The webhook processor in its own process (what ``crisisdesk webhook-worker`` runs)."""

    def __init__(self, data_dir: Path) -> None:
        root = Path(__file__).resolve().parent.parent
        self.log = (data_dir / "worker.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(data_dir)],
            stdout=self.log,
            stderr=self.log,
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


def _texts(data: Path, limit: int) -> list[str]:
    path = data / "twitter_us_airline_sentiment" / "Tweets.csv"
    texts: list[str] = []
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                texts.append(row["text"])
                if len(texts) >= limit:
                    break
    return texts or [f"synthetic comment {i}, my order is late" for i in range(limit)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, data_dir: Path, *, process: bool = True) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhooks/facebook"
        self.log = (data_dir / "server.log").open("ab")
        root = Path(__file__).resolve().parent.parent
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVER,
                str(data_dir),
                str(self.port),
                SECRET,
                "yes" if process else "no",
            ],
            stdout=self.log,
            stderr=self.log,
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with httpx.Client(timeout=1) as c:
                    if c.get(f"http://127.0.0.1:{self.port}/healthz").status_code == 200:
                        return
            except httpx.HTTPError:
                time.sleep(0.2)
            if self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"server did not start; see {data_dir / 'server.log'}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


def _body(cid: str, text: str, at: int) -> bytes:
    return json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "bench-page",
                    "time": at,
                    "changes": [
                        {
                            "field": "feed",
                            "value": {
                                "item": "comment",
                                "verb": "add",
                                "comment_id": cid,
                                "post_id": "bench-page_1",
                                "parent_id": "bench-page_1",
                                "from": {"id": f"u{hash(cid) % 500}", "name": "Bench User"},
                                "message": text,
                                "created_time": at,
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


def _sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def _stream(
    url: str,
    bodies: list[tuple[str, bytes]],
    rate: float,
    *,
    workers: int = 16,
    stop_after: float | None = None,
) -> tuple[list[float], set[str], float, float]:
    """Send on an open-loop schedule; returns latencies (s), acknowledged ids, first send, last ack."""
    latencies: list[float] = []
    acked: set[str] = set()
    lock = threading.Lock()
    local = threading.local()
    start = time.perf_counter() + 0.2
    last_ack = [start]
    stopped = threading.Event()

    parts = urlsplit(url)

    def connect() -> http.client.HTTPConnection:
        # The standard library client: a fraction of httpx's CPU per request, so the client
        # takes less of the two cores it shares with the server.
        return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)

    def send(i: int) -> None:
        if stopped.is_set():
            return
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if stop_after is not None and time.perf_counter() - start > stop_after:
            stopped.set()
            return
        conn = getattr(local, "conn", None) or connect()
        local.conn = conn
        cid, body = bodies[i]
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": _sign(body)}
        sent = time.perf_counter()
        try:
            conn.request("POST", parts.path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            local.conn = None
            return
        done = time.perf_counter()
        if response.status == 200:
            with lock:
                latencies.append(done - sent)
                acked.add(cid)
                last_ack[0] = max(last_ack[0], done)

    conns: list[http.client.HTTPConnection] = []

    def init() -> None:
        local.conn = connect()
        with lock:
            conns.append(local.conn)

    with ThreadPoolExecutor(max_workers=workers, initializer=init) as pool:
        list(pool.map(send, range(len(bodies))))
    for conn in conns:
        conn.close()
    return latencies, acked, start, last_ack[0]


def _stored(data_dir: Path) -> int:
    """How many comments the desk in ``data_dir`` has stored (read-only connection)."""
    db = data_dir / "crisisdesk.sqlite"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute("select count(*) from comments").fetchone()[0])
    finally:
        conn.close()


def _stored_ids(data_dir: Path, ids: set[str]) -> set[str]:
    """Which of ``ids`` the desk in ``data_dir`` has stored."""
    db = data_dir / "crisisdesk.sqlite"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute("select platform_id from comments").fetchall()
        return {r[0] for r in rows} & ids
    finally:
        conn.close()


def _wait_for(data_dir: Path, expected: int, timeout: float) -> float | None:
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        try:
            if _stored(data_dir) >= expected:
                return time.perf_counter()
        except sqlite3.OperationalError:
            pass
        time.sleep(0.05)
    return None


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def run(data: Path, quick: bool) -> str:
    rate = 200.0
    seconds = 5 if quick else 10  # per round
    rounds = 2 if quick else 3
    n = int(rate * seconds)
    texts = _texts(data, n * (rounds + 1))
    now = int(time.time())
    lines = ["## Webhook endpoint: acknowledgement latency, ingest lag, kill -9", ""]
    with tempfile.TemporaryDirectory(prefix="crisisdesk-bench-webhook-") as tmp:
        # -- 1 and 2: steady streams, three set-ups in alternation ------------------------
        # The machine is shared, so its load changes from minute to minute; alternating short
        # rounds lets the set-ups see the same conditions:
        #   inline   - `serve --no-webhook-worker`: the web process also ingests and analyses;
        #   worker   - what `serve` does with webhooks configured: the web process only spools;
        #              `crisisdesk webhook-worker` ingests in its own process (no GIL shared
        #              with the acknowledgements);
        #   baseline - the web process only spools and nothing ingests: the floor.
        dirs = {name: Path(tmp) / name for name in ("inline", "worker", "baseline")}
        for d in dirs.values():
            d.mkdir()
        worker = Worker(dirs["worker"])
        from crisisdesk.connectors.spool import Spool

        deadline = time.monotonic() + 120
        while not Spool(dirs["worker"] / "webhook-spool").external_worker_active():
            if time.monotonic() > deadline:
                raise RuntimeError("the webhook worker did not start")
            time.sleep(0.1)
        servers = {
            "inline": Server(dirs["inline"]),
            # The same server as "inline": it sees the worker's claim on the spool and leaves
            # the processing to it.
            "worker": Server(dirs["worker"]),
            "baseline": Server(dirs["baseline"], process=False),
        }
        stats: dict[str, dict[str, Any]] = {
            name: {"lat": [], "acked": 0, "sent": 0, "wall": 0.0, "lags": [], "rounds": []}
            for name in servers
        }
        try:
            for r in range(rounds):
                offset = r * n
                texts_at = [texts[(offset + i) % len(texts)] for i in range(n)]
                for name in ("baseline", "inline", "worker"):
                    st = stats[name]
                    bodies = [
                        (f"{name}-{r}-{i}", _body(f"{name}-{r}-{i}", t, now + offset + i))
                        for i, t in enumerate(texts_at)
                    ]
                    latencies, acked, first, last_ack = _stream(servers[name].url, bodies, rate)
                    lag: float | None = None
                    if name != "baseline":
                        done_at = _wait_for(dirs[name], st["acked"] + len(acked), timeout=300)
                        lag = (done_at - last_ack) if done_at else None
                    st["lat"] += latencies
                    st["acked"] += len(acked)
                    st["sent"] += n
                    st["wall"] += last_ack - first
                    st["lags"].append(lag)
                    st["rounds"].append(
                        (os.getloadavg()[0], _pct(latencies, 0.5), _pct(latencies, 0.99), lag)
                    )
        finally:
            for server in servers.values():
                server.stop()
            worker.stop()
        flame = "flame monitor wired" in (dirs["inline"] / "server.log").read_text(errors="replace")

        def lag_text(name: str) -> str:
            lags = [lag for lag in stats[name]["lags"] if lag is not None]
            if name == "baseline":
                return "—"
            if len(lags) < len(stats[name]["lags"]):
                return "not reached in 300 s"
            return f"{max(lags):.2f} s"

        header = "| measure | inline | worker process (serve's default) | baseline (no ingest) | target |"
        lines += [
            f"Server: `uvicorn` process with the desk (`fast` analyser"
            f"{', flame monitor listening' if flame else ''}), fresh SQLite data directory per "
            f"set-up. Client: {rounds} rounds; in each, {n} signed deliveries (one new comment "
            "each, tweets from Twitter US Airline Sentiment as text) scheduled open-loop at "
            f"{rate:.0f}/s from 16 keep-alive connections (`http.client`) go to each set-up in "
            "turn: **inline** (`serve --no-webhook-worker`: the web process also ingests and "
            "analyses), **worker process** (what `serve` does when webhooks are configured: "
            "`crisisdesk webhook-worker` runs beside the server and ingests in its own process; "
            "the server sees its claim on the spool and only spools) and **baseline** (spool "
            "only, nothing ingests).",
            "",
            header,
            "|---|---:|---:|---:|---:|",
            "| acknowledged (200) | "
            + " | ".join(f"{stats[k]['acked']} / {stats[k]['sent']}" for k in stats)
            + " | all |",
            "| achieved rate | "
            + " | ".join(f"{stats[k]['acked'] / stats[k]['wall']:.0f}/s" for k in stats)
            + " | ≥ 200/s |",
            "| ack latency p50 | "
            + " | ".join(f"{_pct(stats[k]['lat'], 0.5):.1f} ms" for k in stats)
            + " | |",
            "| ack latency p95 | "
            + " | ".join(f"{_pct(stats[k]['lat'], 0.95):.1f} ms" for k in stats)
            + " | |",
            "| ack latency p99 | "
            + " | ".join(f"{_pct(stats[k]['lat'], 0.99):.1f} ms" for k in stats)
            + " | < 50 ms |",
            "| ack latency max | "
            + " | ".join(f"{max(stats[k]['lat']) * 1000:.1f} ms" for k in stats)
            + " | |",
            "| ingest lag, worst round (last ack → all stored and analysed) | "
            + " | ".join(lag_text(k) for k in stats)
            + " | keeps up |",
            "",
            "Per round (p50 / p99; load = 1-minute load average after the stream):",
            "",
            "| round | set-up | load | p50 | p99 | ingest lag |",
            "|---:|---|---:|---:|---:|---:|",
        ]
        for r in range(rounds):
            for name in ("baseline", "inline", "worker"):
                load, p50, p99, lag = stats[name]["rounds"][r]
                lines.append(
                    f"| {r + 1} | {name} | {load:.2f} | {p50:.1f} ms | {p99:.1f} ms | "
                    + ("—" if lag is None else f"{lag:.2f} s")
                    + " |"
                )
        lines += [
            "",
            "This is a 2-core machine shared with other jobs, and the client runs on the same "
            "cores.",
            "",
        ]
        # -- 3: kill -9 mid-stream ---------------------------------------------------------
        crash_dir = Path(tmp) / "crash"
        crash_dir.mkdir()
        server = Server(crash_dir)
        m = n
        bodies = [
            (f"crash-{i}", _body(f"crash-{i}", texts[(i + n) % len(texts)], now + i))
            for i in range(m)
        ]
        killer = threading.Timer(seconds / 2, server.kill)
        killer.start()
        try:
            _, acked_crash, _, _ = _stream(server.url, bodies, rate)
        finally:
            killer.join()
        spooled = len(list((crash_dir / "webhook-spool" / "incoming").glob("*.json")))
        stored_before = _stored(crash_dir)
        restarted = Server(crash_dir)
        try:
            _wait_for(crash_dir, len(acked_crash), timeout=300)
            time.sleep(1.0)
            present = _stored_ids(crash_dir, acked_crash)
        finally:
            restarted.stop()
        lost = len(acked_crash - present)
        lines += [
            f"Durability: a second stream at {rate:.0f}/s, the server killed with SIGKILL after "
            f"{seconds / 2:.0f} s, then restarted on the same data directory.",
            "",
            "| measure | value | target |",
            "|---|---:|---:|",
            f"| deliveries acknowledged before the kill | {len(acked_crash)} | |",
            f"| in the store at the kill | {stored_before} | |",
            f"| waiting in the spool at the kill | {spooled} | |",
            f"| acknowledged comments missing after restart | {lost} | 0 |",
            "",
            "Acknowledged means durable: the body is fsynced into the spool directory before the 200, "
            "and the restarted server replays the spool on start-up. Deliveries refused or cut off by "
            "the kill were never acknowledged, so Meta would retry them.",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/datasets"), quick=True))
