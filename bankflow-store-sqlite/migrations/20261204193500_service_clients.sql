-- Service clients (OAuth2 client credentials): the record holds only hashes of secrets.
CREATE TABLE service_clients (
    id          TEXT PRIMARY KEY NOT NULL,
    created_at  TEXT NOT NULL,
    record      TEXT NOT NULL CHECK (json_valid(record))
);
CREATE INDEX idx_service_clients_created ON service_clients(created_at, id);
