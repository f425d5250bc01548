"""The core use cases through the Python surface: types in and out, errors, idempotency."""

import datetime as dt
import uuid
from decimal import Decimal as D

import pytest

import bankflow
from conftest import key

UTC = dt.timezone.utc


def funded(bank, customer_id, amount="100.00"):
    a = bank.open_account(customer_id)
    b = bank.open_account(customer_id, "SAVINGS")
    bank.deposit(a.id, D(amount), idempotency_key=key(), description="cash in")
    return a, b


def test_open_account_types(bank, customer_id):
    a = bank.open_account(customer_id, "CHECKING", "EUR", daily_limit=D("500"))
    assert isinstance(a.id, str) and uuid.UUID(a.id)
    assert a.customer_id == customer_id
    assert (a.account_type, a.currency, a.status) == ("CHECKING", "EUR", "ACTIVE")
    assert a.balance == D("0.00") and isinstance(a.balance, D)
    assert str(a.daily_limit) == "500.00"
    assert a.opened_at.tzinfo is not None and a.opened_at.utcoffset() == dt.timedelta(0)
    assert len(a.account_number) == 12
    assert [x.id for x in bank.accounts_of_customer(customer_id)] == [a.id]


def test_deposit_withdraw_transfer_balances(bank, customer_id):
    a, b = funded(bank, customer_id)
    t = bank.transfer(a.id, b.id, D("30.25"), idempotency_key=key(), description="to savings")
    assert (t.transaction_type, t.status, t.amount, t.currency) == ("TRANSFER", "COMPLETED", D("30.25"), "USD")
    assert t.reference.startswith("TXN-")
    w = bank.withdraw(b.id, "0.25", idempotency_key=key())
    assert w.transaction_type == "WITHDRAWAL"
    assert bank.balance(a.id).balance == D("69.75")
    bal = bank.balance(b.id)
    assert (bal.balance, bal.available_balance, bal.currency) == (D("30.00"), D("30.00"), "USD")
    assert bank.verify_ledger().customer_totals == {"USD": D("99.75")}


def test_transfer_by_account_number(bank, customer_id):
    a, b = funded(bank, customer_id)
    bank.transfer(a.id, b.account_number, 5, idempotency_key=key())
    assert bank.account(b.id).balance == D("5.00")


def test_floats_and_naive_datetimes_are_type_errors(bank, customer_id):
    a, b = funded(bank, customer_id)
    with pytest.raises(TypeError, match="never float"):
        bank.transfer(a.id, b.id, 1.5, idempotency_key=key())
    with pytest.raises(TypeError):
        bank.deposit(a.id, True, idempotency_key=key())
    with pytest.raises(TypeError, match="timezone-aware"):
        bank.history(a.id, since=dt.datetime(2024, 1, 1))
    with pytest.raises(TypeError):
        bank.statement(a.id, dt.datetime.now(UTC), dt.date.today())
    assert bank.balance(a.id).balance == D("100.00")


def test_validation_errors_carry_code_and_field(bank, customer_id):
    a, b = funded(bank, customer_id)
    with pytest.raises(bankflow.ValidationError) as e:
        bank.transfer(a.id, b.id, D("1.001"), idempotency_key=key())
    assert e.value.code == "validation_error" and e.value.field == "amount"
    with pytest.raises(bankflow.ValidationError) as e:
        bank.transfer(a.id, b.id, D("-1"), idempotency_key=key())
    assert e.value.field == "amount"
    with pytest.raises(bankflow.ValidationError) as e:
        bank.account("not-a-uuid")
    assert e.value.field == "account_id"
    with pytest.raises(bankflow.ValidationError):
        bank.transfer(a.id, b.id, D("1"), idempotency_key="")
    assert isinstance(e.value, bankflow.BankflowError)
    assert bank.balance(a.id).balance == D("100.00")


