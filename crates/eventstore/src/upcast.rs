//! Keeping old events readable: upcasters lift a stored payload from one schema
//! version to the next, on every read, so domain code only ever sees the
//! current shape while the stored bytes stay as they were written.

use std::{collections::HashMap, fmt, sync::Arc};

use crate::model::RecordedEvent;

/// Turns the payload of `event_type` at schema version `n` into version `n + 1`.
pub type UpcastFn = Arc<dyn Fn(&[u8]) -> Result<Vec<u8>, String> + Send + Sync>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot upcast {event_type} from schema version {from_version}: {reason}")]
pub struct UpcastError {
    pub event_type: String,
    pub from_version: u32,
    pub reason: String,
}

/// The registered upcasting steps, applied in a chain until no step matches.
#[derive(Clone, Default)]
pub struct Upcasters {
    steps: HashMap<(String, u32), UpcastFn>,
}

impl Upcasters {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the step that lifts `event_type` from `from_version`.
    pub fn register(
        mut self,
        event_type: impl Into<String>,
        from_version: u32,
        step: impl Fn(&[u8]) -> Result<Vec<u8>, String> + Send + Sync + 'static,
    ) -> Self {
        self.steps
            .insert((event_type.into(), from_version), Arc::new(step));
        self
    }

    /// Lifts `event` through every matching step.
    pub fn upcast(&self, mut event: RecordedEvent) -> Result<RecordedEvent, UpcastError> {
        while let Some(step) = self
            .steps
            .get(&(event.event_type.clone(), event.schema_version))
        {
            event.payload = step(&event.payload).map_err(|reason| UpcastError {
                event_type: event.event_type.clone(),
                from_version: event.schema_version,
                reason,
            })?;
            event.schema_version += 1;
        }
        Ok(event)
    }
}

impl fmt::Debug for Upcasters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut steps: Vec<_> = self.steps.keys().collect();
        steps.sort();
        f.debug_struct("Upcasters").field("steps", &steps).finish()
    }
}
