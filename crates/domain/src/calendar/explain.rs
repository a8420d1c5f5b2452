//! "Why is this due Tuesday 09:30?": the open spans a due time counted and every closure it
//! skipped, with the cause of each.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

use super::walk::SpanWalker;
use super::{
    Calendar, CalendarError, Pause, instant, merged_pauses, minutes_to_seconds, supported_second,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    pub calendar: String,
    pub time_zone: TimeZone,
    pub start: Timestamp,
    pub minutes: u64,
    pub due: Timestamp,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Open time counted towards the target; `total_seconds` is the running total after it.
    Counted {
        from: Timestamp,
        to: Timestamp,
        total_seconds: i64,
    },
    /// Time skipped, and why.
    Closed {
        from: Timestamp,
        to: Timestamp,
        cause: Closure,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Closure {
    /// On a day with opening hours, outside them.
    OutsideHours,
    /// Saturday or Sunday without opening hours.
    Weekend,
    /// Another weekday without opening hours.
    NoHoursOn(Weekday),
    /// A closed day, by the holiday rule of that name.
    Holiday(String),
    /// Open time that did not count because the clock was paused.
    Paused(String),
}

pub(super) fn explain(
    calendar: &Calendar,
    start: Timestamp,
    minutes: u64,
    pauses: &[Pause<'_>],
) -> Result<Explanation, CalendarError> {
    let mut steps = Steps::default();
    let mut remaining = minutes_to_seconds(minutes)?;
    let mut cursor = supported_second(start)?;
    let pauses = merged_pauses(pauses)?;
    let mut walker = SpanWalker::new(calendar, cursor)?;
    while remaining > 0 {
        let Some((open, close)) = walker.next_span(i64::MAX)? else {
            return Err(CalendarError::OutOfRange);
        };
        if open > cursor {
            classify_closed(calendar, cursor, open, &mut steps)?;
            cursor = open;
        }
        while cursor < close && remaining > 0 {
            if let Some(pause) = pauses.iter().find(|p| p.from <= cursor && cursor < p.to) {
                let until = close.min(pause.to);
                steps.push(
                    cursor,
                    until,
                    Kind::Closed(Closure::Paused(pause.reason.into())),
                );
                cursor = until;
                continue;
            }
            let next_pause = pauses
                .iter()
                .map(|p| p.from)
                .filter(|&from| from > cursor)
                .min()
                .unwrap_or(i64::MAX);
            let counted = (close.min(next_pause) - cursor).min(remaining);
            remaining -= counted;
            steps.push(cursor, cursor + counted, Kind::Counted);
            cursor += counted;
        }
    }
    let due = if minutes == 0 {
        start
    } else {
        instant(cursor)?
    };
    Ok(Explanation {
        calendar: calendar.name().to_string(),
        time_zone: calendar.time_zone().clone(),
        start: instant(supported_second(start)?)?,
        minutes,
        due,
        steps: steps.into_vec()?,
    })
}

/// Splits a closed stretch at local midnights and names the cause of each piece.
fn classify_closed(
    calendar: &Calendar,
    from: i64,
    to: i64,
    steps: &mut Steps,
) -> Result<(), CalendarError> {
    let mut cursor = from;
    while cursor < to {
        let date = calendar.time_zone().to_datetime(instant(cursor)?).date();
        let next_midnight = calendar.local_second(date, super::hours::MINUTES_PER_DAY)?;
        let until = to.min(next_midnight);
        steps.push(cursor, until, Kind::Closed(closure_of_day(calendar, date)));
        cursor = until;
    }
    Ok(())
}

fn closure_of_day(calendar: &Calendar, date: Date) -> Closure {
    let weekday = date.weekday();
    if calendar.hours().on(weekday).is_empty() {
        match weekday {
            Weekday::Saturday | Weekday::Sunday => Closure::Weekend,
            _ => Closure::NoHoursOn(weekday),
        }
    } else if let Some(rule) = calendar.closing_rule(date) {
        Closure::Holiday(rule.name.clone())
    } else {
        Closure::OutsideHours
    }
}

#[derive(PartialEq)]
enum Kind {
    Counted,
    Closed(Closure),
}

/// Steps being collected: consecutive pieces of the same kind and cause become one step.
#[derive(Default)]
struct Steps {
    /// From, to, kind, and the counted seconds up to the piece's end.
    pieces: Vec<(i64, i64, Kind, i64)>,
    counted: i64,
}

impl Steps {
    fn push(&mut self, from: i64, to: i64, kind: Kind) {
        if from >= to {
            return;
        }
        if kind == Kind::Counted {
            self.counted += to - from;
        }
        match self.pieces.last_mut() {
            Some(last) if last.1 == from && last.2 == kind => {
                last.1 = to;
                last.3 = self.counted;
            }
            _ => self.pieces.push((from, to, kind, self.counted)),
        }
    }

    fn into_vec(self) -> Result<Vec<Step>, CalendarError> {
        self.pieces
            .into_iter()
            .map(|(from, to, kind, total_seconds)| {
                let (from, to) = (instant(from)?, instant(to)?);
                Ok(match kind {
                    Kind::Counted => Step::Counted {
                        from,
                        to,
                        total_seconds,
                    },
                    Kind::Closed(cause) => Step::Closed { from, to, cause },
                })
            })
            .collect()
    }
}

impl fmt::Display for Closure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Closure::OutsideHours => f.write_str("outside opening hours"),
            Closure::Weekend => f.write_str("weekend"),
            Closure::NoHoursOn(weekday) => {
                write!(f, "closed on {}s", super::hours::weekday_name(*weekday))
            }
            Closure::Holiday(name) => write!(f, "holiday: {name}"),
            Closure::Paused(reason) => write!(f, "paused: {reason}"),
        }
    }
}

