//! The IMAP side: connect, sync new mail by UID, IDLE (or poll), reconnect with backoff.
//!
//! Protocol (RFC 3501, RFC 2177): `SELECT` reports `UIDVALIDITY`; UIDs only grow within one
//! validity, so the cursor `(uidvalidity, last_uid)` persisted in [`ChannelState`] is all the
//! sync needs. New mail is found with `UID FETCH <last+1>:* (UID RFC822.SIZE)` (filtered
//! client-side, since `*` always matches the highest message) and read in batches of up to 200
//! messages or 16 MiB with `BODY.PEEK[]`, which leaves `\Seen` alone: Kefu never marks, moves
//! or deletes mail. A batch is handed to Kefu at once (the normalizer commits it in groups,
//! not one transaction per message) and the cursor advances, once per batch, over the messages
//! for which [`InboundSink::accept`](kefu_channel::InboundSink::accept) returned `Ok`; a
//! storage failure ends the session and the rest is fetched again after the backoff. A
//! changed `UIDVALIDITY` (the mailbox was rebuilt) re-reads the whole mailbox; the normalizer
//! drops what it already has by Message-ID.
//!
//! Servers with `IDLE` push new mail; the IDLE is re-issued before 29 minutes (RFC 2177 asks
//! for at least that often; the default here is 25). Servers without it are polled.
//! Every wait also listens to the shutdown token.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_imap::types::UnsolicitedResponse;
use futures::TryStreamExt as _;
use kefu_channel::{ChannelContext, InboundEnvelope, IngestError};
use tokio_rustls::rustls::pki_types::CertificateDer;
use tracing::{debug, error, info, warn};

use crate::error::EmailError;
use crate::r#loop::is_own_address;
use crate::parse::{ParseOptions, parse_message};
use crate::settings::EmailSettings;

/// How the IMAP loop paces itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// Re-issue IDLE after this long (RFC 2177: at most 29 minutes). Default 25 minutes.
    pub idle_refresh: Duration,
    /// Poll interval for servers without IDLE. Default 60 seconds.
    pub poll_interval: Duration,
    /// First reconnect delay; doubles up to `reconnect_max`. Default 1 second.
    pub reconnect_min: Duration,
    /// Longest reconnect delay. Default 5 minutes.
    pub reconnect_max: Duration,
    /// Limit for connecting, logging in and selecting the mailbox. Default 30 seconds.
    pub connect_timeout: Duration,
    /// Limit for one round of fetching new mail. Default 10 minutes.
    pub sync_timeout: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            idle_refresh: Duration::from_secs(25 * 60),
            poll_interval: Duration::from_secs(60),
            reconnect_min: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(5 * 60),
            connect_timeout: Duration::from_secs(30),
            sync_timeout: Duration::from_secs(10 * 60),
        }
    }
}

mod connect;

pub(crate) use connect::{Session, connect, connect_greeted};

/// The persisted sync position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    validity: u32,
    last_uid: u32,
}

fn cursor_key(mailbox: &str) -> String {
    format!("imap.cursor.{mailbox}")
}

async fn load_cursor(cx: &ChannelContext, key: &str) -> Result<Option<Cursor>, EmailError> {
    let value = cx.state.get(cx.inbox_id, key).await.map_err(ingest)?;
    Ok(value.and_then(|v| {
        let (validity, last) = v.split_once(':')?;
        Some(Cursor {
            validity: validity.parse().ok()?,
            last_uid: last.parse().ok()?,
        })
    }))
}

async fn save_cursor(cx: &ChannelContext, key: &str, c: Cursor) -> Result<(), EmailError> {
    let value = format!("{}:{}", c.validity, c.last_uid);
    cx.state.put(cx.inbox_id, key, &value).await.map_err(ingest)
}

fn ingest(e: IngestError) -> EmailError {
    EmailError::Ingest(e.to_string())
}

/// What one inbox's loop needs.
pub(crate) struct Mailbox {
    pub settings: EmailSettings,
    pub timing: Timing,
    pub extra_roots: Arc<Vec<CertificateDer<'static>>>,
}

impl Mailbox {
    fn parse_options(&self, inbox_id: i64) -> ParseOptions {
        ParseOptions {
            inbox_id,
            address: Some(self.settings.address.clone()),
            max_attachment_bytes: self.settings.max_attachment_bytes(),
        }
    }

