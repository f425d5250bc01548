-- Identity, customer, fraud, notification and audit contexts.
--
-- Each row keeps the engine's record as exact JSON text in `doc` (the single source of truth
-- for reads, so every field round-trips byte for byte — the audit chain hashes some of them),
-- plus the columns the context's queries filter, order or enforce uniqueness on. The repository
-- writes both from the same record in one statement.

-- ---------------------------------------------------------------- identity context

CREATE TABLE users (
    id         UUID PRIMARY KEY,
    email      TEXT NOT NULL,
    phone      TEXT,
    roles      TEXT[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    doc        TEXT NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_phone_key UNIQUE (phone)
);

CREATE TABLE sessions (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL,
    family_id  UUID NOT NULL,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    rotated_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    doc        TEXT NOT NULL,
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX idx_sessions_user ON sessions (user_id, created_at DESC, id DESC);

CREATE TABLE one_time_codes (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL,
    purpose    TEXT NOT NULL,
    code_hash  TEXT NOT NULL,
    used_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    doc        TEXT NOT NULL
);
CREATE INDEX idx_one_time_codes_user ON one_time_codes (user_id, purpose, created_at DESC, id DESC);
CREATE INDEX idx_one_time_codes_hash ON one_time_codes (purpose, code_hash);

-- ---------------------------------------------------------------- customer context

-- SSNs live only inside `doc`, sealed (key id + nonce + AES-256-GCM ciphertext) by the engine.
CREATE TABLE customers (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL,
    first_name TEXT NOT NULL,
    last_name  TEXT NOT NULL,
    email      TEXT,
    phone      TEXT,
    kyc_status TEXT NOT NULL,
    doc        TEXT NOT NULL,
    CONSTRAINT customers_user_id_key UNIQUE (user_id)
);
CREATE INDEX idx_customers_email ON customers (email);
CREATE INDEX idx_customers_kyc_status ON customers (kyc_status);

CREATE TABLE kyc_documents (
    id          UUID PRIMARY KEY,
    customer_id UUID NOT NULL,
    uploaded_at TIMESTAMPTZ NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX idx_kyc_documents_customer ON kyc_documents (customer_id, uploaded_at, id);

-- ---------------------------------------------------------------- fraud context

CREATE TABLE fraud_rules (
    id        UUID PRIMARY KEY,
    rule_name TEXT NOT NULL,
    priority  INTEGER NOT NULL,
    is_active BOOLEAN NOT NULL,
    doc       TEXT NOT NULL,
    CONSTRAINT fraud_rules_rule_name_key UNIQUE (rule_name)
);

CREATE TABLE fraud_list_entries (
    id         UUID PRIMARY KEY,
    list       TEXT NOT NULL,
    entry_type TEXT NOT NULL,
    value      TEXT NOT NULL,
    doc        TEXT NOT NULL,
    CONSTRAINT fraud_list_entries_value_key UNIQUE (list, entry_type, value)
);
CREATE INDEX idx_fraud_list_entries_lookup ON fraud_list_entries (entry_type, value);

CREATE TABLE fraud_assessments (
    transaction_id  UUID PRIMARY KEY,
    from_account_id UUID,
    payee           TEXT,
    amount          NUMERIC NOT NULL,
    action          TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    doc             TEXT NOT NULL
);
CREATE INDEX idx_fraud_assessments_account ON fraud_assessments (from_account_id, created_at);

CREATE TABLE fraud_cases (
    id             UUID PRIMARY KEY,
    transaction_id UUID NOT NULL,
    account_id     UUID NOT NULL,
    status         TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    doc            TEXT NOT NULL,
    CONSTRAINT fraud_cases_transaction_id_key UNIQUE (transaction_id)
);
CREATE INDEX idx_fraud_cases_account ON fraud_cases (account_id, created_at);
CREATE INDEX idx_fraud_cases_status ON fraud_cases (status, id);

-- ---------------------------------------------------------------- notification context

CREATE TABLE notifications (
    id              UUID PRIMARY KEY,
    user_id         UUID NOT NULL,
    channel         TEXT NOT NULL,
    status          TEXT NOT NULL,
    next_attempt_at TIMESTAMPTZ,
    source_event_id UUID,
    created_at      TIMESTAMPTZ NOT NULL,
    doc             TEXT NOT NULL,
    -- One notification per (event, user, channel): a redelivered event notifies once.
    CONSTRAINT notifications_source_key UNIQUE (source_event_id, user_id, channel)
);
CREATE INDEX idx_notifications_user ON notifications (user_id, created_at, id);
CREATE INDEX idx_notifications_due ON notifications (next_attempt_at, id) WHERE status = 'pending';

CREATE TABLE notification_preferences (
    user_id  UUID NOT NULL,
    category TEXT NOT NULL,
    channel  TEXT NOT NULL,
    doc      TEXT NOT NULL,
    PRIMARY KEY (user_id, category, channel)
);

-- ---------------------------------------------------------------- audit log (hash chain)

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    id  UUID NOT NULL,
    at  TIMESTAMPTZ NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT audit_log_id_key UNIQUE (id)
);

-- The chain head: one row, locked by every appender so entries chain one after another even
-- across processes (an empty log has seq 0).
CREATE TABLE audit_head (
    id   UUID PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES ('00000000-0000-0000-0000-000000000000', 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- ---------------------------------------------------------------- scheduled transfers

CREATE TABLE scheduled_transfers (
    id          UUID PRIMARY KEY,
    customer_id UUID NOT NULL,
    status      TEXT NOT NULL,
    next_run_at TIMESTAMPTZ NOT NULL,
    lease_until TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX idx_scheduled_transfers_customer ON scheduled_transfers (customer_id, created_at DESC, id DESC);
CREATE INDEX idx_scheduled_transfers_due ON scheduled_transfers (next_run_at, id) WHERE status = 'ACTIVE';
