//! Property tests of input parsing: names, contacts and dates of birth are
//! accepted exactly when valid, and parsing never panics.

use chrono::{Datelike, NaiveDate};
use hellowork_registration::domain::{Contact, DateOfBirth, EmailAddress, NamePart, PhoneNumber};
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

proptest! {
    /// Any text: an answer, never a panic; an accepted name is trimmed,
    /// non-empty and within the limit.
    #[test]
    fn names_never_panic_and_accepted_ones_are_clean(raw in "\\PC{0,80}") {
        if let Ok(part) = NamePart::parse(&raw) {
            prop_assert_eq!(part.as_str(), raw.trim());
            prop_assert!(!part.as_str().is_empty() && part.as_str().chars().count() <= 50);
            prop_assert!(!part.as_str().chars().any(|c| c.is_ascii_digit() || c.is_control()));
        }
    }

    /// Names in each script and width are accepted, with surrounding spaces.
    #[test]
    fn japanese_and_latin_names_are_accepted(
        name in prop_oneof![
            "[一-龥]{1,10}", "[ぁ-ゖ]{1,20}", "[ァ-ヺ]{1,20}", "[ｦ-ﾟ]{1,20}", "[A-Za-z]{1,30}", "[Ａ-Ｚａ-ｚ]{1,20}",
        ],
        pad in "[ \u{3000}]{0,3}",
    ) {
        let padded = format!("{pad}{name}{pad}");
        prop_assert_eq!(NamePart::parse(&padded).map(|n| n.as_str().to_owned()), Ok(name));
    }

    #[test]
    fn a_digit_anywhere_makes_a_name_invalid(prefix in "[A-Za-z山田]{0,5}", digit in "[0-9０-９]", suffix in "[A-Za-z]{0,5}") {
        let name = format!("{prefix}{digit}{suffix}");
        prop_assert!(NamePart::parse(&name).is_err());
    }

    #[test]
    fn well_formed_emails_are_accepted(local in "[a-z0-9]{1,10}([._+-][a-z0-9]{1,10})?", domain in "[a-z0-9]{1,10}", tld in "[a-z]{2,6}") {
        let email = format!("{local}@{domain}.{tld}");
        prop_assert!(EmailAddress::parse(&email).is_ok());
    }

    #[test]
    fn emails_without_exactly_one_at_sign_are_refused(raw in "[a-z.]{0,20}") {
        prop_assert!(EmailAddress::parse(&raw).is_err());
    }

    /// Domestic numbers in any grouping and width normalize to their digits.
    #[test]
    fn domestic_phone_numbers_normalize_to_digits(digits in "0[0-9]{9,10}", full_width in any::<bool>()) {
        let grouped = format!("{}-{}-{}", &digits[..3], &digits[3..6], &digits[6..]);
        let typed: String = if full_width {
            grouped.chars().map(|c| if c.is_ascii_digit() { char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap() } else { '－' }).collect()
        } else {
            grouped
        };
        prop_assert_eq!(PhoneNumber::parse(&typed).map(|p| p.as_str().to_owned()), Ok(digits));
    }

    #[test]
    fn too_short_or_lettered_numbers_are_refused(raw in "[0-9]{0,9}|0[0-9]{4}[a-z][0-9]{4}") {
        prop_assert!(PhoneNumber::parse(&raw).is_err());
    }

    #[test]
    fn contacts_are_valid_only_with_a_valid_way_to_reach(email in "|x@y\\.jp|bad", phone in "|0878118609|123") {
        let expected = !(email.is_empty() && phone.is_empty()) && email != "bad" && phone != "123";
        prop_assert_eq!(Contact::parse(&email, &phone).is_ok(), expected);
    }

    /// A date of birth is accepted exactly when it is a real date, in the
    /// past, and the person is 15-120 years old.
    #[test]
    fn dates_of_birth_are_accepted_exactly_at_working_age(year in 1880..2030i32, month in -1..14i32, day in -1..33i32) {
        let date = NaiveDate::from_ymd_opt(year, month.max(0) as u32, day.max(0) as u32).filter(|_| month > 0 && day > 0);
        let expected = date.is_some_and(|d| {
            let mut age = today().year() - d.year();
            if (today().month(), today().day()) < (d.month(), d.day()) { age -= 1; }
            d < today() && (15..=120).contains(&age)
        });
        prop_assert_eq!(DateOfBirth::parse(year, month, day, today()).is_ok(), expected);
    }
}
