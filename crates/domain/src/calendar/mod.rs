//! Business calendars and business-time arithmetic (POLICY.md §2).
//!
//! A calendar is a time zone, weekly opening hours and holiday rules. Every answer is about
//! real instants: a business minute is a real elapsed minute, so a 24x7 day across a DST
//! change counts 23 or 25 hours.
//!
//! **Local times at DST changes.** Opening and closing times are wall-clock times turned into
//! instants with the time-zone database and one rule, the "compatible" one of RFC 5545 and
//! Temporal: a wall time that does not exist (in a spring-forward gap) is moved forward by the
//! length of the gap (02:30 becomes 03:30), and a wall time that happens twice (in a
//! fall-back fold) means its first occurrence.
//!
//! **Which day an interval belongs to.** An interval belongs to the day it starts on; a
//! closed day (holiday) removes the intervals that belong to it and also any open time inside
//! its own local day, so a night shift from the day before stops at the holiday's midnight.
//!
//! **Precision and range.** Instants are counted to the second: a ticket opened at 16:59:30
//! keeps its seconds in its due time, and a fraction of a second is dropped (rounded down)
//! on the way in. Elapsed business time is reported in whole minutes, rounded down. The
//! engine answers for instants from year -9998 to 9998, for amounts of up to a century of
//! minutes and for elapsed time between instants at most a century apart; beyond any of
//! these it says so rather than guess (and rather than walk millennia day by day).
//!
//! **Speed.** Over a horizon of local years 1990 to 2100 the open time is laid out once as
//! UTC spans with running totals, so a due time or an elapsed time is a lookup plus a short
//! search. Outside the horizon the same rules are walked day by day: slower, never different.

mod explain;
pub mod holiday;
pub mod hours;
mod table;
mod walk;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

pub use explain::{Closure, Explanation, Step};
pub use holiday::{HolidayDate, HolidayRule, Observed};
pub use hours::{OpenInterval, WeeklyHours};

use table::SpanTable;
use walk::{SlowDue, SpanWalker};

/// First and last local years laid out in the precomputed table.
pub const HORIZON_FIRST_YEAR: i16 = 1990;
pub const HORIZON_LAST_YEAR: i16 = 2100;

const SECONDS_PER_MINUTE: i64 = 60;
/// The longest stretch elapsed time is counted over: a century of days, as for amounts.
const MAX_ELAPSED_SECONDS: i64 = 36_525 * 86_400;
/// A century of minutes: more than any clock of a support policy will ever count, and small
/// enough that walking it day by day stays quick.
pub const MAX_MINUTES: u64 = 36_525 * 24 * 60;
/// The instants the engine answers for: 9998-01-02 and 9998-12-31 UTC keep every local
/// midnight it may look at (a day either side, any offset) inside jiff's range.
const FIRST_SUPPORTED_SECOND: i64 = -377_673_580_800;
const LAST_SUPPORTED_SECOND: i64 = 253_370_678_400;

/// What a calendar is made of, as the policy file describes it.
#[derive(Clone, Debug)]
pub struct CalendarSpec {
    pub name: String,
    /// A readable name, such as "Americas office hours".
    pub title: String,
    pub time_zone: TimeZone,
    pub hours: WeeklyHours,
    /// The length of "one business day" on this calendar (POLICY.md §2: americas 9 h).
    pub business_day_minutes: u32,
    /// Every rule that closes a whole local day: shared holidays, local ones, one-off dates.
    pub holidays: Vec<HolidayRule>,
}

/// A business calendar ready for arithmetic.
#[derive(Debug)]
pub struct Calendar {
    spec: CalendarSpec,
    /// Closed dates of the horizon (one year of margin each side, for observed shifts),
    /// each with the index of the rule that closes it.
    closed_dates: BTreeMap<Date, usize>,
    /// Built on first use, so loading a policy with many calendars stays instant.
    table: OnceLock<SpanTable>,
}

