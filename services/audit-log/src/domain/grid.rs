//! Art. 7(2): the slot grid the usage statistics are published on.
//!
//! A statistic counts the records and persons of one slot, offering and
//! device class. If a caller could choose where a counted span begins or
//! ends, two ranges one second apart would differ by the records of that
//! second, and the difference could single out one person. So every count
//! is of a whole slot of a fixed grid, and a request names whole slots:
//!
//! - **Lengths from a fixed chain** ([`SlotLengths`]): the configured slot
//!   (`HELLOWORK_AUDITLOG_SLOT`, default 1h, which must divide a day) and
//!   each of 1h, 1d and 7d that is a multiple of it. Each length divides the
//!   next and the grids are aligned, so a slot of one length is exactly the
//!   union of the slots of every shorter length inside it: the nesting
//!   [`super::kanon`] reasons about.
//! - **UTC grids**: lengths up to a day start at the Unix epoch (as the
//!   access-log views' slots, [`super::time::slot_of`]), 7d on Mondays
//!   00:00 UTC (ISO weeks). UTC because the key period of the subject tags
//!   persons are counted by is the calendar month in UTC: no slot of a day
//!   or less crosses a month, so its persons are counted exactly; a week may
//!   (see `crate::statistics`).
//! - **Whole slots only**: a range must begin and end on the grid of its
//!   length; it covers at most [`MAX_SLOTS`] slots and at most
//!   [`MAX_FINE_SLOTS`] slots of the finest length (a coarse slot's
//!   suppression looks at every finer slot inside it), so the memory of a
//!   request is bounded by its grid, never by the records counted.

use std::{fmt, ops::Range};

use chrono::{DateTime, Utc};
use hellowork_platform::Article;

/// The article every rule of this module serves.
pub const ART_7_2: Article = Article::Art7_2;

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;
/// Monday 1970-01-05 00:00 UTC, four days after the epoch (a Thursday).
const WEEK_ORIGIN: i64 = 4 * DAY;

/// Most slots one request may cover (and so at most 20 times as many cells
/// in its answer).
pub const MAX_SLOTS: i64 = 2000;
/// Most slots of the finest length under one request's slots: one week of
/// one-minute slots, 14 months of hours.
pub const MAX_FINE_SLOTS: i64 = 10_080;

/// A slot length of the grid, in whole seconds; only
/// [`SlotLength::configured`] and the fixed lengths exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotLength(i64);

impl SlotLength {
    pub const HOUR: Self = Self(HOUR);
    pub const DAY: Self = Self(DAY);
    pub const WEEK: Self = Self(WEEK);

    /// The configured (finest) slot: at least a minute and dividing a day,
    /// so that days, and so weeks, are whole numbers of it.
    pub fn configured(seconds: i64) -> Option<Self> {
        ((MINUTE..=DAY).contains(&seconds) && DAY % seconds == 0).then_some(Self(seconds))
    }

    pub fn seconds(self) -> i64 {
        self.0
    }

    pub fn duration(self) -> chrono::Duration {
        chrono::Duration::seconds(self.0)
    }

    /// Where the grid starts, in seconds after the Unix epoch.
    pub fn origin(self) -> i64 {
        if self.0 > DAY { WEEK_ORIGIN } else { 0 }
    }

    /// The index of the slot containing `at`.
    pub fn slot_of(self, at: DateTime<Utc>) -> i64 {
        (at.timestamp() - self.origin()).div_euclid(self.0)
    }

    /// The first instant of slot `slot`.
    pub fn start(self, slot: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(slot * self.0 + self.origin(), 0)
            .expect("a slot between two valid instants starts at a valid instant")
    }

    /// Whether `at` is a slot boundary of this grid.
    pub fn on_grid(self, at: DateTime<Utc>) -> bool {
        at.timestamp_subsec_nanos() == 0 && (at.timestamp() - self.origin()).rem_euclid(self.0) == 0
    }

    /// How the grid is anchored, for messages.
    fn anchor(self) -> &'static str {
        if self.origin() == 0 {
            "1970-01-01T00:00:00Z"
        } else {
            "Monday 1970-01-05T00:00:00Z"
        }
    }
}

impl fmt::Display for SlotLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s % DAY == 0 {
            write!(f, "{}d", s / DAY)
        } else if s % HOUR == 0 {
            write!(f, "{}h", s / HOUR)
        } else if s % MINUTE == 0 {
            write!(f, "{}min", s / MINUTE)
        } else {
            write!(f, "{s}s")
        }
    }
}

/// Art. 7(2): the slot lengths the statistics are offered in, finest (the
/// configured slot) first, each dividing the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotLengths(Vec<SlotLength>);

