"""Kafka acceptance: a real `bankflow serve` relays a whole journey to a real Kafka-protocol
broker (tansu), and a third-party client (kafka-python) reads it back.

register -> KYC -> deposit -> transfer, then the broker is SIGKILLed; a second transfer and a
reversal happen while it is down; the broker is started again on the same storage. Then every
event of the outbox must be in Kafka exactly as the event id lets a consumer dedupe it: each
record a valid CloudEvent 1.0 (structured mode) with one of the platform's type names, keyed
by aggregate id on the partition Kafka's own partitioner picks for that key, and each
aggregate's events in the order they were committed. Any failure exits non-zero.

usage: python kafka_acceptance.py --bin target/debug/bankflow --broker-script scripts/kafka-broker.sh
"""

import argparse
import datetime
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from kafka import KafkaConsumer, TopicPartition
from kafka.partitioner.default import murmur2

PARTITIONS = 3
PREFIX = "accept."
TOPICS = ["identity-events", "customer-events", "account-events", "transaction-events",
          "fraud-events", "notification-events"]
# The platform design's event names (bankflow-core EventType); CloudEvents type = com.bankflow.<name>.
TYPES = {
    "user.registered", "user.logged_in", "user.verified", "customer.created", "customer.updated",
    "kyc.submitted", "kyc.approved", "kyc.rejected", "account.created", "account.creation.failed",
    "account.balance.updated", "account.frozen", "account.unfrozen", "account.closed",
    "transaction.initiated", "transaction.fraud_check.passed", "transaction.balance_reserved",
    "transaction.processed", "transaction.completed", "transaction.failed",
    "transaction.reversed", "fraud.detected", "fraud.high_risk", "account.suspicious",
    "notification.sent",
}
SOURCES = {"identity-service", "customer-service", "account-service", "transaction-service",
           "fraud-service", "notification-service"}
# The journey's own milestones: each must be among the consumed types.
JOURNEY = {"user.registered", "customer.created", "kyc.submitted", "kyc.approved",
           "account.created", "transaction.completed", "transaction.reversed",
           "account.balance.updated"}
CONTENT_TYPE = b"application/cloudevents+json; charset=UTF-8"
ADMIN_EMAIL = "kafka-admin@example.com"
ADMIN_PASSWORD = "kafka acceptance admin passphrase"
PASSWORD = "correct horse battery staple kafka"
# Longest wait for the relay to publish everything once the broker is back: the failed batch's
# 30 s claim lease must run out first.
DRAIN_TIMEOUT_S = 120


