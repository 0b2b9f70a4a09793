//! Each destination's budget of attempts in flight: a webhook endpoint's, or an inbox's (its
//! channel provider's).
//!
//! Workers are shared by every destination. Without a budget, one webhook endpoint or one
//! provider that answers in 30 s (or times out) takes every worker in turn, and a healthy
//! destination's work queues behind it. With one, a slow destination holds at most its budget
//! of workers (a slot is held for the request to it only; recording the result is Kefu's own
//! work). An attempt over the budget waits up to [`SLOT_WAIT`] for a slot — long enough for a
//! healthy destination's burst, whose attempts take milliseconds — and is otherwise given back
//! and tried again after [`WAIT`], without spending an attempt. The budget is per process: with
//! several nodes a destination gets it on each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a delivery over its endpoint's budget waits before it is tried again.
pub(crate) const WAIT: chrono::Duration = chrono::Duration::seconds(1);

/// How long an attempt waits for a slot of its endpoint before it is given back.
pub(crate) const SLOT_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

/// Idle budgets are forgotten after this many destinations were seen, so deleted ones do not
/// accumulate.
const FORGET_AFTER: usize = 4096;

/// Attempts in flight, by destination (a webhook endpoint's or an inbox's id).
pub(crate) struct Slots {
    per_destination: usize,
    slots: Mutex<HashMap<i64, Arc<Semaphore>>>,
}

impl Slots {
    /// Budgets of `per_destination` attempts (at least one).
    pub(crate) fn new(per_destination: usize) -> Self {
        Self {
            per_destination: per_destination.max(1),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// A slot of `destination`'s budget, held until dropped; `None` when none freed up within
    /// `wait`.
    pub(crate) async fn take(
        &self,
        destination: i64,
        wait: std::time::Duration,
    ) -> Option<OwnedSemaphorePermit> {
        let semaphore = self.semaphore(destination);
        if let Ok(p) = semaphore.clone().try_acquire_owned() {
            return Some(p);
        }
        tokio::time::timeout(wait, semaphore.acquire_owned())
            .await
            .ok()?
            .ok()
    }

    /// A slot of `destination`'s budget, held until dropped; `None` when all are in use.
    #[cfg(test)]
    fn try_take(&self, destination: i64) -> Option<OwnedSemaphorePermit> {
        self.semaphore(destination).try_acquire_owned().ok()
    }

    fn semaphore(&self, destination: i64) -> Arc<Semaphore> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() >= FORGET_AFTER {
            let full = self.per_destination;
            slots.retain(|_, s| s.available_permits() < full);
        }
        slots
            .entry(destination)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_destination)))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_gets_its_budget_and_no_more_and_others_are_unaffected() {
        let slots = Slots::new(2);
        let a1 = slots.try_take(1).expect("first slot");
        let _a2 = slots.try_take(1).expect("second slot");
        assert!(slots.try_take(1).is_none(), "the budget is used up");
        assert!(
            slots.try_take(2).is_some(),
            "another destination has its own"
        );
        drop(a1);
        assert!(
            slots.try_take(1).is_some(),
            "a finished attempt frees its slot"
        );
    }
}