impl SlotLengths {
    /// The configured slot and every fixed length (1h, 1d, 7d) that is a
    /// longer multiple of it.
    pub fn new(finest: SlotLength) -> Self {
        let mut chain = vec![finest];
        for coarser in [SlotLength::HOUR, SlotLength::DAY, SlotLength::WEEK] {
            let last = *chain.last().expect("never empty");
            if coarser.0 > last.0 && coarser.0 % last.0 == 0 {
                chain.push(coarser);
            }
        }
        debug_assert!(chain.windows(2).all(|w| w[1].0 % w[0].0 == 0));
        Self(chain)
    }

    pub fn finest(&self) -> SlotLength {
        self.0[0]
    }

    pub fn all(&self) -> &[SlotLength] {
        &self.0
    }

    /// The lengths up to and including `length`, finest first.
    fn up_to(&self, length: SlotLength) -> Vec<SlotLength> {
        self.0.iter().copied().filter(|l| *l <= length).collect()
    }

    /// Most slots of `length` one request may cover: [`MAX_SLOTS`], fewer
    /// where they would hold more than [`MAX_FINE_SLOTS`] finest slots.
    pub fn max_slots(&self, length: SlotLength) -> i64 {
        MAX_SLOTS.min(MAX_FINE_SLOTS / (length.0 / self.finest().0))
    }

    /// The length asked for as a protobuf `Duration` (seconds, nanos); none
    /// means the configured slot.
    pub fn resolve(&self, requested: Option<(i64, i32)>) -> Result<SlotLength, QueryError> {
        let Some((seconds, nanos)) = requested else {
            return Ok(self.finest());
        };
        self.0
            .iter()
            .copied()
            .find(|l| nanos == 0 && l.0 == seconds)
            .ok_or_else(|| QueryError::LengthNotOffered {
                offered: self.to_string(),
            })
    }
}

impl fmt::Display for SlotLengths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => write!(f, "{} or {last}", rest.join(", ")),
            _ => f.write_str(&names.join("")),
        }
    }
}

/// Why a statistics request is refused; every variant but `Empty` is a rule
/// of Art. 7(2) ([`QueryError::article`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Art. 7(2): counts are published in a fixed set of slot lengths.
    #[error(
        "must be one of {offered} ({ART_7_2}: statistics are published per whole slot of these lengths)"
    )]
    LengthNotOffered { offered: String },
    /// Art. 7(2): a range begins on a slot boundary of its length.
    #[error("{}", off_grid(*.length, *.at))]
    StartOffGrid {
        length: SlotLength,
        at: DateTime<Utc>,
    },
    /// Art. 7(2): a range ends on a slot boundary of its length.
    #[error("{}", off_grid(*.length, *.at))]
    EndOffGrid {
        length: SlotLength,
        at: DateTime<Utc>,
    },
    /// Art. 7(2) (and bounded work): at most so many slots per request.
    #[error(
        "covers {slots} slots of {length}, more than the {max} one request may ({ART_7_2}: ask for consecutive ranges instead, they agree on every slot)"
    )]
    TooManySlots {
        length: SlotLength,
        slots: i64,
        max: i64,
    },
    #[error("must be after start_time")]
    Empty,
}

fn off_grid(length: SlotLength, at: DateTime<Utc>) -> String {
    let rule = format!(
        "must be on the {length} slot grid, a whole number of {length} from {} ({ART_7_2}: \
         statistics count whole slots)",
        length.anchor(),
    );
    // The boundaries around `at`, unless they are beyond what a timestamp
    // can hold.
    let before = DateTime::from_timestamp(length.slot_of(at) * length.0 + length.origin(), 0);
    match before.and_then(|b| Some((b, b.checked_add_signed(length.duration())?))) {
        Some((before, after)) => format!(
            "{rule}, e.g. {} or {}",
            before.format("%Y-%m-%dT%H:%M:%SZ"),
            after.format("%Y-%m-%dT%H:%M:%SZ"),
        ),
        None => rule,
    }
}

impl QueryError {
    /// The article the refusal cites, if it is a rule of the terms.
    pub fn article(&self) -> Option<Article> {
        match self {
            Self::Empty => None,
            _ => Some(ART_7_2),
        }
    }

    /// The request field it concerns.
    pub fn field(&self) -> &'static str {
        match self {
            Self::LengthNotOffered { .. } => "slot_length",
            Self::StartOffGrid { .. } => "time_range.start_time",
            Self::EndOffGrid { .. } | Self::Empty => "time_range.end_time",
            Self::TooManySlots { .. } => "time_range",
        }
    }
}

