-- Product activation (POLICY.md §9).
--
-- The desk's Ed25519 key that signs activation codes: one row, made on first start by
-- whichever instance gets there first (the others read it). Kept here unless the
-- configuration names a key file.
CREATE TABLE activation_keys (
    id           BIGINT NOT NULL PRIMARY KEY,
    public_key   TEXT   NOT NULL,
    private_key  TEXT   NOT NULL,
    created_at   BIGINT NOT NULL
);

-- A customer's one-time activation password, as a hash: issuing a new one replaces (voids)
-- the old; its first successful use at the activation manager uses it up.
CREATE TABLE activation_passwords (
    customer_id    BIGINT NOT NULL PRIMARY KEY REFERENCES customers (id),
    password_hash  TEXT   NOT NULL,
    issued_at      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);

-- Each activation of a registered product on a machine, kept after it is deactivated: who
-- did what, when and from which address. One active activation per product and machine.
CREATE TABLE activations (
    id                INTEGER PRIMARY KEY,
    product_id        BIGINT NOT NULL REFERENCES products (id),
    machine_id        TEXT   NOT NULL,
    code              TEXT   NOT NULL,
    highest_version   TEXT   NOT NULL,
    activated_at      BIGINT NOT NULL,
    activated_by      TEXT   NOT NULL,
    activated_from    TEXT   NOT NULL,
    deactivated_at    BIGINT,
    deactivated_by    TEXT,
    deactivated_from  TEXT
);
CREATE UNIQUE INDEX activations_active ON activations (product_id, machine_id)
    WHERE deactivated_at IS NULL;
CREATE INDEX activations_product ON activations (product_id);