def fail(msg):
    print(f"kafka acceptance: FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Api:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}/api/v1"

    def call(self, method, path, token=None, body=None, headers=None, raw=None, ctype=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("content-type", ctype or "application/json")
        if token:
            req.add_header("authorization", f"Bearer {token}")
        if method == "POST" and path.startswith("/transactions"):
            req.add_header("idempotency-key", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                text = r.read().decode()
        except urllib.error.HTTPError as e:
            fail(f"{method} {path}: {e.code} {e.read().decode()[:500]}")
        return json.loads(text) if text else {}

    def login(self, email, password):
        return self.call("POST", "/auth/login", body={"email": email, "password": password})["access_token"]


def upload(api, token, customer_id):
    boundary = "bankflow-kafka-boundary"
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"document_type\"\r\n\r\nPASSPORT\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"doc\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + png + f"\r\n--{boundary}--\r\n".encode()
    api.call("POST", f"/customers/{customer_id}/documents", token, raw=body,
             ctype=f"multipart/form-data; boundary={boundary}")


def onboard(api, admin, email, last_name):
    """register -> customer -> document -> KYC submitted -> approved -> account; (token, account)."""
    api.call("POST", "/auth/register", body={"email": email, "password": PASSWORD})
    token = api.login(email, PASSWORD)
    cust = api.call("POST", "/customers", token, {
        "first_name": "Kim", "last_name": last_name, "date_of_birth": "1988-04-05", "ssn": "219-09-9999",
        "address_line1": "3 Queue St", "city": "Springfield", "state": "IL", "zip_code": "62701",
        "country": "US"})
    upload(api, token, cust["id"])
    api.call("POST", f"/customers/{cust['id']}/kyc", token, {})
    api.call("POST", f"/admin/customers/{cust['id']}/kyc/approve", admin, {})
    token = api.login(email, PASSWORD)  # a fresh token carries the customer id
    acct = api.call("POST", "/accounts", token, {"account_type": "CHECKING"})
    return token, acct


def broker(script, action, d, port=None):
    cmd = ["bash", script, action, d] + ([str(port)] if port else [])
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"kafka-broker.sh {action}: the broker is required, not optional:\n{r.stderr}")


def outbox_lag_s(port):
    """The server's bankflow_outbox_lag_seconds gauge, from a /metrics scrape."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    for line in text.splitlines():
        if line.startswith("bankflow_outbox_lag_seconds "):
            return float(line.split()[1])
    fail("no bankflow_outbox_lag_seconds in /metrics")


def outbox(db):
    """Every outbox event: id -> (aggregate, seq, published)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        rows = con.execute("SELECT id, aggregate_id, seq, published_at FROM events ORDER BY seq").fetchall()
    finally:
        con.close()
    return {r[0].lower(): (r[1].lower(), r[2], r[3] is not None) for r in rows}


def wait_published(db, deadline):
    while time.time() < deadline:
        events = outbox(db)
        if events and all(p for (_, _, p) in events.values()):
            return events
        time.sleep(1)
    waiting = sum(1 for (_, _, p) in outbox(db).values() if not p)
    fail(f"{waiting} outbox events still unpublished {DRAIN_TIMEOUT_S}s after the broker came back")


def consume(port):
    """Every record of every topic, in partition order."""
    consumer = KafkaConsumer(bootstrap_servers=f"127.0.0.1:{port}", group_id=None,
                             enable_auto_commit=False, client_id="kafka-acceptance-python")
    parts = [TopicPartition(PREFIX + t, p) for t in TOPICS for p in range(PARTITIONS)]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    ends = consumer.end_offsets(parts)
    records = []
    deadline = time.time() + 60
    while any(consumer.position(tp) < ends[tp] for tp in parts):
        if time.time() > deadline:
            fail("the consumer could not read up to the end offsets within 60s")
        for tp, batch in consumer.poll(timeout_ms=1000).items():
            records.extend(batch)
    consumer.close()
    return records


def check_record(r):
    """Checks one record; returns its CloudEvent."""
    key = r.key.decode()
    headers = dict(r.headers or [])
    if headers.get("content-type") != CONTENT_TYPE:
        fail(f"record {r.topic}/{r.partition}@{r.offset}: content-type {headers.get('content-type')!r}")
    want_partition = (murmur2(r.key) & 0x7FFFFFFF) % PARTITIONS
    if r.partition != want_partition:
        fail(f"key {key} on partition {r.partition}, Kafka's partitioner says {want_partition}")
    ce = json.loads(r.value)
    if ce.get("specversion") != "1.0":
        fail(f"specversion {ce.get('specversion')!r}")
    for attr in ("id", "source", "type", "time", "datacontenttype"):
        if not isinstance(ce.get(attr), str) or not ce[attr]:
            fail(f"CloudEvent without {attr}: {ce}")
    name = ce["type"].removeprefix("com.bankflow.")
    if not ce["type"].startswith("com.bankflow.") or name not in TYPES:
        fail(f"type {ce['type']!r} is not one of the platform's event names")
    if ce["source"] not in SOURCES:
        fail(f"source {ce['source']!r}")
    if ce["datacontenttype"] != "application/json" or "data" not in ce:
        fail(f"datacontenttype {ce['datacontenttype']!r} / data missing")
    datetime.datetime.fromisoformat(ce["time"].replace("Z", "+00:00"))
    if ce.get("subject") != key or ce.get("partitionkey") != key:
        fail(f"subject/partitionkey {ce.get('subject')}/{ce.get('partitionkey')} differ from the key {key}")
    if r.topic != PREFIX + topic_of(name):
        fail(f"{ce['type']} on {r.topic}")
    return ce


def topic_of(name):
    head = name.split(".")[0]
    return {"user": "identity-events", "customer": "customer-events", "kyc": "customer-events",
            "account": "account-events", "transaction": "transaction-events", "fraud": "fraud-events",
            "notification": "notification-events"}[head] if name != "account.suspicious" else "fraud-events"


def verify(records, events):
    first = {}
    order = {}
    dupes = 0
    for r in records:
        ce = check_record(r)
        eid = ce["id"].lower()
        if eid in first:
            dupes += 1
            if first[eid] != ce:
                fail(f"a duplicate of {eid} differs from the first copy")
            continue
        first[eid] = ce
        order.setdefault(ce["subject"].lower(), []).append(eid)
    missing = set(events) - set(first)
    extra = set(first) - set(events)
    if missing:
        fail(f"{len(missing)} outbox events never reached Kafka, e.g. {sorted(missing)[:3]}")
    if extra:
        fail(f"{len(extra)} Kafka events are not in the outbox, e.g. {sorted(extra)[:3]}")
    want = {}
    for eid, (agg, seq, _) in sorted(events.items(), key=lambda kv: kv[1][1]):
        want.setdefault(agg, []).append(eid)
    for agg, ids in want.items():
        if order.get(agg) != ids:
            fail(f"aggregate {agg}: consumed {order.get(agg)} but committed {ids}")
    types = {ce["type"].removeprefix("com.bankflow.") for ce in first.values()}
    if not JOURNEY <= types:
        fail(f"journey milestones missing from Kafka: {sorted(JOURNEY - types)}")
    return len(first), dupes, len(want)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--broker-script", required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bankflow-kafka-accept.")
    kdir, data = os.path.join(work, "broker"), os.path.join(work, "data")
    kport, hport = free_port(), free_port()
    broker(a.broker_script, "start", kdir, kport)
    env = dict(os.environ, BANKFLOW_ADMIN_EMAIL=ADMIN_EMAIL, BANKFLOW_ADMIN_PASSWORD=ADMIN_PASSWORD,
               BANKFLOW_RATE_LIMIT_PER_MIN="100000", BANKFLOW_AUTH_RATE_LIMIT_PER_MIN="100000",
               # Event delivery is under test, not the identity gates (no mail is captured).
               BANKFLOW_STAFF_MFA_REQUIRED="false", BANKFLOW_REQUIRE_VERIFIED_EMAIL="false",
               RUST_LOG=os.environ.get("RUST_LOG", "info"))
    env.pop("DATABASE_URL", None)  # SQLite in the data dir, whatever the caller exported
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen([a.bin, "serve", "--data-dir", data, "--bind", f"127.0.0.1:{hport}",
                               "--kafka-brokers", f"127.0.0.1:{kport}", "--kafka-topic-prefix", PREFIX,
                               "--kafka-create-topics-partitions", str(PARTITIONS),
                               "--kafka-client-id", "bankflow-acceptance",
                               "--kafka-publish-timeout-ms", "3000"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        run(a, Api(hport), hport, kdir, kport, os.path.join(data, "bankflow.db"), server)
    except SystemExit:
        log.flush()
        print(open(os.path.join(work, "server.log")).read()[-4000:], file=sys.stderr)
        raise
    finally:
        server.terminate()
        server.wait(timeout=30)
        broker(a.broker_script, "kill", kdir)


def wait_ready(port, server):
    for _ in range(150):
        if server.poll() is not None:
            fail("bankflow serve exited during start")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    fail("bankflow serve did not become ready")


def run(a, api, hport, kdir, kport, db, server):
    wait_ready(hport, server)
    admin = api.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    alice, a_acct = onboard(api, admin, "kafka-alice@example.com", "Alpha")
    _, b_acct = onboard(api, admin, "kafka-bob@example.com", "Beta")
    api.call("POST", "/transactions/deposit", admin,
             {"account_id": a_acct["id"], "amount": "100.00", "currency": "USD"})
    api.call("POST", "/transactions/transfer", alice,
             {"from_account_id": a_acct["id"], "to_account_number": b_acct["account_number"],
              "amount": "10.00", "currency": "USD"})
    # Let the relay publish part of the journey, then crash the broker mid-run.
    time.sleep(3)
    before = outbox(db)
    published_before = sum(1 for (_, _, p) in before.values() if p)
    if published_before == 0:
        fail("nothing was published to Kafka before the broker was killed")
    broker(a.broker_script, "kill", kdir)
    print(f"kafka acceptance: broker killed after {published_before}/{len(before)} events published")
    t = api.call("POST", "/transactions/transfer", alice,
                 {"from_account_id": a_acct["id"], "to_account_number": b_acct["account_number"],
                  "amount": "25.50", "currency": "USD"})
    api.call("POST", f"/transactions/{t['id']}/reverse", admin, {"reason": "dispute upheld"})
    time.sleep(4)  # several relay rounds fail against the dead broker
    down = outbox(db)
    waiting = sum(1 for (_, _, p) in down.values() if not p)
    if waiting == 0:
        fail("events written while the broker was down were marked published")
    print(f"kafka acceptance: {waiting} events wait in the outbox while the broker is down")
    # The lag gauge must show the wait, not zero while the relay's failed batch is leased.
    # The gauge is refreshed at each relay step (every idle pause plus a publish timeout).
    deadline = time.time() + 10
    lag_s = outbox_lag_s(hport)
    while lag_s < 3.0 and time.time() < deadline:
        time.sleep(0.5)
        lag_s = outbox_lag_s(hport)
    if lag_s < 3.0:
        fail(f"bankflow_outbox_lag_seconds reads {lag_s} with events waiting 4 s for a dead broker")
    print(f"kafka acceptance: outbox lag {lag_s:.1f}s reported while the broker is down")
    broker(a.broker_script, "start", kdir, kport)
    events = wait_published(db, time.time() + DRAIN_TIMEOUT_S)
    unique, dupes, aggregates = verify(consume(kport), events)
    print(f"kafka acceptance: {unique} events of {aggregates} aggregates consumed by kafka-python, "
          f"{dupes} duplicates dropped by event id, per-aggregate order kept")
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
