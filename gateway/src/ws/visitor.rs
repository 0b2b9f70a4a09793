//! `/ws/web_chat`: the web chat channel's widget socket ([`kefu_channel_webchat::Widget`]),
//! wired to this Kefu. The socket, its protocol and its replay live in the channel crate; this
//! module only mounts it and implements its [`WidgetHost`] on the realtime [`Hub`], the inbox
//! store, the dispatcher's queue, the delivery records and business hours.

use std::sync::Arc;

use async_trait::async_trait;
use kefu_channel::{InboxConfig, IngestError};
use kefu_channel_webchat::{
    AgentCard, Away, ClientIp, Frame, Offline, QueueSpot, RateRefused, Widget, WidgetHost,
};
use kefu_normalizer::csat::CsatRefusal;
use kefu_normalizer::events::Signal;
use kefu_normalizer::{EventBus, StoreError};
use tokio::sync::mpsc;

use super::Hub;
use crate::api::auth::ClientAddr;
use crate::state::AppState;

/// The widget socket's router, serving `GET /ws/web_chat`.
pub fn router(st: &AppState) -> axum::Router {
    Widget {
        inbound: Arc::new(st.normalizer.clone()),
        history: st.history.clone(),
        host: Arc::new(Host {
            hub: st.hub.clone(),
            bus: st.bus.clone(),
            inboxes: st.inboxes.clone(),
            dispatcher: st.dispatcher.clone(),
            deliveries: st.deliveries.clone(),
            conversations: st.conversations.clone(),
            schedules: st.schedules.clone(),
            csat: st.csat.clone(),
            fallbacks: kefu_normalizer::fallback::Fallbacks::new(st.db.clone()),
        }),
        sessions: st.session_key.clone(),
        shutdown: st.shutdown.clone(),
        abuse: st.widget_abuse.clone(),
    }
    .router()
    .layer(axum::middleware::from_fn(client_ip))
}

/// Tells the widget socket the client's address (behind a trusted proxy, the forwarded one), by
/// which it counts tabs and new conversations.
async fn client_ip(
    ClientAddr(ip): ClientAddr,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !ip.is_unspecified() {
        req.extensions_mut().insert(ClientIp(ip));
    }
    next.run(req).await
}

/// This Kefu, as the widget socket sees it.
struct Host {
    hub: Arc<Hub>,
    /// Typing indicators cross the nodes on it.
    bus: Arc<dyn EventBus>,
    inboxes: crate::channels::Inboxes,
    dispatcher: kefu_dispatcher::assign::Dispatcher,
    deliveries: kefu_normalizer::Deliveries,
    /// Who is assigned, for a tab that (re)connects.
    conversations: kefu_normalizer::Conversations,
    /// Business hours, for the widget's away line.
    schedules: kefu_normalizer::schedules::Schedules,
    /// Satisfaction surveys, rated from the widget.
    csat: kefu_normalizer::csat::Surveys,
    /// Whether anyone is online, and a departed visitor's email address.
    fallbacks: kefu_normalizer::fallback::Fallbacks,
}

#[async_trait]
impl WidgetHost for Host {
    async fn inbox_by_token(
        &self,
        website_token: &str,
    ) -> Result<Option<InboxConfig>, IngestError> {
        self.inboxes
            .by_public_token(
                website_token,
                &[kefu_channel_webchat::KIND, kefu_channel_push::KIND],
            )
            .await
            .map_err(|e| IngestError::Unavailable(e.to_string()))
    }

    fn follow(&self, conversation: i64, tx: mpsc::Sender<Frame>) -> u64 {
        self.hub.join(conversation, tx)
    }

    fn unfollow(&self, conversation: i64, id: u64) {
        self.hub.leave(conversation, id);
    }

    fn watch_user(&self, inbox_id: i64, external_id: &str, tx: mpsc::Sender<i64>) -> u64 {
        self.hub.watch_app_user(inbox_id, external_id, tx)
    }

    fn unwatch_user(&self, inbox_id: i64, external_id: &str, id: u64) {
        self.hub.forget_app_user(inbox_id, external_id, id);
    }

    fn typing(&self, conversation: i64, on: bool) {
        self.bus.signal(Signal::VisitorTyping {
            conversation_id: conversation,
            on,
        });
    }

