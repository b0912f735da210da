//! Deciding, without I/O, what one group-commit batch writes.
//!
//! Concurrent appends are coalesced into one transaction. The batch must behave
//! exactly as if its appends had run one after another in arrival order: each
//! expected version is checked against the stream's head *including* earlier
//! appends of the same batch, and a retried append (same event ids) is answered
//! from what is already stored instead of being written twice.

use std::collections::HashMap;

use uuid::Uuid;

use crate::{
    error::AppendError,
    model::{AppendOutcome, ExpectedVersion, StreamId},
};

/// One append as the planner sees it.
#[derive(Debug, Clone)]
pub(crate) struct PlannedAppend<'a> {
    pub stream: &'a StreamId,
    pub expected: ExpectedVersion,
    pub event_ids: Vec<Uuid>,
}

/// Where an already stored event sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredAt {
    pub stream: String,
    pub version: u64,
}

/// What happens to one append of the batch.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Write its events as versions `first_version..`.
    Write { first_version: u64 },
    /// Nothing to write: the outcome is already decided (a replay or a refusal).
    Done(Result<AppendOutcome, AppendError>),
}

/// Plans a batch given each stream's committed head version (absent = no
/// stream) and the already stored events among the batch's event ids.
pub(crate) fn plan(
    appends: &[PlannedAppend<'_>],
    mut heads: HashMap<String, u64>,
    mut stored: HashMap<Uuid, StoredAt>,
) -> Vec<Verdict> {
    appends
        .iter()
        .map(|append| {
            let head = heads.get(append.stream.as_str()).copied().unwrap_or(0);
            if append.event_ids.iter().any(|id| stored.contains_key(id)) {
                return Verdict::Done(replay(append, &stored));
            }
            if !append.expected.accepts(head) {
                return Verdict::Done(Err(AppendError::WrongExpectedVersion {
                    stream: append.stream.clone(),
                    expected: append.expected,
                    actual: head,
                }));
            }
            for (offset, id) in append.event_ids.iter().enumerate() {
                let at = StoredAt {
                    stream: append.stream.as_str().to_owned(),
                    version: head + 1 + offset as u64,
                };
                stored.insert(*id, at);
            }
            heads.insert(
                append.stream.as_str().to_owned(),
                head + append.event_ids.len() as u64,
            );
            Verdict::Write {
                first_version: head + 1,
            }
        })
        .collect()
}

/// An append some of whose events are stored already: a harmless retry only if
/// all of them are, on this stream, consecutively and in the same order.
fn replay(
    append: &PlannedAppend<'_>,
    stored: &HashMap<Uuid, StoredAt>,
) -> Result<AppendOutcome, AppendError> {
    let first = &append.event_ids[0];
    let start = match stored.get(first) {
        Some(at) if at.stream == append.stream.as_str() => at.version,
        _ => return Err(AppendError::EventIdReused { event_id: *first }),
    };
    for (offset, id) in append.event_ids.iter().enumerate() {
        let expected_at = StoredAt {
            stream: append.stream.as_str().to_owned(),
            version: start + offset as u64,
        };
        if stored.get(id) != Some(&expected_at) {
            return Err(AppendError::EventIdReused { event_id: *id });
        }
    }
    Ok(AppendOutcome {
        stream_version: start + append.event_ids.len() as u64 - 1,
        already_recorded: true,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn stream(name: &str) -> StreamId {
        StreamId::new(name).unwrap()
    }

    fn ids(n: usize) -> Vec<Uuid> {
        (0..n).map(|_| Uuid::now_v7()).collect()
    }

    fn outcome(verdict: &Verdict) -> Option<u64> {
        match verdict {
            Verdict::Write { first_version } => Some(*first_version),
            Verdict::Done(_) => None,
        }
    }

    #[test]
    fn appends_to_one_stream_in_a_batch_see_each_other() {
        let s = stream("a-1");
        let appends = [
            PlannedAppend {
                stream: &s,
                expected: ExpectedVersion::NoStream,
                event_ids: ids(2),
            },
            PlannedAppend {
                stream: &s,
                expected: ExpectedVersion::Exact(2),
                event_ids: ids(1),
            },
        ];
        let verdicts = plan(&appends, HashMap::new(), HashMap::new());
        assert_eq!(outcome(&verdicts[0]), Some(1));
        assert_eq!(outcome(&verdicts[1]), Some(3));
    }

    #[test]
    fn the_second_writer_at_the_same_version_gets_the_actual_version() {
        let s = stream("a-1");
        let appends = [
            PlannedAppend {
                stream: &s,
                expected: ExpectedVersion::Exact(4),
                event_ids: ids(1),
            },
            PlannedAppend {
                stream: &s,
                expected: ExpectedVersion::Exact(4),
                event_ids: ids(1),
            },
        ];
        let heads = HashMap::from([("a-1".to_owned(), 4)]);
        let verdicts = plan(&appends, heads, HashMap::new());
        assert_eq!(outcome(&verdicts[0]), Some(5));
        assert!(matches!(
            verdicts[1],
            Verdict::Done(Err(AppendError::WrongExpectedVersion { actual: 5, .. }))
        ));
    }

    #[test]
    fn no_stream_fails_on_an_existing_stream() {
        let s = stream("a-1");
        let appends = [PlannedAppend {
            stream: &s,
            expected: ExpectedVersion::NoStream,
            event_ids: ids(1),
        }];
        let verdicts = plan(
            &appends,
            HashMap::from([("a-1".to_owned(), 1)]),
            HashMap::new(),
        );
        assert!(matches!(
            verdicts[0],
            Verdict::Done(Err(AppendError::WrongExpectedVersion { actual: 1, .. }))
        ));
    }

    #[test]
    fn a_retried_append_is_answered_from_the_store() {
        let s = stream("a-1");
        let retried = ids(2);
        let stored = HashMap::from([
            (
                retried[0],
                StoredAt {
                    stream: "a-1".into(),
                    version: 3,
                },
            ),
            (
                retried[1],
                StoredAt {
                    stream: "a-1".into(),
                    version: 4,
                },
            ),
        ]);
        let appends = [PlannedAppend {
            stream: &s,
            expected: ExpectedVersion::Exact(2),
            event_ids: retried,
        }];
        let verdicts = plan(&appends, HashMap::from([("a-1".to_owned(), 9)]), stored);
        assert!(matches!(
            verdicts[0],
            Verdict::Done(Ok(AppendOutcome {
                stream_version: 4,
                already_recorded: true
            }))
        ));
    }

    #[test]
    fn a_retry_within_the_same_batch_is_a_replay() {
        let s = stream("a-1");
        let same = ids(1);
        let appends = [
            PlannedAppend {
                stream: &s,
                expected: ExpectedVersion::NoStream,
                event_ids: same.clone(),
            },
            PlannedAppend {
                stream: &s,
                expected: ExpectedVersion::NoStream,
                event_ids: same,
            },
        ];
        let verdicts = plan(&appends, HashMap::new(), HashMap::new());
        assert_eq!(outcome(&verdicts[0]), Some(1));
        assert!(matches!(
            verdicts[1],
            Verdict::Done(Ok(AppendOutcome {
                stream_version: 1,
                already_recorded: true
            }))
        ));
    }

    #[test]
    fn an_event_id_reused_on_another_stream_is_refused() {
        let s = stream("a-1");
        let reused = ids(1);
        let stored = HashMap::from([(
            reused[0],
            StoredAt {
                stream: "b-1".into(),
                version: 1,
            },
        )]);
        let appends = [PlannedAppend {
            stream: &s,
            expected: ExpectedVersion::Any,
            event_ids: reused,
        }];
        let verdicts = plan(&appends, HashMap::new(), stored);
        assert!(matches!(
            verdicts[0],
            Verdict::Done(Err(AppendError::EventIdReused { .. }))
        ));
    }

    #[test]
    fn a_partly_stored_append_is_refused() {
        let s = stream("a-1");
        let mixed = ids(2);
        let stored = HashMap::from([(
            mixed[0],
            StoredAt {
                stream: "a-1".into(),
                version: 1,
            },
        )]);
        let appends = [PlannedAppend {
            stream: &s,
            expected: ExpectedVersion::Any,
            event_ids: mixed,
        }];
        let verdicts = plan(&appends, HashMap::from([("a-1".to_owned(), 1)]), stored);
        assert!(matches!(
            verdicts[0],
            Verdict::Done(Err(AppendError::EventIdReused { .. }))
        ));
    }

    #[derive(Debug, Clone)]
    struct Spec {
        stream: usize,
        expected: Option<u64>,
        events: usize,
    }

    fn spec() -> impl Strategy<Value = Spec> {
        (0..3usize, proptest::option::of(0..6u64), 1..4usize).prop_map(
            |(stream, expected, events)| Spec {
                stream,
                expected,
                events,
            },
        )
    }

    proptest! {
        /// Whatever the mix, the written versions of each stream are exactly
        /// head+1..=final head, each once, and every refusal names the head the
        /// append really met: the batch equals running the appends in order.
        #[test]
        fn a_batch_equals_sequential_appends(specs in proptest::collection::vec(spec(), 1..20), start in 0..3u64) {
            let streams: Vec<StreamId> = (0..3).map(|i| stream(&format!("s-{i}"))).collect();
            let appends: Vec<PlannedAppend<'_>> = specs.iter().map(|spec| PlannedAppend {
                stream: &streams[spec.stream],
                expected: spec.expected.map_or(ExpectedVersion::Any, ExpectedVersion::Exact),
                event_ids: ids(spec.events),
            }).collect();
            let heads: HashMap<String, u64> = streams.iter().map(|s| (s.as_str().to_owned(), start)).collect();
            let verdicts = plan(&appends, heads, HashMap::new());

            let mut model = [start; 3];
            for (spec, verdict) in specs.iter().zip(&verdicts) {
                let head = model[spec.stream];
                let accepted = spec.expected.is_none_or(|v| v == head);
                match verdict {
                    Verdict::Write { first_version } => {
                        prop_assert!(accepted);
                        prop_assert_eq!(*first_version, head + 1);
                        model[spec.stream] += spec.events as u64;
                    }
                    Verdict::Done(Err(AppendError::WrongExpectedVersion { actual, .. })) => {
                        prop_assert!(!accepted);
                        prop_assert_eq!(*actual, head);
                    }
                    Verdict::Done(other) => prop_assert!(false, "unexpected verdict {:?}", other),
                }
            }
        }
    }
}
