//! What the simulated users record: each call's latency, client side and
//! end to end, by method, counted only when it ends inside the measured
//! window (as `eventstore`'s writers are counted), and its errors.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

/// The methods the run calls, in the order of a user's loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    BookSession,
    CancelBooking,
    CompletePreSessionChecklist,
    AcknowledgePrivateRoom,
    AcknowledgeNoRecording,
    JoinSession,
    LeaveSession,
    RecordUsage,
    PublishAvailability,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Self::BookSession => "BookSession",
            Self::CancelBooking => "CancelBooking",
            Self::CompletePreSessionChecklist => "CompletePreSessionChecklist",
            Self::AcknowledgePrivateRoom => "AcknowledgePrivateRoom",
            Self::AcknowledgeNoRecording => "AcknowledgeNoRecording",
            Self::JoinSession => "JoinSession",
            Self::LeaveSession => "LeaveSession",
            Self::RecordUsage => "RecordUsage",
            Self::PublishAvailability => "PublishAvailability",
        }
    }

    /// Whether a success is an Art. 7(1) usage record in the audit log: a
    /// page view reported directly, or a join or leave the audit log hears
    /// from scheduling.
    pub fn is_usage_record(self) -> bool {
        matches!(
            self,
            Self::RecordUsage | Self::JoinSession | Self::LeaveSession
        )
    }
}

/// The measured window.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub opens: Instant,
    pub closes: Instant,
}

impl Window {
    pub fn contains(&self, at: Instant) -> bool {
        (self.opens..=self.closes).contains(&at)
    }

    pub fn length(&self) -> Duration {
        self.closes - self.opens
    }
}

/// One method's calls inside the window.
#[derive(Debug, Clone, Default)]
pub struct Calls {
    /// Latencies of the successful calls; sorted once merged.
    pub latencies: Vec<Duration>,
    /// Failed calls by gRPC code.
    pub errors: BTreeMap<String, u64>,
}

impl Calls {
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Calls by method, of one user or of the whole run.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    pub calls: BTreeMap<Method, Calls>,
}

impl Recorder {
    /// Awaits `call` and records it if it ends inside `window`.
    pub async fn time<T>(
        &mut self,
        window: &Window,
        method: Method,
        call: impl Future<Output = Result<T, tonic::Status>>,
    ) -> Result<(T, Instant), tonic::Status> {
        let sent = Instant::now();
        let result = call.await;
        let ended = Instant::now();
        if window.contains(ended) {
            let calls = self.calls.entry(method).or_default();
            match &result {
                Ok(_) => calls.latencies.push(ended - sent),
                Err(status) => {
                    *calls
                        .errors
                        .entry(format!("{:?}", status.code()))
                        .or_default() += 1;
                }
            }
        }
        result.map(|value| (value, ended))
    }

    pub fn merge(&mut self, other: Recorder) {
        for (method, calls) in other.calls {
            let mine = self.calls.entry(method).or_default();
            mine.latencies.extend(calls.latencies);
            for (code, count) in calls.errors {
                *mine.errors.entry(code).or_default() += count;
            }
        }
    }

    /// Sorts every method's latencies, for percentiles.
    pub fn sorted(mut self) -> Self {
        for calls in self.calls.values_mut() {
            calls.latencies.sort_unstable();
        }
        self
    }

    /// Successful calls of `method` inside the window.
    pub fn count(&self, method: Method) -> usize {
        self.calls
            .get(&method)
            .map_or(0, |calls| calls.latencies.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_calls_ending_inside_the_window_count() {
        let now = Instant::now();
        let open = Window {
            opens: now,
            closes: now + Duration::from_secs(60),
        };
        let closed = Window {
            opens: now,
            closes: now,
        };
        let mut recorder = Recorder::default();
        recorder
            .time(&open, Method::BookSession, async { Ok(()) })
            .await
            .unwrap();
        let _ = recorder
            .time(&open, Method::BookSession, async {
                Err::<(), _>(tonic::Status::unavailable("down"))
            })
            .await;
        recorder
            .time(&closed, Method::BookSession, async { Ok(()) })
            .await
            .unwrap();
        let mut total = Recorder::default();
        total.merge(recorder.clone());
        total.merge(recorder);
        let calls = &total.calls[&Method::BookSession];
        assert_eq!(total.count(Method::BookSession), 2);
        assert_eq!(calls.errors["Unavailable"], 2);
        assert_eq!(calls.error_count(), 2);
    }
}
