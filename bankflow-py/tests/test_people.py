"""Users, login with MFA, customers, KYC documents from bytes, KYC decisions."""

import base64
import datetime as dt
import hashlib
import hmac
import struct
import time
import uuid
from decimal import Decimal as D

import pytest

import bankflow
from conftest import key

PASSWORD = "Correct-Horse-Battery-9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def totp(secret_base32, step_offset=0):
    """RFC 6238 (SHA-1, 30 s, 6 digits), as an authenticator app computes it."""
    secret = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    step = int(time.time()) // 30 + step_offset
    digest = hmac.new(secret, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def email():
    return f"u-{uuid.uuid4().hex[:12]}@example.com"


def onboard(bank):
    """Registers a user and creates their customer profile; returns (user handle, customer)."""
    user = bank.register(email(), PASSWORD)
    me = bank.as_user(user.id)
    customer = me.create_customer(
        first_name="Ada",
        last_name="Lovelace",
        date_of_birth=dt.date(1990, 12, 10),
        address_line1="1 Analytical Way",
        city="London",
        state="LDN",
        zip_code="10001",
        country="us",
        ssn="123-45-6789",
    )
    # A handle snapshots the user's roles and profile: take a fresh one now that the user
    # has a customer profile.
    return bank.as_user(user.id), customer


def test_register_and_login(bank):
    addr = email()
    user = bank.register(addr, PASSWORD, phone="+14155550100")
    assert (user.email, user.roles, user.mfa_enabled) == (addr, ["customer"], False)
    assert user.created_at.tzinfo is not None
    login = bank.login(addr.upper(), PASSWORD)
    assert (login.user_id, login.roles, login.customer_id) == (user.id, ["customer"], None)
    assert "refresh_token" not in repr(login) and login.refresh_token not in repr(login)
    rotated = bank.refresh(login.refresh_token)
    assert rotated.refresh_token != login.refresh_token
    bank.logout(rotated.refresh_token)
    with pytest.raises(bankflow.Unauthorized):
        bank.refresh(rotated.refresh_token)
    with pytest.raises(bankflow.Unauthorized) as e:
        bank.login(addr, "Wrong-Password-123")
    assert e.value.code == "unauthorized"
    with pytest.raises(bankflow.Conflict):
        bank.register(addr, PASSWORD)
    with pytest.raises(bankflow.ValidationError) as e:
        bank.register(email(), "short")
    assert e.value.field == "password"


def test_mfa(bank):
    addr = email()
    user = bank.register(addr, PASSWORD)
    me = bank.as_user(user.id)
    with pytest.raises(bankflow.Unauthorized):
        me.mfa_setup("not-the-password-at-all")
    setup = me.mfa_setup(PASSWORD)
    assert setup.otpauth_url.startswith("otpauth://") and setup.secret not in repr(setup)
    me.mfa_enable(PASSWORD, totp(setup.secret))
    assert me.me().mfa_enabled
    with pytest.raises(bankflow.MfaRequired) as e:
        bank.login(addr, PASSWORD)
    assert e.value.code == "mfa_required" and isinstance(e.value, bankflow.Unauthorized)
    # The enabling code's time step is spent; the next step's code is valid.
    assert bank.login(addr, PASSWORD, mfa_code=totp(setup.secret, 1)).user_id == user.id


def test_customer_kyc_and_first_account(bank):
    me, customer = onboard(bank)
    assert (customer.kyc_status, customer.ssn_last4, customer.country) == ("PENDING", "6789", "US")
    assert "6789" not in repr(customer) and "123-45" not in repr(customer)
    assert customer.default_account_id is not None
    assert me.me().customer_id == customer.id
    with pytest.raises(bankflow.KycRequired):
        me.open_account(customer.id)
    with pytest.raises(bankflow.ValidationError):
        me.upload_document(customer.id, "PASSPORT", b"plain text is not a document")
    with pytest.raises(TypeError):
        me.upload_document(customer.id, "PASSPORT", "a str is not bytes")
    doc = me.upload_document(customer.id, "PASSPORT", PNG)
    assert (doc.content_type, doc.size_bytes, doc.status) == ("image/png", len(PNG), "PENDING")
    assert len(doc.sha256) == 64 and int(doc.sha256, 16) >= 0
    assert [d.id for d in me.documents(customer.id)] == [doc.id]
    assert me.submit_kyc(customer.id).kyc_status == "SUBMITTED"
    with pytest.raises(bankflow.Forbidden):
        me.approve_kyc(customer.id)
    assert bank.approve_kyc(customer.id).kyc_status == "APPROVED"
    assert me.kyc_status(customer.id).kyc_status == "APPROVED"
    default = me.account(customer.default_account_id)
    assert default.status == "ACTIVE"
    savings = me.open_account(customer.id, "SAVINGS")
    bank.deposit(default.id, D("20"), idempotency_key=key())
    me.transfer(default.id, savings.id, D("5"), idempotency_key=key())
    assert me.balance(savings.id).balance == D("5.00")
    # Another user can't see this customer at all.
    other, _ = onboard(bank)
    with pytest.raises(bankflow.NotFound):
        other.customer(customer.id)
    with pytest.raises(bankflow.NotFound):
        other.balance(savings.id)


def test_kyc_rejection(bank):
    me, customer = onboard(bank)
    me.upload_document(customer.id, "DRIVERS_LICENSE", b"%PDF-1.7 test")
    me.submit_kyc(customer.id)
    kyc = bank.reject_kyc(customer.id, reason="blurry photo")
    assert (kyc.kyc_status, kyc.rejection_reason) == ("REJECTED", "blurry photo")
    with pytest.raises(bankflow.InvalidState):
        bank.approve_kyc(customer.id)


def test_data_key_reads_sealed_ssn_after_reopen(tmp_path):
    path = str(tmp_path / "keyed.db")
    data_key = "11" * 32
    bank = bankflow.Bank.open(path, data_key=data_key)
    _, customer = onboard(bank)
    assert bank.verify_customer_ssn(customer.id, "123-45-6789")
    assert not bank.verify_customer_ssn(customer.id, "123-45-6780")
    del bank
    again = bankflow.Bank.open(path, data_key=data_key)
    assert again.verify_customer_ssn(customer.id, "123-45-6789")
    with pytest.raises(bankflow.ValidationError):
        bankflow.Bank.open(path, data_key="not hex")
    stranger = again.acting_as(user_id=str(uuid.uuid4()), customer_id=customer.id)
    with pytest.raises(bankflow.Forbidden):
        stranger.verify_customer_ssn(customer.id, "123-45-6789")
