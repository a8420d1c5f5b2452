//! Parsing of the values users type, with messages that say what to write instead.

use caredesk_domain::calendar::Calendar;
use jiff::Timestamp;
use jiff::tz::Offset;

/// An instant in RFC 3339 with an offset: 2026-09-04T16:30:00-04:00 or 2026-09-04T20:30:00Z.
pub fn instant(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    text.parse::<Timestamp>().map_err(|_| {
        format!(
            "\"{text}\" is not an RFC 3339 instant with an offset, such as 2026-09-04T16:30:00-04:00"
        )
    })
}

/// A whole, non-negative number of business minutes.
pub fn minutes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!("\"{text}\" is not a whole number of minutes"));
    }
    if text.starts_with('-') && digits.bytes().any(|byte| byte != b'0') {
        return Err(format!("{text} is negative; minutes must be 0 or more"));
    }
    digits
        .parse::<u64>()
        .map_err(|_| format!("{text} minutes is too many"))
}

/// A pause written FROM/TO, two RFC 3339 instants.
pub fn pause(text: &str) -> Result<(Timestamp, Timestamp), String> {
    let (from, to) = text.split_once('/').ok_or_else(|| {
        format!("\"{text}\" is not a pause; write FROM/TO with two RFC 3339 instants")
    })?;
    let (from, to) = (instant(from)?, instant(to)?);
    if to < from {
        return Err(format!("the pause \"{text}\" ends before it starts"));
    }
    Ok((from, to))
}

/// An instant printed in RFC 3339 with the given local offset.
pub fn rfc3339(at: Timestamp, offset: Offset) -> String {
    at.display_with_offset(offset).to_string()
}

/// RFC 3339 with the calendar's local offset at that instant.
pub fn local_rfc3339(calendar: &Calendar, at: Timestamp) -> String {
    rfc3339(at, calendar.time_zone().to_offset(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_need_an_offset() {
        assert!(instant("2026-09-04T16:30:00-04:00").is_ok());
        assert!(instant("2026-09-04T20:30:00Z").is_ok());
        let error = instant("2026-09-04T16:30:00").unwrap_err();
        assert!(error.contains("RFC 3339"), "{error}");
        assert!(instant("2026-13-04T16:30:00Z").is_err());
    }

    #[test]
    fn minutes_are_whole_and_not_negative() {
        assert_eq!(minutes("120"), Ok(120));
        assert_eq!(minutes("0"), Ok(0));
        assert!(minutes("-5").unwrap_err().contains("negative"));
        assert!(minutes("1.5").unwrap_err().contains("whole number"));
        assert!(minutes("").is_err());
        assert!(
            minutes("99999999999999999999999999999999999999999")
                .unwrap_err()
                .contains("too many")
        );
        assert_eq!(minutes("-0"), Ok(0));
    }

    #[test]
    fn pauses_are_ordered_pairs() {
        assert!(pause("2026-09-04T10:00:00Z/2026-09-04T11:00:00Z").is_ok());
        assert!(pause("2026-09-04T11:00:00Z/2026-09-04T10:00:00Z").is_err());
        assert!(pause("2026-09-04T11:00:00Z").is_err());
    }
}
