use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;

use crate::{
    Accepted, ChannelState, Exclusive, InboundEnvelope, InboundSink, IngestError, LocalLocks,
};

/// An [`InboundSink`] that records envelopes in memory and dedupes by key like Kefu does.
#[derive(Debug, Default)]
pub struct RecordingSink {
    inner: Mutex<Recorded>,
    fail_next: AtomicBool,
}

#[derive(Debug, Default)]
struct Recorded {
    envelopes: Vec<InboundEnvelope>,
    by_key: HashMap<(i64, String), Accepted>,
}

impl RecordingSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every envelope handed in so far, duplicates included.
    pub fn envelopes(&self) -> Vec<InboundEnvelope> {
        self.lock().envelopes.clone()
    }

    /// How many envelopes were handed in.
    pub fn len(&self) -> usize {
        self.lock().envelopes.len()
    }

    /// Whether nothing was handed in.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Distinct dedupe keys among the envelopes handed in after the first `skip`.
    pub fn distinct_keys_since(&self, skip: usize) -> usize {
        let g = self.lock();
        g.envelopes[skip.min(g.envelopes.len())..]
            .iter()
            .map(|e| e.dedupe_key.clone())
            .collect::<HashSet<_>>()
            .len()
    }

    /// Makes the next [`accept`](InboundSink::accept) fail as if storage were down.
    pub fn fail_next(&self) {
        self.fail_next.store(true, Ordering::SeqCst);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        // A panic in another test thread must not hide this test's result.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl InboundSink for RecordingSink {
    async fn accept(&self, envelope: InboundEnvelope) -> Result<Accepted, IngestError> {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(IngestError::Unavailable(
                "storage is down (scripted by the testkit)".into(),
            ));
        }
        let mut g = self.lock();
        let key = envelope.dedupe_key.clone().map(|k| (envelope.inbox_id, k));
        if let Some(prev) = key.as_ref().and_then(|k| g.by_key.get(k)) {
            let dup = Accepted {
                duplicate: true,
                ..*prev
            };
            g.envelopes.push(envelope);
            return Ok(dup);
        }
        let n = g.envelopes.len() as i64 + 1;
        let accepted = Accepted {
            message_id: n,
            conversation_id: 1,
            seq: n,
            duplicate: false,
        };
        if let Some(k) = key {
            g.by_key.insert(k, accepted);
        }
        g.envelopes.push(envelope);
        Ok(accepted)
    }
}

/// A [`ChannelState`] kept in memory, for adapter tests.
#[derive(Debug, Default)]
pub struct MemoryState {
    values: Mutex<HashMap<(i64, String), String>>,
    /// What [`ChannelState::remember`] stored, with when it runs out.
    remembered: Mutex<HashMap<(i64, String), (String, std::time::Instant)>>,
    locks: LocalLocks,
}

#[async_trait]
impl ChannelState for MemoryState {
    async fn get(&self, inbox_id: i64, key: &str) -> Result<Option<String>, IngestError> {
        let g = self.values.lock().unwrap_or_else(|p| p.into_inner());
        Ok(g.get(&(inbox_id, key.to_owned())).cloned())
    }

    async fn put(&self, inbox_id: i64, key: &str, value: &str) -> Result<(), IngestError> {
        let mut g = self.values.lock().unwrap_or_else(|p| p.into_inner());
        g.insert((inbox_id, key.to_owned()), value.to_owned());
        Ok(())
    }

    async fn exclusive(
        &self,
        inbox_id: i64,
        key: &str,
        wait: std::time::Duration,
    ) -> Result<Exclusive, IngestError> {
        Ok(Exclusive::new(self.locks.lock(inbox_id, key, wait).await?))
    }

    async fn remember(
        &self,
        inbox_id: i64,
        key: &str,
        value: &str,
        ttl: std::time::Duration,
    ) -> Result<Option<String>, IngestError> {
        let now = std::time::Instant::now();
        let mut g = self.remembered.lock().unwrap_or_else(|p| p.into_inner());
        g.retain(|_, (_, until)| *until > now);
        match g.get(&(inbox_id, key.to_owned())) {
            Some((v, _)) => Ok(Some(v.clone())),
            None => {
                g.insert((inbox_id, key.to_owned()), (value.to_owned(), now + ttl));
                Ok(None)
            }
        }
    }
}
