//! Deciding, without I/O, what one group-commit batch writes.
//!
//! Concurrent appends are coalesced into one transaction. The batch must behave
//! exactly as if its appends had run one after another in arrival order: each
//! expected version is checked against the stream's head *including* earlier
//! appends of the same batch, and a retried append (same event ids) is answered
//! from what is already stored instead of being written twice. An atomic append
//! to several streams is one job: all its parts are written or none.

use std::collections::HashMap;

use uuid::Uuid;

use crate::{
    error::AppendError,
    model::{AppendOutcome, ExpectedVersion, StreamId},
};

/// One stream's part of an append as the planner sees it.
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

/// What happens to one job (one or more parts, on distinct streams) of the
/// batch.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Write each part's events as versions `first_versions[part]..`.
    Write { first_versions: Vec<u64> },
    /// Nothing to write: the outcome is already decided (a replay or a
    /// refusal), one outcome per part.
    Done(Result<Vec<AppendOutcome>, AppendError>),
}

/// Plans a batch of jobs given each stream's committed head version (absent
/// = no stream) and the already stored events among the batch's event ids.
pub(crate) fn plan(
    jobs: &[Vec<PlannedAppend<'_>>],
    mut heads: HashMap<String, u64>,
    mut stored: HashMap<Uuid, StoredAt>,
) -> Vec<Verdict> {
    jobs.iter()
        .map(|parts| {
            let replayed = parts
                .iter()
                .any(|part| part.event_ids.iter().any(|id| stored.contains_key(id)));
            if replayed {
                return Verdict::Done(parts.iter().map(|part| replay(part, &stored)).collect());
            }
            let mut first_versions = Vec::with_capacity(parts.len());
            for part in parts {
                let head = heads.get(part.stream.as_str()).copied().unwrap_or(0);
                if !part.expected.accepts(head) {
                    return Verdict::Done(Err(AppendError::WrongExpectedVersion {
                        stream: part.stream.clone(),
                        expected: part.expected,
                        actual: head,
                    }));
                }
                first_versions.push(head + 1);
            }
            // Every part passed: only now does the job move the heads, so a
            // refused part leaves the batch as if the job had never come.
            for (part, first) in parts.iter().zip(&first_versions) {
                for (offset, id) in part.event_ids.iter().enumerate() {
                    let at = StoredAt {
                        stream: part.stream.as_str().to_owned(),
                        version: first + offset as u64,
                    };
                    stored.insert(*id, at);
                }
                heads.insert(
                    part.stream.as_str().to_owned(),
                    first + part.event_ids.len() as u64 - 1,
                );
            }
            Verdict::Write { first_versions }
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

    fn singles<'a>(appends: &[PlannedAppend<'a>]) -> Vec<Vec<PlannedAppend<'a>>> {
        appends.iter().map(|append| vec![append.clone()]).collect()
    }

    fn outcome(verdict: &Verdict) -> Option<u64> {
        match verdict {
            Verdict::Write { first_versions } => Some(first_versions[0]),
            Verdict::Done(_) => None,
        }
    }

    fn replayed(verdict: &Verdict) -> Option<u64> {
        match verdict {
            Verdict::Done(Ok(outcomes)) => match outcomes.as_slice() {
                [
                    AppendOutcome {
                        stream_version,
                        already_recorded: true,
                    },
                ] => Some(*stream_version),
                _ => None,
            },
            _ => None,
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
        let verdicts = plan(&singles(&appends), HashMap::new(), HashMap::new());
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
        let verdicts = plan(&singles(&appends), heads, HashMap::new());
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
            &singles(&appends),
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
        let verdicts = plan(
            &singles(&appends),
            HashMap::from([("a-1".to_owned(), 9)]),
            stored,
        );
        assert_eq!(replayed(&verdicts[0]), Some(4));
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
        let verdicts = plan(&singles(&appends), HashMap::new(), HashMap::new());
        assert_eq!(outcome(&verdicts[0]), Some(1));
        assert_eq!(replayed(&verdicts[1]), Some(1));
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
        let verdicts = plan(&singles(&appends), HashMap::new(), stored);
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
        let verdicts = plan(
            &singles(&appends),
            HashMap::from([("a-1".to_owned(), 1)]),
            stored,
        );
        assert!(matches!(
            verdicts[0],
            Verdict::Done(Err(AppendError::EventIdReused { .. }))
        ));
    }

    #[test]
    fn an_atomic_job_with_one_refused_part_writes_none_and_moves_no_head() {
        let (a, b) = (stream("a-1"), stream("b-1"));
        let jobs = [
            vec![
                PlannedAppend {
                    stream: &a,
                    expected: ExpectedVersion::Exact(2),
                    event_ids: ids(1),
                },
                PlannedAppend {
                    stream: &b,
                    expected: ExpectedVersion::NoStream,
                    event_ids: ids(1),
                },
            ],
            // Planned as if the refused job had never come: `a` is still at 2.
            vec![PlannedAppend {
                stream: &a,
                expected: ExpectedVersion::Exact(2),
                event_ids: ids(1),
            }],
        ];
        let heads = HashMap::from([("a-1".to_owned(), 2), ("b-1".to_owned(), 5)]);
        let verdicts = plan(&jobs, heads, HashMap::new());
        assert!(matches!(
            &verdicts[0],
            Verdict::Done(Err(AppendError::WrongExpectedVersion { stream, actual: 5, .. }))
                if stream.as_str() == "b-1"
        ));
        assert_eq!(outcome(&verdicts[1]), Some(3));
    }

    #[test]
    fn an_atomic_job_writes_each_part_after_its_own_head() {
        let (a, b) = (stream("a-1"), stream("b-1"));
        let jobs = [vec![
            PlannedAppend {
                stream: &a,
                expected: ExpectedVersion::Exact(2),
                event_ids: ids(2),
            },
            PlannedAppend {
                stream: &b,
                expected: ExpectedVersion::NoStream,
                event_ids: ids(1),
            },
        ]];
        let heads = HashMap::from([("a-1".to_owned(), 2)]);
        let verdicts = plan(&jobs, heads, HashMap::new());
        assert!(matches!(
            &verdicts[0],
            Verdict::Write { first_versions } if first_versions == &[3, 1]
        ));
    }

    #[test]
    fn a_retried_atomic_job_is_answered_part_by_part() {
        let (a, b) = (stream("a-1"), stream("b-1"));
        let (in_a, in_b) = (ids(1), ids(1));
        let stored = HashMap::from([
            (
                in_a[0],
                StoredAt {
                    stream: "a-1".into(),
                    version: 7,
                },
            ),
            (
                in_b[0],
                StoredAt {
                    stream: "b-1".into(),
                    version: 1,
                },
            ),
        ]);
        let jobs = [vec![
            PlannedAppend {
                stream: &a,
                expected: ExpectedVersion::Exact(6),
                event_ids: in_a,
            },
            PlannedAppend {
                stream: &b,
                expected: ExpectedVersion::NoStream,
                event_ids: in_b,
            },
        ]];
        let heads = HashMap::from([("a-1".to_owned(), 9), ("b-1".to_owned(), 1)]);
        let verdicts = plan(&jobs, heads, stored);
        let Verdict::Done(Ok(outcomes)) = &verdicts[0] else {
            panic!("expected a replay, got {:?}", verdicts[0]);
        };
        let versions: Vec<(u64, bool)> = outcomes
            .iter()
            .map(|o| (o.stream_version, o.already_recorded))
            .collect();
        assert_eq!(versions, [(7, true), (1, true)]);
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
            let verdicts = plan(&singles(&appends), heads, HashMap::new());

            let mut model = [start; 3];
            for (spec, verdict) in specs.iter().zip(&verdicts) {
                let head = model[spec.stream];
                let accepted = spec.expected.is_none_or(|v| v == head);
                match verdict {
                    Verdict::Write { first_versions } => {
                        prop_assert!(accepted);
                        prop_assert_eq!(first_versions.as_slice(), &[head + 1]);
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