/// Art. 7(2): a valid statistics request — whole slots of an offered
/// length, no more than a request may cover. It exists only through
/// [`Query::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Finest first, up to and including the requested length.
    levels: Vec<SlotLength>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Query {
    /// Every violation of `[start, end)` in slots of `length` (an offered
    /// one, from [`SlotLengths::resolve`]).
    pub fn new(
        lengths: &SlotLengths,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        length: SlotLength,
    ) -> Result<Self, Vec<QueryError>> {
        debug_assert!(lengths.all().contains(&length));
        if start >= end {
            return Err(vec![QueryError::Empty]);
        }
        let mut errors = Vec::new();
        if !length.on_grid(start) {
            errors.push(QueryError::StartOffGrid { length, at: start });
        }
        if !length.on_grid(end) {
            errors.push(QueryError::EndOffGrid { length, at: end });
        }
        let first = length.slot_of(start);
        let last = length.slot_of(end - chrono::Duration::nanoseconds(1));
        let slots = last - first + 1;
        let max = lengths.max_slots(length);
        if slots > max {
            errors.push(QueryError::TooManySlots { length, slots, max });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            levels: lengths.up_to(length),
            start,
            end,
        })
    }

    /// The requested length.
    pub fn length(&self) -> SlotLength {
        *self.levels.last().expect("never empty")
    }

    /// The lengths the suppression decides, finest first, the requested
    /// one last.
    pub fn levels(&self) -> &[SlotLength] {
        &self.levels
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// The slots of `length` (one of [`Query::levels`]) the range covers:
    /// exactly, as the range is on the grid of every level.
    pub fn slots(&self, length: SlotLength) -> Range<i64> {
        debug_assert!(self.levels.contains(&length));
        length.slot_of(self.start)..length.slot_of(self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
    }

    fn hourly() -> SlotLengths {
        SlotLengths::new(SlotLength::configured(3600).unwrap())
    }

    #[test]
    fn the_configured_slot_divides_a_day() {
        for seconds in [60, 80, 900, 1800, 3600, 5400, 7200, 86_400] {
            assert!(SlotLength::configured(seconds).is_some(), "{seconds}");
        }
        for seconds in [0, -3600, 59, 7 * 60, 5000, 2 * 86_400, 604_800] {
            assert!(SlotLength::configured(seconds).is_none(), "{seconds}");
        }
    }

    #[test]
    fn the_chain_holds_the_configured_slot_and_the_fixed_lengths_it_divides() {
        let names = |finest: i64| {
            SlotLengths::new(SlotLength::configured(finest).unwrap())
                .all()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(3600), ["1h", "1d", "7d"]);
        assert_eq!(names(1800), ["30min", "1h", "1d", "7d"]);
        assert_eq!(names(5400), ["90min", "1d", "7d"]);
        assert_eq!(names(7200), ["2h", "1d", "7d"]);
        assert_eq!(names(86_400), ["1d", "7d"]);
        assert_eq!(names(80), ["80s", "1h", "1d", "7d"]);
        assert_eq!(hourly().to_string(), "1h, 1d or 7d");
    }

    #[test]
    fn days_start_at_midnight_utc_and_weeks_on_mondays() {
        let wednesday = at(2026, 12, 2, 4, 29, 16);
        assert_eq!(
            SlotLength::DAY.start(SlotLength::DAY.slot_of(wednesday)),
            at(2026, 12, 2, 0, 0, 0)
        );
        let monday = SlotLength::WEEK.start(SlotLength::WEEK.slot_of(wednesday));
        assert_eq!(monday, at(2026, 11, 30, 0, 0, 0));
        assert_eq!(monday.format("%A").to_string(), "Monday");
        assert!(SlotLength::WEEK.on_grid(monday));
        assert!(!SlotLength::WEEK.on_grid(at(2026, 12, 3, 0, 0, 0)));
        assert!(SlotLength::HOUR.on_grid(at(2026, 12, 2, 4, 0, 0)));
        assert!(!SlotLength::HOUR.on_grid(at(2026, 12, 2, 4, 0, 1)));
        let nanos = at(2026, 12, 2, 4, 0, 0) + chrono::Duration::nanoseconds(1);
        assert!(!SlotLength::HOUR.on_grid(nanos));
        // Before the epoch too.
        assert!(SlotLength::HOUR.on_grid(at(1969, 12, 31, 23, 0, 0)));
        assert_eq!(SlotLength::HOUR.slot_of(at(1969, 12, 31, 23, 30, 0)), -1);
    }

    #[test]
    fn only_offered_lengths_in_whole_seconds_resolve() {
        let lengths = hourly();
        assert_eq!(lengths.resolve(None), Ok(SlotLength::HOUR));
        assert_eq!(lengths.resolve(Some((86_400, 0))), Ok(SlotLength::DAY));
        assert_eq!(lengths.resolve(Some((604_800, 0))), Ok(SlotLength::WEEK));
        for requested in [(1800, 0), (3600, 1), (3601, 0), (-3600, 0), (i64::MAX, 0)] {
            let error = lengths.resolve(Some(requested)).unwrap_err();
            assert_eq!(error.field(), "slot_length");
            assert!(error.to_string().contains("1h, 1d or 7d"), "{error}");
            assert_eq!(error.article(), Some(ART_7_2));
        }
    }

    #[test]
    fn a_range_off_the_grid_is_refused_naming_the_edge_and_the_grid() {
        let lengths = hourly();
        let start = at(2026, 12, 2, 4, 0, 0);
        let errors = Query::new(
            &lengths,
            start + chrono::Duration::seconds(1),
            start + chrono::Duration::hours(2) - chrono::Duration::seconds(1),
            SlotLength::HOUR,
        )
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(QueryError::field).collect();
        assert_eq!(fields, ["time_range.start_time", "time_range.end_time"]);
        let message = errors[0].to_string();
        assert!(message.contains("1h slot grid"), "{message}");
        assert!(message.contains("Art. 7(2)"), "{message}");
        assert!(
            message.contains("2026-12-02T04:00:00Z or 2026-12-02T05:00:00Z"),
            "{message}"
        );
        let week = Query::new(
            &lengths,
            start,
            start + chrono::Duration::days(7),
            SlotLength::WEEK,
        )
        .unwrap_err();
        assert!(week[0].to_string().contains("Monday"), "{}", week[0]);
        assert!(
            Query::new(
                &lengths,
                start,
                start + chrono::Duration::hours(2),
                SlotLength::HOUR
            )
            .is_ok()
        );
        assert_eq!(
            Query::new(&lengths, start, start, SlotLength::HOUR).unwrap_err(),
            [QueryError::Empty]
        );
    }

    #[test]
    fn ranges_at_the_ends_of_time_are_answered_or_refused_without_panicking() {
        let lengths = hourly();
        let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
        for length in lengths.all() {
            for (start, end) in [
                (min, min + chrono::Duration::days(1)),
                (min + chrono::Duration::seconds(1), max),
                (max - chrono::Duration::days(8), max),
            ] {
                match Query::new(&lengths, start, end, *length) {
                    Ok(query) => {
                        let slots = query.slots(*length);
                        assert!(length.start(slots.start) >= start);
                        assert!(length.start(slots.end - 1) < end);
                    }
                    Err(errors) => {
                        assert!(errors.iter().all(|e| e.article() == Some(ART_7_2)));
                        assert!(errors.iter().all(|e| !e.to_string().is_empty()));
                    }
                }
            }
        }
    }

    #[test]
    fn a_request_covers_a_bounded_number_of_slots() {
        let lengths = hourly();
        assert_eq!(lengths.max_slots(SlotLength::HOUR), 2000);
        assert_eq!(lengths.max_slots(SlotLength::DAY), 420);
        assert_eq!(lengths.max_slots(SlotLength::WEEK), 60);
        let start = at(2026, 11, 30, 0, 0, 0);
        for (length, max) in [
            (SlotLength::HOUR, 2000),
            (SlotLength::DAY, 420),
            (SlotLength::WEEK, 60),
        ] {
            let end = |n: i64| start + chrono::Duration::seconds(n * length.seconds());
            let query = Query::new(&lengths, start, end(max), length).unwrap();
            assert_eq!(query.slots(length).count() as i64, max);
            let errors = Query::new(&lengths, start, end(max + 1), length).unwrap_err();
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].field(), "time_range");
            assert!(
                errors[0]
                    .to_string()
                    .contains(&format!("more than the {max}"))
            );
        }
        // A one-minute slot still offers a week, one at a time.
        let minutes = SlotLengths::new(SlotLength::configured(60).unwrap());
        assert_eq!(minutes.max_slots(SlotLength::WEEK), 1);
    }

    #[test]
    fn a_query_decides_every_length_up_to_its_own() {
        let lengths = SlotLengths::new(SlotLength::configured(1800).unwrap());
        let start = at(2026, 11, 30, 0, 0, 0);
        let query = Query::new(
            &lengths,
            start,
            start + chrono::Duration::days(14),
            SlotLength::DAY,
        )
        .unwrap();
        assert_eq!(query.length(), SlotLength::DAY);
        assert_eq!(
            query.levels(),
            [
                SlotLength::configured(1800).unwrap(),
                SlotLength::HOUR,
                SlotLength::DAY
            ]
        );
        assert_eq!(query.slots(SlotLength::DAY).count(), 14);
        assert_eq!(query.slots(SlotLength::HOUR).count(), 14 * 24);
    }
}
