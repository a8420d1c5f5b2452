//! The fast path: a calendar's open time over the horizon, laid out once as sorted UTC spans
//! with running totals of open seconds.
//!
//! Finding the span around an instant is a jump into a per-day index and a step or two;
//! finding where a running total is reached is a galloping search from there, a handful of
//! comparisons for any realistic target. Neither depends on how far the horizon reaches.

use super::{Calendar, HORIZON_FIRST_YEAR, HORIZON_LAST_YEAR};

const SECONDS_PER_DAY: i64 = 86_400;

#[derive(Debug)]
pub(super) struct SpanTable {
    /// Instants of local midnight opening the first horizon year and closing the last.
    start: i64,
    end: i64,
    /// Disjoint, sorted, merged open spans `[starts[i], ends[i])` inside `[start, end)`.
    starts: Vec<i64>,
    ends: Vec<i64>,
    /// Open seconds in `[start, ends[i])`.
    open_until_end: Vec<i64>,
    /// For each UTC day counted from `start`, the first span that ends after the day begins.
    first_span_of_day: Vec<u32>,
}

impl SpanTable {
    pub(super) fn build(calendar: &Calendar) -> Self {
        let first_day = jiff::civil::date(HORIZON_FIRST_YEAR, 1, 1);
        let after_last_day = jiff::civil::date(HORIZON_LAST_YEAR + 1, 1, 1);
        // Both dates are far inside jiff's range and midnight always resolves, so these
        // conversions cannot fail for any real time zone.
        let start = calendar.local_second(first_day, 0).unwrap_or(i64::MIN);
        let end = calendar.local_second(after_last_day, 0).unwrap_or(i64::MIN);

        let mut starts: Vec<i64> = Vec::new();
        let mut ends: Vec<i64> = Vec::new();
        // Start a day early: the previous day's night shift may run into the horizon.
        let mut day = first_day.yesterday().unwrap_or(first_day);
        while day < after_last_day {
            let laid_out = calendar.spans_of_day(day, |span_start, span_end| {
                let (span_start, span_end) = (span_start.max(start), span_end.min(end));
                if span_start >= span_end {
                    return;
                }
                match ends.last_mut() {
                    Some(last_end) if span_start <= *last_end => {
                        *last_end = (*last_end).max(span_end);
                    }
                    _ => {
                        starts.push(span_start);
                        ends.push(span_end);
                    }
                }
            });
            // Every day of the horizon is far inside jiff's range.
            debug_assert!(laid_out.is_ok(), "{day}: {laid_out:?}");
            let Ok(next) = day.tomorrow() else { break };
            day = next;
        }

        let mut open_until_end = Vec::with_capacity(starts.len());
        let mut total = 0;
        for (span_start, span_end) in starts.iter().zip(&ends) {
            total += span_end - span_start;
            open_until_end.push(total);
        }

        let days = usize::try_from((end - start).div_euclid(SECONDS_PER_DAY) + 1).unwrap_or(0);
        let mut first_span_of_day = Vec::with_capacity(days);
        let mut span = 0usize;
        for day_index in 0..days {
            let day_start = start + i64::try_from(day_index).unwrap_or(i64::MAX) * SECONDS_PER_DAY;
            while span < ends.len() && ends[span] <= day_start {
                span += 1;
            }
            first_span_of_day.push(u32::try_from(span).unwrap_or(u32::MAX));
        }

        Self {
            start,
            end,
            starts,
            ends,
            open_until_end,
            first_span_of_day,
        }
    }

    pub(super) fn start(&self) -> i64 {
        self.start
    }

    pub(super) fn end(&self) -> i64 {
        self.end
    }

    pub(super) fn covers(&self, at: i64) -> bool {
        self.start <= at && at < self.end
    }

    /// Index of the first span ending after `at`; the span count when none does.
    /// `at` must be covered.
    #[inline]
    fn first_span_ending_after(&self, at: i64) -> usize {
        let day = ((at - self.start) / SECONDS_PER_DAY) as usize;
        let mut index = self.first_span_of_day[day] as usize;
        while index < self.ends.len() && self.ends[index] <= at {
            index += 1;
        }
        index
    }

    /// Open seconds in `[start, at)`, for `start <= at <= end`.
    #[inline]
    pub(super) fn open_before(&self, at: i64) -> i64 {
        if at >= self.end {
            return self.total();
        }
        self.open_before_span(self.first_span_ending_after(at), at)
    }

    /// Open seconds in `[start, at)`, given the first span ending after `at`.
    #[inline]
    fn open_before_span(&self, span: usize, at: i64) -> i64 {
        if span == self.ends.len() {
            return self.total();
        }
        self.open_until_end[span] - (self.ends[span] - at.max(self.starts[span]))
    }

    pub(super) fn next_open(&self, at: i64) -> Option<i64> {
        let index = self.first_span_ending_after(at);
        (index < self.starts.len()).then(|| self.starts[index].max(at))
    }

    /// The instant `seconds` (> 0) of open time after `from` (covered), or the open
    /// seconds still owed at the end of the horizon.
    #[inline]
    pub(super) fn due(&self, from: i64, seconds: i64) -> Result<i64, i64> {
        let first = self.first_span_ending_after(from);
        let target = self.open_before_span(first, from) + seconds;
        if target > self.total() {
            return Err(target - self.total());
        }
        let span = self.first_span_reaching(first, target);
        Ok(self.ends[span] - (self.open_until_end[span] - target))
    }

    /// The first span at or after `from_span` whose running total reaches `target`
    /// (which must not exceed the table's total): galloping, then bisecting.
    #[inline]
    fn first_span_reaching(&self, from_span: usize, target: i64) -> usize {
        let totals = &self.open_until_end;
        if totals[from_span] >= target {
            return from_span;
        }
        let mut below = from_span;
        let mut step = 1;
        let mut above = from_span + 1;
        while above < totals.len() && totals[above] < target {
            below = above;
            step *= 2;
            above = below + step;
        }
        let above = above.min(totals.len() - 1);
        below + 1 + totals[below + 1..=above].partition_point(|&total| total < target)
    }

    fn total(&self) -> i64 {
        self.open_until_end.last().copied().unwrap_or(0)
    }

    #[cfg(test)]
    pub(super) fn span_count(&self) -> usize {
        self.starts.len()
    }
}
