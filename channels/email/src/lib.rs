//! # kefu-channel-email — the email channel (`email`)
//!
//! Support mailboxes as a Kefu channel: mail is read over IMAP ([`async_imap`]) and replies go out
//! over SMTP ([`lettre`]). The gateway registers [`EmailFactory`]; each inbox of type `email`
//! gets an [`EmailChannel`] whose [`run`](kefu_channel::Channel::run) is the IMAP loop and whose
//! [`send`](kefu_channel::Channel::send) submits a reply.
//!
//! - [`settings`]: `{address, imap: {...}, smtp: {...}, plus_addressing?, max_attachment_bytes?}`,
//!   validated with errors that name the field; the passwords are secrets.
//! - [`parse`]: raw RFC 5322 bytes → [`InboundEnvelope`](kefu_channel::InboundEnvelope). Pure,
//!   never panics, never drops a message. Charsets via `mail-parser` + `encoding_rs`.
//! - [`quote`]: trims quoted reply history for the conversation view.
//! - [`r#loop`]: classifies bounces, auto-replies, receipts and bulk mail
//!   (`extra.email.auto`) so Kefu never answers them automatically, and recognizes our own
//!   address (mail from it is not taken in; replies to it are refused).
//! - [`compose`]: the reply: generated `Message-ID`, `In-Reply-To`/`References`, `Reply-To`
//!   plus-address, `Re:` subject, text + HTML, attachments (`multipart/mixed`, non-ASCII names
//!   encoded).
//! - [`smtp_error`]: SMTP failures classified retryable or permanent; settings the server
//!   cannot work with (no common login mechanism, TLS mismatch, unknown host) are permanent.
//! - `imap`: incremental sync by UID with the cursor in `ChannelState`, IDLE or polling,
//!   reconnect with backoff, never changing the mailbox ([`Timing`]).
//!
//! Provider docs: IMAP4rev1 (RFC 3501), IDLE (RFC 2177), message format and threading
//! (RFC 5322 §3.6.4), automatic responses (RFC 3834), delivery reports (RFC 3464).
#![warn(missing_docs)]

mod channel;
mod check;
pub mod compose;
mod decode;
mod error;
mod imap;
pub mod r#loop;
pub mod parse;
pub mod quote;
pub mod settings;
pub mod smtp_error;

pub use channel::{EmailChannel, EmailFactory, KIND};
pub use error::EmailError;
pub use imap::Timing;
