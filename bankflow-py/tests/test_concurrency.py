"""Several Python threads move money at once: the GIL is released and no money is created
or lost."""

import random
import threading
import uuid
from decimal import Decimal as D

import bankflow
from conftest import key

THREADS = 8
TRANSFERS_PER_THREAD = 25
ACCOUNTS = 4


def test_threads_conserve_money(bank):
    customer = str(uuid.uuid4())
    accounts = [bank.open_account(customer).id for _ in range(ACCOUNTS)]
    for a in accounts:
        bank.deposit(a, D("50.00"), idempotency_key=key())
    outcomes = {"ok": 0, "insufficient": 0}
    lock = threading.Lock()
    errors = []

    def worker(seed):
        rng = random.Random(seed)
        try:
            for _ in range(TRANSFERS_PER_THREAD):
                src, dst = rng.sample(accounts, 2)
                amount = D(rng.randint(1, 3000)) / 100
                try:
                    bank.transfer(src, dst, amount, idempotency_key=key())
                    result = "ok"
                except bankflow.InsufficientFunds:
                    result = "insufficient"
                with lock:
                    outcomes[result] += 1
        except Exception as e:  # surfaced by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert outcomes["ok"] + outcomes["insufficient"] == THREADS * TRANSFERS_PER_THREAD
    assert outcomes["ok"] > 0
    balances = [bank.balance(a).balance for a in accounts]
    assert all(b >= 0 for b in balances)
    assert sum(balances) == D("200.00")
    report = bank.verify_ledger()
    assert report.customer_totals == {"USD": D("200.00")}
    assert report.accounts_checked == ACCOUNTS


def test_gil_is_released_while_the_engine_works():
    """While one thread is inside the engine (an Argon2id hash at registration takes tens of
    milliseconds), another Python thread keeps running. Were the GIL held, the counting
    thread could not run at all until the call returned."""
    bank = bankflow.Bank.open(":memory:")
    started, done = threading.Event(), threading.Event()

    def register():
        started.set()
        try:
            bank.register(f"gil-{uuid.uuid4().hex[:8]}@example.com", "Correct-Horse-Battery-9")
        finally:
            done.set()

    worker = threading.Thread(target=register)
    worker.start()
    started.wait()
    spins = 0
    while not done.is_set():
        spins += 1
    worker.join()
    assert spins > 1000, f"only {spins} iterations ran while the engine worked"
