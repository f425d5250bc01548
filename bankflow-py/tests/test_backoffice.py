"""Fraud rules, lists and cases; notifications; the audit log's hash chain."""

import re
import uuid
from decimal import Decimal as D

import pytest

import bankflow
from conftest import key
from test_people import PASSWORD, email


def accounts(bank, amount="1000.00"):
    customer = str(uuid.uuid4())
    a = bank.open_account(customer)
    b = bank.open_account(customer)
    bank.deposit(a.id, D(amount), idempotency_key=key())
    return a, b


def test_rules_review_case_release_and_reject(bank):
    rule = bank.create_fraud_rule(
        rule_name="review big ones",
        rule_type="AMOUNT_THRESHOLD",
        conditions={"min_amount": "500.00", "score": 60},
        action="REVIEW",
        priority=10,
    )
    assert (rule.rule_type, rule.action, rule.conditions) == ("AMOUNT_THRESHOLD", "REVIEW", {"min_amount": "500.00", "score": 60})
    assert [r.id for r in bank.fraud_rules(active_only=True)] == [rule.id]
    with pytest.raises(bankflow.ValidationError):
        bank.create_fraud_rule(rule_name="bad", rule_type="AMOUNT_THRESHOLD", conditions={"nope": 1}, action="REVIEW")
    with pytest.raises(bankflow.Conflict):
        bank.create_fraud_rule(rule_name="review big ones", rule_type="AMOUNT_THRESHOLD",
                               conditions={"min_amount": "1.00", "score": 1}, action="ALLOW")
    a, b = accounts(bank)
    held = bank.transfer(a.id, b.id, D("600"), idempotency_key=key())
    assert held.status == "REVIEW"
    assert bank.balance(a.id).available_balance == D("400.00")
    cases = bank.fraud_cases(status="OPEN")
    assert [c.transaction_id for c in cases] == [held.id]
    case, txn = bank.resolve_fraud_case(cases[0].id, "release", note="called the customer")
    assert (case.status, txn.status) == ("RELEASED", "COMPLETED")
    assert bank.balance(b.id).balance == D("600.00")
    second = bank.transfer(a.id, b.id, D("300"), idempotency_key=key())
    assert second.status == "COMPLETED"  # under the threshold
    bank.update_fraud_rule(rule.id, conditions={"min_amount": "100.00", "score": 60})
    third = bank.transfer(a.id, b.id, D("100"), idempotency_key=key())
    case = bank.fraud_cases(status="OPEN")[0]
    case, txn = bank.resolve_fraud_case(case.id, "reject")
    assert (case.status, txn.id, txn.status) == ("REJECTED", third.id, "FAILED")
    assert bank.balance(a.id).balance == D("100.00")
    with pytest.raises(bankflow.ValidationError):
        bank.resolve_fraud_case(case.id, "maybe")


def test_blacklist_blocks(bank):
    bank.install_default_fraud_rules()
    a, b = accounts(bank)
    entry = bank.add_list_entry("BLACK", "ACCOUNT", b.id, reason="mule")
    assert [e.id for e in bank.list_entries(list="BLACK")] == [entry.id]
    with pytest.raises(bankflow.FraudBlocked) as e:
        bank.transfer(a.id, b.id, D("1"), idempotency_key=key())
    assert e.value.code == "fraud_blocked"
    bank.remove_list_entry(entry.id)
    assert bank.transfer(a.id, b.id, D("1"), idempotency_key=key()).status == "COMPLETED"


def test_fraud_admin_is_admin_only(bank):
    stranger = bank.acting_as(user_id=str(uuid.uuid4()), customer_id=str(uuid.uuid4()))
    with pytest.raises(bankflow.Forbidden):
        stranger.install_default_fraud_rules()
    with pytest.raises(bankflow.Forbidden):
        stranger.fraud_cases()


def test_notifications_and_preferences(bank):
    user = bank.register(email(), PASSWORD)
    me = bank.as_user(user.id)
    sent = me.notifications()
    assert sent, "registration sends a welcome message and a verification code"
    assert all(n.created_at.tzinfo is not None for n in sent)
    pref = me.set_notification_preference("transaction.completed", "sms", False)
    assert (pref.category, pref.channel, pref.enabled) == ("transaction.completed", "sms", False)
    got = [(p.category, p.channel, p.enabled) for p in me.notification_preferences()]
    assert got == [("transaction.completed", "sms", False)]
    with pytest.raises(bankflow.ValidationError):
        me.set_notification_preference("transaction.completed", "pigeon", True)
    # The engine refuses to mute security messages.
    with pytest.raises(bankflow.ValidationError):
        me.set_notification_preference("security", "email", False)


def test_audit_chain(bank):
    bank.register(email(), PASSWORD)
    bank.create_fraud_rule(rule_name="r", rule_type="AMOUNT_THRESHOLD",
                           conditions={"min_amount": "1.00", "score": 1}, action="ALLOW")
    log = bank.audit_log(limit=100)
    assert log and [e.seq for e in log] == list(range(1, len(log) + 1))
    # Keyed chain (issue #16 finding 8): `v2:<key id>:<HMAC-SHA256 hex>`.
    assert all(re.fullmatch(r"v2:[^:]+:[0-9a-f]{64}", e.hash) for e in log), log[0].hash
    report = bank.verify_audit()
    assert (report.entries_checked, report.first_tampered_seq) == (len(log), None)
