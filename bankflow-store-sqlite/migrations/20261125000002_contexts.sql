-- Identity, customer, fraud, notification and audit contexts (SQLite).
--
-- Each row keeps the seed's columns that queries filter, order or constrain on as real,
-- indexed columns, and the whole domain record as `record` (JSON of the engine's struct):
-- reads decode `record`, so every field round-trips exactly; the columns are written from
-- the same struct in the same statement, so they never disagree with it. Secrets arrive
-- already hashed or sealed (Argon2id, SHA-256, AES-256-GCM): nothing here is plaintext.

-- ---------------------------------------------------------------- identity context

CREATE TABLE users (
    id          TEXT PRIMARY KEY NOT NULL,
    email       TEXT NOT NULL UNIQUE,
    phone       TEXT UNIQUE,
    roles       TEXT NOT NULL,                       -- ",customer,admin," for role lookups
    is_active   INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    record      TEXT NOT NULL CHECK (json_valid(record))
);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL,
    family_id   TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    rotated_at  TEXT,
    revoked_at  TEXT,
    record      TEXT NOT NULL CHECK (json_valid(record))
);
CREATE INDEX idx_sessions_user ON sessions(user_id, created_at);
CREATE INDEX idx_sessions_family ON sessions(family_id);

CREATE TABLE one_time_codes (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    used_at     TEXT,
    created_at  TEXT NOT NULL,
    record      TEXT NOT NULL CHECK (json_valid(record))
);
CREATE INDEX idx_codes_user ON one_time_codes(user_id, purpose, created_at, id);
CREATE INDEX idx_codes_hash ON one_time_codes(purpose, code_hash, created_at, id);

-- ---------------------------------------------------------------- customer context

CREATE TABLE customers (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL UNIQUE,                -- identity context: no foreign key
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    email       TEXT,
    phone       TEXT,
    kyc_status  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    record      TEXT NOT NULL CHECK (json_valid(record))
);
CREATE INDEX idx_customers_email ON customers(email);
CREATE INDEX idx_customers_phone ON customers(phone);
CREATE INDEX idx_customers_kyc ON customers(kyc_status, id);

CREATE TABLE kyc_documents (
    id            TEXT PRIMARY KEY NOT NULL,
    customer_id   TEXT NOT NULL,                     -- deleted with its customer by the repo
    document_type TEXT NOT NULL,
    status        TEXT NOT NULL,
    uploaded_at   TEXT NOT NULL,
    verified_at   TEXT,
    record        TEXT NOT NULL CHECK (json_valid(record))
);
CREATE INDEX idx_kyc_documents_customer ON kyc_documents(customer_id, uploaded_at, id);

-- ---------------------------------------------------------------- fraud context

CREATE TABLE fraud_rules (
    id          TEXT PRIMARY KEY NOT NULL,
    rule_name   TEXT NOT NULL UNIQUE,
    rule_type   TEXT NOT NULL,
    priority    INTEGER NOT NULL,
    is_active   INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    record      TEXT NOT NULL CHECK (json_valid(record))
);
CREATE INDEX idx_fraud_rules_order ON fraud_rules(priority DESC, id);

CREATE TABLE fraud_list_entries (
    id          TEXT PRIMARY KEY NOT NULL,
    list        TEXT NOT NULL,
    entry_type  TEXT NOT NULL,
    value       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    record      TEXT NOT NULL CHECK (json_valid(record)),
    UNIQUE (list, entry_type, value)
);
CREATE INDEX idx_fraud_list_lookup ON fraud_list_entries(entry_type, value);

-- One per assessed transaction: the velocity history.
CREATE TABLE fraud_assessments (
    transaction_id  TEXT PRIMARY KEY NOT NULL,
    from_account_id TEXT,
    payee           TEXT,
    amount_minor    INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    action          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    record          TEXT NOT NULL CHECK (json_valid(record))
);
CREATE INDEX idx_fraud_assessments_velocity ON fraud_assessments(from_account_id, created_at);
CREATE INDEX idx_fraud_assessments_payee ON fraud_assessments(from_account_id, payee, created_at);

CREATE TABLE fraud_cases (
    id             TEXT PRIMARY KEY NOT NULL,
    transaction_id TEXT NOT NULL UNIQUE,
    account_id     TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    resolved_at    TEXT,
    record         TEXT NOT NULL CHECK (json_valid(record))
);
CREATE INDEX idx_fraud_cases_status ON fraud_cases(status, id);
CREATE INDEX idx_fraud_cases_account ON fraud_cases(account_id, created_at);

-- ---------------------------------------------------------------- notification context

CREATE TABLE notifications (
    id              TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL,
    channel         TEXT NOT NULL,
    status          TEXT NOT NULL,
    source_event_id TEXT,
    next_attempt_at TEXT,
    created_at      TEXT NOT NULL,
    record          TEXT NOT NULL CHECK (json_valid(record))
);
CREATE INDEX idx_notifications_user ON notifications(user_id, created_at, id);
CREATE INDEX idx_notifications_feed ON notifications(user_id, channel, created_at, id);
CREATE INDEX idx_notifications_due ON notifications(next_attempt_at, id) WHERE status = 'pending';
-- At most one notification per (event, user, channel): replays of an event notify once.
CREATE UNIQUE INDEX idx_notifications_source ON notifications(source_event_id, user_id, channel)
    WHERE source_event_id IS NOT NULL;

CREATE TABLE notification_preferences (
    user_id    TEXT NOT NULL,
    category   TEXT NOT NULL,
    channel    TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    record     TEXT NOT NULL CHECK (json_valid(record)),
    PRIMARY KEY (user_id, category, channel)
) WITHOUT ROWID;

-- ---------------------------------------------------------------- audit log (hash chain)

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY NOT NULL,        -- gap-free from 1
    id          TEXT NOT NULL UNIQUE,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT,
    outcome     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    record      TEXT NOT NULL CHECK (json_valid(record))
);

-- ---------------------------------------------------------------- transaction context: schedules

CREATE TABLE scheduled_transfers (
    id              TEXT PRIMARY KEY NOT NULL,
    customer_id     TEXT NOT NULL,
    from_account_id TEXT NOT NULL,
    to_account_id   TEXT NOT NULL,
    frequency       TEXT NOT NULL,
    status          TEXT NOT NULL,
    next_run_at     TEXT NOT NULL,
    lease_until     TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    record          TEXT NOT NULL CHECK (json_valid(record))
);
CREATE INDEX idx_scheduled_customer ON scheduled_transfers(customer_id, created_at, id);
CREATE INDEX idx_scheduled_due ON scheduled_transfers(next_run_at, id) WHERE status = 'ACTIVE';
