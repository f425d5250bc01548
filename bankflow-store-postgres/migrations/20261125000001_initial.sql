-- BankFlow PostgreSQL schema, version 1.
--
-- Each bounded context owns its tables; only that context's repository reads or writes them and
-- no query joins across contexts. Money is NUMERIC (exact, scale preserved), never float.
-- Timestamps are TIMESTAMPTZ (UTC instants, microsecond resolution).

-- ---------------------------------------------------------------- account context

-- The seed's `accounts` table, plus the engine's cached hold total, limits and version.
-- fillfactor leaves room on each page so balance updates stay HOT (no index churn): no
-- indexed column changes when money moves.
CREATE TABLE accounts (
    id                UUID PRIMARY KEY,
    account_number    VARCHAR(20) NOT NULL,
    customer_id       UUID NOT NULL,
    account_type      VARCHAR(50) NOT NULL,
    currency          VARCHAR(3) NOT NULL DEFAULT 'USD',
    balance           NUMERIC NOT NULL DEFAULT 0,
    held              NUMERIC NOT NULL DEFAULT 0,
    available_balance NUMERIC GENERATED ALWAYS AS (balance - held) STORED,
    overdraft_limit   NUMERIC NOT NULL DEFAULT 0,
    daily_limit       NUMERIC,
    daily_out_date    DATE NOT NULL,
    daily_out_total   NUMERIC NOT NULL DEFAULT 0,
    status            VARCHAR(50) NOT NULL DEFAULT 'ACTIVE',
    opened_at         TIMESTAMPTZ NOT NULL,
    closed_at         TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL,
    version           BIGINT NOT NULL,
    CONSTRAINT accounts_account_number_key UNIQUE (account_number),
    -- Defence in depth: the engine checks these before every write; the database refuses a
    -- row that breaks them even if a bug slipped through.
    CONSTRAINT accounts_held_not_negative CHECK (held >= 0),
    CONSTRAINT accounts_overdraft_not_negative CHECK (overdraft_limit >= 0),
    CONSTRAINT accounts_overdraft_floor CHECK (balance - held >= -overdraft_limit)
) WITH (fillfactor = 80);
CREATE INDEX idx_accounts_customer ON accounts (customer_id);
CREATE INDEX idx_accounts_number ON accounts (account_number);

CREATE TABLE holds (
    id             UUID PRIMARY KEY,
    account_id     UUID NOT NULL,
    transaction_id UUID NOT NULL,
    amount         NUMERIC NOT NULL,
    currency       VARCHAR(3) NOT NULL,
    status         VARCHAR(20) NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    resolved_at    TIMESTAMPTZ,
    CONSTRAINT holds_amount_positive CHECK (amount > 0)
);
CREATE INDEX idx_holds_account_active ON holds (account_id, created_at, id) WHERE status = 'ACTIVE';
CREATE INDEX idx_holds_expiry_active ON holds (expires_at, id) WHERE status = 'ACTIVE';

-- ---------------------------------------------------------------- ledger context

CREATE TABLE journal_entries (
    id             UUID PRIMARY KEY,
    seq            BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    transaction_id UUID NOT NULL,
    posted_at      TIMESTAMPTZ NOT NULL,
    description    TEXT
);
CREATE INDEX idx_journal_entries_transaction ON journal_entries (transaction_id, seq);

-- Append-only. `transaction_id` and `posted_at` are copied from the journal entry so that
-- balance sums and statements read one table.
CREATE TABLE postings (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    journal_id     UUID NOT NULL REFERENCES journal_entries (id),
    transaction_id UUID NOT NULL,
    account_id     UUID NOT NULL,
    amount         NUMERIC NOT NULL,
    currency       VARCHAR(3) NOT NULL,
    posted_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT postings_amount_not_zero CHECK (amount <> 0)
);
CREATE INDEX idx_postings_account ON postings (account_id, posted_at, seq);
CREATE INDEX idx_postings_journal ON postings (journal_id, seq);

-- ---------------------------------------------------------------- transaction context

-- The seed's `transactions` table (the read model), plus failure code, reason, hold and parent.
CREATE TABLE transactions (
    id               UUID PRIMARY KEY,
    transaction_ref  VARCHAR(50) NOT NULL,
    from_account_id  UUID,
    to_account_id    UUID,
    amount           NUMERIC NOT NULL,
    currency         VARCHAR(3) NOT NULL DEFAULT 'USD',
    transaction_type VARCHAR(50) NOT NULL,
    status           VARCHAR(50) NOT NULL DEFAULT 'PENDING',
    description      TEXT,
    metadata         JSONB,
    failure_code     VARCHAR(64),
    reason           TEXT,
    hold_id          UUID,
    parent_id        UUID,
    processed_at     TIMESTAMPTZ,
    reversed_at      TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT transactions_transaction_ref_key UNIQUE (transaction_ref)
);
CREATE INDEX idx_transactions_from_account ON transactions (from_account_id);
CREATE INDEX idx_transactions_to_account ON transactions (to_account_id);
CREATE INDEX idx_transactions_status ON transactions (status);
CREATE INDEX idx_transactions_created ON transactions (created_at);
-- History pages are newest first per account: (created_at, id) descending.
CREATE INDEX idx_transactions_from_page ON transactions (from_account_id, created_at DESC, id DESC);
CREATE INDEX idx_transactions_to_page ON transactions (to_account_id, created_at DESC, id DESC);

-- ---------------------------------------------------------------- idempotency

CREATE TABLE idempotency_keys (
    scope       TEXT NOT NULL,
    key         VARCHAR(255) NOT NULL,
    fingerprint VARCHAR(128) NOT NULL,
    response    JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idx_idempotency_keys_created ON idempotency_keys (created_at);

-- ---------------------------------------------------------------- events: event store + outbox

CREATE TABLE events (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     UUID NOT NULL,
    aggregate_id UUID NOT NULL,
    event_type   VARCHAR(64) NOT NULL,
    topic        VARCHAR(64) NOT NULL,
    time         TIMESTAMPTZ NOT NULL,
    data         JSONB NOT NULL,
    lease_until  TIMESTAMPTZ,
    published_at TIMESTAMPTZ,
    CONSTRAINT events_event_id_key UNIQUE (event_id)
);
CREATE INDEX idx_events_aggregate ON events (aggregate_id, seq);
-- The relay scans only what is still to publish; published rows drop out of these indexes.
CREATE INDEX idx_events_unpublished ON events (seq) WHERE published_at IS NULL;
CREATE INDEX idx_events_unpublished_aggregate ON events (aggregate_id, seq) WHERE published_at IS NULL;