def test_business_errors(bank, customer_id):
    a, b = funded(bank, customer_id)
    with pytest.raises(bankflow.InsufficientFunds) as e:
        bank.transfer(a.id, b.id, D("100.01"), idempotency_key=key())
    assert e.value.code == "insufficient_funds" == bankflow.InsufficientFunds.code
    with pytest.raises(bankflow.NotFound) as e:
        bank.account(str(uuid.uuid4()))
    assert e.value.code == "not_found"
    bank.freeze_account(b.id)
    with pytest.raises(bankflow.AccountFrozen):
        bank.transfer(a.id, b.id, D("1"), idempotency_key=key())
    bank.unfreeze_account(b.id)
    with pytest.raises(bankflow.AccountNotEmpty):
        bank.close_account(a.id)
    assert bank.balance(a.id).balance == D("100.00")
    failed = bank.history(a.id, status="FAILED")
    assert {t.failure_code for t in failed} == {"insufficient_funds", "account_frozen"}


def test_idempotency(bank, customer_id):
    a, b = funded(bank, customer_id)
    k = key()
    first = bank.transfer(a.id, b.id, D("10"), idempotency_key=k)
    again = bank.transfer(a.id, b.id, D("10"), idempotency_key=k)
    assert first.id == again.id
    assert bank.balance(a.id).balance == D("90.00")
    with pytest.raises(bankflow.IdempotencyConflict) as e:
        bank.transfer(a.id, b.id, D("11"), idempotency_key=k)
    assert e.value.code == "idempotency_conflict"
    assert bank.balance(a.id).balance == D("90.00")


def test_pending_post_void_and_reversal(bank, customer_id):
    a, b = funded(bank, customer_id)
    p = bank.transfer_pending(
        a.id, b.id, D("40"), idempotency_key=key(), expires_at=dt.datetime.now(UTC) + dt.timedelta(hours=1)
    )
    assert p.status == "PENDING" and p.hold_id is not None
    bal = bank.balance(a.id)
    assert (bal.balance, bal.available_balance) == (D("100.00"), D("60.00"))
    posted = bank.post_pending(p.id, idempotency_key=key(), amount=D("25"))
    assert (posted.status, posted.amount) == ("COMPLETED", D("25.00"))
    v = bank.transfer_pending(a.id, b.id, D("5"), idempotency_key=key())
    assert bank.void_pending(v.id, idempotency_key=key()).status == "VOIDED"
    with pytest.raises(bankflow.InvalidState):
        bank.post_pending(v.id, idempotency_key=key())
    original = bank.reverse(posted.id, reason="duplicate", idempotency_key=key())
    assert original.status == "REVERSED" and original.parent_id is not None
    with pytest.raises(bankflow.AlreadyReversed) as e:
        bank.reverse(posted.id, reason="again", idempotency_key=key())
    assert isinstance(e.value, bankflow.InvalidState) and e.value.code == "already_reversed"
    assert bank.balance(a.id).available_balance == D("100.00")
    assert bank.balance(b.id).balance == D("0.00")


def test_batch_is_all_or_nothing(bank, customer_id):
    a, b = funded(bank, customer_id)
    ok = bank.transfer_batch(
        [
            {"from_account_id": a.id, "to": b.id, "amount": D("10")},
            {"from_account_id": a.id, "to": b.account_number, "amount": "5.50", "description": "two"},
        ],
        idempotency_key=key(),
    )
    assert [t.amount for t in ok] == [D("10.00"), D("5.50")]
    # The engine refuses the whole batch, naming the item that failed.
    with pytest.raises(bankflow.InvalidState, match="item 1 refused: insufficient funds"):
        bank.transfer_batch(
            [
                {"from_account_id": a.id, "to": b.id, "amount": D("1")},
                {"from_account_id": a.id, "to": b.id, "amount": D("1000")},
            ],
            idempotency_key=key(),
        )
    assert bank.balance(a.id).balance == D("84.50")
    with pytest.raises(bankflow.ValidationError):
        bank.transfer_batch([{"from_account_id": a.id, "amount": D("1")}], idempotency_key=key())


