//! Visitors' files. A visitor uploads a file over HTTP with its widget session (Kefu serves
//! the route and stores the file exactly as an agent's upload); the answer carries a *ticket*,
//! the stored file's metadata signed with the session key for that inbox and visitor. The
//! widget then sends `message {client_id, text, attachments: [ticket]}` on its socket, which
//! checks each ticket and attaches the file it names. A ticket cannot be forged, edited, or used
//! by another visitor or on another inbox, so a visitor can attach only their own uploads and a
//! message never carries a URL the visitor made up.
//!
//! [`UploadGuard`] bounds what one session may upload: [`FILES_PER_HOUR`] files (a quarter of
//! them at once) and [`BYTES_PER_HOUR`] bytes, like [`AbuseGuard`](crate::AbuseGuard) bounds
//! what one address may open.

use std::num::NonZeroU32;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use kefu_channel::Attachment;
use serde::{Deserialize, Serialize};

use crate::session::SessionKey;

/// Files one visitor session may upload per hour.
pub const FILES_PER_HOUR: u32 = 40;
/// Bytes one visitor session may upload per hour.
pub const BYTES_PER_HOUR: u64 = 200 * 1024 * 1024;
/// The most files one message may carry.
pub const MAX_FILES_PER_MESSAGE: usize = 10;

/// What a ticket vouches for.
#[derive(Serialize, Deserialize)]
struct Ticket {
    /// The inbox.
    i: i64,
    /// The visitor.
    v: String,
    /// The stored file's id, name, type, size and URL.
    id: i64,
    n: String,
    m: String,
    s: Option<u64>,
    u: String,
}

impl SessionKey {
    /// A ticket for file `file` (stored, with its id and URL) uploaded by `visitor` in `inbox`.
    pub fn file_ticket(&self, inbox: i64, visitor: &str, file: &Attachment) -> String {
        let t = Ticket {
            i: inbox,
            v: visitor.to_owned(),
            id: file.id.unwrap_or_default(),
            n: file.name.clone(),
            m: file.mime.clone(),
            s: file.size,
            u: file.url.clone().unwrap_or_default(),
        };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&t).unwrap_or_default());
        let sig = URL_SAFE_NO_PAD.encode(self.sign(&format!("file:{payload}")));
        format!("{payload}.{sig}")
    }

    /// The file a ticket names, when it is intact and was issued to `visitor` in `inbox`.
    pub fn verify_file_ticket(
        &self,
        inbox: i64,
        visitor: &str,
        ticket: &str,
    ) -> Option<Attachment> {
        let (payload, sig) = ticket.rsplit_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        if !self.check(&format!("file:{payload}"), &sig) {
            return None;
        }
        let t: Ticket = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        (t.i == inbox && t.v == visitor).then(|| Attachment {
            id: Some(t.id),
            name: t.n,
            mime: t.m,
            size: t.s,
            url: Some(t.u),
            ..Attachment::default()
        })
    }
}

/// Why an upload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadRefused {
    /// The session uploaded [`FILES_PER_HOUR`] files or [`BYTES_PER_HOUR`] bytes lately.
    TooMany,
}

type SessionLimiter = DefaultKeyedRateLimiter<(i64, String)>;

/// Per-session upload budgets, shared by every request of this node.
#[derive(Debug)]
pub struct UploadGuard {
    files: SessionLimiter,
    /// In KiB, so one hour's budget fits the limiter's `u32` cells.
    kib: SessionLimiter,
}

impl Default for UploadGuard {
    fn default() -> Self {
        let files = NonZeroU32::new(FILES_PER_HOUR).unwrap_or(NonZeroU32::MIN);
        let files_burst = NonZeroU32::new(FILES_PER_HOUR / 4).unwrap_or(NonZeroU32::MIN);
        let kib = NonZeroU32::new((BYTES_PER_HOUR / 1024) as u32).unwrap_or(NonZeroU32::MIN);
        let kib_burst =
            NonZeroU32::new((BYTES_PER_HOUR / 1024 / 4) as u32).unwrap_or(NonZeroU32::MIN);
        Self {
            files: RateLimiter::keyed(Quota::per_hour(files).allow_burst(files_burst)),
            kib: RateLimiter::keyed(Quota::per_hour(kib).allow_burst(kib_burst)),
        }
    }
}

impl UploadGuard {
    /// Counts one file of `bytes` bytes against visitor `visitor` of `inbox_id`.
    pub fn admit(&self, inbox_id: i64, visitor: &str, bytes: u64) -> Result<(), UploadRefused> {
        let key = (inbox_id, visitor.to_owned());
        let kib = NonZeroU32::new(bytes.div_ceil(1024).clamp(1, u64::from(u32::MAX)) as u32)
            .unwrap_or(NonZeroU32::MIN);
        if self.files.check_key(&key).is_err() {
            return Err(UploadRefused::TooMany);
        }
        if !matches!(self.kib.check_key_n(&key, kib), Ok(Ok(()))) {
            return Err(UploadRefused::TooMany);
        }
        if self.files.len() > 100_000 {
            self.files.retain_recent();
            self.kib.retain_recent();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Attachment {
        Attachment {
            id: Some(9),
            name: "photo.png".into(),
            mime: "image/png".into(),
            size: Some(120),
            url: Some("/files/9/abc".into()),
            ..Attachment::default()
        }
    }

    #[test]
    fn tickets_hold_only_for_their_visitor_and_inbox() {
        let k = SessionKey::new([3; 32]);
        let t = k.file_ticket(1, "visitor:a", &file());
        assert_eq!(k.verify_file_ticket(1, "visitor:a", &t), Some(file()));
        assert_eq!(
            k.verify_file_ticket(1, "visitor:b", &t),
            None,
            "another visitor"
        );
        assert_eq!(
            k.verify_file_ticket(2, "visitor:a", &t),
            None,
            "another inbox"
        );
        assert_eq!(
            SessionKey::new([4; 32]).verify_file_ticket(1, "visitor:a", &t),
            None
        );
        let (payload, sig) = t.rsplit_once('.').expect("two parts");
        let mut edited = file();
        edited.url = Some("https://evil.example/x.png".into());
        let other = k.file_ticket(1, "visitor:a", &edited);
        let (other_payload, _) = other.rsplit_once('.').expect("two parts");
        assert_eq!(
            k.verify_file_ticket(1, "visitor:a", &format!("{other_payload}.{sig}")),
            None,
            "an edited payload"
        );
        // A session's signature is no ticket's.
        let session = k.issue(1, "visitor:a");
        assert_eq!(k.verify_file_ticket(1, "visitor:a", &session), None);
        for junk in ["", ".", "x.y", payload] {
            assert_eq!(k.verify_file_ticket(1, "visitor:a", junk), None, "{junk:?}");
        }
    }

    #[test]
    fn a_session_may_upload_a_burst_then_is_refused() {
        let g = UploadGuard::default();
        let allowed = (0..20).filter(|_| g.admit(1, "v", 10).is_ok()).count();
        assert_eq!(allowed, (FILES_PER_HOUR / 4) as usize);
        assert!(g.admit(1, "w", 10).is_ok(), "another session counts apart");
        assert!(g.admit(2, "v", 10).is_ok(), "another inbox counts apart");
        let big = BYTES_PER_HOUR / 4 + 1;
        assert_eq!(
            g.admit(1, "x", big),
            Err(UploadRefused::TooMany),
            "too many bytes"
        );
    }
}
