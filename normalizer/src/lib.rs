//! # kefu-normalizer — the unified conversation model and the ingest pipeline
//!
//! - [`entity`]: sea-orm entities for every table (the schema is in `kefu-migrations`).
//! - [`Db`]: the connection pool for SQLite or PostgreSQL, with write transactions that behave
//!   the same on both.
//! - [`wal`]: SQLite's write-ahead log, checkpointed off the writers' path.
//! - [`Normalizer`]: turns a channel's [`InboundEnvelope`](kefu_channel::InboundEnvelope) into
//!   stored rows in one transaction — contact and identity, conversation (threaded or new), the
//!   message with the next per-conversation `seq`, dedupe by provider id, outbox events. It
//!   implements [`InboundSink`](kefu_channel::InboundSink), so adapters hand it envelopes
//!   directly.
//! - [`Conversations`]: agent replies (idempotent on `client_id`), typed status transitions
//!   ([`Status`], [`Transition`]), assignment, contact merges and the reads the API serves;
//!   the list with its filters, sorts and keyset cursors ([`ListFilter`], [`Sort`],
//!   [`Cursor`]), what each row shows ([`views::ConversationItem`]) and read markers.
//! - [`activities`]: the thread's timeline ([`Activities`]), written by [`activities::record`]
//!   in the transaction of each handover and status change.
//! - [`Labels`]: labels and which conversations and contacts carry them.
//! - [`attributes`]: custom attribute definitions ([`CustomAttributes`]) and the typed check of
//!   a contact's attribute values; [`contacts`]: agents' edits to a contact ([`Contacts`]).
//! - [`contact_notify`]: proactive notifications to a contact ([`ContactNotifier`]), stored as
//!   system messages the delivery pipeline sends.
//! - [`canned`]: canned responses ([`CannedResponses`]): scopes, who sees and manages them,
//!   and their `{{variable | fallback}}` placeholders.
//! - [`DbHistory`]: what a customer may read of their conversation, for channels whose clients
//!   sync by `after_seq` (the app channel).
//! - [`Files`]: customers' attachments and agents' uploads, served at `/files/{id}/{token}`.
//! - [`events`]: the transactional outbox and its relay to an [`EventBus`].
//! - [`views`]: the shapes shown by the API, realtime streams and webhooks.
//! - [`access`]: inbox membership and who may see and act on which conversations.
//! - [`accounts`]: sessions, invites, API tokens, agents and teams.
//! - [`Inboxes`]: inbox rows, their routing and outbound rate limits.
//! - [`leases`]: singleton work across nodes (pollers, the assigner, the housekeeping).
//! - [`schedules`]: business hours ([`Hours`](schedules::Hours)): open or closed at an
//!   instant, the next opening, open seconds between two instants.
//! - [`search`]: full-text search over conversations (tantivy with a jieba analyzer).
//! - [`reports`]: metric events derived from the outbox and the report figures over them.
//! - [`live`]: the floor right now (queues, presence, load) for the live dashboard and
//!   `/metrics`.
//! - [`knowledge`]: the knowledge base and the FAQ bot's settings and decisions.
//! - [`sensitive`]: sensitive-word and personal-data rules.
//! - [`intents`]: named intents with example phrases, and the intent detected for a
//!   conversation ([`intents::IntentMatch`]).
//! - [`summaries`]: conversation summaries on resolve and transfer (what they are made from,
//!   where they are stored; the [`summaries::Summarizer`] that writes them is plugged in).
//! - [`screen`]: how ingest has customer messages screened (rules, sentiment).
//! - [`llm_usage`]: the optional language model's per-inbox daily budget.
#![warn(missing_docs)]

pub mod access;
pub mod accounts;
pub mod activities;
pub mod attributes;
pub mod canned;
pub mod contact_notify;
pub mod contacts;
mod conversation_filter;
mod conversations;
pub mod csat;
mod db;
mod delivery;
pub mod entity;
mod error;
pub mod events;
pub mod fallback;
pub mod files;
mod history;
mod inboxes;
mod ingest;
mod ingest_group;
pub mod intents;
pub mod knowledge;
mod labels;
pub mod leases;
mod list_items;
mod listing;
pub mod live;
pub mod llm_usage;
pub mod notifications;
pub mod planner;
mod prometheus;
mod reach;
pub mod reports;
mod sanitize;
pub mod saved_files;
pub mod schedules;
pub mod screen;
pub mod search;
pub mod sensitive;
mod state_store;
mod status;
mod status_change;
pub mod summaries;
pub mod token;
pub mod views;
pub mod wal;

pub use activities::{Activities, NewActivity};
pub use attributes::CustomAttributes;
pub use canned::CannedResponses;
pub use contact_notify::ContactNotifier;
pub use contacts::Contacts;
pub use conversations::{Author, Conversations, Posted};
/// Building blocks for other crates' transactions (the dispatcher's assignments and notices).
pub use conversations::{NewMessage, append_message, set_status, set_status_with};
pub use db::{Db, WriteTx, sqlite_path};
pub use delivery::{Deliveries, DeliveryOutcome, PendingDelivery};
pub use entity::agent::AgentStatus;
pub use entity::conversation_activity::ActivityKind;
pub use entity::message::{DeliveryStatus, Direction, SenderType};
pub use entity::webhook_delivery::WebhookDeliveryStatus;
pub use error::StoreError;
pub use events::{
    BusHealth, ConsumeError, Event, EventBus, EventData, EventType, InProcessBus, OutboxConsumer,
    OutboxRelay, RedisBus,
};
pub use files::{Files, NewFile};
pub use history::DbHistory;
pub use inboxes::{InboxChange, Inboxes, NewInbox};
pub use ingest::Normalizer;
pub use labels::{Labels, check_color, check_name as check_label_name};
pub use listing::{Cursor, ListFilter, Sort};
pub use notifications::{Mentions, Notifications};
pub use sanitize::Limits;
pub use state_store::DbChannelState;
pub use status::{IllegalTransition, Status, Transition};
