-- A professional-services request may come from a ticket decided outside technical support
-- (POLICY.md §8a): `source` names the decision (`ticket:12:declared:7`, the ticket and the
-- event), so that asking again, by anyone, finds the same request, and a later decision on
-- the same ticket makes a new one.
ALTER TABLE service_requests ADD COLUMN source TEXT;
CREATE UNIQUE INDEX service_requests_source ON service_requests (source) WHERE source IS NOT NULL;
