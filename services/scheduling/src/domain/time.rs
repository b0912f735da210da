//! Times are stored as UTC instants; dates are civil dates in Asia/Tokyo,
//! where the office is (Art. 1: times shown in Asia/Tokyo).

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

/// Japan has no daylight saving time, so a fixed +09:00 offset is exact.
const TOKYO_OFFSET_SECONDS: i32 = 9 * 3600;

fn tokyo() -> FixedOffset {
    FixedOffset::east_opt(TOKYO_OFFSET_SECONDS).expect("+09:00 is a valid offset")
}

/// The calendar date in Asia/Tokyo at `at`.
pub fn tokyo_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&tokyo()).date_naive()
}

/// The UTC instants where the Asia/Tokyo `date` begins and ends.
pub fn tokyo_day_bounds(date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = tokyo()
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .single()
        .expect("a fixed offset is unambiguous")
        .with_timezone(&Utc);
    (start, start + chrono::Duration::days(1))
}

/// An instant as a protobuf timestamp.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or_default(),
    }
}

/// A protobuf timestamp as an instant; `None` if unset or out of range.
pub fn to_datetime(at: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    let at = at?;
    DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tokyo_date_turns_at_15_utc() {
        let before: DateTime<Utc> = "2026-03-31T14:59:59Z".parse().unwrap();
        let after: DateTime<Utc> = "2026-03-31T15:00:00Z".parse().unwrap();
        assert_eq!(
            tokyo_date(before),
            NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()
        );
        assert_eq!(
            tokyo_date(after),
            NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()
        );
        let (start, end) = tokyo_day_bounds(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
        assert_eq!(start, after);
        assert_eq!(end - start, chrono::Duration::days(1));
    }
}
