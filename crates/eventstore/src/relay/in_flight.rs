//! The relay's window of published messages awaiting their JetStream ack,
//! in publishing order.

use std::{collections::VecDeque, pin::Pin};

use async_nats::jetstream::{
    context::{PublishAckFuture, PublishError},
    publish::PublishAck,
};
use chrono::{DateTime, Utc};
use futures::{FutureExt as _, StreamExt as _, stream::FuturesOrdered};

use crate::model::GlobalPosition;

type Ack = Pin<Box<dyn Future<Output = (GlobalPosition, Result<PublishAck, PublishError>)> + Send>>;

/// Acks are taken in publishing order, so what the relay removes from the
/// outbox is always an acknowledged prefix: a failure leaves the first
/// unacknowledged row and everything after it to be published again.
#[derive(Default)]
pub(super) struct InFlight {
    acks: FuturesOrdered<Ack>,
    /// The outbox rows the window holds, in the same order, with when they
    /// were recorded: a read of the outbox while acks are outstanding skips
    /// them instead of publishing them twice.
    rows: VecDeque<(GlobalPosition, DateTime<Utc>)>,
}

/// Acks collected from the window: the acknowledged prefix, with how many
/// JetStream already held (a message published again), and the error that
/// ended it, if any.
#[derive(Debug, Default)]
pub(super) struct Acked {
    pub positions: Vec<GlobalPosition>,
    pub duplicates: u64,
    pub failure: Option<PublishError>,
}

impl InFlight {
    pub(super) fn len(&self) -> usize {
        self.acks.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.acks.is_empty()
    }

    /// The rows awaiting acks, as the column arrays a query excludes.
    pub(super) fn position_arrays(&self) -> (Vec<i64>, Vec<i64>) {
        self.rows
            .iter()
            .map(|(at, _)| (at.transaction_id, at.position))
            .unzip()
    }

    /// When the oldest row awaiting its ack was recorded.
    pub(super) fn oldest_recorded_at(&self) -> Option<DateTime<Utc>> {
        self.rows.front().map(|(_, recorded_at)| *recorded_at)
    }

    pub(super) fn push(
        &mut self,
        position: GlobalPosition,
        recorded_at: DateTime<Utc>,
        ack: PublishAckFuture,
    ) {
        self.rows.push_back((position, recorded_at));
        self.acks.push_back(Box::pin(
            ack.into_future().map(move |acked| (position, acked)),
        ));
    }

    /// Every ack that has arrived, in order, without waiting; with `wait`,
    /// waits for the next one first if none has.
    pub(super) async fn collect(&mut self, wait: bool) -> Acked {
        let mut acked = Acked::default();
        if wait && let Some(first) = self.acks.next().await {
            self.take(first, &mut acked);
        }
        while acked.failure.is_none()
            && let Some(Some(next)) = self.acks.next().now_or_never()
        {
            self.take(next, &mut acked);
        }
        acked
    }

    fn take(
        &mut self,
        (position, result): (GlobalPosition, Result<PublishAck, PublishError>),
        acked: &mut Acked,
    ) {
        // Acks arrive in publishing order: this is the front row.
        self.rows.pop_front();
        match result {
            Ok(ack) => {
                acked.duplicates += u64::from(ack.duplicate);
                acked.positions.push(position);
            }
            Err(error) => acked.failure = Some(error),
        }
    }
}
