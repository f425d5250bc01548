-- Service clients (OAuth2 client credentials): the document holds only hashes of secrets.
CREATE TABLE service_clients (
    id          UUID PRIMARY KEY,
    created_at  TIMESTAMPTZ NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX idx_service_clients_created ON service_clients (created_at, id);
