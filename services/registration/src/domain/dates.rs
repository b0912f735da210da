//! Calendar dates as the contract's `Date` message and back.

use chrono::{Datelike, NaiveDate};
use hellowork_proto::registration::v1 as proto;

/// `date` as the contract's message.
pub fn message(date: NaiveDate) -> proto::Date {
    proto::Date {
        year: date.year(),
        month: i32::try_from(date.month()).unwrap_or_default(),
        day: i32::try_from(date.day()).unwrap_or_default(),
    }
}

/// The date a message names; `None` if it is no calendar date.
pub fn of(date: &proto::Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        date.year,
        u32::try_from(date.month).ok()?,
        u32::try_from(date.day).ok()?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_non_dates_are_none() {
        let date = NaiveDate::from_ymd_opt(1990, 4, 1).unwrap();
        assert_eq!(of(&message(date)), Some(date));
        assert_eq!(of(&proto::Date::default()), None);
        assert_eq!(
            of(&proto::Date {
                year: 2026,
                month: 2,
                day: 30
            }),
            None
        );
    }
}
