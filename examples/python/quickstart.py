"""BankFlow from Python: open a bank, onboard a customer, move money, print a statement."""
import datetime as dt
from decimal import Decimal

import bankflow

bank = bankflow.Bank.open(":memory:")  # or a SQLite path, or a postgres:// URL
user = bank.register("ada@example.com", "Correct-Horse-Battery-9")
ada = bank.as_user(user.id)
customer = ada.create_customer(first_name="Ada", last_name="Lovelace", date_of_birth=dt.date(1990, 12, 10),
                               address_line1="1 Analytical Way", city="London", state="LDN", zip_code="10001",
                               country="US")
ada.upload_document(customer.id, "PASSPORT", b"%PDF-1.7 passport scan")
ada.submit_kyc(customer.id)
bank.approve_kyc(customer.id)  # the embedding program acts as the bank's back office
ada = bank.as_user(user.id)    # a fresh handle sees the new customer profile
checking = ada.accounts_of_customer(customer.id)[0]  # opened by onboarding, unfrozen by KYC
savings = ada.open_account(customer.id, "SAVINGS")
bank.deposit(checking.id, Decimal("100.00"), idempotency_key="qs-deposit", description="paycheck")
ada.transfer(checking.id, savings.id, Decimal("30.25"), idempotency_key="qs-save", description="savings")
try:
    ada.transfer(checking.id, savings.id, Decimal("1000"), idempotency_key="qs-too-much")
except bankflow.InsufficientFunds as e:
    print("refused:", e.code)
today = dt.datetime.now(dt.timezone.utc).date()
statement = ada.statement(checking.id, today, today)
for line in statement.lines:
    print(f"{line.posted_at:%H:%M:%S} {line.description or '':<12} {line.amount:>9} {line.balance_after:>9}")
print("closing balance", statement.closing_balance, statement.currency)
