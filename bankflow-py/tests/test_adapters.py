"""The adapters through the Python surface, against real peers the tests start: email over
SMTP (aiosmtpd), KYC documents in S3 (moto) and the Kafka outbox relay (tansu, read back by
kafka-python). A peer that cannot start fails the test; none is skipped."""

import datetime as dt
import email
import email.policy
import json
import re
import sqlite3
import uuid
from decimal import Decimal as D

import pytest

import bankflow
import peers
from conftest import key

PASSWORD = "Correct-Horse-Battery-9"
PNG = b"\x89PNG\r\n\x1a\n" + b"bankflow-plaintext-marker" * 8
DATA_KEY = "11" * 32
FROM = "BankFlow <no-reply@bank.example>"


def address():
    return f"u-{uuid.uuid4().hex[:12]}@example.com"


def onboard(bank, addr=None):
    user = bank.register(addr or address(), PASSWORD)
    customer = bank.as_user(user.id).create_customer(
        first_name="Ada", last_name="Lovelace", date_of_birth=dt.date(1990, 12, 10),
        address_line1="1 Analytical Way", city="London", state="LDN", zip_code="10001",
        country="us",
    )
    return user, customer


@pytest.fixture
def smtp():
    server = peers.SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def moto(tmp_path):
    peers.aws_env()
    server = peers.MotoServer(tmp_path)
    yield server
    server.stop()


def test_registration_code_is_mailed_over_smtp_and_shows_sent(smtp):
    bank = bankflow.Bank.open(
        ":memory:", smtp={"host": "127.0.0.1", "port": smtp.port, "tls": "none", "from": FROM, "timeout_ms": 5000}
    )
    addr = address()
    user = bank.register(addr, PASSWORD)
    assert smtp.arrived.wait(10), "no mail reached the SMTP server"
    [code] = [n for n in bank.as_user(user.id).notifications() if n.template_id == "verify_email"]
    assert (code.channel, code.status, code.recipient) == ("email", "sent", addr)
    assert code.sent_at is not None
    mails = [email.message_from_bytes(m.content, policy=email.policy.default) for m in smtp.messages]
    assert all(m.rcpt_tos == [addr] and m.mail_from == "no-reply@bank.example" for m in smtp.messages)
    [msg] = [m for m in mails if m["Subject"] == code.subject]
    text = msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    # The history keeps the message with its secret redacted; the mail carries the code.
    assert "[redacted]" in code.body
    wording = re.escape(code.body.strip()).replace(re.escape("[redacted]"), r"(\d{6})")
    assert re.search(wording, text), text


def test_a_refused_mail_stays_pending_for_retry(smtp):
    port = peers.free_port()  # nothing listens there
    bank = bankflow.Bank.open(":memory:", smtp={"host": "127.0.0.1", "port": port, "tls": "none", "from": FROM})
    user = bank.register(address(), PASSWORD)
    [code] = [n for n in bank.as_user(user.id).notifications() if n.template_id == "verify_email"]
    assert code.status != "sent" and code.sent_at is None and code.attempts == 1
    assert not smtp.messages


@pytest.mark.parametrize(
    "smtp, field",
    [
        ({"host": "127.0.0.1", "from": FROM, "tls": "ssl3"}, "smtp.tls"),
        ({"from": FROM}, "smtp.host"),
        ({"host": "127.0.0.1"}, "smtp.from"),
        ({"host": "127.0.0.1", "from": "not an address"}, "smtp"),
        ({"host": "127.0.0.1", "from": FROM, "port": "25"}, "smtp.port"),
        ({"host": "127.0.0.1", "from": FROM, "timeout_ms": 0}, "smtp"),
        ({"host": "127.0.0.1", "from": FROM, "username": "u"}, "smtp"),
        ({"host": "127.0.0.1", "from": FROM, "hots": "x"}, "smtp"),
    ],
)
def test_bad_smtp_options_raise_validation_errors(smtp, field):
    with pytest.raises(bankflow.ValidationError) as e:
        bankflow.Bank.open(smtp=smtp)
    assert (e.value.code, e.value.field) == ("validation_error", field)


def test_kyc_document_is_ciphertext_in_s3_and_reads_back(moto):
    bucket = f"kyc-{uuid.uuid4().hex[:8]}"
    moto.create_bucket(bucket)
    bank = bankflow.Bank.open(":memory:", data_key=DATA_KEY, documents_url=moto.documents_url(bucket))
    _, customer = onboard(bank)
    doc = bank.upload_document(customer.id, "PASSPORT", PNG)
    objects = moto.objects(bucket)
    assert len(objects) == 1, objects.keys()
    [stored] = objects.values()
    assert b"bankflow-plaintext-marker" not in stored and PNG not in stored
    assert len(stored) > len(PNG), "an envelope, not the document"
    assert bank.document_content(customer.id, doc.id) == PNG
    assert [d.id for d in bank.documents(customer.id)] == [doc.id]


