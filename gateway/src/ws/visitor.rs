//! `/ws/web_chat`: one visitor's widget tab.
//!
//! The first frame must be `hello` (within 10 s). A visitor message is acknowledged only after
//! it is committed; a resent `client_id` maps to the same dedupe key, so it is acknowledged
//! again and never stored twice. `hello` with `session` and `after_seq` replays exactly the
//! messages the tab has not seen. Tabs that stay silent for 75 s (the widget pings every 25 s)
//! are closed.
//!
//! An `app_push` inbox's users chat here too: `hello` with the inbox's public token and
//! `identity {user_id: external_id, user_hash}` (mandatory; checked like the app API, so there
//! are no anonymous app users) is the same contact and conversation as
//! `/channels/app/{inbox}/messages`; a `client_id` dedupes across both ways in.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use kefu_channel::{Content, ExternalIdentity, InboundEnvelope, ThreadHints};
use kefu_channel_push::UserRefused;
use kefu_channel_webchat::protocol::{self, ClientFrame, ErrorFrame};
use kefu_channel_webchat::{FrameLimiter, WebChatSettings, identity, session};
use kefu_normalizer::StoreError;
use kefu_normalizer::entity::{contact_identity, conversation, inbox, message};
use kefu_normalizer::views::MessageView;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{Frame, MAX_FRAME, READ_BUFFER, WRITE_BUFFER};
use crate::state::AppState;

const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
const IDLE_TIMEOUT: Duration = Duration::from_secs(75);
const REPLAY_LIMIT: u64 = 500;

/// Upgrades to the widget protocol.
pub async fn handler(
    State(st): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let origin = headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| serve(st, socket, origin))
}

struct Visitor {
    inbox_id: i64,
    external_id: String,
    name: Option<String>,
    conversation: Option<(i64, String)>,
    /// A user of an `app_push` inbox rather than a website visitor.
    app: bool,
}

impl Visitor {
    fn conversation_id(&self) -> Option<i64> {
        self.conversation.as_ref().map(|(c, _)| *c)
    }
}

fn frame(v: Value) -> Message {
    Message::Text(v.to_string().into())
}

fn error(e: ErrorFrame) -> Message {
    frame(json!({"type": "error", "code": e.code, "detail": e.detail, "client_id": e.client_id}))
}

fn err(code: &'static str, detail: impl Into<String>, client_id: Option<String>) -> Message {
    error(ErrorFrame {
        code,
        detail: detail.into(),
        client_id,
    })
}

