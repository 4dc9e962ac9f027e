"""Org webhooks: refused for internal targets (at save, after resolution and at connect time), signed
following Standard Webhooks so that receivers verify them with an independent library and refuse replays."""

from __future__ import annotations

import json
import logging
import re
import ssl
import time
from pathlib import Path

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from registry.config import load_settings
from registry.db import db
from registry.notifications import webhooks
from registry.notifications.service import notify_org
from tests.helpers import csrf_token, login

NAME = "hooks.cheonan.example"
PAYLOAD = {"event": "release.yanked", "solution": "주차공유", "version": "1.0.0", "reason": "예약 오류로 회수"}


def save(client, url: str, **extra):
    login(client, "cheonan")
    token = csrf_token(client, "/orgs/cheonan/datahub")
    return client.post("/orgs/cheonan/webhook", data={"webhook-csrf_token": token, "webhook-url": url, **extra})


def field_error(response) -> str:
    match = re.search(r'id="webhook-url-error">([^<]*)<', response.get_data(as_text=True))
    return match.group(1) if match else ""


def shown_secret(response) -> str:
    return re.search(r"<code>(whsec_[A-Za-z0-9+/=]+)</code>", response.get_data(as_text=True)).group(1)


def alert(org) -> None:
    """What the catalog does when a release someone runs is yanked; delivery follows the commit."""
    notify_org(org, "adoption.yanked", "운영 중인 주차공유 1.0.0이 회수되었습니다", "/solutions/parking-share/1.0.0",
               webhook_payload=PAYLOAD)
    db.session.commit()


@pytest.fixture
def log(monkeypatch, caplog):
    """The delivery log; Alembic's logging set-up at the start of the session disables existing loggers."""
    monkeypatch.setattr(logging.getLogger("registry.notifications"), "disabled", False)
    return caplog


def use(org, url: str) -> str:
    """Give the org a webhook as though it had been saved earlier (under other rules or other answers)."""
    org.webhook_url, org.webhook_secret = url, webhooks.new_secret()
    db.session.commit()
    return org.webhook_secret


@pytest.mark.parametrize("url, message", [
    ("http://169.254.169.254/latest/meta-data/", "내부 주소"),
    ("https://169.254.169.254/latest/meta-data/", "내부 주소"),
    ("https://10.1.2.3/hook", "내부 주소"),
    ("https://192.168.0.10./hook", "내부 주소"),  # trailing dot
    ("https://100.100.100.200/", "내부 주소"),  # a cloud's metadata in the shared range
    ("https://[::1]/hook", "내부 주소"),
    ("https://[::ffff:127.0.0.1]/hook", "내부 주소"),
    ("https://[fd00:ec2::254]/", "내부 주소"),
    ("https://[2002:7f00:1::]/", "내부 주소"),  # 6to4 wrapping 127.0.0.1
    ("https://224.0.0.1/", "내부 주소"),
    ("https://0.0.0.0/", "내부 주소"),
    ("https://[::]/", "내부 주소"),
    ("https://240.0.0.1/", "내부 주소"),
    ("https://localhost/hook", "내부용 이름"),
    ("https://LOCALHOST./hook", "내부용 이름"),
    ("https://metadata.google.internal/", "내부용 이름"),
    ("https://0x7f000001/hook", "일반 형식"),
    ("https://2130706433/hook", "일반 형식"),
    ("https://017700000001/hook", "일반 형식"),
    ("https://127.1/hook", "일반 형식"),
    ("https://[fe80::1%25eth0]/hook", "호스트 이름이나 포트"),  # zone id
    ("https://hooks.example.org:0/", "호스트 이름이나 포트"),
    ("https://hooks.example.org:70000/", "호스트 이름이나 포트"),
    ("https://good.example.org@127.0.0.1/hook", "사용자 이름이나 비밀번호"),
    ("http://user:pw@hooks.example.org/", "사용자 이름이나 비밀번호"),
    ("ftp://hooks.example.org/", "https://로 시작"),
    ("file:///etc/passwd", "https://로 시작"),
    ("gopher://127.0.0.1:25/", "https://로 시작"),
    ("http://203.0.114.7/hook", "https://를 쓰세요"),  # public, but plain http
])
def test_internal_and_tricky_urls_are_refused_on_the_form(client, cheonan, url, message):
    response = save(client, url)
    assert response.status_code == 400
    assert message in field_error(response), field_error(response)
    db.session.refresh(cheonan)
    assert cheonan.webhook_url is None and cheonan.webhook_secret is None


