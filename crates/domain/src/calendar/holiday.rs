//! Holidays as rules, so nobody types Easter in by hand each year.
//!
//! A rule gives a date per year: a fixed month and day, the n-th (or last) weekday of a month,
//! a day relative to Western Easter, or a single date. A rule may move a holiday that falls on
//! a weekend to a weekday ("observed"); when it does, the observed day is the closed one.

use std::fmt;
use std::str::FromStr;

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};

use super::hours::parse_weekday;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HolidayRule {
    pub name: String,
    pub date: HolidayDate,
    pub observed: Observed,
    /// First and last years the rule applies in (both inclusive), when it is not forever.
    pub from_year: Option<i16>,
    pub until_year: Option<i16>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HolidayDate {
    /// Every year on this month and day (a 29 February exists only in leap years).
    Fixed { month: i8, day: i8 },
    /// The n-th weekday of a month; `nth` is 1 to 5, or -1 for the last.
    NthWeekday {
        nth: i8,
        weekday: Weekday,
        month: i8,
    },
    /// Days after Western (Gregorian) Easter Sunday; Good Friday is -2, Easter Monday 1.
    Easter { offset_days: i16 },
    /// One date only.
    Once(Date),
}

/// Where a holiday that falls on a weekend is closed instead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Observed {
    /// On its own date, even a Saturday or Sunday (POLICY.md §2 default).
    #[default]
    OnTheDay,
    /// Saturday moves to Friday, Sunday to Monday.
    NearestWeekday,
    /// Saturday and Sunday both move to the following Monday.
    NextMonday,
}

impl HolidayRule {
    /// The closed date of this rule in `year`, if the rule gives one that year.
    pub fn closed_date_in(&self, year: i16) -> Option<Date> {
        if self.from_year.is_some_and(|from| year < from)
            || self.until_year.is_some_and(|until| year > until)
        {
            return None;
        }
        let actual = self.date.in_year(year)?;
        Some(self.observed.shift(actual))
    }
}

impl HolidayDate {
    pub fn in_year(&self, year: i16) -> Option<Date> {
        match *self {
            HolidayDate::Fixed { month, day } => Date::new(year, month, day).ok(),
            HolidayDate::NthWeekday {
                nth,
                weekday,
                month,
            } => {
                let first = Date::new(year, month, 1).ok()?;
                let found = first.nth_weekday_of_month(nth, weekday).ok()?;
                (found.month() == month).then_some(found)
            }
            HolidayDate::Easter { offset_days } => {
                let easter = easter_sunday(year)?;
                easter.checked_add(i64::from(offset_days).days()).ok()
            }
            HolidayDate::Once(date) => (date.year() == year).then_some(date),
        }
    }
}

impl Observed {
    pub fn shift(&self, date: Date) -> Date {
        let shift_days = match (self, date.weekday()) {
            (Observed::NearestWeekday, Weekday::Saturday) => -1,
            (Observed::NearestWeekday, Weekday::Sunday) => 1,
            (Observed::NextMonday, Weekday::Saturday) => 2,
            (Observed::NextMonday, Weekday::Sunday) => 1,
            _ => 0,
        };
        // A shift of two days cannot leave jiff's range except at its very ends, where the
        // holiday simply stays on its date.
        date.checked_add(shift_days.days()).unwrap_or(date)
    }
}

/// Western Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm,
/// also known as Meeus/Jones/Butcher).
pub fn easter_sunday(year: i16) -> Option<Date> {
    let y = i32::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HolidayParseError {
    #[error("\"{0}\" is not a month and day; write MM-DD, for example 12-25")]
    NotAMonthDay(String),
    #[error(
        "\"{0}\" is not a weekday of a month; write for example \"first monday of september\" or \"last monday of may\""
    )]
    NotAWeekdayOfMonth(String),
    #[error(
        "\"{0}\" is not an observed rule; use \"none\", \"nearest weekday\" or \"next monday\""
    )]
    NotAnObservedRule(String),
}

/// Parses "MM-DD" for a fixed holiday.
pub fn parse_month_day(text: &str) -> Result<HolidayDate, HolidayParseError> {
    let bad = || HolidayParseError::NotAMonthDay(text.to_string());
    let (month, day) = text.trim().split_once('-').ok_or_else(bad)?;
    let month: i8 = month.parse().map_err(|_| bad())?;
    let day: i8 = day.parse().map_err(|_| bad())?;
    // 2024 is a leap year, so 02-29 is accepted here and simply skipped in other years.
    Date::new(2024, month, day).map_err(|_| bad())?;
    Ok(HolidayDate::Fixed { month, day })
}