async fn serve(st: AppState, socket: WebSocket, origin: Option<String>) {
    let (mut tx, mut rx) = socket.split();
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, rx.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => protocol::parse(t.as_str()),
        Ok(Some(Ok(_))) => Err(ErrorFrame {
            code: "bad_frame",
            detail: "send JSON text frames".into(),
            client_id: None,
        }),
        _ => return,
    };
    let (mut visitor, welcome) = match hello {
        Ok(ClientFrame::Hello {
            website_token,
            session,
            identity,
            after_seq,
            name,
            ..
        }) => {
            match Box::pin(open(
                &st,
                &website_token,
                session,
                identity,
                after_seq,
                name,
                origin.as_deref(),
            ))
            .await
            {
                Ok(ok) => ok,
                Err(e) => {
                    let _ = tx.send(error(e)).await;
                    let _ = tx
                        .send(Message::Close(Some(CloseFrame {
                            code: 1008,
                            reason: "refused".into(),
                        })))
                        .await;
                    return;
                }
            }
        }
        Ok(_) => {
            let _ = tx
                .send(err("bad_frame", "the first frame must be hello", None))
                .await;
            return;
        }
        Err(e) => {
            let _ = tx.send(error(e)).await;
            return;
        }
    };
    if tx.send(frame(welcome)).await.is_err() {
        return;
    }
    if let Some((c, _)) = &visitor.conversation
        && let Some(q) = queue_frame(&st, *c).await
        && tx.send(q).await.is_err()
    {
        return;
    }
    let (out_tx, mut out_rx) = mpsc::channel::<Frame>(64);
    // App users also write through the app API: conversations opened there arrive here.
    let (opened_tx, mut opened_rx) = mpsc::channel::<i64>(8);
    let watching = visitor.app.then(|| {
        st.hub
            .watch_app_user(visitor.inbox_id, &visitor.external_id, opened_tx.clone())
    });
    let mut joined = visitor
        .conversation_id()
        .map(|c| (c, st.hub.join(c, out_tx.clone())));
    let limiter = FrameLimiter::new(5, 20);
    loop {
        let before = visitor.conversation_id();
        tokio::select! {
            _ = st.shutdown.cancelled() => {
                let _ = tx.send(Message::Close(Some(CloseFrame { code: 1001, reason: "server restarting".into() }))).await;
                break;
            }
            out = out_rx.recv() => {
                let Some(out) = out else { break };
                if tx.send(Message::Text(out.as_ref().into())).await.is_err() {
                    break;
                }
                continue;
            }
            Some(opened) = opened_rx.recv() => {
                if before != Some(opened) {
                    visitor.conversation = Some((opened, String::new()));
                }
            }
            incoming = tokio::time::timeout(IDLE_TIMEOUT, rx.next()) => {
                let text = match incoming {
                    Ok(Some(Ok(Message::Text(t)))) => t,
                    Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                    Ok(Some(Ok(Message::Binary(_)))) => {
                        let _ = tx.send(err("bad_frame", "send JSON text frames", None)).await;
                        continue;
                    }
                    // Closed, broken, oversized (closed by the protocol layer), or silent too long.
                    _ => break,
                };
                if !limiter.allow() {
                    let _ = tx.send(err("rate_limited", "too many frames; slow down", None)).await;
                    continue;
                }
                let reply = match protocol::parse(text.as_str()) {
                    // Boxed: the idle connection then keeps only a small future, not room for a whole ingest.
                    Ok(f) => Box::pin(handle(&st, &mut visitor, f)).await,
                    Err(e) => Some(error(e)),
                };
                if let Some(reply) = reply {
                    if tx.send(reply).await.is_err() {
                        break;
                    }
                }
            }
        }
        // A message that opened a conversation put it in the queue: say where. (Also for a
        // conversation an app user opened through the app API.)
        let after = visitor.conversation_id();
        if after != before
            && let Some(c) = after
            && let Some(q) = Box::pin(queue_frame(&st, c)).await
        {
            if tx.send(q).await.is_err() {
                break;
            }
        }
        if after != joined.map(|(c, _)| c) {
            if let Some((c, id)) = joined.take() {
                st.hub.leave(c, id);
            }
            joined = after.map(|c| (c, st.hub.join(c, out_tx.clone())));
        }
    }
    if let Some((c, id)) = joined {
        st.hub.leave(c, id);
    }
    if let Some(id) = watching {
        st.hub
            .forget_app_user(visitor.inbox_id, &visitor.external_id, id);
    }
}

/// A `status` frame with the conversation's place in the queue, when it is queued.
async fn queue_frame(st: &AppState, conversation: i64) -> Option<Message> {
    let q = st
        .dispatcher
        .queue_status(conversation)
        .await
        .inspect_err(|e| tracing::warn!(conversation, error = %e, "Queue position unavailable."))
        .ok()??;
    Some(frame(json!({
        "type": "status",
        "conversation_id": conversation,
        "conversation_status": "queued",
        "queue_position": q.position,
        "queue_length": q.queue_length,
        "estimated_wait_secs": q.estimated_wait_secs,
    })))
}

async fn handle(st: &AppState, v: &mut Visitor, f: ClientFrame) -> Option<Message> {
    match f {
        ClientFrame::Ping => Some(frame(json!({"type": "pong"}))),
        ClientFrame::Hello { .. } => Some(err(
            "bad_frame",
            "hello was already sent on this connection",
            None,
        )),
        ClientFrame::Typing { on } => {
            if let Some((c, _)) = &v.conversation {
                let _ = st.hub.visitor_typing.send((*c, on));
            }
            None
        }
        ClientFrame::Read { seq } => {
            if let Some((c, _)) = &v.conversation
                && let Err(e) = st.deliveries.mark_read(*c, seq).await
            {
                tracing::warn!(conversation = *c, error = %e, "Recording a read receipt failed.");
            }
            None
        }
        ClientFrame::Message { client_id, text } => Some(post(st, v, client_id, text).await),
    }
}

