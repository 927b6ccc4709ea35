"""Notifications through real local servers: an HTTP receiver and an SMTP server with STARTTLS."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from crisisdesk.desk import Desk
from crisisdesk.notify.dispatcher import Notifier
from crisisdesk.notify.email import send_email
from crisisdesk.notify.message import Notification
from crisisdesk.notify.webhook import SIGNATURE_HEADER, DeliveryError, send_webhook
from crisisdesk.settings import Settings


@dataclass
class Receiver:
    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    fail_first: int = 0
    calls: int = 0
    got: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.calls += 1
            if state.calls <= state.fail_first:
                self.send_response(503)
                self.end_headers()
                return
            state.requests.append((dict(self.headers), body))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")
            state.got.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/secret-path"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def dead_receiver() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    sock.close()


def note(key: str = "page:1:20240101T0000:flame", text: str = "42 comments") -> Notification:
    return Notification(
        title="Flame: Forno",
        text=text,
        level="flame",
        url="https://desk.example/crisis/1",
        episode_key=key,
        fields={"comments": "42"},
    )


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def test_webhook_posts_slack_compatible_signed_json(receiver: Receiver) -> None:
    send_webhook(receiver.url, note(), secret="s3cret")
    headers, body = receiver.requests[0]
    payload = json.loads(body)
    assert payload["text"].startswith("*Flame: Forno*") and "42 comments" in payload["text"]
    assert payload["level"] == "flame" and payload["fields"] == {"comments": "42"}
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == expected


def test_webhook_error_hides_the_secret_path(receiver: Receiver) -> None:
    receiver.fail_first = 1
    with pytest.raises(DeliveryError) as err:
        send_webhook(receiver.url, note())
    assert "503" in str(err.value) and "secret-path" not in str(err.value)


def test_retry_with_backoff_then_success_and_dedupe(receiver: Receiver) -> None:
    receiver.fail_first = 2
    settings = Settings({"webhook_urls": receiver.url}, environ={})
    notifier = Notifier(settings, backoff=0.01)
    try:
        assert notifier.notify(note()) is True
        assert notifier.notify(note()) is False  # same episode key: sent once
        wait_for(lambda: notifier.deliveries)
    finally:
        notifier.close()
    assert receiver.calls == 3 and len(receiver.requests) == 1
    delivery = notifier.deliveries[0]
    assert delivery.ok and delivery.attempts == 3 and delivery.channel == "webhook1"


def test_gives_up_after_retries(receiver: Receiver) -> None:
    receiver.fail_first = 100
    notifier = Notifier(
        Settings({"webhook_urls": receiver.url}, environ={}), retries=2, backoff=0.01
    )
    try:
        notifier.notify(note())
        wait_for(lambda: notifier.deliveries)
    finally:
        notifier.close()
    assert receiver.calls == 3
    assert notifier.deliveries[0].ok is False and "503" in (notifier.deliveries[0].error or "")


def test_dead_receiver_does_not_block(dead_receiver: str, receiver: Receiver) -> None:
    channels = {
        "dead": lambda n: send_webhook(dead_receiver, n, timeout=0.5),
        "alive": lambda n: send_webhook(receiver.url, n),
    }
    notifier = Notifier(Settings({}, environ={}), channels=channels, retries=0)
    try:
        started = time.perf_counter()
        for i in range(20):
            notifier.notify(note(key=f"k{i}"))
        assert time.perf_counter() - started < 0.2  # the caller never waits
        assert receiver.got.wait(5)
    finally:
        notifier.close(timeout=0.5)


# -- e-mail over a real SMTP server with STARTTLS and AUTH ----------------------------------------


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Mailbox:
    port: int
    client_context: ssl.SSLContext
    messages: list[Any] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = _self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox(port=port, client_context=client_ctx)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            box.messages.append(envelope)
            return "250 OK"

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == b"desk"
            and auth_data.password == b"pw"
        )
        if ok:
            box.logins.append(auth_data.login.decode())
        # handled=False: the server itself answers 535 to a refusal.
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        tls_context=server_ctx,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    yield box
    controller.stop()


def mail_settings(box: Mailbox, password: str = "pw") -> Settings:
    return Settings(
        {
            "smtp_host": "127.0.0.1",
            "smtp_port": box.port,
            "smtp_username": "desk",
            "smtp_password": password,
            "smtp_from": "desk@example.org",
            "smtp_to": "team@example.org, boss@example.org",
        },
        environ={},
    )


def test_email_with_starttls_and_auth(smtp_server: Mailbox) -> None:
    send_email(mail_settings(smtp_server), note(), ssl_context=smtp_server.client_context)
    assert smtp_server.logins == ["desk"]
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["team@example.org", "boss@example.org"]
    content = envelope.content.decode()
    assert "Subject: [crisisdesk] Flame: Forno" in content
    assert "42 comments" in content and "https://desk.example/crisis/1" in content


def test_email_wrong_password_is_an_error_without_the_password(smtp_server: Mailbox) -> None:
    with pytest.raises(DeliveryError) as err:
        send_email(
            mail_settings(smtp_server, password="hunter2-wrong"),
            note(),
            ssl_context=smtp_server.client_context,
        )
    assert "hunter2" not in str(err.value)
    assert smtp_server.messages == []


def test_notifier_sends_email_in_background(smtp_server: Mailbox) -> None:
    notifier = Notifier(mail_settings(smtp_server), ssl_context=smtp_server.client_context)
    try:
        assert list(notifier.channels) == ["email"]
        notifier.notify(note())
        wait_for(lambda: notifier.deliveries)
    finally:
        notifier.close()
    assert notifier.deliveries[0].ok
    assert len(smtp_server.messages) == 1


# -- the flame monitor notifies through the notifier ----------------------------------------------


def test_flame_alert_reaches_the_webhook_once(
    desk: Desk, receiver: Receiver, dead_receiver: str
) -> None:
    from tests.signals.test_flame import burst, feed, history

    channels = {
        "alive": lambda n: send_webhook(receiver.url, n),
        "dead": lambda n: send_webhook(dead_receiver, n, timeout=0.3),
    }
    desk.notifier = Notifier(desk.settings, channels=channels, retries=1, backoff=0.01)
    # The burst happens "now" for the desk: recent alerts are announced, old history is not.
    desk.clock = lambda: history()[-1].created_at + dt.timedelta(minutes=30)
    monitor = desk.flame
    try:
        past = history()
        desk.ingest(past)
        records = burst(past[-1].created_at + dt.timedelta(minutes=10))
        started = time.perf_counter()
        feed(desk, records)
        elapsed = time.perf_counter() - started
        # Ingest did not wait for the dead receiver (its tries add up to seconds).
        assert elapsed < 2.0
        feed(desk, records)  # repeated deliveries: no new alert, no new message
        wait_for(lambda: len(receiver.requests) >= len(monitor.alerts()))
    finally:
        desk.notifier.close(timeout=0.5)
    payloads = [json.loads(body) for _h, body in receiver.requests]
    keys = [p["episode_key"] for p in payloads]
    assert len(keys) == len(set(keys)) == len(monitor.alerts())
    assert all(p["kind"] == "alert" and "First move" in p["text"] for p in payloads)
    # Post alerts name the post as people know it (its platform id here), not the row id.
    post_messages = [p["text"] for p in payloads if "(post " in p["text"]]
    assert post_messages and all("(post post3)" in t for t in post_messages)


def test_flame_alerts_name_the_post_by_its_text_without_letting_it_format(
    desk: Desk, receiver: Receiver
) -> None:
    from tests.signals.test_flame import burst, feed, history

    desk.notifier = Notifier(
        desk.settings, channels={"alive": lambda n: send_webhook(receiver.url, n)}, retries=0
    )
    desk.clock = lambda: history()[-1].created_at + dt.timedelta(minutes=30)
    monitor = desk.flame
    try:
        past = history()
        desk.ingest(past)
        records = burst(past[-1].created_at + dt.timedelta(minutes=10))
        # Only the first comment carries the post's text, as a backfill would; the rest do not.
        records[0].post_message = "Hours <!channel> <https://evil.example|menu> & more"
        feed(desk, records)
        wait_for(lambda: len(receiver.requests) >= len(monitor.alerts()))
    finally:
        desk.notifier.close(timeout=0.5)
    payloads = [json.loads(body) for _h, body in receiver.requests]
    about_post = [p for p in payloads if "(post " in p["message"]]
    assert about_post
    for p in about_post:
        # the bare message quotes the post as it is; the rendered text cannot ping or link
        assert "(post Hours <!channel> <https://evil.example|menu> & more)" in (p["message"])
        assert "Hours &lt;!channel&gt; &lt;https://evil.example|menu&gt; &amp; more" in (p["text"])
        assert "<!channel>" not in p["text"] and "<https://evil" not in p["text"]
