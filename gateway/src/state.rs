//! Shared application state handed to every handler.

use std::sync::Arc;

use kefu_normalizer::{Conversations, Db, EventBus, Normalizer};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;

use crate::channels::{ChannelRegistry, Runner};
use crate::config::Config;
use crate::crypto::Keys;

/// Everything handlers need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The database itself, for tests and benchmarks that look at storage directly. Handlers
    /// and sockets use the stores below and never this.
    pub db: Db,
    /// Derived secret keys.
    pub keys: Keys,
    /// The ingest pipeline.
    pub normalizer: Normalizer,
    /// Conversation operations.
    pub conversations: Conversations,
    /// Relayed events.
    pub bus: Arc<dyn EventBus>,
    /// Inbox rows: create, change, delete, routing and rate limits.
    pub inbox_store: kefu_normalizer::Inboxes,
    /// Inbox rows as channel configs, secrets decrypted.
    pub inboxes: crate::channels::Inboxes,
    /// Channel types.
    pub registry: Arc<ChannelRegistry>,
    /// What customers may read of their conversations (the widget's and the app's replay).
    pub history: Arc<dyn kefu_channel::ConversationHistory>,
    /// Running channels, one per inbox.
    pub runner: Arc<Runner>,
    /// Prometheus exposition.
    pub metrics: PrometheusHandle,
    /// Realtime hub for widgets and consoles.
    pub hub: Arc<crate::ws::Hub>,
    /// Per-address limits of the public widget socket (tabs, new conversations).
    pub widget_abuse: Arc<kefu_channel_webchat::AbuseGuard>,
    /// Signs web chat visitor sessions.
    pub session_key: kefu_channel_webchat::session::SessionKey,
    /// Outbound delivery records (dead letters, manual retry).
    pub deliveries: kefu_normalizer::Deliveries,
    /// Stored files: uploads and customers' attachments.
    pub files: kefu_normalizer::Files,
    /// Conversations' timelines (handovers and status changes).
    pub activities: kefu_normalizer::Activities,
    /// Agents' notifications: mentions and conversations handed to them.
    pub notifications: kefu_normalizer::Notifications,
    /// Labels and which conversations and contacts carry them.
    pub labels: kefu_normalizer::Labels,
    /// Canned responses: scopes, who sees and manages them, filling their placeholders.
    pub canned: kefu_normalizer::CannedResponses,
    /// Business-hours schedules.
    pub schedules: kefu_normalizer::schedules::Schedules,
    /// Satisfaction surveys.
    pub csat: kefu_normalizer::csat::Surveys,
    /// Report figures over the metric events.
    pub reports: kefu_normalizer::reports::Reports,
    /// The floor right now: queues, presence, load (the live dashboard and `/metrics`).
    pub live: kefu_normalizer::live::Live,
    /// The knowledge base, its search index and the FAQ bot.
    pub bot: kefu_ai::FaqBot,
    /// Intents and their detector (the dispatcher detects with a clone of it).
    pub intents: kefu_ai::IntentDetector,
    /// Agents' edits to contacts (name, email, phone, custom attributes).
    pub contacts: kefu_normalizer::Contacts,
    /// Custom attribute definitions.
    pub attributes: kefu_normalizer::CustomAttributes,
    /// Durable jobs.
    pub jobs: kefu_dispatcher::jobs::JobStore,
    /// Webhook endpoints and their delivery log.
    pub webhooks: kefu_dispatcher::webhook::WebhookStore,
    /// Fires on shutdown.
    pub shutdown: CancellationToken,
    /// How this process's job workers are doing (for `/readyz`).
    pub workers: kefu_dispatcher::outbound::health::WorkerHealth,
    /// Skill-based routing: assigner tasks, transfers, claims, explanations.
    pub dispatcher: kefu_dispatcher::assign::Dispatcher,
    /// Screening messages: sensitive-word and personal-data rules (masking, blocking,
    /// flagging, routing) and sentiment.
    pub screen: crate::screen::MessageScreen,
    /// Full-text search over conversations.
    pub search: kefu_normalizer::search::Search,
    /// Sessions, invites, API tokens, agents, teams and login throttling.
    pub accounts: crate::auth::Accounts,
    /// Singleton work across nodes: which pollers, sweeps and the assigner run here.
    pub leases: kefu_normalizer::leases::Leases,
    /// Proactive notifications to contacts (`POST /contacts/{id}/notifications`).
    pub contact_notify: kefu_normalizer::ContactNotifier,
    /// The language model, when `ai.llm` is configured (drafts; summaries run in the relay).
    pub llm: Option<crate::llm::Assist>,
}
