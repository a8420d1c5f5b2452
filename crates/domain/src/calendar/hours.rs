//! Weekly opening hours: per weekday, any number of open intervals at minute precision.
//!
//! An interval is written "HH:MM-HH:MM" in local wall time. "24:00" is the end of the day
//! (so a whole day is "00:00-24:00", without losing the minute before midnight), and an end
//! earlier than the start runs past midnight: "22:00-06:00" is a night shift that belongs to
//! the day it starts on.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Weekday;

pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// One open interval of a day, in minutes after that day's local midnight.
/// `start < 1440` and `start < end <= start + 1440`; an `end` past 1440 runs into the next day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpenInterval {
    start: u16,
    end: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("\"{0}\" is not an interval; write it as HH:MM-HH:MM, for example 08:00-17:00")]
    NotAnInterval(String),
    #[error("\"{0}\" is not a time of day; write HH:MM between 00:00 and 24:00")]
    NotATime(String),
    #[error("\"{0}\" opens and closes at the same time; a whole day is 00:00-24:00")]
    Empty(String),
    #[error("\"{0}\" cannot start at 24:00")]
    StartsAtMidnightEnd(String),
    #[error(
        "intervals {0} and {1} overlap or are out of order; list a day's intervals from earliest to latest"
    )]
    Overlap(OpenInterval, OpenInterval),
    #[error("\"{0}\" is not a weekday or a range of weekdays (mon, tue, … sun, or mon-fri)")]
    NotADay(String),
    #[error("{0} is given more than once")]
    DayTwice(String),
    #[error("no day has opening hours; a calendar must open at least once a week")]
    NeverOpen,
}

impl OpenInterval {
    pub fn new(start: u16, end: u16) -> Option<Self> {
        (start < MINUTES_PER_DAY && start < end && end <= start + MINUTES_PER_DAY)
            .then_some(Self { start, end })
    }

    /// Minutes after local midnight of the day the interval belongs to.
    pub fn start_minute(&self) -> u16 {
        self.start
    }

    /// May exceed 1440 when the interval runs into the next day.
    pub fn end_minute(&self) -> u16 {
        self.end
    }

    pub fn runs_past_midnight(&self) -> bool {
        self.end > MINUTES_PER_DAY
    }

    pub fn length_minutes(&self) -> u16 {
        self.end - self.start
    }
}

fn parse_time_of_day(text: &str) -> Result<u16, HoursError> {
    let bad = || HoursError::NotATime(text.to_string());
    let (hours, minutes) = text.trim().split_once(':').ok_or_else(bad)?;
    if hours.is_empty() || hours.len() > 2 || minutes.len() != 2 {
        return Err(bad());
    }
    let hours: u16 = hours.parse().map_err(|_| bad())?;
    let minutes: u16 = minutes.parse().map_err(|_| bad())?;
    if minutes > 59 || hours > 24 || (hours == 24 && minutes != 0) {
        return Err(bad());
    }
    Ok(hours * 60 + minutes)
}

impl FromStr for OpenInterval {
    type Err = HoursError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (open, close) = text
            .split_once('-')
            .ok_or_else(|| HoursError::NotAnInterval(text.to_string()))?;
        let start = parse_time_of_day(open)?;
        let mut end = parse_time_of_day(close)?;
        if start == MINUTES_PER_DAY {
            return Err(HoursError::StartsAtMidnightEnd(text.to_string()));
        }
        if end == start {
            return Err(HoursError::Empty(text.to_string()));
        }
        if end < start {
            end += MINUTES_PER_DAY;
        }
        OpenInterval::new(start, end).ok_or_else(|| HoursError::NotAnInterval(text.to_string()))
    }
}

impl fmt::Display for OpenInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = if self.end > MINUTES_PER_DAY {
            self.end - MINUTES_PER_DAY
        } else {
            self.end
        };
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            end / 60,
            end % 60
        )
    }
}

/// The open intervals of each weekday, Monday first, each day's intervals sorted and disjoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WeeklyHours {
    days: [Vec<OpenInterval>; 7],
}

impl WeeklyHours {
    /// Builds the week from (weekday, intervals) pairs; a weekday not given is closed.
    pub fn new(
        days: impl IntoIterator<Item = (Weekday, Vec<OpenInterval>)>,
    ) -> Result<Self, HoursError> {
        let mut week = WeeklyHours::default();
        let mut seen = [false; 7];
        for (weekday, mut intervals) in days {
            let index = weekday_index(weekday);
            if seen[index] {
                return Err(HoursError::DayTwice(weekday_name(weekday).to_string()));
            }
            seen[index] = true;
            intervals.sort_by_key(|interval| interval.start);
            for pair in intervals.windows(2) {
                if pair[0].end > pair[1].start {
                    return Err(HoursError::Overlap(pair[0], pair[1]));
                }
            }
            week.days[index] = intervals;
        }
        if week.days.iter().all(Vec::is_empty) {
            return Err(HoursError::NeverOpen);
        }
        Ok(week)
    }

    pub fn on(&self, weekday: Weekday) -> &[OpenInterval] {
        &self.days[weekday_index(weekday)]
    }