/// Parses "first monday of september", "2nd tuesday of march", "last monday of may".
pub fn parse_weekday_of_month(text: &str) -> Result<HolidayDate, HolidayParseError> {
    let bad = || HolidayParseError::NotAWeekdayOfMonth(text.to_string());
    let lowered = text.trim().to_ascii_lowercase();
    let words: Vec<&str> = lowered.split_whitespace().collect();
    let [ordinal, weekday, "of", month] = words.as_slice() else {
        return Err(bad());
    };
    let nth = match *ordinal {
        "first" | "1st" => 1,
        "second" | "2nd" => 2,
        "third" | "3rd" => 3,
        "fourth" | "4th" => 4,
        "fifth" | "5th" => 5,
        "last" => -1,
        _ => return Err(bad()),
    };
    let weekday = parse_weekday(weekday).ok_or_else(bad)?;
    let month = parse_month(month).ok_or_else(bad)?;
    Ok(HolidayDate::NthWeekday {
        nth,
        weekday,
        month,
    })
}

fn parse_month(text: &str) -> Option<i8> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    MONTHS
        .iter()
        .position(|name| *name == text || (text.len() >= 3 && name.starts_with(text)))
        .and_then(|index| i8::try_from(index + 1).ok())
}

impl FromStr for Observed {
    type Err = HolidayParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let normalised = text.trim().to_ascii_lowercase().replace(['_', '-'], " ");
        match normalised.as_str() {
            "none" | "on the day" => Ok(Observed::OnTheDay),
            "nearest weekday" => Ok(Observed::NearestWeekday),
            "next monday" => Ok(Observed::NextMonday),
            _ => Err(HolidayParseError::NotAnObservedRule(text.to_string())),
        }
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Observed::OnTheDay => "on the day",
            Observed::NearestWeekday => "nearest weekday",
            Observed::NextMonday => "next Monday",
        })
    }
}

