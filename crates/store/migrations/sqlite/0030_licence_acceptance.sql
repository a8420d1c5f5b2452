-- A contract's end-user licence agreement may be accepted after the contract is made (by
-- the customer's contact in the portal, or recorded by a manager): when, and by whom (a
-- caller key such as `contact:7` or `staff:3`). Contracts accepted before this was kept
-- say when they were made and not by whom.
ALTER TABLE contracts ADD COLUMN eula_accepted_at BIGINT;
ALTER TABLE contracts ADD COLUMN eula_accepted_by TEXT;
UPDATE contracts SET eula_accepted_at = created_at WHERE eula_accepted;
