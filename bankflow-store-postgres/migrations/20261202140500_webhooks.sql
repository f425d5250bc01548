-- Webhook context: staff-managed subscriptions and their delivery queue/log.
CREATE TABLE webhook_subscriptions (
    id          UUID PRIMARY KEY,
    created_at  TIMESTAMPTZ NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX idx_webhook_subscriptions_order ON webhook_subscriptions (created_at, id);

CREATE TABLE webhook_deliveries (
    id              UUID PRIMARY KEY,
    subscription_id UUID NOT NULL,
    event_id        UUID NOT NULL,
    status          TEXT NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_until     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    doc             TEXT NOT NULL,
    -- One delivery per event and subscription: a re-relayed batch enqueues nothing twice.
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX idx_webhook_deliveries_log ON webhook_deliveries (subscription_id, created_at DESC, id DESC);
CREATE INDEX idx_webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'PENDING';
