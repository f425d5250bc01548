-- Retention of the webhook delivery log: the hourly purge takes finished deliveries oldest
-- first; this index keeps that a range scan instead of a walk over the whole log.
CREATE INDEX idx_webhook_deliveries_age ON webhook_deliveries (created_at, id) WHERE status <> 'PENDING';