def test_submit_transfers_gives_each_its_own_outcome(bank, customer_id):
    a, b = funded(bank, customer_id)  # a holds 100.00
    items = [
        {"from_account_id": a.id, "to": b.id, "amount": D("60"), "idempotency_key": "sub-1"},
        {"from_account_id": a.id, "to": b.id, "amount": D("60"), "idempotency_key": "sub-2"},
        {"from_account_id": b.id, "to": a.account_number, "amount": "0.25", "idempotency_key": "sub-3"},
    ]
    first, refused, third = bank.submit_transfers(items)
    assert first.amount == D("60.00") and third.amount == D("0.25")
    # The refusal comes back as a value, the same exception type a single transfer raises.
    assert isinstance(refused, bankflow.InsufficientFunds) and refused.code == "insufficient_funds"
    assert bank.balance(a.id).balance == D("40.25")
    # Every item is an idempotent command of its own: replaying moves nothing.
    again = bank.submit_transfers(items)
    assert again[0].id == first.id and again[2].id == third.id
    assert bank.balance(a.id).balance == D("40.25")
    with pytest.raises(bankflow.ValidationError):
        bank.submit_transfers([{"from_account_id": a.id, "to": b.id, "amount": D("1")}])
    with pytest.raises(bankflow.ValidationError):
        bank.submit_transfers([])


def test_history_filters_and_paging(bank, customer_id):
    a, b = funded(bank, customer_id)
    for i in range(5):
        bank.transfer(a.id, b.id, D(i + 1), idempotency_key=key())
    everything = bank.history(a.id, limit=100)
    assert len(everything) == 6
    assert [t.created_at for t in everything] == sorted((t.created_at for t in everything), reverse=True)
    pages, after = [], None
    while True:
        page = bank.history(a.id, limit=2, after=after)
        if not page:
            break
        pages.extend(page)
        after = page[-1]
    assert [t.id for t in pages] == [t.id for t in everything]
    big = bank.history(a.id, transaction_type="TRANSFER", min_amount=D("3"), max_amount=4)
    assert sorted(t.amount for t in big) == [D("3.00"), D("4.00")]
    assert bank.history(a.id, since=dt.datetime.now(UTC) + dt.timedelta(days=1)) == []
    with pytest.raises(bankflow.ValidationError):
        bank.history(a.id, limit=1000)


def test_statement(bank, customer_id):
    a, b = funded(bank, customer_id)
    bank.transfer(a.id, b.id, D("0.50"), idempotency_key=key(), description="coffee")
    today = dt.datetime.now(UTC).date()
    s = bank.statement(a.id, today - dt.timedelta(days=1), today + dt.timedelta(days=1))
    assert (s.opening_balance, s.closing_balance, s.currency) == (D("0.00"), D("99.50"), "USD")
    assert [(x.description, x.amount, x.balance_after) for x in s.lines] == [
        ("cash in", D("100.00"), D("100.00")),
        ("coffee", D("-0.50"), D("99.50")),
    ]
    with pytest.raises(bankflow.ValidationError):
        bank.statement(a.id, today, today - dt.timedelta(days=1))


def test_acting_as_a_customer_enforces_ownership(bank, customer_id):
    a, b = funded(bank, customer_id)
    me = bank.acting_as(user_id=str(uuid.uuid4()), customer_id=customer_id)
    assert me.balance(a.id).balance == D("100.00")
    me.transfer(a.id, b.id, D("1"), idempotency_key=key())
    stranger = bank.acting_as(user_id=str(uuid.uuid4()), customer_id=str(uuid.uuid4()))
    with pytest.raises(bankflow.NotFound):
        stranger.balance(a.id)
    with pytest.raises(bankflow.NotFound):
        stranger.transfer(a.id, b.id, D("1"), idempotency_key=key())
    with pytest.raises(bankflow.Forbidden):
        me.deposit(a.id, D("1"), idempotency_key=key())
    with pytest.raises(bankflow.ValidationError):
        bank.acting_as(roles=["superuser"])
    assert bank.balance(a.id).balance == D("99.00")


def test_sqlite_persists_across_reopen(tmp_path, customer_id):
    path = str(tmp_path / "persist.db")
    first = bankflow.Bank.open(path)
    a = first.open_account(customer_id)
    first.deposit(a.id, D("12.34"), idempotency_key=key())
    del first
    again = bankflow.Bank.open(path)
    assert again.balance(a.id).balance == D("12.34")


def test_every_engine_code_has_a_class():
    classes = {
        getattr(bankflow, n).code
        for n in bankflow.__all__
        if isinstance(getattr(bankflow, n), type) and issubclass(getattr(bankflow, n), bankflow.BankflowError)
    }
    # invariant_violated is reported as InternalError with that code on the instance.
    assert set(bankflow.ERROR_CODES) - classes == {"invariant_violated"}