impl Explanation {
    fn local(&self, at: Timestamp) -> jiff::civil::DateTime {
        self.time_zone.to_datetime(at)
    }

    fn write_instant(&self, f: &mut fmt::Formatter<'_>, at: Timestamp) -> fmt::Result {
        let local = self.local(at);
        write!(f, "{} {}", wall_time(local, true), self.offset(at))
    }

    fn offset(&self, at: Timestamp) -> String {
        at.to_zoned_datetime(self.time_zone.clone())
            .strftime("%:z")
            .to_string()
    }

    /// "Fri 2026-09-04 16:30 → 17:00" within one local day, full dates otherwise. A range
    /// ending at midnight reads "→ 24:00" on its own day; offsets are shown where a range
    /// crosses a change of offset (DST).
    fn write_range(
        &self,
        f: &mut fmt::Formatter<'_>,
        from: Timestamp,
        to: Timestamp,
    ) -> fmt::Result {
        let (local_from, local_to) = (self.local(from), self.local(to));
        let offsets_differ = self.offset(from) != self.offset(to);
        write!(f, "{}", wall_time(local_from, true))?;
        if offsets_differ {
            write!(f, " {}", self.offset(from))?;
        }
        let ends_at_midnight = local_to.time() == jiff::civil::Time::midnight()
            && local_to.date().yesterday().ok() == Some(local_from.date());
        if ends_at_midnight && !offsets_differ {
            write!(f, " → 24:00")
        } else {
            let same_day = local_from.date() == local_to.date();
            write!(f, " → {}", wall_time(local_to, !same_day))?;
            if offsets_differ {
                write!(f, " {}", self.offset(to))?;
            }
            Ok(())
        }
    }
}

/// "Fri 2026-09-04 16:30" (with the date) or "16:30", with ":SS" when the seconds are not zero.
fn wall_time(local: jiff::civil::DateTime, with_date: bool) -> String {
    let mut text = if with_date {
        local.strftime("%a %Y-%m-%d %H:%M").to_string()
    } else {
        local.strftime("%H:%M").to_string()
    };
    if local.second() != 0 {
        text.push_str(&format!(":{:02}", local.second()));
    }
    text
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} business minutes on {} ({}) from ",
            self.minutes,
            self.calendar,
            self.time_zone.iana_name().unwrap_or("fixed offset"),
        )?;
        self.write_instant(f, self.start)?;
        writeln!(f)?;
        for step in &self.steps {
            f.write_str("  ")?;
            match step {
                Step::Counted {
                    from,
                    to,
                    total_seconds,
                } => {
                    self.write_range(f, *from, *to)?;
                    let seconds = to.as_second() - from.as_second();
                    write!(f, "  counted {}", Minutes(seconds))?;
                    writeln!(
                        f,
                        " (total {} of {} min)",
                        Minutes(*total_seconds),
                        self.minutes
                    )?;
                }
                Step::Closed { from, to, cause } => {
                    self.write_range(f, *from, *to)?;
                    writeln!(f, "  skipped: {cause}")?;
                }
            }
        }
        f.write_str("due ")?;
        self.write_instant(f, self.due)
    }
}

/// Seconds shown as minutes, with the odd seconds when there are any.
struct Minutes(i64);

impl fmt::Display for Minutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (minutes, seconds) = (self.0.div_euclid(60), self.0.rem_euclid(60));
        if seconds == 0 {
            write!(f, "{minutes} min")
        } else {
            write!(f, "{minutes} min {seconds} s")
        }
    }
}