    async fn queue_spot(&self, conversation: i64) -> Option<QueueSpot> {
        let q = self
            .dispatcher
            .queue_status_shared(conversation)
            .await
            .inspect_err(
                |e| tracing::warn!(conversation, error = %e, "Queue position unavailable."),
            )
            .ok()??;
        Some(QueueSpot {
            position: q.position,
            queue_length: q.queue_length,
            estimated_wait_secs: q.estimated_wait_secs,
        })
    }

    async fn away(&self, inbox_id: i64) -> Option<Away> {
        let closed = self
            .schedules
            .closed_for_inbox(inbox_id, chrono::Utc::now())
            .await
            .inspect_err(|e| tracing::warn!(inbox_id, error = %e, "Business hours unavailable."))
            .ok()??;
        Some(Away {
            next_open: closed.next_open.map(|t| t.to_rfc3339()),
        })
    }

    async fn offline(&self, inbox_id: i64, conversation: Option<i64>) -> Option<Offline> {
        let offline = self
            .fallbacks
            .offline(inbox_id, conversation)
            .await
            .inspect_err(|e| tracing::warn!(inbox_id, error = %e, "Who is online is unknown."))
            .ok()??;
        Some(Offline {
            ask_email: offline.ask_email,
        })
    }

    async fn leave_email(&self, conversation: i64, email: &str) -> Result<(), RateRefused> {
        match self.fallbacks.leave_email(conversation, email).await {
            Ok(_) => Ok(()),
            Err(StoreError::Invalid(detail)) => Err(RateRefused {
                code: "invalid_email",
                detail,
            }),
            Err(e) => {
                tracing::warn!(conversation, error = %e, "A visitor's email address was not stored.");
                Err(RateRefused {
                    code: "unavailable",
                    detail: "the address could not be stored; try again later".into(),
                })
            }
        }
    }

    async fn csat_pending(&self, conversation: i64) -> Option<String> {
        self.csat
            .pending_token(conversation, chrono::Utc::now())
            .await
            .inspect_err(|e| tracing::warn!(conversation, error = %e, "Survey unavailable."))
            .ok()?
    }

    async fn rate(
        &self,
        conversation: i64,
        token: &str,
        rating: i64,
        comment: Option<String>,
    ) -> Result<i64, RateRefused> {
        let unavailable = |e: StoreError| RateRefused {
            code: "unavailable",
            detail: format!("the rating could not be stored: {e}"),
        };
        // A tab rates its own conversation only, whatever token it was handed.
        if !self
            .csat
            .belongs_to(token, conversation)
            .await
            .map_err(unavailable)?
        {
            return Err(RateRefused {
                code: CsatRefusal::Unknown.code(),
                detail: CsatRefusal::Unknown.to_string(),
            });
        }
        let now = chrono::Utc::now();
        match self
            .csat
            .submit(token, rating, comment.as_deref(), now)
            .await
        {
            Ok(Ok(_)) => Ok(rating),
            Ok(Err(r)) => Err(RateRefused {
                code: r.code(),
                detail: r.to_string(),
            }),
            Err(StoreError::Invalid(detail)) => Err(RateRefused {
                code: "invalid_rating",
                detail,
            }),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn assigned_agent(&self, conversation: i64) -> Option<AgentCard> {
        let c = self
            .conversations
            .get(conversation)
            .await
            .inspect_err(|e| tracing::warn!(conversation, error = %e, "Assignee unavailable."))
            .ok()?;
        use kefu_normalizer::Status;
        if matches!(c.status, Status::Resolved | Status::Closed | Status::Queued) {
            return None;
        }
        let card = self.hub.agent_card(c.assignee_id).await;
        Some(AgentCard {
            name: card.get("name")?.as_str()?.to_owned(),
            avatar_url: card
                .get("avatar_url")
                .and_then(|u| u.as_str())
                .map(str::to_owned),
        })
    }

    async fn mark_read(&self, conversation: i64, seq: i64) {
        if let Err(e) = self.deliveries.mark_read(conversation, seq).await {
            tracing::warn!(conversation, error = %e, "Recording a read receipt failed.");
        }
    }
}