@pytest.mark.parametrize("url", ["s3://", "http://bucket", "s3://key:secret@bucket", "s3://b?colour=red"])
def test_bad_documents_urls_raise_validation_errors(url):
    with pytest.raises(bankflow.ValidationError) as e:
        bankflow.Bank.open(documents_url=url)
    assert e.value.field == "documents_url"


def journey(bank):
    """register → KYC → account → deposit → transfer → reversal; returns the ids."""
    user, customer = onboard(bank)
    bank.upload_document(customer.id, "PASSPORT", PNG)
    bank.submit_kyc(customer.id)
    bank.approve_kyc(customer.id)
    a = bank.open_account(customer.id)
    b = bank.open_account(customer.id, "SAVINGS")
    bank.deposit(a.id, D("100.00"), idempotency_key=key())
    t = bank.transfer(a.id, b.id, D("10.00"), idempotency_key=key())
    bank.reverse(t.id, idempotency_key=key(), reason="customer request")
    return {"user": user.id, "customer": customer.id, "accounts": {a.id, b.id}, "transfer": t.id}


def consume(port, prefix):
    """Every record of the topics under `prefix`, in partition order (kafka-python)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=f"127.0.0.1:{port}", group_id=None,
                             enable_auto_commit=False, client_id="bankflow-py-tests")
    parts = [TopicPartition(t, p) for t in consumer.topics() if t.startswith(prefix)
             for p in sorted(consumer.partitions_for_topic(t) or [])]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    ends = consumer.end_offsets(parts)
    records = []
    while any(consumer.position(tp) < ends[tp] for tp in parts):
        for batch in consumer.poll(timeout_ms=1000).values():
            records.extend(batch)
    consumer.close()
    return records


def unpublished(db):
    """Outbox events not yet marked published, read from the SQLite file itself."""
    with sqlite3.connect(db) as c:
        return c.execute("SELECT count(*) FROM events WHERE published_at IS NULL").fetchone()[0]


def test_kafka_relay_publishes_a_journey_as_cloudevents(tmp_path):
    db = str(tmp_path / "bank.db")
    bank = bankflow.Bank.open(db)
    ids = journey(bank)
    owed = unpublished(db)
    assert owed > 8
    port = peers.free_port()
    prefix = f"py-{uuid.uuid4().hex[:6]}."
    broker = peers.Broker(tmp_path / "kafka", port)
    broker.start()
    try:
        relay = bankflow.KafkaRelay(bank, [f"127.0.0.1:{port}"], topic_prefix=prefix, create_topics_partitions=1)
        published = 0
        while (n := relay.run_once(limit=7)) > 0:
            assert n <= 7
            published += n
        records = consume(port, prefix)
    finally:
        broker.stop()
    assert published == owed and unpublished(db) == 0
    assert len(records) == published, "every event, once"
    events = [(r, json.loads(r.value)) for r in records]
    assert len({ce["id"] for _, ce in events}) == published
    by_type = {}
    for r, ce in events:
        assert dict(r.headers)["content-type"] == b"application/cloudevents+json; charset=UTF-8"
        assert ce["specversion"] == "1.0" and ce["type"].startswith("com.bankflow.")
        assert ce["subject"] == r.key.decode() == ce["partitionkey"]
        by_type.setdefault(ce["type"].removeprefix("com.bankflow."), []).append(r.key.decode())
    assert by_type["user.registered"] == [ids["user"]]
    assert by_type["customer.created"] == [ids["customer"]]
    assert ids["accounts"] <= set(by_type["account.created"])
    assert {"kyc.approved", "transaction.completed", "transaction.reversed"} <= by_type.keys()
    assert relay.run_once() == 0


def test_kafka_relay_leaves_events_in_the_outbox_when_the_broker_is_down(tmp_path):
    db = str(tmp_path / "bank.db")
    bank = bankflow.Bank.open(db)
    bank.register(address(), PASSWORD)
    owed = unpublished(db)
    assert owed > 0
    relay = bankflow.KafkaRelay(bank, [f"127.0.0.1:{peers.free_port()}"], publish_timeout_ms=2000)
    with pytest.raises(bankflow.TransientError) as e:
        relay.run_once()
    assert e.value.code == "transient"
    assert unpublished(db) == owed


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"brokers": []}, bankflow.ValidationError),
        ({"brokers": ["a:9092"], "publish_timeout_ms": 0}, bankflow.ValidationError),
        ({"brokers": ["a:9092"], "publish_timeout_ms": 20_001}, bankflow.ValidationError),
        ({"brokers": ["a:9092"], "create_topics_partitions": 0}, bankflow.ValidationError),
    ],
)
def test_bad_relay_settings_raise(kwargs, error):
    with pytest.raises(error):
        bankflow.KafkaRelay(bankflow.Bank.open(), **kwargs)


def test_relay_limit_is_bounded():
    relay = bankflow.KafkaRelay(bankflow.Bank.open(), ["127.0.0.1:1"])
    for limit in (0, 501):
        with pytest.raises(bankflow.LimitExceeded):
            relay.run_once(limit)