def test_a_public_https_url_is_saved_with_a_secret_shown_once(client, cheonan, dns):
    dns.answers[NAME] = [["203.0.114.7"]]
    response = save(client, f"https://{NAME}/alerts?city=cheonan")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    db.session.refresh(cheonan)
    assert cheonan.webhook_url == f"https://{NAME}/alerts?city=cheonan"
    assert shown_secret(response) == cheonan.webhook_secret
    assert cheonan.webhook_secret not in client.get("/orgs/cheonan/datahub").get_data(as_text=True)

    kept = save(client, f"https://{NAME}/v2")  # saving again keeps the secret unless asked
    assert kept.status_code == 302
    db.session.refresh(cheonan)
    assert cheonan.webhook_secret == shown_secret(response)
    renewed = save(client, f"https://{NAME}/v2", **{"webhook-new_secret": "y"})
    db.session.refresh(cheonan)
    assert shown_secret(renewed) == cheonan.webhook_secret != shown_secret(response)


def test_a_name_with_any_internal_answer_is_refused_when_saved(client, cheonan, dns):
    dns.answers[NAME] = [["203.0.114.7", "127.0.0.1"]]
    response = save(client, f"https://{NAME}/hook")
    assert response.status_code == 400 and "내부 주소(127.0.0.1)" in field_error(response)


def test_a_name_resolving_to_loopback_is_not_delivered_to(app, cheonan, dns, receivers, log):
    receiver = receivers()
    dns.answers[NAME] = [["127.0.0.1"]]
    use(cheonan, f"http://{NAME}:{receiver.port}/hook")
    alert(cheonan)
    assert receiver.received == []
    assert "refused" in log.text and "127.0.0.1" in log.text


