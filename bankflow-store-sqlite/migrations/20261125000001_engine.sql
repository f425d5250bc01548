-- BankFlow engine schema (SQLite). One block per bounded context; only that context's
-- repository code reads or writes its tables, and no query joins tables of two contexts.
--
-- Storage conventions (why):
-- * Ids are lower-case hyphenated UUID text: text order equals the engine's id order.
-- * Instants are RFC 3339 UTC text with exactly nine fractional digits
--   (2026-11-25T17:22:38.123456789Z): fixed width, so text order is time order and nothing
--   is rounded away (round trips are exact).
-- * Money is never REAL. Amounts summed or compared in SQL are INTEGER (minor units, or
--   thousandths for the transaction read model's cross-currency filters); cached account
--   figures are exact decimal text (scale preserved).

-- ---------------------------------------------------------------- account context

CREATE TABLE accounts (
    id                TEXT PRIMARY KEY NOT NULL,
    account_number    TEXT NOT NULL UNIQUE,
    customer_id       TEXT NOT NULL,
    account_type      TEXT NOT NULL CHECK (account_type IN ('CHECKING', 'SAVINGS')),
    currency          TEXT NOT NULL DEFAULT 'USD' CHECK (length(currency) = 3),
    balance           TEXT NOT NULL,                 -- exact decimal: sum of postings (cache)
    held              TEXT NOT NULL,                 -- exact decimal: sum of active holds (cache)
    available_balance TEXT NOT NULL,                 -- exact decimal: balance - held (seed column)
    overdraft_limit   TEXT NOT NULL,
    daily_limit       TEXT,                          -- NULL: no daily limit
    daily_out_date    TEXT NOT NULL,                 -- YYYY-MM-DD (UTC day)
    daily_out_total   TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'FROZEN', 'CLOSED')),
    opened_at         TEXT NOT NULL,
    closed_at         TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    version           INTEGER NOT NULL
);
-- The seed's idx_accounts_number is the UNIQUE constraint's index above.
CREATE INDEX idx_accounts_customer ON accounts(customer_id);

CREATE TABLE holds (
    id             TEXT PRIMARY KEY NOT NULL,
    account_id     TEXT NOT NULL,
    transaction_id TEXT NOT NULL,                    -- transaction context: no foreign key
    amount_minor   INTEGER NOT NULL CHECK (amount_minor > 0),
    currency       TEXT NOT NULL CHECK (length(currency) = 3),
    status         TEXT NOT NULL CHECK (status IN ('ACTIVE', 'POSTED', 'VOIDED', 'EXPIRED')),
    expires_at     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    resolved_at    TEXT
);
-- active_holds(account) and expired_holds(now): only active holds are ever searched.
CREATE INDEX idx_holds_active_account ON holds(account_id, created_at, id) WHERE status = 'ACTIVE';
CREATE INDEX idx_holds_active_expiry ON holds(expires_at, id) WHERE status = 'ACTIVE';

-- ---------------------------------------------------------------- ledger context

CREATE TABLE journal_entries (
    seq            INTEGER PRIMARY KEY NOT NULL,     -- insertion order
    id             TEXT NOT NULL,
    transaction_id TEXT NOT NULL,                    -- transaction context: no foreign key
    posted_at      TEXT NOT NULL,
    description    TEXT
);
CREATE INDEX idx_journal_entries_transaction ON journal_entries(transaction_id);

-- Append-only. seq is the rowid: max + 1, so postings are numbered 1, 2, 3... in booking
-- order, exactly like the reference store.
CREATE TABLE postings (
    seq          INTEGER PRIMARY KEY NOT NULL,
    journal_seq  INTEGER NOT NULL REFERENCES journal_entries(seq),
    account_id   TEXT NOT NULL,                      -- customer or GL account: no foreign key
    currency     TEXT NOT NULL CHECK (length(currency) = 3),
    amount_minor INTEGER NOT NULL CHECK (amount_minor <> 0),
    posted_at    TEXT NOT NULL                       -- copy of the journal's, for range scans
);
-- posting_sum(account, before) and postings(account, from..to) are range scans of this index.
CREATE INDEX idx_postings_account ON postings(account_id, posted_at);
CREATE INDEX idx_postings_journal ON postings(journal_seq);

-- ---------------------------------------------------------------- transaction context

CREATE TABLE transactions (
    id               TEXT PRIMARY KEY NOT NULL,
    transaction_ref  TEXT NOT NULL UNIQUE,
    from_account_id  TEXT,
    to_account_id    TEXT,
    -- Thousandths of the major unit (every currency has at most three decimals), so the
    -- history's min/max amount filters compare exactly across currencies.
    amount_milli     INTEGER NOT NULL,
    currency         TEXT NOT NULL DEFAULT 'USD' CHECK (length(currency) = 3),
    transaction_type TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'PENDING',
    description      TEXT,
    failure_code     TEXT,
    reason           TEXT,
    hold_id          TEXT,
    parent_id        TEXT,
    created_at       TEXT NOT NULL,
    processed_at     TEXT,
    reversed_at      TEXT
);
-- The seed's indexes; the account ones carry the history's sort key.
CREATE INDEX idx_transactions_from_account ON transactions(from_account_id, created_at, id);
CREATE INDEX idx_transactions_to_account ON transactions(to_account_id, created_at, id);
CREATE INDEX idx_transactions_status ON transactions(status);
CREATE INDEX idx_transactions_created ON transactions(created_at, id);

-- ---------------------------------------------------------------- idempotency

CREATE TABLE idempotency_keys (
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    response    TEXT NOT NULL,                       -- JSON of the first response
    created_at  TEXT NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;

-- ---------------------------------------------------------------- events (event store + outbox)

CREATE TABLE events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    id           TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    topic        TEXT NOT NULL,
    time         TEXT NOT NULL,
    data         TEXT NOT NULL CHECK (json_valid(data)),
    lease_until  TEXT,                               -- a relay's claim, NULL when free
    published_at TEXT                                -- NULL until the relay published it
);
CREATE INDEX idx_events_aggregate ON events(aggregate_id, seq);
-- The relay's scan (oldest unpublished first) and its per-aggregate ordering check only ever
-- look at unpublished events: partial indexes stay as small as the backlog.
CREATE INDEX idx_events_unpublished ON events(seq) WHERE published_at IS NULL;
CREATE INDEX idx_events_unpublished_aggregate ON events(aggregate_id, seq) WHERE published_at IS NULL;
