//! What the widget socket needs from Kefu beyond the channel seam: the inboxes a
//! `website_token` opens, the realtime hub (live frames, typing, app users' new
//! conversations), the routing queue, read receipts, business hours and who is online. Implemented by Kefu's gateway on its
//! hub, dispatcher and stores; tests implement it in memory.

use std::sync::Arc;

use async_trait::async_trait;
use kefu_channel::{InboxConfig, IngestError};
use tokio::sync::mpsc;

/// A frame serialized once and shared by every socket it goes to.
pub type Frame = Arc<str>;

/// A queued conversation's place, for the widget's `status` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSpot {
    /// 1 for the next conversation of its inbox to be served.
    pub position: usize,
    /// Conversations waiting in the inbox.
    pub queue_length: usize,
    /// A rough wait estimate; `None` when Kefu has none.
    pub estimated_wait_secs: Option<u64>,
}

/// The inbox's schedule says nobody is there now, for the widget's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Away {
    /// When it opens next (RFC 3339); `None` when the schedule shows no opening ahead.
    pub next_open: Option<String>,
}

/// Nobody is online to answer, for the widget's offer to take an email address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offline {
    /// Whether replies can reach the visitor by email and they have left no address yet.
    pub ask_email: bool,
}

/// Kefu's side of the widget socket.
#[async_trait]
pub trait WidgetHost: Send + Sync + 'static {
    /// The live web chat or app (`app_push`) inbox whose public token is `website_token`.
    async fn inbox_by_token(&self, website_token: &str)
    -> Result<Option<InboxConfig>, IngestError>;

    /// Forwards `conversation`'s visible messages and status changes to `tx` as widget frames;
    /// returns an id for [`unfollow`](Self::unfollow). A socket whose queue is full may be
    /// dropped: the widget reconnects and replays what it missed.
    fn follow(&self, conversation: i64, tx: mpsc::Sender<Frame>) -> u64;

    /// Stops what [`follow`](Self::follow) started.
    fn unfollow(&self, conversation: i64, id: u64);

    /// Tells `tx` the id of every conversation opened for app user `external_id` elsewhere
    /// (the app API), so the socket follows it; returns an id for
    /// [`unwatch_user`](Self::unwatch_user).
    fn watch_user(&self, inbox_id: i64, external_id: &str, tx: mpsc::Sender<i64>) -> u64;

    /// Stops what [`watch_user`](Self::watch_user) started.
    fn unwatch_user(&self, inbox_id: i64, external_id: &str, id: u64);

    /// The visitor started or stopped typing (for agents' consoles).
    fn typing(&self, conversation: i64, on: bool);

    /// Where the conversation waits in the queue; `None` when it is not queued or Kefu cannot
    /// tell right now (the widget then shows no position).
    async fn queue_spot(&self, conversation: i64) -> Option<QueueSpot>;

    /// The visitor read the conversation up to `seq`. Best effort: a failure is logged by Kefu.
    async fn mark_read(&self, conversation: i64, seq: i64);

    /// The agent helping in `conversation`, for the widget's header when a tab (re)connects;
    /// `None` when nobody is assigned or Kefu cannot tell right now.
    async fn assigned_agent(&self, _conversation: i64) -> Option<AgentCard> {
        None
    }

    /// `Some` when the inbox keeps a business-hours schedule that is closed now; `None` when it
    /// is open, keeps none, or Kefu cannot tell right now (the widget then shows no away line).
    async fn away(&self, _inbox_id: i64) -> Option<Away> {
        None
    }

    /// `Some` when no agent is online to answer `inbox_id`, saying whether to ask the visitor
    /// (of `conversation`, once they have one) for an email address so the reply reaches them
    /// after they leave; `None` when someone is online or Kefu cannot tell right now.
    async fn offline(&self, _inbox_id: i64, _conversation: Option<i64>) -> Option<Offline> {
        None
    }

    /// The visitor of `conversation` leaves `email` for replies they may miss.
    async fn leave_email(&self, _conversation: i64, _email: &str) -> Result<(), RateRefused> {
        Err(RateRefused {
            code: "unavailable",
            detail: "this chat takes no email address".into(),
        })
    }

    /// The token of `conversation`'s satisfaction survey while it waits for an answer, so a
    /// reloaded tab shows the rating card again; `None` when there is none.
    async fn csat_pending(&self, _conversation: i64) -> Option<String> {
        None
    }

    /// The visitor of `conversation` rates it with the survey `token`.
    async fn rate(
        &self,
        _conversation: i64,
        _token: &str,
        _rating: i64,
        _comment: Option<String>,
    ) -> Result<i64, RateRefused> {
        Err(RateRefused {
            code: "csat_unknown",
            detail: "this chat takes no ratings".into(),
        })
    }
}

/// Why a rating (or an email address) was not taken, for the widget's `error` frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateRefused {
    /// `csat_unknown`, `csat_expired`, `csat_already_submitted`, `invalid_rating`,
    /// `invalid_email`, `unavailable`.
    pub code: &'static str,
    /// What was wrong.
    pub detail: String,
}

/// Who helps a visitor, as the widget's header shows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AgentCard {
    /// The agent's display name.
    pub name: String,
    /// Their picture (relative to Kefu's public URL); `None`: the widget shows their initial.
    pub avatar_url: Option<String>,
}
