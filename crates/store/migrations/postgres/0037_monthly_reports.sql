-- Customers' monthly reports (caredesk_desk::monthly_reports): each customer's compliance
-- report of a month (UTC), as it stood when it went out to the customer's designated
-- contacts and its customer success manager. `month` is '2026-11'; `report` the JSON the
-- notices are written from, so that a notice sent again says the same.
--
-- One row per customer and month, written in the transaction that writes its notices: a
-- month's report goes out once, even when several instances run the job.
CREATE TABLE monthly_reports (
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    month TEXT NOT NULL,
    report TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, month)
);
