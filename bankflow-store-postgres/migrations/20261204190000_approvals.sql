-- Maker-checker: who initiated and who approved a transaction, and the parked staff
-- movements waiting for a second staff member.
ALTER TABLE transactions ADD COLUMN initiated_by UUID;
ALTER TABLE transactions ADD COLUMN approved_by UUID;

CREATE TABLE approval_requests (
    id          UUID PRIMARY KEY,
    status      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX idx_approval_requests_created ON approval_requests (created_at, id);
CREATE INDEX idx_approval_requests_status ON approval_requests (status, created_at, id);
