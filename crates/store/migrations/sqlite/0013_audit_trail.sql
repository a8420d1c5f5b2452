-- The audit trail (issue "Trust"): every administrative change, written in the change's own
-- transaction: when, who (a caller key such as 'staff:3', or 'system' for the operator's
-- command line), from which address, what (entity and id), the action, and the record
-- before and after as JSON. Kept for good: the triggers refuse any change or removal.
-- Kept in step with migrations/postgres/0013_audit_trail.sql.
CREATE TABLE audit_trail (
    id         INTEGER PRIMARY KEY,
    at         BIGINT  NOT NULL,
    actor      TEXT    NOT NULL,
    address    TEXT    NOT NULL DEFAULT '',
    entity     TEXT    NOT NULL,
    entity_id  BIGINT,
    action     TEXT    NOT NULL,
    before     TEXT,
    after      TEXT
);

CREATE INDEX audit_trail_by_time ON audit_trail (at, id);
CREATE INDEX audit_trail_by_entity ON audit_trail (entity, entity_id, id);

CREATE TRIGGER audit_trail_is_never_changed BEFORE UPDATE ON audit_trail
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is never changed');
END;

CREATE TRIGGER audit_trail_is_never_deleted BEFORE DELETE ON audit_trail
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is never deleted');
END;