async fn post(st: &AppState, v: &mut Visitor, client_id: String, text: String) -> Message {
    if client_id.is_empty() || client_id.len() > 64 {
        return err(
            "bad_frame",
            "client_id must be 1 to 64 characters",
            Some(client_id),
        );
    }
    if text.trim().is_empty() || text.chars().count() > 4000 {
        return err(
            "invalid_message",
            "a message must have 1 to 4000 characters",
            Some(client_id),
        );
    }
    let envelope = InboundEnvelope {
        inbox_id: v.inbox_id,
        sender: ExternalIdentity {
            external_id: v.external_id.clone(),
            display_name: v.name.clone(),
            ..ExternalIdentity::default()
        },
        dedupe_key: Some(if v.app {
            kefu_channel_push::message_dedupe_key(&v.external_id, &client_id)
        } else {
            session::message_dedupe_key(&v.external_id, &client_id)
        }),
        // An app user's message finds its conversation exactly as through the app API (by
        // identity); a visitor's follows the tab's conversation.
        thread: ThreadHints {
            conversation_token: v
                .conversation
                .as_ref()
                .filter(|_| !v.app)
                .map(|(_, t)| t.clone()),
            ..ThreadHints::default()
        },
        content: Content::text(text),
        sent_at: None,
    };
    match st.normalizer.ingest(envelope).await {
        Ok(a) => {
            if v.conversation_id() != Some(a.conversation_id) && v.app {
                v.conversation = Some((a.conversation_id, String::new()));
            } else if v.conversation_id() != Some(a.conversation_id) {
                let token = conversation::Entity::find_by_id(a.conversation_id)
                    .one(st.db.conn())
                    .await
                    .ok()
                    .flatten()
                    .map(|c| c.token)
                    .unwrap_or_default();
                v.conversation = Some((a.conversation_id, token));
            }
            frame(
                json!({"type": "ack", "client_id": client_id, "id": a.message_id, "seq": a.seq, "conversation_id": a.conversation_id}),
            )
        }
        Err(StoreError::Invalid(d)) => err("invalid_message", d, Some(client_id)),
        Err(e) => {
            tracing::warn!(error = %e, "Visitor message not stored; the widget will resend.");
            err(
                "unavailable",
                "the message could not be stored yet; it will be sent again",
                None,
            )
        }
    }
}