    /// Runs until `cx.shutdown` fires.
    pub(crate) async fn run(&self, cx: &ChannelContext) {
        let mut delay = self.timing.reconnect_min;
        loop {
            let mut healthy = false;
            let result = tokio::select! {
                _ = cx.shutdown.cancelled() => return,
                r = self.session(cx, &mut healthy) => r,
            };
            if let Err(e) = result {
                warn!(inbox = cx.inbox_id, error = %e, retry_in = ?delay, "IMAP session ended; reconnecting.");
            }
            if healthy {
                delay = self.timing.reconnect_min;
            }
            tokio::select! {
                _ = cx.shutdown.cancelled() => return,
                _ = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(self.timing.reconnect_max);
        }
    }

    async fn session(&self, cx: &ChannelContext, healthy: &mut bool) -> Result<(), EmailError> {
        let imap = &self.settings.imap;
        let t = self.timing.connect_timeout;
        let mut session = tokio::time::timeout(t, connect(imap, &self.extra_roots))
            .await
            .map_err(|_| EmailError::Timeout("connecting and logging in"))??;
        let selected = tokio::time::timeout(t, session.select(&imap.mailbox))
            .await
            .map_err(|_| EmailError::Timeout("selecting the mailbox"))?
            .map_err(|e| EmailError::Select(imap.mailbox.clone(), e.to_string()))?;
        let validity = selected.uid_validity.unwrap_or(0);
        let key = cursor_key(&imap.mailbox);
        let mut cursor = match load_cursor(cx, &key).await? {
            Some(c) if c.validity == validity => c,
            previous => {
                if previous.is_some() {
                    info!(inbox = cx.inbox_id, mailbox = %imap.mailbox, "UIDVALIDITY changed; re-reading the mailbox.");
                }
                let fresh = Cursor {
                    validity,
                    last_uid: 0,
                };
                save_cursor(cx, &key, fresh).await?;
                fresh
            }
        };
        let idle = session.capabilities().await?.has_str("IDLE");
        info!(inbox = cx.inbox_id, mailbox = %imap.mailbox, idle, "IMAP connected.");
        let opts = self.parse_options(cx.inbox_id);
        loop {
            tokio::time::timeout(
                self.timing.sync_timeout,
                self.sync(&mut session, cx, &opts, &key, &mut cursor),
            )
            .await
            .map_err(|_| EmailError::Timeout("fetching new mail"))??;
            *healthy = true;
            // Mail that arrived while we were fetching was announced then, not during IDLE.
            let mut more = false;
            while let Ok(r) = session.unsolicited_responses.try_recv() {
                more |= matches!(
                    r,
                    UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
                );
            }
            if more {
                continue;
            }
            if idle {
                let mut handle = session.idle();
                handle.init().await?;
                {
                    let (wait, _stop) = handle.wait_with_timeout(self.timing.idle_refresh);
                    let why = wait.await?;
                    debug!(inbox = cx.inbox_id, ?why, "IDLE ended.");
                }
                session = handle.done().await?;
            } else {
                tokio::time::sleep(self.timing.poll_interval).await;
                session.noop().await?;
            }
        }
    }

    /// Hands every message after the cursor to Kefu, advancing the cursor after each batch.
    async fn sync(
        &self,
        session: &mut Session,
        cx: &ChannelContext,
        opts: &ParseOptions,
        key: &str,
        cursor: &mut Cursor,
    ) -> Result<(), EmailError> {
        // UIDs and sizes in one round trip; `*` always names the highest message, so filter.
        let query = format!("{}:*", cursor.last_uid.saturating_add(1));
        let mut new: Vec<(u32, u64)> = session
            .uid_fetch(&query, "(UID RFC822.SIZE)")
            .await?
            .try_filter_map(
                |f| async move { Ok(f.uid.map(|u| (u, u64::from(f.size.unwrap_or(0))))) },
            )
            .try_collect()
            .await?;
        new.retain(|&(u, _)| u > cursor.last_uid);
        new.sort_unstable();
        new.dedup_by_key(|(u, _)| *u);
        for batch in fetch_batches(&new) {
            let set = batch
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let mut fetched: Vec<(u32, Option<Vec<u8>>)> = session
                .uid_fetch(&set, "(UID BODY.PEEK[])")
                .await?
                .try_filter_map(
                    |f| async move { Ok(f.uid.map(|u| (u, f.body().map(<[u8]>::to_vec)))) },
                )
                .try_collect()
                .await?;
            fetched.retain(|(u, _)| batch.contains(u));
            fetched.sort_by_key(|(u, _)| *u);
            fetched.dedup_by_key(|(u, _)| *u);
            let mut envelopes = Vec::with_capacity(fetched.len());
            for (uid, body) in fetched {
                match body {
                    Some(raw) => envelopes.push((uid, self.envelope(cx, opts, uid, &raw))),
                    None => {
                        warn!(inbox = cx.inbox_id, uid, "Message has no body; skipped.");
                        envelopes.push((uid, None));
                    }
                }
            }
            // The batch's highest UID, even when the server left a message out (expunged
            // meanwhile): what was asked for and not returned is gone.
            let last = batch.last().copied().unwrap_or(cursor.last_uid);
            let result = self.hand_in_all(cx, envelopes, cursor).await;
            if result.is_ok() {
                cursor.last_uid = cursor.last_uid.max(last);
            }
            save_cursor(cx, key, *cursor).await?;
            result?;
        }
        Ok(())
    }

    /// The envelope of one message; `None` when it is not taken in (mail from our own address).
    fn envelope(
        &self,
        cx: &ChannelContext,
        opts: &ParseOptions,
        uid: u32,
        raw: &[u8],
    ) -> Option<InboundEnvelope> {
        let envelope = parse_message(raw, opts);
        if is_own_address(&envelope.sender.external_id, &self.settings.address) {
            debug!(
                inbox = cx.inbox_id,
                uid, "Mail from our own address; not taken in."
            );
            return None;
        }
        Some(envelope)
    }

    /// Hands a batch to Kefu at once, so the normalizer can commit it in a few transactions
    /// instead of one per message, and advances `cursor.last_uid` over the messages stored, in
    /// UID order, up to the first that could not be. A message that answers another one of the
    /// same batch waits until that one is committed, so threading never depends on the order
    /// in which concurrent commits land.
    async fn hand_in_all(
        &self,
        cx: &ChannelContext,
        envelopes: Vec<(u32, Option<InboundEnvelope>)>,
        cursor: &mut Cursor,
    ) -> Result<(), EmailError> {
        let mut group: Vec<(u32, Option<InboundEnvelope>)> = Vec::new();
        let mut ids_in_group: HashSet<String> = HashSet::new();
        for (uid, env) in envelopes {
            let answers_group = env
                .as_ref()
                .is_some_and(|e| e.thread.references.iter().any(|r| ids_in_group.contains(r)));
            if answers_group {
                self.hand_in_group(cx, std::mem::take(&mut group), cursor)
                    .await?;
                ids_in_group.clear();
            }
            if let Some(id) = env.as_ref().and_then(|e| e.thread.message_ref.clone()) {
                ids_in_group.insert(id);
            }
            group.push((uid, env));
        }
        self.hand_in_group(cx, group, cursor).await
    }

    async fn hand_in_group(
        &self,
        cx: &ChannelContext,
        group: Vec<(u32, Option<InboundEnvelope>)>,
        cursor: &mut Cursor,
    ) -> Result<(), EmailError> {
        let results = futures::future::join_all(group.into_iter().map(|(uid, env)| async move {
            match env {
                Some(env) => (uid, Some(cx.inbound.accept(env).await)),
                None => (uid, None),
            }
        }))
        .await;
        for (uid, result) in results {
            match result {
                None => {}
                Some(Ok(a)) => debug!(
                    inbox = cx.inbox_id,
                    uid,
                    message_id = a.message_id,
                    duplicate = a.duplicate,
                    "Mail taken in."
                ),
                Some(Err(IngestError::Unavailable(why))) => return Err(EmailError::Ingest(why)),
                Some(Err(IngestError::Rejected(why))) => {
                    // Retrying the same envelope fails again; holding the mailbox back would
                    // stop every later message too.
                    error!(inbox = cx.inbox_id, uid, reason = %why, "Kefu rejected a message; skipped.");
                }
            }
            cursor.last_uid = cursor.last_uid.max(uid);
        }
        Ok(())
    }
}

/// Most messages fetched in one `UID FETCH`.
const FETCH_MAX_MESSAGES: usize = 200;
/// Most bytes (by `RFC822.SIZE`) fetched in one `UID FETCH`; a larger message comes alone.
const FETCH_MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Splits new messages `(uid, size)` into `UID FETCH` batches bounded in count and bytes.
fn fetch_batches(new: &[(u32, u64)]) -> Vec<Vec<u32>> {
    let mut batches = Vec::new();
    let mut batch: Vec<u32> = Vec::new();
    let mut bytes = 0u64;
    for &(uid, size) in new {
        if !batch.is_empty()
            && (batch.len() == FETCH_MAX_MESSAGES || bytes.saturating_add(size) > FETCH_MAX_BYTES)
        {
            batches.push(std::mem::take(&mut batch));
            bytes = 0;
        }
        batch.push(uid);
        bytes = bytes.saturating_add(size);
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_batches_are_bounded_in_count_and_bytes() {
        let small: Vec<(u32, u64)> = (1..=450).map(|u| (u, 10_000)).collect();
        let sizes: Vec<usize> = fetch_batches(&small).iter().map(Vec::len).collect();
        assert_eq!(sizes, [200, 200, 50]);
        // A message larger than the byte bound comes alone; its neighbours are not held back.
        let mixed = [
            (1, 1_000),
            (2, 20 << 20),
            (3, 1_000),
            (4, 9 << 20),
            (5, 9 << 20),
        ];
        assert_eq!(
            fetch_batches(&mixed),
            [vec![1], vec![2], vec![3, 4], vec![5]]
        );
        assert!(fetch_batches(&[]).is_empty());
    }
}