def test_a_name_rebound_after_it_was_saved_is_not_delivered_to(app, client, cheonan, dns, receivers):
    app.config["WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.2/32"  # stands for a public address: nothing listens there
    inner = receivers()
    dns.answers[NAME] = [["127.0.0.2"]]
    assert save(client, f"http://{NAME}:{inner.port}/hook").status_code == 200
    dns.answers[NAME] = [["127.0.0.1"]]
    alert(cheonan)
    assert inner.received == []


def test_delivery_connects_to_the_address_it_checked_not_to_a_second_answer(app, cheonan, dns, receivers):
    """DNS rebinding between the check and the connection: the first answer is allowed, every later one is
    127.0.0.1. The delivery must reach the checked address, keep the name in Host, and resolve only once."""
    app.config["WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.2/32"
    inner = receivers()
    checked = receivers(host="127.0.0.2", port=inner.port)
    dns.answers[NAME] = [["127.0.0.2"], ["127.0.0.1"]]
    secret = use(cheonan, f"http://{NAME}:{inner.port}/hook")
    dns.lookups.clear()
    alert(cheonan)
    assert inner.received == []
    [(headers, body)] = checked.received
    assert headers["Host"] == f"{NAME}:{inner.port}" and dns.lookups == [NAME]
    assert Webhook(secret).verify(body, headers)["solution"] == "주차공유"


def test_an_allowed_receiver_gets_a_delivery_that_verifies_and_cannot_be_replayed(app, client, cheonan, receivers,
                                                                               monkeypatch):
    app.config["WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
    receiver = receivers()
    secret = shown_secret(save(client, receiver.url))
    alert(cheonan)
    alert(cheonan)
    [(headers, body), (second, _)] = receiver.received
    payload = Webhook(secret).verify(body, headers)
    assert payload == {"kind": "adoption.yanked", "message": "운영 중인 주차공유 1.0.0이 회수되었습니다",
                       "link": "/solutions/parking-share/1.0.0", **PAYLOAD}
    assert json.loads(body.decode("utf-8")) == payload  # UTF-8 JSON, Korean kept as is
    assert headers["webhook-id"].startswith("msg_") and headers["webhook-id"] != second["webhook-id"]
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60

    with pytest.raises(WebhookVerificationError):  # the timestamp is signed: it cannot be refreshed
        Webhook(secret).verify(body, {**headers, "webhook-timestamp": str(int(time.time()) + 1)})
    with pytest.raises(WebhookVerificationError):  # another secret
        Webhook(webhooks.new_secret()).verify(body, headers)

    # A delivery captured ten minutes ago and sent again is too old for any receiver that checks.
    monkeypatch.setattr(webhooks.time, "time", lambda: time.time_ns() / 1e9 - 600)
    alert(cheonan)
    old_headers, old_body = receiver.received[-1]
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(old_body, old_headers)


def test_redirects_are_not_followed(app, cheonan, receivers, log):
    app.config["WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
    elsewhere = receivers()
    redirecting = receivers(status=307, location=elsewhere.url)
    use(cheonan, redirecting.url)
    alert(cheonan)
    assert len(redirecting.received) == 1 and elsewhere.received == []
    assert "answered 307" in log.text


def test_the_allow_list_setting_names_hosts_and_networks(app, dns, monkeypatch, tmp_path):
    monkeypatch.setenv("REGISTRY_WEBHOOK_ALLOWED_HOSTS", " hooks.city.local., 10.20.0.0/16 ,")
    setting = load_settings(str(tmp_path), {"SECRET_KEY": "x"})["WEBHOOK_ALLOWED_HOSTS"]
    allowed = webhooks.AllowList.parse(setting)
    dns.answers.update({"hooks.city.local": [["10.9.9.9"]], "other.city.example": [["10.20.3.4"]],
                        "third.city.example": [["10.9.9.9"]]})
    with app.test_request_context():
        assert webhooks.vet("http://hooks.city.local/h", allowed).addresses[0].exploded == "10.9.9.9"
        assert webhooks.vet("http://other.city.example/h", allowed).port == 80
        with pytest.raises(webhooks.Refused, match="내부"):
            webhooks.vet("https://third.city.example/h", allowed)
        with pytest.raises(webhooks.Refused, match="내부"):
            webhooks.vet("https://hooks.city.local/h", webhooks.AllowList.parse(""))


def test_the_receiver_example_in_the_docs_verifies_and_refuses_replays():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    namespace: dict = {}
    exec(re.search(r"```python\n(.*?)```", docs, re.S).group(1), namespace)  # noqa: S102 (our own docs)
    secret, body = webhooks.new_secret(), json.dumps(PAYLOAD, ensure_ascii=False).encode()
    headers = webhooks.signed_headers(secret, webhooks.new_message_id(), body)
    assert namespace["verify"](secret, headers, body) == PAYLOAD
    with pytest.raises(ValueError, match="signature"):
        namespace["verify"](secret, headers, body.replace("예약".encode(), "결제".encode()))
    old = webhooks.signed_headers(secret, "msg_old", body, timestamp=int(time.time()) - 301)
    with pytest.raises(ValueError, match="replay"):
        namespace["verify"](secret, old, body)


def _certificate(tmp_path, name: str) -> tuple[str, str]:
    """A self-signed certificate for `name`: (cert file, key file)."""
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.mark.parametrize("served_name, delivered", [(NAME, True), ("other.example", False)])
def test_https_checks_the_certificate_for_the_name_though_connected_to_an_address(
        app, cheonan, dns, receivers, monkeypatch, tmp_path, served_name, delivered):
    app.config["WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1/32"
    cert, key = _certificate(tmp_path, served_name)
    receiver = receivers()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    sni: list[str] = []
    server_context.sni_callback = lambda sock, name, context: sni.append(name)
    receiver.server.socket = server_context.wrap_socket(receiver.server.socket, server_side=True)
    trusting = ssl.create_default_context
    monkeypatch.setattr(webhooks.ssl, "create_default_context", lambda: trusting(cafile=cert))
    dns.answers[NAME] = [["127.0.0.1"]]
    secret = use(cheonan, f"https://{NAME}:{receiver.port}/hook")
    alert(cheonan)
    assert sni == [NAME]
    if delivered:
        [(headers, body)] = receiver.received
        assert headers["Host"] == f"{NAME}:{receiver.port}" and Webhook(secret).verify(body, headers)
    else:
        assert receiver.received == []