/// Checks the hello and builds the welcome.
async fn open(
    st: &AppState,
    website_token: &str,
    session_token: Option<String>,
    ident: Option<protocol::Identity>,
    after_seq: Option<i64>,
    name: Option<String>,
    origin: Option<&str>,
) -> Result<(Visitor, Value), ErrorFrame> {
    let unknown = || ErrorFrame {
        code: "unknown_website",
        detail: "no web chat or app inbox has this website_token".into(),
        client_id: None,
    };
    let unavailable = |e: sea_orm::DbErr| {
        tracing::warn!(error = %e, "Widget hello failed.");
        ErrorFrame {
            code: "unavailable",
            detail: "try again shortly".into(),
            client_id: None,
        }
    };
    let row = inbox::Entity::find()
        .filter(inbox::Column::PublicToken.eq(website_token))
        .filter(
            inbox::Column::ChannelType.is_in([kefu_channel_webchat::KIND, kefu_channel_push::KIND]),
        )
        .filter(inbox::Column::DeletedAt.is_null())
        .one(st.db.conn())
        .await
        .map_err(unavailable)?
        .ok_or_else(unknown)?;
    let config = st.inboxes.config(&row);
    let app = row.channel_type == kefu_channel_push::KIND;
    let settings = if app {
        // Apps are not browsers: there is no origin to check.
        WebChatSettings::default()
    } else {
        WebChatSettings::from_value(&config.settings).unwrap_or_default()
    };
    if !settings.origin_allowed(origin) {
        return Err(ErrorFrame {
            code: "forbidden_origin",
            detail: "this website may not open this chat".into(),
            client_id: None,
        });
    }
    let external_id = match (ident, &settings.hmac_secret) {
        (ident, _) if app => app_user(&config.settings, ident)?,
        (Some(id), Some(secret)) => {
            let hash = id.user_hash.as_deref().unwrap_or_default();
            if id.user_id.is_empty() || !identity::verify(secret, &id.user_id, hash) {
                return Err(ErrorFrame {
                    code: "identity_unverified",
                    detail: "user_hash does not match user_id; compute it on your server with the inbox's hmac_secret".into(),
                    client_id: None,
                });
            }
            format!("user:{}", id.user_id)
        }
        // Without a secret an identity cannot be trusted: the visitor stays anonymous.
        _ => session_token
            .as_deref()
            .and_then(|s| st.session_key.verify(row.id, s))
            .unwrap_or_else(session::new_visitor),
    };
    let session = st.session_key.issue(row.id, &external_id);
    let mut visitor = Visitor {
        inbox_id: row.id,
        external_id,
        name: name.filter(|n| !n.trim().is_empty()),
        conversation: None,
        app,
    };
    let ident = contact_identity::Entity::find()
        .filter(contact_identity::Column::InboxId.eq(row.id))
        .filter(contact_identity::Column::ExternalId.eq(visitor.external_id.as_str()))
        .one(st.db.conn())
        .await
        .map_err(unavailable)?;
    let mut messages = Vec::new();
    if let Some(ident) = ident {
        let conv = conversation::Entity::find()
            .filter(conversation::Column::IdentityId.eq(ident.id))
            .filter(conversation::Column::Status.ne("closed"))
            .order_by_desc(conversation::Column::Id)
            .one(st.db.conn())
            .await
            .map_err(unavailable)?;
        if let Some(c) = conv {
            let rows = message::Entity::find()
                .filter(message::Column::ConversationId.eq(c.id))
                .filter(message::Column::Private.eq(false))
                .filter(message::Column::Seq.gt(after_seq.unwrap_or(0).max(0)))
                .order_by_asc(message::Column::Seq)
                .limit(REPLAY_LIMIT)
                .all(st.db.conn())
                .await
                .map_err(unavailable)?;
            messages = rows.iter().map(MessageView::from).collect();
            visitor.conversation = Some((c.id, c.token));
        }
    }
    let welcome = json!({
        "type": "welcome",
        "session": session,
        "conversation_id": visitor.conversation.as_ref().map(|(c, _)| *c),
        "messages": messages,
    });
    Ok((visitor, welcome))
}

/// The external id of an app user whose identity checks out under the inbox's `app_secret`.
fn app_user(settings: &Value, ident: Option<protocol::Identity>) -> Result<String, ErrorFrame> {
    let refused = |code, detail: &str| ErrorFrame {
        code,
        detail: detail.into(),
        client_id: None,
    };
    let Some(protocol::Identity {
        user_id,
        user_hash: Some(hash),
    }) = ident
    else {
        return Err(refused(
            "identity_required",
            "an app inbox needs identity {user_id, user_hash}: the app API's external_id and user_hash",
        ));
    };
    match kefu_channel_push::authenticate_user(settings, &user_id, &hash) {
        Ok(()) => Ok(user_id),
        Err(UserRefused::BadHash) => Err(refused(
            "identity_unverified",
            "user_hash does not match user_id; compute it on your server as hex(HMAC-SHA256(app_secret, user_id))",
        )),
        Err(UserRefused::BadExternalId) => Err(refused(
            "invalid_identity",
            "user_id must be 1 to 255 bytes without control characters",
        )),
        Err(UserRefused::Misconfigured) => {
            tracing::error!("App inbox settings are invalid; app users cannot connect.");
            Err(refused(
                "unavailable",
                "this inbox is misconfigured; an administrator must fix it",
            ))
        }
    }
}
