//! Replay protection for plaintext callbacks.
//!
//! In plaintext mode WeChat signs only `token`, `timestamp` and `nonce`, not the body, so a
//! captured query string could be replayed with any body for as long as its timestamp is fresh
//! (±5 minutes). The guard remembers, per inbox, the `(timestamp, nonce)` pairs it has accepted
//! and a digest of their bodies until the timestamp goes stale: the same pair with the same body
//! is WeChat retrying a callback that was not answered in time (answered as usual, and the
//! message dedupe keeps it single); the same pair with another body is refused.
//!
//! The memory is per process and bounded: past [`MAX_ENTRIES`] the oldest pairs are forgotten
//! first. Safe mode (AES, `encoding_aes_key`) signs the body and needs none of this; it is the
//! recommended setting.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::http::StatusCode;
use sha1::{Digest, Sha1};

use crate::ingress::Reject;

/// Pairs remembered at most; a busy plaintext account writes a few per second.
pub(crate) const MAX_ENTRIES: usize = 100_000;

type Key = (i64, String, String);

/// The accepted `(inbox, timestamp, nonce)` triples and their body digests.
#[derive(Default)]
pub(crate) struct ReplayGuard {
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    digests: HashMap<Key, [u8; 20]>,
    /// Insertion order, with the Unix time after which each entry is stale.
    order: VecDeque<(i64, Key)>,
}

impl ReplayGuard {
    /// Accepts the first use of `(timestamp, nonce)` for `inbox` and its exact repeats; refuses
    /// the pair with another body. `stale_at` is when the timestamp leaves the accepted window;
    /// `now` is the current Unix time.
    pub(crate) fn check(
        &self,
        inbox: i64,
        timestamp: &str,
        nonce: &str,
        body: &[u8],
        now: i64,
        stale_at: i64,
    ) -> Result<(), Reject> {
        let digest: [u8; 20] = Sha1::digest(body).into();
        let key = (inbox, timestamp.to_owned(), nonce.to_owned());
        // A poisoned lock only means another request panicked mid-insert; the map is still a
        // valid map.
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.prune(now);
        match seen.digests.get(&key) {
            Some(d) if *d == digest => Ok(()),
            Some(_) => Err(Reject::new(
                StatusCode::UNAUTHORIZED,
                "replayed_nonce",
                "This timestamp and nonce were already used with another body; use safe mode \
                 (encoding_aes_key) so that callbacks are signed with their body.",
            )),
            None => {
                seen.digests.insert(key.clone(), digest);
                seen.order.push_back((stale_at, key));
                Ok(())
            }
        }
    }
}

impl Seen {
    /// Forgets stale pairs from the front, and the oldest ones past [`MAX_ENTRIES`].
    fn prune(&mut self, now: i64) {
        while let Some((stale_at, _)) = self.order.front() {
            if *stale_at >= now && self.order.len() < MAX_ENTRIES {
                break;
            }
            if let Some((_, key)) = self.order.pop_front() {
                self.digests.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_passes_and_another_body_is_refused() {
        let g = ReplayGuard::default();
        assert!(
            g.check(1, "1000", "n1", b"<xml>a</xml>", 1000, 1300)
                .is_ok()
        );
        // WeChat retrying the same callback.
        assert!(
            g.check(1, "1000", "n1", b"<xml>a</xml>", 1003, 1300)
                .is_ok()
        );
        let e = g
            .check(1, "1000", "n1", b"<xml>forged</xml>", 1004, 1300)
            .expect_err("a replay with another body");
        assert_eq!(
            (e.status, e.code),
            (StatusCode::UNAUTHORIZED, "replayed_nonce")
        );
        // Another nonce, or the same pair on another inbox, is a different callback.
        assert!(
            g.check(1, "1000", "n2", b"<xml>b</xml>", 1004, 1300)
                .is_ok()
        );
        assert!(
            g.check(2, "1000", "n1", b"<xml>c</xml>", 1004, 1300)
                .is_ok()
        );
    }

    #[test]
    fn stale_pairs_are_forgotten_and_memory_is_bounded() {
        let g = ReplayGuard::default();
        assert!(g.check(1, "1000", "n1", b"a", 1000, 1300).is_ok());
        // Past the window the pair is forgotten (the timestamp check refuses it before this).
        assert!(g.check(1, "2000", "n9", b"x", 1301, 1600).is_ok());
        assert!(!g.seen.lock().expect("lock").digests.contains_key(&(
            1,
            "1000".into(),
            "n1".into()
        )));

        for i in 0..MAX_ENTRIES + 10 {
            let nonce = i.to_string();
            assert!(g.check(1, "2000", &nonce, b"x", 1302, 1600).is_ok());
        }
        let seen = g.seen.lock().expect("lock");
        assert!(seen.digests.len() <= MAX_ENTRIES, "{}", seen.digests.len());
        assert_eq!(seen.digests.len(), seen.order.len());
    }
}
