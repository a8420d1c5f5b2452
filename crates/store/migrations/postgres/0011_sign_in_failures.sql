-- Wrong passwords, counted per account ('account:' and the e-mail as typed, lower-cased)
-- and per client address ('address:' and the IP), so that sign-in is throttled across every
-- instance on one database (caredesk_domain::sign_in). A row is counted when an attempt
-- starts and forgiven when its password proves right; old rows are dropped as new ones come.
-- Kept in step with migrations/sqlite/0011_sign_in_failures.sql.
CREATE TABLE sign_in_failures (
    key              TEXT   PRIMARY KEY,
    failures         BIGINT NOT NULL,
    last_failure_at  BIGINT NOT NULL
);

CREATE INDEX sign_in_failures_by_age ON sign_in_failures (last_failure_at);
