use std::fmt::Debug;

use hellowork_eventstore::Aggregate;

/// Given/when/then for a pure aggregate:
///
/// ```ignore
/// Scenario::<Registration>::given(vec![registered()])
///     .when(apply_for_online_services())
///     .then_events(vec![applied(), converted()]);
/// ```
#[derive(Debug)]
pub struct Scenario<A: Aggregate> {
    state: A,
}

/// The outcome of [`Scenario::when`], to assert on.
#[derive(Debug)]
pub struct Outcome<A: Aggregate> {
    result: Result<Vec<A::Event>, A::Error>,
}

impl<A: Aggregate> Scenario<A> {
    /// The aggregate after `history`.
    pub fn given(history: impl IntoIterator<Item = A::Event>) -> Self {
        let state = history
            .into_iter()
            .fold(A::default(), |state, event| state.apply(&event));
        Self { state }
    }

    pub fn when(self, command: A::Command) -> Outcome<A> {
        Outcome {
            result: self.state.decide(&command),
        }
    }
}

impl<A: Aggregate> Outcome<A>
where
    A::Event: PartialEq + Debug,
    A::Error: Debug,
{
    /// Asserts the command produced exactly `expected`.
    #[track_caller]
    pub fn then_events(self, expected: impl IntoIterator<Item = A::Event>) {
        let expected: Vec<A::Event> = expected.into_iter().collect();
        match self.result {
            Ok(events) => assert_eq!(events, expected, "unexpected events"),
            Err(error) => panic!("expected events {expected:?}, got error {error:?}"),
        }
    }

    /// Asserts the command was refused and returns the error for further checks.
    #[track_caller]
    pub fn then_error(self) -> A::Error {
        match self.result {
            Ok(events) => panic!("expected an error, got events {events:?}"),
            Err(error) => error,
        }
    }
}
