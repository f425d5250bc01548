-- Webhook context: staff-managed subscriptions and their delivery queue/log.
CREATE TABLE webhook_subscriptions (
    id          TEXT PRIMARY KEY NOT NULL,
    created_at  TEXT NOT NULL,
    record      TEXT NOT NULL CHECK (json_valid(record))
);
CREATE INDEX idx_webhook_subscriptions_order ON webhook_subscriptions(created_at, id);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY NOT NULL,
    subscription_id TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    status          TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    lease_until     TEXT,
    created_at      TEXT NOT NULL,
    record          TEXT NOT NULL CHECK (json_valid(record)),
    -- One delivery per event and subscription: a re-relayed batch enqueues nothing twice.
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX idx_webhook_deliveries_log ON webhook_deliveries(subscription_id, created_at, id);
CREATE INDEX idx_webhook_deliveries_due ON webhook_deliveries(next_attempt_at, id) WHERE status = 'PENDING';
