//! Art. 7(2), 8: the keys a usage record's identifying parts are sealed
//! with — one data key per person and key period — and the keyed lookup
//! tags they are found by, never the clear job seeker id.
//!
//! The key period is the calendar month (UTC), the period device
//! pseudonyms rotate by ([`super::anonymize::PseudonymSecret`]), and it is
//! not configurable on purpose: one tag per person per month links no more
//! of a person's records than the month's device pseudonym already does; a
//! finer period would multiply keys and erasure look-ups without hiding
//! more, a coarser one would link a person's records over more time. A
//! month also bounds how late retention shreds (at most one period after
//! the retention ends) and keeps an erasure to a dozen or so look-ups.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// The label the subject secret is derived from the pseudonym secret with,
/// so a tag is never a pseudonym of another kind.
pub(crate) const SUBJECT_LABEL: &[u8] = b"hellowork.auditlog.subject-tag";

/// A key period: one calendar month, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyPeriod {
    year: i32,
    month: u32,
}

impl KeyPeriod {
    /// The period containing `at`.
    pub fn of(at: DateTime<Utc>) -> Self {
        Self {
            year: at.year(),
            month: at.month(),
        }
    }

    /// Its first instant.
    pub fn start(self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(self.year, self.month, 1, 0, 0, 0)
            .single()
            .expect("the first of a month at midnight UTC exists")
    }

    /// The first instant after it.
    pub fn end(self) -> DateTime<Utc> {
        self.next().start()
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The periods overlapping `[start, end)`, oldest first; none if empty.
    pub fn overlapping(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<Self> {
        let mut periods = Vec::new();
        if start >= end {
            return periods;
        }
        let mut period = Self::of(start);
        while period.start() < end {
            periods.push(period);
            period = period.next();
        }
        periods
    }

    /// `2024-05`: the label pseudonyms and data key ids carry.
    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// A keyed lookup tag: HMAC-SHA256, 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubjectTag(pub [u8; 32]);

impl std::fmt::Debug for SubjectTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectTag(..)")
    }
}

impl SubjectTag {
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }
}

/// Art. 7(2), 8: the secret lookup tags are computed under, derived from
/// the pseudonym secret with a label of its own.
#[derive(Clone)]
pub struct SubjectSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for SubjectSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectSecret(<redacted>)")
    }
}

impl SubjectSecret {
    pub(crate) fn new(secret: Zeroizing<Vec<u8>>) -> Self {
        Self(secret)
    }

    fn mac(&self, parts: &[&[u8]]) -> SubjectTag {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("hmac takes any key");
        for part in parts {
            mac.update(part);
        }
        SubjectTag(mac.finalize().into_bytes().into())
    }

    /// Art. 7(2): HMAC("subject" || period || job seeker id). The period
    /// label has a fixed length, so the concatenation is unambiguous.
    pub fn tag(&self, period: KeyPeriod, job_seeker_id: &str) -> SubjectTag {
        self.mac(&[
            b"subject",
            period.label().as_bytes(),
            job_seeker_id.as_bytes(),
        ])
    }

    /// The tag of the period's key for records of no signed-in person:
    /// HMAC("anonymous" || period), never equal to a person's.
    pub fn anonymous_tag(&self, period: KeyPeriod) -> SubjectTag {
        self.mac(&[b"anonymous", period.label().as_bytes()])
    }

    /// The tag of the key sealing a record of `job_seeker_id` (empty: no
    /// person) in `period`.
    pub fn key_tag(&self, period: KeyPeriod, job_seeker_id: &str) -> SubjectTag {
        if job_seeker_id.is_empty() {
            self.anonymous_tag(period)
        } else {
            self.tag(period, job_seeker_id)
        }
    }
}

/// The field a job seeker id is sealed as: bound to its record, so a
/// sealed value moved to another record does not open.
pub fn job_seeker_field(record_id: &str) -> String {
    format!("job_seeker_id/{record_id}")
}

/// The field device identifiers are sealed as, bound to their record.
pub fn device_field(record_id: &str) -> String {
    format!("device/{record_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secret() -> SubjectSecret {
        SubjectSecret::new(Zeroizing::new(b"secret".to_vec()))
    }

    #[test]
    fn a_period_is_a_calendar_month_and_the_overlap_lists_every_one_touched() {
        let may = Utc.with_ymd_and_hms(2024, 5, 31, 23, 59, 59).unwrap();
        let period = KeyPeriod::of(may);
        assert_eq!(period.label(), "2024-05");
        assert_eq!(
            period.start(),
            Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            period.end(),
            Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()
        );
        let december = KeyPeriod::of(Utc.with_ymd_and_hms(2024, 12, 9, 0, 0, 0).unwrap());
        assert_eq!(december.next().label(), "2025-01");
        let labels: Vec<String> = KeyPeriod::overlapping(may, december.end())
            .into_iter()
            .map(KeyPeriod::label)
            .collect();
        assert_eq!(labels.len(), 8);
        assert_eq!(labels.first().unwrap(), "2024-05");
        assert_eq!(labels.last().unwrap(), "2024-12");
        // Half-open: a range ending on a period's first instant does not touch it.
        assert_eq!(
            KeyPeriod::overlapping(period.start(), period.end()).len(),
            1
        );
        assert!(KeyPeriod::overlapping(may, may).is_empty());
    }

    #[test]
    fn tags_differ_across_periods_persons_secrets_and_the_anonymous_key() {
        let may = KeyPeriod::of(Utc.with_ymd_and_hms(2024, 5, 3, 0, 0, 0).unwrap());
        let june = may.next();
        let s = secret();
        let tag = s.tag(may, "p1");
        assert_eq!(tag, s.tag(may, "p1"));
        assert_ne!(tag, s.tag(june, "p1"));
        assert_ne!(tag, s.tag(may, "p2"));
        assert_ne!(tag, s.anonymous_tag(may));
        assert_ne!(s.anonymous_tag(may), s.anonymous_tag(june));
        assert_eq!(s.key_tag(may, ""), s.anonymous_tag(may));
        assert_eq!(s.key_tag(may, "p1"), tag);
        let other = SubjectSecret::new(Zeroizing::new(b"other".to_vec()));
        assert_ne!(tag, other.tag(may, "p1"));
    }

    fn period() -> impl Strategy<Value = KeyPeriod> {
        (2000i32..2100, 1u32..=12).prop_map(|(year, month)| KeyPeriod { year, month })
    }

    proptest! {
        #[test]
        fn tags_are_deterministic_and_collide_only_for_the_same_person_and_period(
            a in period(), b in period(), p in "[a-z0-9-]{1,40}", q in "[a-z0-9-]{1,40}",
        ) {
            let s = secret();
            prop_assert_eq!(s.tag(a, &p), s.tag(a, &p));
            prop_assert_eq!(s.tag(a, &p) == s.tag(b, &q), a == b && p == q);
            prop_assert_ne!(s.tag(a, &p), s.anonymous_tag(b));
        }

        #[test]
        fn every_instant_lies_in_its_period(seconds in 946_684_800i64..4_102_444_800) {
            let at = DateTime::from_timestamp(seconds, 0).unwrap();
            let period = KeyPeriod::of(at);
            prop_assert!(period.start() <= at && at < period.end());
            prop_assert_eq!(KeyPeriod::overlapping(at, at + chrono::Duration::seconds(1)), vec![period]);
        }
    }
}
