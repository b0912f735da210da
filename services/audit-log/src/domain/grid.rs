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
mod tests;
