//! Micro-batching: each caller hands in one request and awaits its own answer, while a few
//! serving tasks take every request waiting (up to a maximum) and serve them together. Many
//! concurrent callers then share one database statement or one commit instead of paying for
//! one each; a lone caller is served at once, without waiting for company.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

type Request<Q, A> = (Q, oneshot::Sender<A>);

/// Serves requests `Q` in batches, answering each with an `A`.
pub(crate) struct Batcher<Q, A> {
    tx: mpsc::Sender<Request<Q, A>>,
}

impl<Q: Send + 'static, A: Send + 'static> Batcher<Q, A> {
    /// Starts `servers` tasks on the current runtime, each taking up to `max` waiting requests
    /// at a time and calling `serve` with them; `serve` answers in the order it was given. While
    /// one task serves a batch, the next collects the requests that arrive meanwhile. The tasks
    /// end when the batcher is dropped.
    pub(crate) fn spawn<F, Fut>(servers: usize, max: usize, serve: F) -> Self
    where
        F: Fn(Vec<Q>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<A>> + Send,
    {
        let (tx, rx) = mpsc::channel::<Request<Q, A>>(max * servers.max(1) * 2);
        let rx = Arc::new(Mutex::new(rx));
        let serve = Arc::new(serve);
        for _ in 0..servers.max(1) {
            let rx = rx.clone();
            let serve = serve.clone();
            tokio::spawn(async move {
                let mut waiting = Vec::with_capacity(max);
                loop {
                    // Only the collecting task holds the receiver; serving happens unlocked.
                    if rx.lock().await.recv_many(&mut waiting, max).await == 0 {
                        break;
                    }
                    let (batch, replies): (Vec<Q>, Vec<_>) = waiting.drain(..).unzip();
                    let answers = serve(batch).await;
                    debug_assert_eq!(answers.len(), replies.len());
                    for (reply, answer) in replies.into_iter().zip(answers) {
                        let _ = reply.send(answer);
                    }
                }
            });
        }
        Self { tx }
    }

    /// Serves one request; `None` when the serving tasks are gone (the runtime is shutting
    /// down) or dropped the request unanswered.
    pub(crate) async fn call(&self, request: Q) -> Option<A> {
        let (reply, answer) = oneshot::channel();
        self.tx.send((request, reply)).await.ok()?;
        answer.await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrent_callers_share_batches_and_get_their_own_answers() {
        let sizes = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let b = Arc::new(Batcher::spawn(1, 8, move |qs: Vec<u32>| {
            seen.lock().expect("sizes").push(qs.len());
            async move { qs.into_iter().map(|q| q * 10).collect() }
        }));
        let calls: Vec<_> = (0..40u32)
            .map(|i| {
                let b = b.clone();
                tokio::spawn(async move { (i, b.call(i).await) })
            })
            .collect();
        for c in calls {
            let (i, answer) = c.await.expect("caller task");
            assert_eq!(answer, Some(i * 10));
        }
        let sizes = sizes.lock().expect("sizes");
        assert_eq!(sizes.iter().sum::<usize>(), 40);
        assert!(sizes.iter().all(|&n| (1..=8).contains(&n)), "{sizes:?}");
        // The callers were all waiting before the server ran: they were served in batches.
        assert!(sizes.len() < 40, "{sizes:?}");
    }

    #[tokio::test]
    async fn a_batch_that_answers_nothing_leaves_callers_with_none() {
        let b = Batcher::spawn(2, 4, |_qs: Vec<u8>| async { Vec::<u8>::new() });
        assert_eq!(b.call(1).await, None);
    }
}
