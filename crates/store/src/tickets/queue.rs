//! The queue in policy order, with its filters and pages, and a customer's own lists.

use super::{TICKET_COLUMNS, TicketRecord, ticket_of};
use crate::{SqlBuilder, Store, StoreError, seconds};
use caredesk_domain::ticket::TicketState;
use jiff::Timestamp;

/// A position in the queue: the ordering columns of the last ticket of a page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct QueueCursor {
    pub severity_rank: i64,
    pub placement_rank: i64,
    pub due_sort: i64,
    pub id: i64,
}

/// Filters of the queue; `None` means any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueFilter {
    pub customer_id: Option<i64>,
    pub region: Option<String>,
    pub language: Option<String>,
    pub assignee_id: Option<i64>,
    /// Without a state, only open tickets are listed.
    pub state: Option<TicketState>,
    pub program: Option<String>,
    pub at_risk: Option<bool>,
    pub breached: Option<bool>,
    /// With an escalation waiting for the support manager's answer (or without one).
    pub escalation_open: Option<bool>,
    /// With a proposal left unanswered past its last reminder.
    pub consent_unanswered: Option<bool>,
    /// Of the customers this customer success manager looks after.
    pub csm_id: Option<i64>,
    /// Carrying this intake flag (`not_covered`, `incomplete`, …).
    pub flag: Option<String>,
}

/// What a customer looks for among its tickets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TicketSearch {
    /// A ticket's number, or words of its subject (in any case).
    pub text: String,
    /// Only open (`Some(true)`) or only closed (`Some(false)`) tickets.
    pub open: Option<bool>,
}

impl Store {
    /// A page of the queue in policy order (POLICY.md §7): severity, then priority
    /// placement, then the earliest due clock; after `cursor` when given.
    pub async fn queue(
        &self,
        filter: &QueueFilter,
        cursor: Option<QueueCursor>,
        limit: i64,
        now: Timestamp,
    ) -> Result<Vec<TicketRecord>, StoreError> {
        // The page's ids first, from columns the queue index holds, then their rows.
        let mut query = SqlBuilder::new(&format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN (SELECT id FROM tickets WHERE "
        ));
        match filter.state {
            Some(TicketState::Closed) => {
                query.push("closed_at IS NOT NULL");
            }
            Some(state) => {
                query
                    .push("closed_at IS NULL AND state = ")
                    .bind_text(state.as_str());
            }
            None => {
                query.push("closed_at IS NULL");
            }
        }
        if let Some(customer_id) = filter.customer_id {
            query.push(" AND customer_id = ").bind_i64(customer_id);
        }
        if let Some(region) = &filter.region {
            query.push(" AND region = ").bind_text(region);
        }
        if let Some(language) = &filter.language {
            query.push(" AND language = ").bind_text(language);
        }
        if let Some(assignee) = filter.assignee_id {
            query.push(" AND assignee_id = ").bind_i64(assignee);
        }
        if let Some(program) = &filter.program {
            query.push(" AND program = ").bind_text(program);
        }
        let now = seconds(now);
        match filter.at_risk {
            Some(true) => {
                query.push(" AND at_risk_at <= ").bind_i64(now);
                query.push(" AND next_due_at >= ").bind_i64(now);
            }
            Some(false) => {
                query
                    .push(" AND (at_risk_at IS NULL OR at_risk_at > ")
                    .bind_i64(now)
                    .push(")");
            }
            None => {}
        }
        match filter.breached {
            Some(true) => {
                query
                    .push(" AND (breached OR next_due_at < ")
                    .bind_i64(now)
                    .push(")");
            }
            Some(false) => {
                query
                    .push(" AND NOT breached AND (next_due_at IS NULL OR next_due_at >= ")
                    .bind_i64(now)
                    .push(")");
            }
            None => {}
        }
        if let Some(open) = filter.escalation_open {
            query.push(if open {
                " AND escalation_open"
            } else {
                " AND NOT escalation_open"
            });
        }
        if let Some(unanswered) = filter.consent_unanswered {
            query.push(if unanswered {
                " AND consent_unanswered"
            } else {
                " AND NOT consent_unanswered"
            });
        }
        if let Some(csm_id) = filter.csm_id {
            query
                .push(" AND customer_id IN (SELECT id FROM customers WHERE csm_id = ")
                .bind_i64(csm_id)
                .push(")");
        }
        if let Some(flag) = &filter.flag {
            // Flags are a JSON array of objects tagged "flag", written by serde_json without
            // spaces: a pattern match finds the tag on both backends.
            query
                .push(" AND flags LIKE ")
                .bind_text(&format!("%\"flag\":\"{flag}\"%"));
        }
        if let Some(after) = cursor {
            query.push(" AND (severity_rank, placement_rank, due_sort, id) > (");
            query.bind_i64(after.severity_rank).push(", ");
            query.bind_i64(after.placement_rank).push(", ");
            query.bind_i64(after.due_sort).push(", ");
            query.bind_i64(after.id).push(")");
        }
        query
            .push(" ORDER BY severity_rank, placement_rank, due_sort, id LIMIT ")
            .bind_i64(limit)
            .push(") ORDER BY severity_rank, placement_rank, due_sort, id");
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(ticket_of).collect()
    }

    /// Tickets of a customer, newest first.
    pub async fn tickets_of(
        &self,
        customer_id: i64,
        limit: i64,
    ) -> Result<Vec<TicketRecord>, StoreError> {
        let mut query = SqlBuilder::new(&format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE customer_id = "
        ));
        query
            .bind_i64(customer_id)
            .push(" ORDER BY id DESC LIMIT ")
            .bind_i64(limit);
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(ticket_of).collect()
    }

    /// A customer's tickets, newest first, whose number is `text` or whose subject contains
    /// it (in any case), open or closed as asked. The page's ids come from the index on
    /// (customer, id, closed, subject) alone, then their rows.
    pub async fn search_tickets_of(
        &self,
        customer_id: i64,
        search: &TicketSearch,
        limit: i64,
    ) -> Result<Vec<TicketRecord>, StoreError> {
        let mut query = SqlBuilder::new(&format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN \
             (SELECT id FROM tickets WHERE customer_id = "
        ));
        query.bind_i64(customer_id);
        match search.open {
            Some(true) => {
                query.push(" AND closed_at IS NULL");
            }
            Some(false) => {
                query.push(" AND closed_at IS NOT NULL");
            }
            None => {}
        }
        let text = search.text.trim();
        if !text.is_empty() {
            let escaped = text
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            query
                .push(" AND (LOWER(subject) LIKE ")
                .bind_text(&format!("%{escaped}%"))
                .push(" ESCAPE '\\'");
            if let Ok(number) = text.trim_start_matches('#').parse::<i64>() {
                query.push(" OR id = ").bind_i64(number);
            }
            query.push(")");
        }
        query
            .push(" ORDER BY id DESC LIMIT ")
            .bind_i64(limit)
            .push(") ORDER BY id DESC");
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(ticket_of).collect()
    }
}
