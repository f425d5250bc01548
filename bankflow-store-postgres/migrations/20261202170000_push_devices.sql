-- Notification context: the push device registry (one row per registered token).
CREATE TABLE push_devices (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL,
    -- A token addresses one install, so it belongs to one user at a time.
    token       TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX idx_push_devices_user ON push_devices (user_id, created_at, id);
