//! Dates are civil dates in Asia/Tokyo, where the office is.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// Japan has no daylight saving time, so a fixed +09:00 offset is exact.
const TOKYO_OFFSET_SECONDS: i32 = 9 * 3600;

/// The calendar date in Asia/Tokyo at `at`.
pub fn tokyo_date(at: DateTime<Utc>) -> NaiveDate {
    let tokyo = FixedOffset::east_opt(TOKYO_OFFSET_SECONDS).expect("+09:00 is a valid offset");
    at.with_timezone(&tokyo).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tokyo_date_turns_at_15_utc() {
        let before = "2026-03-31T14:59:59Z".parse().unwrap();
        let after = "2026-03-31T15:00:00Z".parse().unwrap();
        assert_eq!(
            tokyo_date(before),
            NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()
        );
        assert_eq!(
            tokyo_date(after),
            NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()
        );
    }
}
