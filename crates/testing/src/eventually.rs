//! Waiting for what the system does eventually — a read model catching up,
//! an event reaching another service, a server becoming SERVING — by
//! polling with a deadline instead of sleeping a fixed time: a test then
//! takes as long as the system needs and no longer, and a hang fails with
//! what was awaited.

use std::{future::Future, time::Duration};

use tokio::time::Instant;

/// How long [`eventually`] waits: long enough for a loaded CI machine,
/// short enough that a hang fails the test in reasonable time.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The first pause between attempts: most waits end within milliseconds.
const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// The longest pause, so a slow wait does not hammer the services nor
/// oversleep the moment it is done by much.
const LONGEST_PAUSE: Duration = Duration::from_millis(200);

/// What one attempt yields: done, with a value, or not yet.
pub trait Outcome {
    /// What [`eventually`] returns once an attempt is done.
    type Value;
    /// The value if done.
    fn done(self) -> Option<Self::Value>;
}

impl<T> Outcome for Option<T> {
    type Value = T;
    fn done(self) -> Option<T> {
        self
    }
}

impl Outcome for bool {
    type Value = ();
    fn done(self) -> Option<()> {
        self.then_some(())
    }
}

/// Calls `attempt` until it returns `Some` (or `true`), pausing 10 ms at
/// first and up to 200 ms; panics naming `what` after [`PATIENCE`].
pub async fn eventually<O, F, Fut>(what: &str, attempt: F) -> O::Value
where
    O: Outcome,
    F: FnMut() -> Fut,
    Fut: Future<Output = O>,
{
    eventually_within(PATIENCE, what, attempt).await
}

/// [`eventually`] with a patience of the caller's, for waits known to take
/// longer (a restart, a stack coming up) or that must be quick.
pub async fn eventually_within<O, F, Fut>(
    patience: Duration,
    what: &str,
    mut attempt: F,
) -> O::Value
where
    O: Outcome,
    F: FnMut() -> Fut,
    Fut: Future<Output = O>,
{
    let deadline = Instant::now() + patience;
    let mut pause = FIRST_PAUSE;
    loop {
        if let Some(value) = attempt().await.done() {
            return value;
        }
        let now = Instant::now();
        assert!(
            now < deadline,
            "timed out after {patience:?} waiting for {what}"
        );
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn returns_the_first_value_and_backs_off_up_to_the_longest_pause() {
        let calls = AtomicU32::new(0);
        let started = Instant::now();
        let value = eventually("the tenth call", || async {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            (n == 10).then_some(n)
        })
        .await;
        assert_eq!(value, 10);
        // 10 + 20 + 40 + 80 + 160 ms, then 200 ms four times.
        assert_eq!(started.elapsed(), Duration::from_millis(310 + 4 * 200));
    }

    #[tokio::test(start_paused = true)]
    async fn a_condition_that_holds_returns_at_once() {
        let started = Instant::now();
        eventually("true", || async { true }).await;
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    #[should_panic(expected = "timed out after 1s waiting for never")]
    async fn gives_up_at_the_deadline_naming_what_it_waited_for() {
        eventually_within(Duration::from_secs(1), "never", || async { false }).await;
    }
}
