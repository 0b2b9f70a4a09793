//! # kefu-channel — the channel seam
//!
//! Everything a channel adapter (WeChat, email, app push, web chat, or your own LINE/Telegram/SMS
//! crate) needs to plug into Kefu, and nothing more. Adapters depend on this crate only; they never
//! see the database, the job queue or the gateway's internals.
//!
//! The pieces, in the order a message meets them:
//!
//! - [`ChannelFactory`]: registered once per channel *type* by the gateway. It validates an inbox's
//!   settings, names which of them are secrets, builds one [`Channel`] per configured inbox and may
//!   provide push-style ingress routes (an axum [`Router`](axum::Router)) that the gateway mounts at
//!   `/channels/<type>/...`.
//! - [`InboundEnvelope`]: what an adapter hands to Kefu for every inbound message — who sent it
//!   ([`ExternalIdentity`]), the provider's message id (the dedupe key), threading hints and the
//!   [`Content`]. Adapters hand envelopes to an [`InboundSink`] and acknowledge the provider only
//!   after [`InboundSink::accept`] returned `Ok`: by then the message is committed.
//! - [`Channel`]: one configured channel account. Pull-style channels (IMAP) do their work in
//!   [`Channel::run`]; every channel delivers agent replies in [`Channel::send`] and classifies
//!   failures with [`SendError`] so the dispatcher knows whether retrying helps. Rate limits,
//!   retries, timeouts and metrics are applied around `send` once, by Kefu — adapters do not
//!   re-implement them.
//! - [`LivePresence`]: Kefu tells channels that can reach a customer live (the app's WebSocket)
//!   or by notification whether the customer is connected right now.
//! - [`ChannelState`], [`SharedCounters`]: state an adapter keeps through Kefu, durable (cursors,
//!   tokens, callback nonces seen) or counted across every node (abuse limits).
//! - [`settings_schema`], [`Check`]: how a channel describes its settings for the console's
//!   inbox form, and reports "test connection" results.
//! - `testkit` (cargo feature `testkit`, off by default): the conformance suite. Every adapter
//!   runs it against its own fake provider, with the feature enabled in its dev-dependencies.
//!
//! See `channels/README.md` in the repository for a walk-through of writing a channel crate.
#![warn(missing_docs)]

mod capabilities;
mod channel;
mod counters;
mod envelope;
mod error;
mod exclusive;
mod history;
mod outbound;
mod presence;
mod settings;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use capabilities::{Capabilities, Quota};
pub use channel::{
    BuildContext, Channel, ChannelContext, ChannelFactory, ChannelKind, ChannelState, FetchedFile,
    InboundSink, InboxConfig, InboxLookup, IngressContext,
};
pub use counters::{CountersDown, Place, SharedCounters};
pub use envelope::{Accepted, Attachment, Content, ExternalIdentity, InboundEnvelope, ThreadHints};
pub use error::{ChannelError, IngestError, SendError};
pub use exclusive::{Exclusive, LocalLocks, exclusive_busy};
pub use history::{ConversationHistory, Direction, HistoryMessage, HistoryPage, Unread, ViewPage};
pub use outbound::{OutboundMessage, Recipient, SendReceipt};
pub use presence::LivePresence;
pub use settings::{CHECK_TIMEOUT, Check, Probe, schemars, settings_schema};