/// A stretch of time that counts as closed for one clock, such as a ticket waiting on the
/// customer. `reason` is shown in explanations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pause<'a> {
    pub from: Timestamp,
    pub to: Timestamp,
    pub reason: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("the time lies outside the range this engine handles (years -9998 to 9998)")]
    OutOfRange,
    #[error(
        "calendar \"{calendar}\" has no open time in the ten years after {after}; check its hours and holidays"
    )]
    NeverOpens { calendar: String, after: Timestamp },
    #[error("{0} minutes is more than a clock can count (at most {max}, a century)", max = MAX_MINUTES)]
    TooManyMinutes(u64),
    #[error(
        "from {from} to {to} is more than a century; elapsed business time is counted over at most a century"
    )]
    SpanTooLong { from: Timestamp, to: Timestamp },
}

impl Calendar {
    pub fn new(spec: CalendarSpec) -> Self {
        // A rule of one year may close a date of the year before or after (an observed shift,
        // a far Easter offset), so rules two years out fill the map's one year of margin.
        let mut closed_dates = BTreeMap::new();
        for year in (HORIZON_FIRST_YEAR - 2)..=(HORIZON_LAST_YEAR + 2) {
            for (index, rule) in spec.holidays.iter().enumerate() {
                if let Some(date) = rule.closed_date_in(year) {
                    closed_dates.entry(date).or_insert(index);
                }
            }
        }
        Self {
            spec,
            closed_dates,
            table: OnceLock::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn title(&self) -> &str {
        &self.spec.title
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.spec.time_zone
    }

    pub fn hours(&self) -> &WeeklyHours {
        &self.spec.hours
    }

    pub fn business_day_minutes(&self) -> u32 {
        self.spec.business_day_minutes
    }

    pub fn holidays(&self) -> &[HolidayRule] {
        &self.spec.holidays
    }

    /// Lays out the precomputed spans now rather than on the first question.
    pub fn prepare(&self) {
        self.table();
    }

    /// The earliest instant `d` such that `[start, d)` holds `minutes` open minutes.
    /// Zero minutes gives `start`; a target reached exactly at a closing time is that closing
    /// time; a clock started while closed starts at the next opening.
    pub fn due(&self, start: Timestamp, minutes: u64) -> Result<Timestamp, CalendarError> {
        self.due_with_pauses(start, minutes, &[])
    }

    /// Whole open minutes in `[from, to)`, rounded down; zero when `to` is not after `from`.
    pub fn elapsed(&self, from: Timestamp, to: Timestamp) -> Result<u64, CalendarError> {
        self.elapsed_with_pauses(from, to, &[])
    }

    /// The latest whole second `s` such that `[s, end)` holds `minutes` open minutes (by
    /// [`Calendar::elapsed`]): anything that started at or before it has been open that long
    /// by `end`, anything after it has not. Zero minutes gives `end`; none when even a
    /// century before `end` is not long enough.
    ///
    /// It lets a question about many instants ("how many business days has each ticket been
    /// open?") be asked once per calendar and then answered by comparing instants.
    pub fn latest_start(
        &self,
        end: Timestamp,
        minutes: u64,
    ) -> Result<Option<Timestamp>, CalendarError> {
        let end_second = supported_second(end)?;
        if minutes == 0 {
            return instant(end_second).map(Some);
        }
        let enough = |start: i64| -> Result<bool, CalendarError> {
            Ok(seconds_to_whole_minutes(self.open_seconds(start, end_second)?) >= minutes)
        };
        // Elapsed time only shrinks as the start moves later: look back twice as far each
        // time until it is long enough, then halve the gap between long enough (`long`) and
        // too short (`short`, `end` itself at first).
        let earliest = end_second
            .saturating_sub(MAX_ELAPSED_SECONDS)
            .max(FIRST_SUPPORTED_SECOND);
        let mut gap = minutes_to_seconds(minutes)?.max(SECONDS_PER_MINUTE);
        let mut short = end_second;
        let mut long = loop {
            let start = end_second.saturating_sub(gap).max(earliest);
            if enough(start)? {
                break start;
            }
            if start == earliest {
                return Ok(None);
            }
            short = start;
            gap = gap.saturating_mul(2);
        };
        while short - long > 1 {
            let middle = long + (short - long) / 2;
            if enough(middle)? {
                long = middle;
            } else {
                short = middle;
            }
        }
        instant(long).map(Some)
    }

    pub fn is_open(&self, at: Timestamp) -> Result<bool, CalendarError> {
        let at = supported_second(at)?;
        Ok(self.next_open_second(at)? == at)
    }

    /// `at` itself when open, otherwise the next opening.
    pub fn next_open(&self, at: Timestamp) -> Result<Timestamp, CalendarError> {
        instant(self.next_open_second(supported_second(at)?)?)
    }

    /// When the open stretch that holds `at` ends (consecutive spans, such as a night shift
    /// running into the next day, are one stretch); none when closed at `at`.
    pub fn open_until(&self, at: Timestamp) -> Result<Option<Timestamp>, CalendarError> {
        let at = supported_second(at)?;
        let mut walker = SpanWalker::new(self, at)?;
        let Some((start, mut end)) = walker.next_span(i64::MAX)? else {
            return Ok(None);
        };
        if start != at {
            return Ok(None);
        }
        // A calendar open for ever (no closed second in a year) has no end worth naming.
        let horizon = at.saturating_add(366 * 24 * 3600);
        while end < horizon {
            match walker.next_span(end.saturating_add(1))? {
                Some((next, next_end)) if next == end => end = next_end,
                _ => break,
            }
        }
        instant(end).map(Some)
    }

    /// Like [`Calendar::due`], with the pauses counting as closed time.
    pub fn due_with_pauses(
        &self,
        start: Timestamp,
        minutes: u64,
        pauses: &[Pause<'_>],
    ) -> Result<Timestamp, CalendarError> {
        let mut from = supported_second(start)?;
        let mut remaining = minutes_to_seconds(minutes)?;
        if remaining == 0 {
            return instant(from);
        }
        if pauses.is_empty() {
            // The hot path: no list to build.
            return instant(self.due_seconds(from, remaining)?);
        }
        for pause in merged_pauses(pauses)? {
            if pause.to <= from {
                continue;
            }
            if pause.from > from {
                let unpaused_due = self.due_seconds(from, remaining)?;
                if unpaused_due <= pause.from {
                    return instant(unpaused_due);
                }
                remaining -= self.open_seconds(from, pause.from)?;
            }
            from = pause.to;
        }
        instant(self.due_seconds(from, remaining)?)
    }

    /// Like [`Calendar::elapsed`], with the pauses counting as closed time.
    pub fn elapsed_with_pauses(
        &self,
        from: Timestamp,
        to: Timestamp,
        pauses: &[Pause<'_>],
    ) -> Result<u64, CalendarError> {
        let (from_second, to_second) = (supported_second(from)?, supported_second(to)?);
        if to_second - from_second > MAX_ELAPSED_SECONDS {
            return Err(CalendarError::SpanTooLong { from, to });
        }
        let (from, to) = (from_second, to_second);
        let mut seconds = self.open_seconds(from, to)?;
        if pauses.is_empty() {
            return Ok(seconds_to_whole_minutes(seconds));
        }
        for pause in merged_pauses(pauses)? {
            let (overlap_from, overlap_to) = (pause.from.max(from), pause.to.min(to));
            if overlap_from < overlap_to {
                seconds -= self.open_seconds(overlap_from, overlap_to)?;
            }
        }
        Ok(seconds_to_whole_minutes(seconds))
    }

    /// The due time of `minutes` from `start`, with every counted span and every closure
    /// skipped on the way (weekend, holiday, hours, pause).
    pub fn explain(
        &self,
        start: Timestamp,
        minutes: u64,
        pauses: &[Pause<'_>],
    ) -> Result<Explanation, CalendarError> {
        explain::explain(self, start, minutes, pauses)
    }

    /// The dates this calendar is closed for holidays in `year`, with the rule's name.
    pub fn closed_dates_in(&self, year: i16) -> Vec<(Date, &str)> {
        // Rules of the neighbouring years may close a date of this one.
        let years = year.saturating_sub(1)..=year.saturating_add(1);
        let mut dates: Vec<(Date, &str)> = years
            .flat_map(|rule_year| {
                self.spec.holidays.iter().filter_map(move |rule| {
                    Some((rule.closed_date_in(rule_year)?, rule.name.as_str()))
                })
            })
            .filter(|(date, _)| date.year() == year)
            .collect();
        dates.sort();
        dates.dedup_by_key(|(date, _)| *date);
        dates
    }

    /// The holiday rule that closes `date`, if one does.
    fn closing_rule(&self, date: Date) -> Option<&HolidayRule> {
        let year = date.year();
        if ((HORIZON_FIRST_YEAR - 1)..=(HORIZON_LAST_YEAR + 1)).contains(&year) {
            return self
                .closed_dates
                .get(&date)
                .map(|index| &self.spec.holidays[*index]);
        }
        // Observed shifts and Easter offsets can move a holiday across New Year, so look at
        // the rules of one year either side.
        let years = year.saturating_sub(1)..=year.saturating_add(1);
        years.into_iter().find_map(|rule_year| {
            self.spec
                .holidays
                .iter()
                .find(|rule| rule.closed_date_in(rule_year) == Some(date))
        })
    }

    fn table(&self) -> &SpanTable {
        self.table.get_or_init(|| SpanTable::build(self))
    }

    fn next_open_second(&self, at: i64) -> Result<i64, CalendarError> {
        let table = self.table();
        if table.covers(at)
            && let Some(opening) = table.next_open(at)
        {
            return Ok(opening);
        }
        let walk_from = if table.covers(at) { table.end() } else { at };
        let first = SpanWalker::new(self, walk_from)?.next_span(i64::MAX)?;
        first
            .map(|(opening, _)| opening.max(at))
            .ok_or(CalendarError::OutOfRange)
    }

    /// Instant (in seconds) of a local wall time `minute` minutes after `date`'s midnight;
    /// `minute` may run into the next day.
    fn local_second(&self, date: Date, minute: u16) -> Result<i64, CalendarError> {
        let day_offset = i64::from(minute / hours::MINUTES_PER_DAY);
        let minute_of_day = minute % hours::MINUTES_PER_DAY;
        let date = date
            .checked_add(day_offset.days())
            .map_err(|_| CalendarError::OutOfRange)?;
        // Both values are below 24 and 60, so the narrowing cannot fail.
        let hour = i8::try_from(minute_of_day / 60).map_err(|_| CalendarError::OutOfRange)?;
        let minute = i8::try_from(minute_of_day % 60).map_err(|_| CalendarError::OutOfRange)?;
        let wall_time = date.at(hour, minute, 0, 0);
        let instant = self
            .spec
            .time_zone
            .to_timestamp(wall_time)
            .map_err(|_| CalendarError::OutOfRange)?;
        Ok(instant.as_second())
    }

    /// The open spans that belong to `date`, in order, clipped at the next day's midnight
    /// when the next day is closed.
    fn spans_of_day(
        &self,
        date: Date,
        mut emit: impl FnMut(i64, i64),
    ) -> Result<(), CalendarError> {
        if self.closing_rule(date).is_some() {
            return Ok(());
        }
        let intervals = self.spec.hours.on(date.weekday());
        let mut next_day_closed = None;
        for interval in intervals {
            let mut end_minute = interval.end_minute();
            if interval.runs_past_midnight() {
                let closed = *next_day_closed.get_or_insert_with(|| {
                    date.tomorrow()
                        .map(|next| self.closing_rule(next).is_some())
                        .unwrap_or(false)
                });
                if closed {
                    end_minute = hours::MINUTES_PER_DAY;
                }
            }
            let start = self.local_second(date, interval.start_minute())?;
            let end = self.local_second(date, end_minute)?;
            if end > start {
                emit(start, end);
            }
        }
        Ok(())
    }

    /// The earliest instant at which `seconds` of open time have passed since `from`.
    fn due_seconds(&self, mut from: i64, mut seconds: i64) -> Result<i64, CalendarError> {
        if seconds == 0 {
            return Ok(from);
        }
        let table = self.table();
        if from < table.start() {
            match SpanWalker::new(self, from)?.due(seconds, table.start())? {
                SlowDue::Reached(due) => return Ok(due),
                SlowDue::Short(left) => {
                    seconds = left;
                    from = table.start();
                }
            }
        }
        if from < table.end() {
            match table.due(from, seconds) {
                Ok(due) => return Ok(due),
                Err(left) => {
                    seconds = left;
                    from = table.end();
                }
            }
        }
        match SpanWalker::new(self, from)?.due(seconds, i64::MAX)? {
            SlowDue::Reached(due) => Ok(due),
            SlowDue::Short(_) => Err(CalendarError::OutOfRange),
        }
    }

    /// Open seconds in `[from, to)`.
    fn open_seconds(&self, from: i64, to: i64) -> Result<i64, CalendarError> {
        if to <= from {
            return Ok(0);
        }
        let table = self.table();
        let mut total = 0;
        if from < table.start() {
            total += SpanWalker::new(self, from)?.open_seconds(to.min(table.start()))?;
        }
        let (inside_from, inside_to) = (from.max(table.start()), to.min(table.end()));
        if inside_from < inside_to {
            total += table.open_before(inside_to) - table.open_before(inside_from);
        }
        if to > table.end() {
            total += SpanWalker::new(self, from.max(table.end()))?.open_seconds(to)?;
        }
        Ok(total)
    }
}

/// A pause in whole seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SecondPause<'a> {
    from: i64,
    to: i64,
    reason: &'a str,
}

/// Pauses as sorted, disjoint ranges of seconds (overlapping ones merged, keeping the first
/// one's reason); empty and reversed pauses are dropped.
fn merged_pauses<'a>(pauses: &[Pause<'a>]) -> Result<Vec<SecondPause<'a>>, CalendarError> {
    let mut sorted = Vec::with_capacity(pauses.len());
    for pause in pauses {
        let (from, to) = (supported_second(pause.from)?, supported_second(pause.to)?);
        if from < to {
            sorted.push(SecondPause {
                from,
                to,
                reason: pause.reason,
            });
        }
    }
    sorted.sort_unstable_by_key(|pause| (pause.from, pause.to));
    let mut merged: Vec<SecondPause<'a>> = Vec::with_capacity(sorted.len());
    for pause in sorted {
        match merged.last_mut() {
            Some(last) if pause.from <= last.to => last.to = last.to.max(pause.to),
            _ => merged.push(pause),
        }
    }
    Ok(merged)
}

/// Seconds since the Unix epoch, rounded down (also before 1970, where jiff truncates),
/// within the range the engine answers for.
fn supported_second(at: Timestamp) -> Result<i64, CalendarError> {
    let seconds = at.as_second();
    let second = if at.subsec_nanosecond() < 0 {
        seconds - 1
    } else {
        seconds
    };
    if (FIRST_SUPPORTED_SECOND..=LAST_SUPPORTED_SECOND).contains(&second) {
        Ok(second)
    } else {
        Err(CalendarError::OutOfRange)
    }
}

fn instant(second: i64) -> Result<Timestamp, CalendarError> {
    Timestamp::from_second(second).map_err(|_| CalendarError::OutOfRange)
}

fn minutes_to_seconds(minutes: u64) -> Result<i64, CalendarError> {
    if minutes > MAX_MINUTES {
        return Err(CalendarError::TooManyMinutes(minutes));
    }
    // At most a century of minutes: the product fits easily.
    Ok(i64::try_from(minutes).unwrap_or(i64::MAX) * SECONDS_PER_MINUTE)
}

fn seconds_to_whole_minutes(seconds: i64) -> u64 {
    u64::try_from(seconds / SECONDS_PER_MINUTE).unwrap_or(0)
}

#[cfg(test)]
mod tests;
