//! # kefu-channel-email — the email channel (`email`)
//!
//! Support mailboxes as a Kefu channel: mail is read over IMAP and replies go out over SMTP.
//!
//! - [`parse`]: raw RFC 5322 bytes → [`InboundEnvelope`](kefu_channel::InboundEnvelope). Pure,
//!   never panics, never drops a message.
//! - [`quote`]: trims quoted reply history for the conversation view.
//! - [`r#loop`]: classifies bounces, auto-replies, receipts and bulk mail so Kefu never answers
//!   them automatically, and recognizes our own address.

mod decode;
pub mod r#loop;
pub mod parse;
pub mod quote;
