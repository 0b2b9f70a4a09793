//! [`InboundScreen`]: the seam through which ingest has customer messages screened (sensitive
//! words, personal data, sentiment) before they are stored, and acts on the result once they
//! are. The gateway implements it with `kefu-ai`; the normalizer only calls it.

use async_trait::async_trait;
use kefu_channel::{Accepted, InboundEnvelope};

/// A conversation to hand to a team, because a `route` rule matched a customer message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamHandoff {
    /// The rule's team.
    pub team_id: i64,
    /// The rule's name.
    pub rule: String,
    /// The word (or detector) that matched.
    pub term: String,
}

/// What screening found that matters after the message is stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Screened {
    /// Where the conversation should go, if a `route` rule matched.
    pub handoff: Option<TeamHandoff>,
    /// The message's sentiment score (−1 to 1), when it has text.
    pub sentiment: Option<f32>,
}

/// Screens customer messages on their way into storage. Ingest calls
/// [`before_store`](Self::before_store) on every envelope (after sanitizing, before the
/// transaction), and [`after_store`](Self::after_store) once it is committed.
#[async_trait]
pub trait InboundScreen: Send + Sync + 'static {
    /// Masks the envelope's content in place and records what was found in it.
    async fn before_store(&self, envelope: &mut InboundEnvelope) -> Screened;
    /// Acts on what was found (unless `accepted` is a duplicate, already handled): hands the
    /// conversation to a team. (The sentiment is stored with the message, in its transaction.)
    /// Failures are the implementation's to log: the message is stored either way.
    async fn after_store(&self, accepted: &Accepted, screened: Screened);
}