impl fmt::Display for HolidayDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            HolidayDate::Fixed { month, day } => write!(f, "every year on {month:02}-{day:02}"),
            HolidayDate::NthWeekday {
                nth,
                weekday,
                month,
            } => {
                let ordinal = match nth {
                    1 => "first",
                    2 => "second",
                    3 => "third",
                    4 => "fourth",
                    5 => "fifth",
                    _ => "last",
                };
                let month_name = Date::new(2024, month, 1)
                    .map(|date| date.strftime("%B").to_string())
                    .unwrap_or_default();
                write!(
                    f,
                    "{ordinal} {} of {month_name}",
                    super::hours::weekday_name(weekday)
                )
            }
            HolidayDate::Easter { offset_days: 0 } => f.write_str("Easter Sunday"),
            HolidayDate::Easter { offset_days } => {
                let days = offset_days.unsigned_abs();
                let unit = if days == 1 { "day" } else { "days" };
                let side = if offset_days < 0 { "before" } else { "after" };
                write!(f, "{days} {unit} {side} Easter Sunday")
            }
            HolidayDate::Once(date) => write!(f, "once, on {date}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn rule(date: HolidayDate, observed: Observed) -> HolidayRule {
        HolidayRule {
            name: "test".into(),
            date,
            observed,
            from_year: None,
            until_year: None,
        }
    }

    #[test]
    fn easter_2024_to_2035_matches_the_published_dates() {
        let published = [
            date(2024, 3, 31),
            date(2025, 4, 20),
            date(2026, 4, 5),
            date(2027, 3, 28),
            date(2028, 4, 16),
            date(2029, 4, 1),
            date(2030, 4, 21),
            date(2031, 4, 13),
            date(2032, 3, 28),
            date(2033, 4, 17),
            date(2034, 4, 9),
            date(2035, 3, 25),
        ];
        for easter in published {
            assert_eq!(easter_sunday(easter.year()), Some(easter));
        }
        // Extremes of the Gregorian computus.
        assert_eq!(easter_sunday(1818), Some(date(1818, 3, 22)));
        assert_eq!(easter_sunday(2038), Some(date(2038, 4, 25)));
    }

    #[test]
    fn good_friday_easter_monday_and_labour_day_2024_to_2035() {
        let good_friday = rule(HolidayDate::Easter { offset_days: -2 }, Observed::OnTheDay);
        let easter_monday = rule(HolidayDate::Easter { offset_days: 1 }, Observed::OnTheDay);
        let labour_day = rule(
            parse_weekday_of_month("first monday of september").unwrap(),
            Observed::OnTheDay,
        );
        let expected = [
            (2024, date(2024, 3, 29), date(2024, 4, 1), date(2024, 9, 2)),
            (2025, date(2025, 4, 18), date(2025, 4, 21), date(2025, 9, 1)),
            (2026, date(2026, 4, 3), date(2026, 4, 6), date(2026, 9, 7)),
            (2027, date(2027, 3, 26), date(2027, 3, 29), date(2027, 9, 6)),
            (2028, date(2028, 4, 14), date(2028, 4, 17), date(2028, 9, 4)),
            (2029, date(2029, 3, 30), date(2029, 4, 2), date(2029, 9, 3)),
            (2030, date(2030, 4, 19), date(2030, 4, 22), date(2030, 9, 2)),
            (2031, date(2031, 4, 11), date(2031, 4, 14), date(2031, 9, 1)),
            (2032, date(2032, 3, 26), date(2032, 3, 29), date(2032, 9, 6)),
            (2033, date(2033, 4, 15), date(2033, 4, 18), date(2033, 9, 5)),
            (2034, date(2034, 4, 7), date(2034, 4, 10), date(2034, 9, 4)),
            (2035, date(2035, 3, 23), date(2035, 3, 26), date(2035, 9, 3)),
        ];
        for (year, friday, monday, labour) in expected {
            assert_eq!(good_friday.closed_date_in(year), Some(friday), "{year}");
            assert_eq!(easter_monday.closed_date_in(year), Some(monday), "{year}");
            assert_eq!(labour_day.closed_date_in(year), Some(labour), "{year}");
            assert_eq!(labour.weekday(), Weekday::Monday);
        }
    }

    #[test]
    fn weekend_holidays_stay_unless_the_rule_moves_them() {
        // Christmas 2027 is a Saturday, Boxing Day 2027 a Sunday.
        let christmas = HolidayDate::Fixed { month: 12, day: 25 };
        let boxing_day = HolidayDate::Fixed { month: 12, day: 26 };
        assert_eq!(
            rule(christmas, Observed::OnTheDay).closed_date_in(2027),
            Some(date(2027, 12, 25))
        );
        assert_eq!(
            rule(christmas, Observed::NearestWeekday).closed_date_in(2027),
            Some(date(2027, 12, 24))
        );
        assert_eq!(
            rule(boxing_day, Observed::NearestWeekday).closed_date_in(2027),
            Some(date(2027, 12, 27))
        );
        assert_eq!(
            rule(christmas, Observed::NextMonday).closed_date_in(2027),
            Some(date(2027, 12, 27))
        );
        // A weekday holiday never moves.
        assert_eq!(
            rule(christmas, Observed::NextMonday).closed_date_in(2026),
            Some(date(2026, 12, 25))
        );
    }

    #[test]
    fn rules_respect_their_years_and_impossible_dates() {
        let mut leap_day = rule(HolidayDate::Fixed { month: 2, day: 29 }, Observed::OnTheDay);
        assert_eq!(leap_day.closed_date_in(2027), None);
        assert_eq!(leap_day.closed_date_in(2028), Some(date(2028, 2, 29)));
        leap_day.from_year = Some(2030);
        assert_eq!(leap_day.closed_date_in(2028), None);
        let fifth_monday = rule(
            parse_weekday_of_month("fifth monday of february").unwrap(),
            Observed::OnTheDay,
        );
        assert_eq!(fifth_monday.closed_date_in(2027), None);
        let last_monday_of_may = rule(
            parse_weekday_of_month("last mon of may").unwrap(),
            Observed::OnTheDay,
        );
        assert_eq!(
            last_monday_of_may.closed_date_in(2026),
            Some(date(2026, 5, 25))
        );
        let once = rule(HolidayDate::Once(date(2026, 12, 24)), Observed::OnTheDay);
        assert_eq!(once.closed_date_in(2026), Some(date(2026, 12, 24)));
        assert_eq!(once.closed_date_in(2027), None);
    }

    #[test]
    fn parse_errors_say_what_to_write() {
        assert!(parse_month_day("13-01").is_err());
        assert!(parse_month_day("02-30").is_err());
        assert!(parse_month_day("02-29").is_ok());
        assert!(parse_weekday_of_month("first monday september").is_err());
        assert!(parse_weekday_of_month("sixth monday of may").is_err());
        assert_eq!("nearest_weekday".parse(), Ok(Observed::NearestWeekday));
        assert_eq!("next monday".parse(), Ok(Observed::NextMonday));
        assert!("sometimes".parse::<Observed>().is_err());
    }
}
