//! Each endpoint's budget of attempts in flight.
//!
//! Webhook workers are shared by every endpoint. Without a budget, one endpoint that answers
//! in 30 s (or times out) takes every worker in turn, and a healthy endpoint's deliveries
//! queue behind it. With one, a slow endpoint holds at most its budget of workers (a slot is
//! held for the HTTP request only; recording the result is Kefu's own work). An attempt
//! over the budget waits up to [`SLOT_WAIT`] for a slot — long enough for a healthy endpoint's
//! burst, whose attempts take milliseconds — and is otherwise given back and tried again after
//! [`WAIT`], without spending an attempt. The budget is per process: with several nodes an
//! endpoint gets it on each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a delivery over its endpoint's budget waits before it is tried again.
pub(super) const WAIT: chrono::Duration = chrono::Duration::seconds(1);

/// How long an attempt waits for a slot of its endpoint before it is given back.
pub(super) const SLOT_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

/// Idle budgets are forgotten after this many endpoints were seen, so deleted endpoints do
/// not accumulate.
const FORGET_AFTER: usize = 4096;

/// Attempts in flight, by endpoint.
pub(super) struct EndpointSlots {
    per_endpoint: usize,
    slots: Mutex<HashMap<i64, Arc<Semaphore>>>,
}

impl EndpointSlots {
    /// Budgets of `per_endpoint` attempts (at least one).
    pub(super) fn new(per_endpoint: usize) -> Self {
        Self {
            per_endpoint: per_endpoint.max(1),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// A slot of `endpoint`'s budget, held until dropped; `None` when none freed up within
    /// `wait`.
    pub(super) async fn take(
        &self,
        endpoint: i64,
        wait: std::time::Duration,
    ) -> Option<OwnedSemaphorePermit> {
        let semaphore = self.semaphore(endpoint);
        if let Ok(p) = semaphore.clone().try_acquire_owned() {
            return Some(p);
        }
        tokio::time::timeout(wait, semaphore.acquire_owned())
            .await
            .ok()?
            .ok()
    }

    /// A slot of `endpoint`'s budget, held until dropped; `None` when all are in use.
    #[cfg(test)]
    fn try_take(&self, endpoint: i64) -> Option<OwnedSemaphorePermit> {
        self.semaphore(endpoint).try_acquire_owned().ok()
    }

    fn semaphore(&self, endpoint: i64) -> Arc<Semaphore> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() >= FORGET_AFTER {
            let full = self.per_endpoint;
            slots.retain(|_, s| s.available_permits() < full);
        }
        slots
            .entry(endpoint)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_endpoint)))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_gets_its_budget_and_no_more_and_others_are_unaffected() {
        let slots = EndpointSlots::new(2);
        let a1 = slots.try_take(1).expect("first slot");
        let _a2 = slots.try_take(1).expect("second slot");
        assert!(slots.try_take(1).is_none(), "the budget is used up");
        assert!(slots.try_take(2).is_some(), "another endpoint has its own");
        drop(a1);
        assert!(
            slots.try_take(1).is_some(),
            "a finished attempt frees its slot"
        );
    }
}
