//! Agents' replies and private notes in a conversation: a canned response's text and files,
//! attachments (an agent's uploads, and files shared by canned responses and knowledge-base
//! answers), blocked words, and mentions.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_normalizer::Author;
use kefu_normalizer::views::MessageView;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::ActOnConversation;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::MessageJson;
use crate::state::AppState;

/// Most files one reply may carry.
const MAX_REPLY_ATTACHMENTS: usize = 10;

/// A reply or private note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReply {
    /// The text; may be empty when files are attached.
    #[serde(default)]
    pub text: String,
    /// Files uploaded with `POST /api/v1/attachments`, by id, sent in this order.
    #[serde(default)]
    pub attachments: Vec<i64>,
    /// A client-chosen id; posting the same id again returns the first message.
    pub client_id: Option<String>,
    /// A private note for agents only.
    #[serde(default)]
    pub private: bool,
    /// Send this canned response, its placeholders filled in for the conversation, as the
    /// text (which must then be empty).
    pub canned_response_id: Option<i64>,
    /// Agents and teams a private note mentions; each is notified (a team's members).
    #[serde(default)]
    pub mentions: Option<super::notifications::MentionsBody>,
}

/// Posts an agent reply (delivered to the customer) or a private note. 201 when stored, 200
/// when the same `client_id` was posted before.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "conversations", request_body = NewReply,
    responses((status = 201, body = MessageView), (status = 200, body = MessageView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn reply(
    State(st): State<AppState>,
    ActOnConversation { me, conversation }: ActOnConversation,
    MessageJson(req): MessageJson<NewReply>,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    let id = conversation.id;
    let author = Author {
        id: me.agent.id,
        name: me.agent.name.clone(),
    };
    // A canned response's text and files, checked before anything is stored.
    let (text, mut ids) = match req.canned_response_id {
        None => (req.text, Vec::new()),
        Some(canned) => {
            super::canned::reply_text(&st, &me, &conversation, canned, &req.text).await?
        }
    };
    if !req.private
        && let Some(f) = st.screen.blocked(&text).await
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "blocked_content",
            format!(
                "text contains {:?}, which the rule {:?} blocks",
                f.term, f.rule
            ),
        )
        .with_field("text"));
    }
    ids.retain(|f| !req.attachments.contains(f));
    let ids: Vec<i64> = req.attachments.iter().copied().chain(ids).collect();
    if ids.len() > MAX_REPLY_ATTACHMENTS {
        return Err(ApiError::invalid(format!(
            "a reply may carry at most {MAX_REPLY_ATTACHMENTS} attachments"
        )));
    }
    let files = if ids.is_empty() {
        Vec::new()
    } else {
        let mut shared = super::canned::usable_files(&st, &me, &ids).await?;
        shared.extend(st.bot.knowledge().shared_files(&ids).await?);
        st.files
            .attachable(&ids, me.agent.id, conversation.inbox_id, &shared)
            .await?
    };
    let attachments: Vec<_> = files
        .iter()
        .map(kefu_normalizer::files::attachment_of)
        .collect();
    // Checked before the note is stored, so a wrong id stores nothing.
    let recipients =
        super::notifications::recipients(&st, req.mentions.as_ref(), req.private, &conversation)
            .await?;
    let posted = st
        .conversations
        .reply(
            id,
            &author,
            &text,
            &attachments,
            req.client_id.as_deref(),
            req.private,
        )
        .await?;
    if !recipients.is_empty() {
        // Also when the same client_id was posted before: completes what a failure after
        // storing the note left undone, and tells nobody twice.
        st.notifications
            .mention(id, posted.message.id, me.agent.id, &recipients)
            .await?;
    }
    let status = if posted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(posted.message)))
}
