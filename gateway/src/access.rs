//! Access to conversations and contacts in the HTTP API, enforced by extraction.
//!
//! A handler that works on one conversation takes [`ReadConversation`] or
//! [`ActOnConversation`] instead of a bare path id: extracting it authenticates the caller,
//! loads the conversation and checks the caller's [`Visibility`], so no handler can reach a
//! conversation without the check. [`SeenContact`] does the same for `/contacts/{id}`. The
//! rules themselves live in [`kefu_normalizer::access`].
//!
//! A conversation the caller may not see answers 404 `not_found`, exactly as one that does not
//! exist, so ids cannot be probed; one they may only read answers 403 `forbidden` to a change.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use kefu_normalizer::access::{Grant, Visibility};
use kefu_normalizer::views::ConversationView;

use crate::auth::Authed;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::state::AppState;

impl Authed {
    /// What this agent may see.
    pub async fn visibility(&self, st: &AppState) -> Result<Visibility, ApiError> {
        Ok(st
            .accounts
            .access
            .visibility(self.agent.id, self.role)
            .await?)
    }

    /// Conversation `id` if this agent has at least `need` on it: 404 when they may not see
    /// it, 403 when they may only read it.
    pub async fn conversation(
        &self,
        st: &AppState,
        id: i64,
        need: Grant,
    ) -> Result<ConversationView, ApiError> {
        let conversation = st.conversations.get(id).await?;
        let visibility = self.visibility(st).await?;
        match visibility.grant(conversation.inbox_id, conversation.assignee_id) {
            None => Err(ApiError::not_found("conversation")),
            Some(have) if have < need => Err(ApiError::forbidden(
                "this conversation is assigned to another agent, and its inbox lets agents \
                 read but not change others' conversations",
            )),
            Some(_) => Ok(conversation),
        }
    }

    /// Fails with 404 unless this agent sees contact `id` through one of its conversations.
    pub async fn require_contact(&self, st: &AppState, id: i64) -> Result<(), ApiError> {
        let visibility = self.visibility(st).await?;
        if st.accounts.access.sees_contact(&visibility, id).await? {
            Ok(())
        } else {
            Err(ApiError::not_found("contact"))
        }
    }
}

/// The conversation `{id}` of the path, which the caller may read.
#[derive(Debug)]
pub struct ReadConversation {
    /// The caller.
    pub me: Authed,
    /// The conversation.
    pub conversation: ConversationView,
}

/// The conversation `{id}` of the path, which the caller may answer and change.
#[derive(Debug)]
pub struct ActOnConversation {
    /// The caller.
    pub me: Authed,
    /// The conversation.
    pub conversation: ConversationView,
}

/// The contact `{id}` of the path, which the caller sees through one of its conversations.
#[derive(Debug)]
pub struct SeenContact {
    /// The caller.
    pub me: Authed,
    /// The contact's id.
    pub id: i64,
}

async fn extract(
    parts: &mut Parts,
    st: &AppState,
    need: Grant,
) -> Result<(Authed, ConversationView), ApiError> {
    let me = Authed::from_request_parts(parts, st).await?;
    let ApiPath(id) = ApiPath::<i64>::from_request_parts(parts, st).await?;
    let conversation = me.conversation(st, id, need).await?;
    Ok((me, conversation))
}

impl FromRequestParts<AppState> for ReadConversation {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let (me, conversation) = extract(parts, st, Grant::Read).await?;
        Ok(Self { me, conversation })
    }
}

impl FromRequestParts<AppState> for ActOnConversation {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let (me, conversation) = extract(parts, st, Grant::Act).await?;
        Ok(Self { me, conversation })
    }
}

impl FromRequestParts<AppState> for SeenContact {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let me = Authed::from_request_parts(parts, st).await?;
        let ApiPath(id) = ApiPath::<i64>::from_request_parts(parts, st).await?;
        me.require_contact(st, id).await?;
        Ok(Self { me, id })
    }
}
