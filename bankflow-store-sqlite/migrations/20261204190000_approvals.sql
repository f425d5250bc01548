-- Maker-checker: who initiated and who approved a transaction, and the parked staff
-- movements waiting for a second staff member.
ALTER TABLE transactions ADD COLUMN initiated_by TEXT;
ALTER TABLE transactions ADD COLUMN approved_by TEXT;

CREATE TABLE approval_requests (
    id          TEXT PRIMARY KEY NOT NULL,
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    record      TEXT NOT NULL CHECK (json_valid(record))
);
CREATE INDEX idx_approval_requests_created ON approval_requests(created_at, id);
CREATE INDEX idx_approval_requests_status ON approval_requests(status, created_at, id);
