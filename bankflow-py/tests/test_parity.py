"""The cross-language parity scenario. The same script and the same expected values are
asserted in examples/parity.rs (Rust) and bankflow-node/__test__/parity.test.mjs (Node)."""

import datetime as dt
import uuid
from decimal import Decimal as D

import bankflow


def test_parity_scenario():
    bank = bankflow.Bank.open(":memory:")
    customer = str(uuid.uuid4())
    a = bank.open_account(customer)
    b = bank.open_account(customer)
    bank.deposit(a.id, D("100.00"), idempotency_key="parity-deposit", description="opening deposit")
    t1 = bank.transfer(a.id, b.id, D("30.25"), idempotency_key="parity-transfer", description="rent share")
    hold = bank.transfer_pending(a.id, b.id, D("10.00"), idempotency_key="parity-hold", description="card hold")
    bank.post_pending(hold.id, idempotency_key="parity-post", amount=D("7.50"))
    bank.reverse(t1.id, reason="customer dispute", idempotency_key="parity-reversal")

    # The day around now: a statement "for the day" that cannot straddle midnight UTC.
    today = dt.datetime.now(dt.timezone.utc).date()
    s = bank.statement(a.id, today - dt.timedelta(days=1), today + dt.timedelta(days=1))

    assert (str(s.opening_balance), str(s.closing_balance)) == ("0.00", "92.50")
    assert [(l.description, str(l.amount), str(l.balance_after)) for l in s.lines] == [
        ("opening deposit", "100.00", "100.00"),
        ("rent share", "-30.25", "69.75"),
        ("card hold", "-7.50", "62.25"),
        (f"Reversal of {t1.reference}: customer dispute", "30.25", "92.50"),
    ]
    ba, bb = bank.balance(a.id), bank.balance(b.id)
    assert (str(ba.balance), str(ba.available_balance)) == ("92.50", "92.50")
    assert (str(bb.balance), str(bb.available_balance)) == ("7.50", "7.50")
    assert bank.transaction(t1.id).status == "REVERSED"
    assert {k: str(v) for k, v in bank.verify_ledger().customer_totals.items()} == {"USD": "100.00"}
