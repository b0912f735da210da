//! Date of birth: a real calendar date, in the past, of a plausible working
//! age.

use chrono::{Datelike, NaiveDate};

/// Youngest age at which a person may register: the Labour Standards Act
/// (Art. 56) bars employing children under 15.
pub const MIN_AGE_YEARS: u32 = 15;
/// Oldest plausible age; anything beyond is a typing error.
pub const MAX_AGE_YEARS: u32 = 120;

/// A validated date of birth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateOfBirth(NaiveDate);

impl DateOfBirth {
    /// `year`/`month`/`day` as sent; `today` is the Asia/Tokyo date of the
    /// command (time is an input, never read from a clock here).
    pub fn parse(year: i32, month: i32, day: i32, today: NaiveDate) -> Result<Self, String> {
        let date = u32::try_from(month)
            .ok()
            .zip(u32::try_from(day).ok())
            .and_then(|(month, day)| NaiveDate::from_ymd_opt(year, month, day))
            .ok_or_else(|| "must be a valid calendar date".to_owned())?;
        if date >= today {
            return Err("must be in the past".into());
        }
        let age = age_on(date, today);
        if age < MIN_AGE_YEARS {
            return Err(format!(
                "the person must be at least {MIN_AGE_YEARS} years old"
            ));
        }
        if age > MAX_AGE_YEARS {
            return Err(format!(
                "the person cannot be older than {MAX_AGE_YEARS} years"
            ));
        }
        Ok(Self(date))
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }
}

/// Completed years between `birth` and `today`.
fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    let had_birthday = (today.month(), today.day()) >= (birth.month(), birth.day());
    let years = today.year() - birth.year() - i32::from(!had_birthday);
    u32::try_from(years).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    #[test]
    fn a_working_age_birth_date_is_accepted() {
        assert!(DateOfBirth::parse(1990, 4, 1, today()).is_ok());
        assert!(
            DateOfBirth::parse(2011, 11, 25, today()).is_ok(),
            "15 today"
        );
        assert!(
            DateOfBirth::parse(1906, 11, 25, today()).is_ok(),
            "120 today"
        );
    }

    #[test]
    fn impossible_future_too_young_and_too_old_dates_are_refused() {
        assert!(
            DateOfBirth::parse(2001, 2, 29, today()).is_err(),
            "not a leap year"
        );
        assert!(DateOfBirth::parse(1990, 13, 1, today()).is_err());
        assert!(DateOfBirth::parse(1990, -1, 1, today()).is_err());
        assert!(DateOfBirth::parse(2027, 1, 1, today()).is_err(), "future");
        assert!(DateOfBirth::parse(2026, 11, 25, today()).is_err(), "today");
        assert!(DateOfBirth::parse(2011, 11, 26, today()).is_err(), "14");
        assert!(DateOfBirth::parse(1905, 11, 25, today()).is_err(), "121");
    }
}
