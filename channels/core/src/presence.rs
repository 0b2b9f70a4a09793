//! Whether a customer is looking at a conversation right now, so a channel that can reach them
//! two ways (the app: a live WebSocket or a push notification) picks the live one.

use async_trait::async_trait;

/// Live client sessions, as Kefu's realtime hub knows them. Implemented by Kefu; a channel
/// that receives one asks it in [`Channel::send`](crate::Channel::send) before calling its
/// provider.
///
/// An implementation may only know the sessions of its own process (Kefu's in-process hub
/// does). A session it cannot see then makes the customer look absent, so the reply is sent
/// through the provider as well: a customer may get a notification too many, never one too
/// few.
#[async_trait]
pub trait LivePresence: Send + Sync + 'static {
    /// Whether a client of the customer of `conversation_id` (in `inbox_id`) has a live
    /// session following that conversation, so a reply stored there reaches it by itself.
    async fn is_live(&self, inbox_id: i64, conversation_id: i64) -> bool;
}
