-- Each registered product carries its licence (POLICY.md §9): the edition it was sold as,
-- the highest version it was bought for (none: the version registered) and how many
-- installations may be active at once. Products registered before have one installation.
ALTER TABLE products ADD COLUMN edition TEXT;
ALTER TABLE products ADD COLUMN licensed_version TEXT;
ALTER TABLE products ADD COLUMN installations BIGINT NOT NULL DEFAULT 1;
