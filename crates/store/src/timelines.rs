//! Tickets read with their whole timelines, a page at a time, for replaying them under
//! other terms.

use caredesk_domain::report::ReportFilter;
use caredesk_domain::ticket::TicketEvent;
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::Row;

use crate::events::event_of;
use crate::reports::{push_filter, start_of};
use crate::{SqlBuilder, Store, StoreError};

/// The most tickets a page of timelines holds.
pub const TIMELINES_PER_PAGE: i64 = 1000;

/// The tickets of `filter` opened from `first_day` to `last_day` (UTC days, both included),
/// by number after `after`, at most `limit` of them (a thousand at most: their numbers are
/// sent to the database in the read of their events).
#[derive(Clone, Copy, Debug)]
pub struct TimelineQuery<'a> {
    pub first_day: Date,
    pub last_day: Date,
    pub filter: &'a ReportFilter,
    pub after: i64,
    pub limit: i64,
}

/// A ticket, what decides its clocks besides its timeline, and its timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketTimeline {
    pub id: i64,
    pub customer_id: i64,
    pub program: String,
    pub region: String,
    pub product_line: String,
    /// Its severity now (at closing for a closed ticket).
    pub severity: String,
    pub events: Vec<TicketEvent>,
}

impl Store {
    /// A page of the tickets `query` asks for, in order of number, each with its timeline.
    pub async fn timelines(
        &self,
        query: &TimelineQuery<'_>,
    ) -> Result<Vec<TicketTimeline>, StoreError> {
        let from = start_of(query.first_day);
        let to = query.last_day.tomorrow().map_or(Timestamp::MAX, start_of);
        let mut sql = SqlBuilder::new(
            "SELECT id, customer_id, program, region, product_line, severity FROM tickets \
             WHERE opened_at >= ",
        );
        sql.bind_i64(from.as_second())
            .push(" AND opened_at < ")
            .bind_i64(to.as_second())
            .push(" AND id > ")
            .bind_i64(query.after);
        push_filter(&mut sql, query.filter);
        if let Some(advisor) = query.filter.advisor {
            sql.push(" AND assignee_id = ").bind_i64(advisor);
        }
        if let Some(customer) = query.filter.customer {
            sql.push(" AND customer_id = ").bind_i64(customer);
        }
        sql.push(" ORDER BY id LIMIT ")
            .bind_i64(query.limit.clamp(0, TIMELINES_PER_PAGE));
        let mut tickets: Vec<TicketTimeline> = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(TicketTimeline {
                    id: row.try_get(0)?,
                    customer_id: row.try_get(1)?,
                    program: row.try_get(2)?,
                    region: row.try_get(3)?,
                    product_line: row.try_get(4)?,
                    severity: row.try_get(5)?,
                    events: Vec::new(),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        if tickets.is_empty() {
            return Ok(tickets);
        }
        // The page's events in one read, in the tickets' order.
        let mut sql = SqlBuilder::new(
            "SELECT ticket_id, seq, at, actor, data FROM ticket_events WHERE ticket_id IN (",
        );
        for (position, ticket) in tickets.iter().enumerate() {
            if position > 0 {
                sql.push(", ");
            }
            sql.bind_i64(ticket.id);
        }
        sql.push(") ORDER BY ticket_id, seq");
        let rows = sql.fetch_all(&self.pool).await?;
        let mut index = 0;
        for row in &rows {
            let ticket_id: i64 = row.try_get(0)?;
            while index < tickets.len() && tickets[index].id < ticket_id {
                index += 1;
            }
            match tickets.get_mut(index) {
                Some(ticket) if ticket.id == ticket_id => ticket.events.push(event_of(row)?),
                _ => {}
            }
        }
        Ok(tickets)
    }
}
