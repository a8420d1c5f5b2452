-- The support policy's versions (caredesk_desk::policy_versions): each policy the desk has
-- worked under, as the file it was applied from (`document`, its SHA-256 in `sha256`),
-- who applied it and when, and from when it is in force (`effective_at`, seconds; the
-- moment it was applied when none was given). The version in force at an instant is the
-- highest whose `effective_at` has come.
CREATE TABLE policy_versions (
    version INTEGER PRIMARY KEY,
    document TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    applied_by TEXT NOT NULL,
    applied_at BIGINT NOT NULL,
    effective_at BIGINT NOT NULL,
    note TEXT
);

-- The policy version each ticket's clocks, flags and queue keys were last computed under:
-- 0 for those computed before versions were stored. A rebuild reads the open tickets that
-- are behind the version in force, oldest id first.
ALTER TABLE tickets ADD COLUMN policy_version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tickets_open_policy_version ON tickets (policy_version, id) WHERE closed_at IS NULL;
