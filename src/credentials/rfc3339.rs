//! RFC 3339 timestamps, as MinKNOW writes them in its token file
//! (`2026-12-04T15:00:00.123456+00:00`, `...Z`, any offset).

use crate::calendar;

/// Parse an RFC 3339 date-time into milliseconds since the Unix epoch.
/// Returns `None` for anything that is not a valid RFC 3339 date-time.
pub fn parse_millis(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    if !(1..=12).contains(&month) || day < 1 || day > calendar::days_in_month(year, month) {
        return None;
    }
    // 60 is a leap second; treat it as the last second of the minute.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let (millis, rest) = fraction(&b[19..])?;
    let offset_minutes = offset(rest)?;
    let days = calendar::days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second.min(59);
    Some((seconds - offset_minutes * 60) * 1_000 + millis)
}

/// Format milliseconds since the epoch as RFC 3339 in UTC, for messages.
pub fn format_millis(millis: i64) -> String {
    calendar::format_unix_seconds(millis.div_euclid(1_000))
}

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
}

/// The optional `.fff...` part: milliseconds (extra digits are dropped)
/// and what follows it.
fn fraction(b: &[u8]) -> Option<(i64, &[u8])> {
    if b.first() != Some(&b'.') {
        return Some((0, b));
    }
    let count = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if count == 0 {
        return None;
    }
    let mut millis = 0;
    for i in 0..3 {
        let digit = if i < count { i64::from(b[1 + i] - b'0') } else { 0 };
        millis = millis * 10 + digit;
    }
    Some((millis, &b[1 + count..]))
}

/// `Z` or `±HH:MM`, in minutes east of UTC.
fn offset(b: &[u8]) -> Option<i64> {
    match b {
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hours = digits(&[*h1, *h2])?;
            let minutes = digits(&[*m1, *m2])?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let total = hours * 60 + minutes;
            Some(if *sign == b'-' { -total } else { total })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_796_396_400_000; // 2026-12-04T15:00:00Z

    #[test]
    fn utc_forms() {
        assert_eq!(parse_millis("2026-12-04T15:00:00Z"), Some(T));
        assert_eq!(parse_millis("2026-12-04t15:00:00z"), Some(T));
        assert_eq!(parse_millis("2026-12-04 15:00:00Z"), Some(T));
        assert_eq!(parse_millis("2026-12-04T15:00:00+00:00"), Some(T));
        assert_eq!(parse_millis("2026-12-04T15:00:00-00:00"), Some(T));
    }

    #[test]
    fn offsets_move_the_instant() {
        assert_eq!(parse_millis("2026-12-04T16:00:00+01:00"), Some(T));
        assert_eq!(parse_millis("2026-12-04T09:30:00-05:30"), Some(T));
        assert_eq!(parse_millis("2026-12-05T00:45:00+09:45"), Some(T));
    }

    #[test]
    fn fractional_seconds() {
        assert_eq!(parse_millis("2026-12-04T15:00:00.5Z"), Some(T + 500));
        assert_eq!(parse_millis("2026-12-04T15:00:00.123456+00:00"), Some(T + 123));
        assert_eq!(parse_millis("2026-12-04T15:00:00.999999999Z"), Some(T + 999));
    }

    #[test]
    fn epoch_and_leap_days() {
        assert_eq!(parse_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_millis("1969-12-31T23:59:59Z"), Some(-1_000));
        assert!(parse_millis("2024-02-29T00:00:00Z").is_some());
        assert!(parse_millis("2000-02-29T00:00:00Z").is_some());
        assert!(parse_millis("2100-02-29T00:00:00Z").is_none());
        assert!(parse_millis("2026-02-29T00:00:00Z").is_none());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "2026-12-04",
            "2026-12-04T15:00:00",
            "2026-12-04T15:00Z",
            "2026-13-04T15:00:00Z",
            "2026-12-32T15:00:00Z",
            "2026-12-04T24:00:00Z",
            "2026-12-04T15:60:00Z",
            "2026-12-04T15:00:00.Z",
            "2026-12-04T15:00:00+0100",
            "2026-12-04T15:00:00+24:00",
            "2026-12-04T15:00:00Zjunk",
            "2026/12/04T15:00:00Z",
            "２026-12-04T15:00:00Z",
            "+026-12-04T15:00:00Z",
        ] {
            assert_eq!(parse_millis(bad), None, "{bad:?} should be rejected");
        }
    }

    #[test]
    fn format_round_trips() {
        assert_eq!(format_millis(T), "2026-12-04T15:00:00Z");
        assert_eq!(format_millis(-1_000), "1969-12-31T23:59:59Z");
        assert_eq!(parse_millis(&format_millis(T + 86_400_000 * 400)), Some(T + 86_400_000 * 400));
    }
}
