//! What every appending contender writes: one event of about
//! [`PAYLOAD_BYTES`] per command, writer `w` cycling over streams of its own
//! and naming the version it expects, so the concurrency check runs on every
//! append but never fails (no two writers share a stream).

/// Payload size of every event, close to a typical domain event of ours.
pub const PAYLOAD_BYTES: usize = 200;

/// Streams each writer cycles through: many short streams, as aggregates
/// are, rather than one long one.
const STREAMS_PER_WRITER: usize = 1000;

/// A payload of [`PAYLOAD_BYTES`] bytes.
pub fn payload() -> Vec<u8> {
    (b'a'..=b'z').cycle().take(PAYLOAD_BYTES).collect()
}

/// One writer's streams, `bench-<label>-<writer>-<k>`, and the version each
/// is at. The label (e.g. `c8`) keeps each measurement on fresh streams.
#[derive(Debug)]
pub struct Streams {
    prefix: String,
    versions: Vec<u64>,
    next: usize,
}

impl Streams {
    pub fn new(label: &str, writer: usize) -> Self {
        Self {
            prefix: format!("bench-{label}-{writer}"),
            versions: vec![0; STREAMS_PER_WRITER],
            next: 0,
        }
    }

    /// The next stream, round robin, and its version before this command
    /// (0 = new). The command is assumed to succeed: a failure ends the run.
    pub fn next(&mut self) -> (String, u64) {
        let k = self.next;
        self.next = (k + 1) % self.versions.len();
        let version = self.versions[k];
        self.versions[k] += 1;
        (format!("{}-{k}", self.prefix), version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_visited_round_robin_with_rising_versions() {
        let mut streams = Streams::new("c1", 3);
        assert_eq!(streams.next(), ("bench-c1-3-0".to_owned(), 0));
        for _ in 1..STREAMS_PER_WRITER {
            streams.next();
        }
        assert_eq!(streams.next(), ("bench-c1-3-0".to_owned(), 1));
        assert_eq!(payload().len(), PAYLOAD_BYTES);
    }
}