    /// Total open minutes in a week as written (before holidays and DST).
    pub fn weekly_minutes(&self) -> u32 {
        self.days
            .iter()
            .flatten()
            .map(|interval| u32::from(interval.length_minutes()))
            .sum()
    }
}

/// Parses a key such as "mon", "sat-sun" or "mon-fri" into the weekdays it names.
pub fn parse_day_range(key: &str) -> Result<Vec<Weekday>, HoursError> {
    let bad = || HoursError::NotADay(key.to_string());
    let (first, last) = match key.split_once('-') {
        Some((first, last)) => (
            parse_weekday(first).ok_or_else(bad)?,
            parse_weekday(last).ok_or_else(bad)?,
        ),
        None => {
            let day = parse_weekday(key).ok_or_else(bad)?;
            (day, day)
        }
    };
    let mut days = vec![first];
    let mut day = first;
    while day != last {
        day = day.next();
        days.push(day);
    }
    Ok(days)
}

/// Parses a day's hours: "08:00-17:00", "08:00-12:00, 13:00-17:00", or "closed".
pub fn parse_day_hours(text: &str) -> Result<Vec<OpenInterval>, HoursError> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("closed") {
        return Ok(Vec::new());
    }
    text.split(',').map(str::parse).collect()
}

pub fn parse_weekday(text: &str) -> Option<Weekday> {
    let text = text.trim().to_ascii_lowercase();
    let weekday = match text.as_str() {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => return None,
    };
    Some(weekday)
}

pub fn weekday_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

fn weekday_index(weekday: Weekday) -> usize {
    usize::from(weekday.to_monday_zero_offset().unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(text: &str) -> OpenInterval {
        text.parse().unwrap()
    }

    #[test]
    fn parses_intervals_including_midnight_and_night_shifts() {
        assert_eq!(
            interval("08:00-17:00"),
            OpenInterval::new(480, 1020).unwrap()
        );
        assert_eq!(interval("00:00-24:00"), OpenInterval::new(0, 1440).unwrap());
        assert_eq!(
            interval("22:00-06:00"),
            OpenInterval::new(1320, 1800).unwrap()
        );
        assert!(interval("22:00-06:00").runs_past_midnight());
        assert_eq!(interval("9:30-10:45").length_minutes(), 75);
        assert_eq!(interval("22:00-06:00").to_string(), "22:00-06:00");
        assert_eq!(interval("00:00-24:00").to_string(), "00:00-24:00");
    }

    #[test]
    fn refuses_impossible_intervals() {
        assert!(matches!(
            "08:00".parse::<OpenInterval>(),
            Err(HoursError::NotAnInterval(_))
        ));
        assert!(matches!(
            "08:60-09:00".parse::<OpenInterval>(),
            Err(HoursError::NotATime(_))
        ));
        assert!(matches!(
            "25:00-26:00".parse::<OpenInterval>(),
            Err(HoursError::NotATime(_))
        ));
        assert!(matches!(
            "24:00-08:00".parse::<OpenInterval>(),
            Err(HoursError::StartsAtMidnightEnd(_))
        ));
        assert!(matches!(
            "08:00-08:00".parse::<OpenInterval>(),
            Err(HoursError::Empty(_))
        ));
        assert!(matches!(
            "8h-9h".parse::<OpenInterval>(),
            Err(HoursError::NotATime(_))
        ));
    }

    #[test]
    fn parses_day_ranges_including_wrapping_ones() {
        assert_eq!(parse_day_range("mon-fri").unwrap().len(), 5);
        assert_eq!(parse_day_range("sat").unwrap(), vec![Weekday::Saturday]);
        assert_eq!(
            parse_day_range("fri-mon").unwrap(),
            vec![
                Weekday::Friday,
                Weekday::Saturday,
                Weekday::Sunday,
                Weekday::Monday
            ]
        );
        assert!(matches!(
            parse_day_range("weekdays"),
            Err(HoursError::NotADay(_))
        ));
    }

    #[test]
    fn a_week_refuses_overlaps_repeats_and_never_opening() {
        let morning = interval("08:00-12:00");
        let overlapping = interval("11:00-13:00");
        assert!(matches!(
            WeeklyHours::new([(Weekday::Monday, vec![morning, overlapping])]),
            Err(HoursError::Overlap(..))
        ));
        assert!(matches!(
            WeeklyHours::new([(Weekday::Monday, vec![morning]), (Weekday::Monday, vec![])]),
            Err(HoursError::DayTwice(_))
        ));
        assert!(matches!(
            WeeklyHours::new([(Weekday::Monday, vec![])]),
            Err(HoursError::NeverOpen)
        ));
        let split_day = parse_day_hours("13:00-17:00, 08:00-12:00").unwrap();
        let week = WeeklyHours::new([(Weekday::Monday, split_day)]).unwrap();
        assert_eq!(week.on(Weekday::Monday)[0], morning);
        assert_eq!(week.weekly_minutes(), 8 * 60);
        assert!(week.on(Weekday::Tuesday).is_empty());
    }
}
