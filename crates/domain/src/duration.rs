//! Amounts of business time as the policy writes them: "2h", "4 hours", "2d", "1d 4h", "90m".
//!
//! Business days are kept apart from hours and minutes because their length depends on the
//! calendar (POLICY.md §2: on `americas` a business day is 9 hours, on a 24x5 calendar 24).

use std::fmt;
use std::str::FromStr;

/// Whole business days plus business minutes. Converted to minutes only against a calendar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BusinessDuration {
    pub days: u32,
    pub minutes: u32,
}

impl BusinessDuration {
    pub const fn from_minutes(minutes: u32) -> Self {
        Self { days: 0, minutes }
    }

    pub const fn from_days(days: u32) -> Self {
        Self { days, minutes: 0 }
    }

    pub fn is_zero(&self) -> bool {
        self.days == 0 && self.minutes == 0
    }

    /// The duration as a cadence: "every business day", "every 2 business days".
    pub fn as_cadence(&self) -> String {
        if *self == Self::from_days(1) {
            "every business day".to_string()
        } else if *self == Self::from_minutes(60) {
            "every business hour".to_string()
        } else {
            format!("every {self}")
        }
    }

    /// Open minutes on a calendar whose business day lasts `business_day_minutes`.
    pub fn minutes_on(&self, business_day_minutes: u32) -> u64 {
        u64::from(self.days) * u64::from(business_day_minutes) + u64::from(self.minutes)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseDurationError {
    #[error("a duration is empty; write for example \"4h\", \"2d\" or \"1d 4h\"")]
    Empty,
    #[error("\"{0}\" is not a number followed by a unit (m, h or d)")]
    Malformed(String),
    #[error("unknown unit \"{0}\"; use m (minutes), h (hours) or d (business days)")]
    UnknownUnit(String),
    #[error("the duration is too large")]
    TooLarge,
}

impl FromStr for BusinessDuration {
    type Err = ParseDurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ParseDurationError::Empty);
        }
        let mut result = BusinessDuration::default();
        // Whitespace and commas both separate words, so "1d, 4h" and "1d 4h" read the same.
        let mut words = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|word| !word.is_empty());
        while let Some(number_word) = words.next() {
            let split = number_word
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(number_word.len());
            let (digits, attached_unit) = number_word.split_at(split);
            if digits.is_empty() {
                return Err(ParseDurationError::Malformed(number_word.to_string()));
            }
            let amount: u32 = digits.parse().map_err(|_| ParseDurationError::TooLarge)?;
            let mut unit = attached_unit.to_ascii_lowercase();
            if unit.is_empty() {
                unit = words
                    .next()
                    .ok_or_else(|| ParseDurationError::Malformed(text.to_string()))?
                    .to_ascii_lowercase();
            }
            // "2 business days": the word "business" is decoration.
            if unit == "business" {
                unit = words
                    .next()
                    .ok_or_else(|| ParseDurationError::Malformed(text.to_string()))?
                    .to_ascii_lowercase();
            }
            let minutes_per_unit = match unit.as_str() {
                "m" | "min" | "mins" | "minute" | "minutes" => Some(1),
                "h" | "hr" | "hrs" | "hour" | "hours" => Some(60),
                "d" | "day" | "days" => None,
                other => return Err(ParseDurationError::UnknownUnit(other.to_string())),
            };
            match minutes_per_unit {
                Some(factor) => {
                    let minutes = amount
                        .checked_mul(factor)
                        .and_then(|m| m.checked_add(result.minutes))
                        .ok_or(ParseDurationError::TooLarge)?;
                    result.minutes = minutes;
                }
                None => {
                    result.days = result
                        .days
                        .checked_add(amount)
                        .ok_or(ParseDurationError::TooLarge)?;
                }
            }
        }
        Ok(result)
    }
}

impl fmt::Display for BusinessDuration {
    /// The readable form used in tables: "2 business days", "4 business hours", "1 business day 30 min".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if self.days > 0 {
            let unit = if self.days == 1 { "day" } else { "days" };
            parts.push(format!("{} business {unit}", self.days));
        }
        let hours = self.minutes / 60;
        let minutes = self.minutes % 60;
        if hours > 0 {
            let unit = if hours == 1 { "hour" } else { "hours" };
            if self.days > 0 {
                parts.push(format!("{hours} {unit}"));
            } else {
                parts.push(format!("{hours} business {unit}"));
            }
        }
        if minutes > 0 || parts.is_empty() {
            parts.push(format!("{minutes} min"));
        }
        f.write_str(&parts.join(" "))
    }
}

impl<'de> serde::Deserialize<'de> for BusinessDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_short_and_long_forms() {
        assert_eq!("2h".parse(), Ok(BusinessDuration::from_minutes(120)));
        assert_eq!("4 hours".parse(), Ok(BusinessDuration::from_minutes(240)));
        assert_eq!("2d".parse(), Ok(BusinessDuration::from_days(2)));
        assert_eq!(
            "15 business days".parse(),
            Ok(BusinessDuration::from_days(15))
        );
        assert_eq!("1 day".parse(), Ok(BusinessDuration::from_days(1)));
        assert_eq!(
            "1d 4h 30m".parse(),
            Ok(BusinessDuration {
                days: 1,
                minutes: 270
            })
        );
        assert_eq!("90 min".parse(), Ok(BusinessDuration::from_minutes(90)));
        assert_eq!("0m".parse(), Ok(BusinessDuration::from_minutes(0)));
    }

    #[test]
    fn refuses_nonsense_with_a_reason() {
        assert_eq!(
            "".parse::<BusinessDuration>(),
            Err(ParseDurationError::Empty)
        );
        assert_eq!(
            "2 weeks".parse::<BusinessDuration>(),
            Err(ParseDurationError::UnknownUnit("weeks".into()))
        );
        assert_eq!(
            "h".parse::<BusinessDuration>(),
            Err(ParseDurationError::Malformed("h".into()))
        );
        assert_eq!(
            "-2h".parse::<BusinessDuration>(),
            Err(ParseDurationError::Malformed("-2h".into()))
        );
        assert_eq!(
            "4".parse::<BusinessDuration>(),
            Err(ParseDurationError::Malformed("4".into()))
        );
        assert_eq!(
            "99999999999h".parse::<BusinessDuration>(),
            Err(ParseDurationError::TooLarge)
        );
    }

    #[test]
    fn converts_days_with_the_calendar_business_day() {
        // POLICY.md §2: americas, 2 business days = 18 business hours.
        assert_eq!(BusinessDuration::from_days(2).minutes_on(9 * 60), 18 * 60);
        assert_eq!(BusinessDuration::from_days(2).minutes_on(24 * 60), 48 * 60);
    }

    #[test]
    fn displays_readably() {
        assert_eq!(
            BusinessDuration::from_days(2).to_string(),
            "2 business days"
        );
        assert_eq!(BusinessDuration::from_days(1).to_string(), "1 business day");
        assert_eq!(
            BusinessDuration::from_minutes(120).to_string(),
            "2 business hours"
        );
        assert_eq!(
            BusinessDuration::from_minutes(90).to_string(),
            "1 business hour 30 min"
        );
        assert_eq!(BusinessDuration::from_minutes(0).to_string(), "0 min");
        assert_eq!(
            BusinessDuration::from_days(1).as_cadence(),
            "every business day"
        );
        assert_eq!(
            BusinessDuration::from_days(2).as_cadence(),
            "every 2 business days"
        );
    }
}
