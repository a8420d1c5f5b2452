//! The slow path: open spans generated day by day straight from the calendar's rules.
//!
//! Used outside the precomputed horizon and for explanations. It applies exactly the same
//! rules as the table (both take their spans from `Calendar::spans_of_day`), without the
//! precomputation.

use jiff::Timestamp;
use jiff::civil::Date;

use super::{Calendar, CalendarError};

/// Ten years without an open minute means the calendar never opens.
const MAX_CLOSED_DAYS_IN_A_ROW: u32 = 3660;

pub(super) struct SpanWalker<'c> {
    calendar: &'c Calendar,
    next_date: Date,
    pending: Vec<(i64, i64)>,
    next_pending: usize,
    /// Nothing before this instant is returned (again).
    cursor: i64,
    closed_days_in_a_row: u32,
}

pub(super) enum SlowDue {
    /// The due instant.
    Reached(i64),
    /// The limit came first; this many open seconds are still owed.
    Short(i64),
}

impl<'c> SpanWalker<'c> {
    /// A walk over the open time at or after `from`.
    pub(super) fn new(calendar: &'c Calendar, from: i64) -> Result<Self, CalendarError> {
        let from_instant = Timestamp::from_second(from).map_err(|_| CalendarError::OutOfRange)?;
        let local_date = calendar.time_zone().to_datetime(from_instant).date();
        // The day before may have a night shift running past midnight into `from`'s day.
        let next_date = local_date.yesterday().unwrap_or(local_date);
        Ok(Self {
            calendar,
            next_date,
            pending: Vec::with_capacity(4),
            next_pending: 0,
            cursor: from,
            closed_days_in_a_row: 0,
        })
    }

    /// The next open span `[start, end)` at or after the cursor that starts before `limit`;
    /// `None` once no span can start before `limit`.
    pub(super) fn next_span(&mut self, limit: i64) -> Result<Option<(i64, i64)>, CalendarError> {
        loop {
            while let Some(&(start, end)) = self.pending.get(self.next_pending) {
                self.next_pending += 1;
                let start = start.max(self.cursor);
                if start >= end {
                    continue;
                }
                if start >= limit {
                    return Ok(None);
                }
                self.cursor = end;
                self.closed_days_in_a_row = 0;
                return Ok(Some((start, end)));
            }
            if self.calendar.local_second(self.next_date, 0)? >= limit {
                return Ok(None);
            }
            self.generate_next_day()?;
        }
    }

    fn generate_next_day(&mut self) -> Result<(), CalendarError> {
        if self.closed_days_in_a_row >= MAX_CLOSED_DAYS_IN_A_ROW {
            return Err(CalendarError::NeverOpens {
                calendar: self.calendar.name().to_string(),
                after: Timestamp::from_second(self.cursor).unwrap_or(Timestamp::MIN),
            });
        }
        self.pending.clear();
        self.next_pending = 0;
        let pending = &mut self.pending;
        self.calendar
            .spans_of_day(self.next_date, |start, end| pending.push((start, end)))?;
        if self.pending.is_empty() {
            self.closed_days_in_a_row += 1;
        }
        self.next_date = self
            .next_date
            .tomorrow()
            .map_err(|_| CalendarError::OutOfRange)?;
        Ok(())
    }

    /// Walks `seconds` of open time, stopping at `limit`.
    pub(super) fn due(mut self, mut seconds: i64, limit: i64) -> Result<SlowDue, CalendarError> {
        while let Some((start, end)) = self.next_span(limit)? {
            let available = end.min(limit) - start;
            if seconds <= available {
                return Ok(SlowDue::Reached(start + seconds));
            }
            seconds -= available;
        }
        Ok(SlowDue::Short(seconds))
    }

    /// Open seconds from the cursor up to `to`.
    pub(super) fn open_seconds(mut self, to: i64) -> Result<i64, CalendarError> {
        let mut total = 0;
        while let Some((start, end)) = self.next_span(to)? {
            total += end.min(to) - start;
        }
        Ok(total)
    }
}
