-- Notification context: the push device registry (one row per registered token).
CREATE TABLE push_devices (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL,
    -- A token addresses one install, so it belongs to one user at a time.
    token       TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    record      TEXT NOT NULL CHECK (json_valid(record))
);
CREATE INDEX idx_push_devices_user ON push_devices(user_id, created_at, id);
