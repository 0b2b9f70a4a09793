//! `/ws/web_chat`: one visitor's widget tab.
//!
//! The first frame must be `hello` (within 10 s). A visitor message is acknowledged only after
//! the [`InboundSink`] committed it; a resent `client_id` maps to the same dedupe key, so it is
//! acknowledged again and never stored twice. `hello` with `session` and `after_seq` replays
//! exactly the messages the tab has not seen, read through [`ConversationHistory`] (the rule
//! the app channel's sync uses too). Tabs that stay silent for 75 s (the widget pings every
//! 25 s) are closed.
//!
//! An `app_push` inbox's users chat here too: `hello` with the inbox's public token and
//! `identity {user_id: external_id, user_hash}` (mandatory, checked like the app API) is the same
//! contact and conversation as `/channels/app/{inbox}/messages`; `client_id`s dedupe across both.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use futures::{SinkExt, StreamExt};
use kefu_channel::{
    Content, ConversationHistory, InboundEnvelope, InboundSink, IngestError, ThreadHints,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::abuse::{AbuseGuard, ClientIp, VisitorLimits};
use crate::frames::{handle, queue_frame};
use crate::host::{Frame, WidgetHost};
use crate::prechat::{Answers, PreChatForm};
use crate::protocol::{self, ClientFrame, ErrorFrame};
use crate::session::{self, SessionKey};
use crate::uploads::MAX_FILES_PER_MESSAGE;
use crate::{FrameLimiter, hello};

/// Where the widget connects.
pub const PATH: &str = "/ws/web_chat";
/// Read buffer per connection: widget frames are small, so 1 KiB (it grows for a larger frame)
/// instead of tungstenite's 128 KiB default keeps tens of thousands of idle connections cheap.
pub const READ_BUFFER: usize = 1024;
/// Write buffer per connection (frames are flushed once it holds this much).
pub const WRITE_BUFFER: usize = 1024;
/// Largest accepted frame from a browser.
pub const MAX_FRAME: usize = 16 * 1024;

const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
const IDLE_TIMEOUT: Duration = Duration::from_secs(75);

/// What the widget socket is wired to. [`Widget::router`] serves it at [`PATH`].
#[derive(Clone)]
pub struct Widget {
    /// Where visitor messages are stored.
    pub inbound: Arc<dyn InboundSink>,
    /// What a returning visitor is replayed.
    pub history: Arc<dyn ConversationHistory>,
    /// Inboxes, the realtime hub, the queue and read receipts.
    pub host: Arc<dyn WidgetHost>,
    /// Signs and checks visitor sessions.
    pub sessions: SessionKey,
    /// Fires on shutdown: open tabs are told to reconnect.
    pub shutdown: CancellationToken,
    /// Per-address limits on tabs and new conversations.
    pub abuse: Arc<AbuseGuard>,
}

impl Widget {
    /// The route `GET /ws/web_chat`, upgrading to the widget protocol.
    pub fn router(self) -> Router {
        Router::new()
            .route(PATH, get(handler))
            .with_state(Arc::new(self))
    }
}

async fn handler(
    State(w): State<Arc<Widget>>,
    headers: HeaderMap,
    ip: Option<Extension<ClientIp>>,
    ws: WebSocketUpgrade,
) -> Response {
    let origin = headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let ip = ip.map(|Extension(ClientIp(ip))| ip);
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| serve(w, socket, origin, ip))
}

/// One connected tab, after a successful `hello`.
pub(crate) struct Visitor {
    pub(crate) inbox_id: i64,
    pub(crate) external_id: String,
    pub(crate) name: Option<String>,
    /// The conversation followed, with its token (empty for app users, who thread by identity).
    pub(crate) conversation: Option<(i64, String)>,
    /// A user of an `app_push` inbox rather than a website visitor.
    pub(crate) app: bool,
    /// The inbox's per-address limits.
    pub(crate) limits: VisitorLimits,
    /// The client's address, when the host knows it.
    pub(crate) ip: Option<IpAddr>,
    /// The inbox's pre-chat form, when it asks anything.
    pub(crate) pre_chat: Option<PreChatForm>,
    /// The visitor's checked answers to it, once given.
    pub(crate) answers: Option<Answers>,
}

impl Visitor {
    pub(crate) fn conversation_id(&self) -> Option<i64> {
        self.conversation.as_ref().map(|(c, _)| *c)
    }
}

pub(crate) fn frame(v: Value) -> Message {
    Message::Text(v.to_string().into())
}

fn error(e: ErrorFrame) -> Message {
    frame(json!({"type": "error", "code": e.code, "detail": e.detail, "client_id": e.client_id}))
}

pub(crate) fn err(
    code: &'static str,
    detail: impl Into<String>,
    client_id: Option<String>,
) -> Message {
    error(ErrorFrame {
        code,
        detail: detail.into(),
        client_id,
    })
}

async fn serve(w: Arc<Widget>, socket: WebSocket, origin: Option<String>, ip: Option<IpAddr>) {
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
            let req = hello::Hello {
                website_token,
                session,
                identity,
                after_seq,
                name,
                origin,
                ip,
            };
            match Box::pin(hello::open(&w, req)).await {
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
    // Held while the tab is open: counts it against its address.
    let _slot = match visitor.ip {
        None => None,
        Some(ip) => match w
            .abuse
            .open_tab(visitor.inbox_id, ip, &visitor.limits)
            .await
        {
            Some(slot) => Some(slot),
            None => {
                let _ = tx
                    .send(err(
                        "too_many_connections",
                        "too many chat windows are open from this network; close some and try again",
                        None,
                    ))
                    .await;
                let _ = tx
                    .send(Message::Close(Some(CloseFrame {
                        code: 1008,
                        reason: "too many connections".into(),
                    })))
                    .await;
                return;
            }
        },
    };
    if tx.send(frame(welcome)).await.is_err() {
        return;
    }
    if let Some((c, _)) = &visitor.conversation
        && let Some(q) = queue_frame(&w, *c).await
        && tx.send(q).await.is_err()
    {
        return;
    }
    let (out_tx, mut out_rx) = mpsc::channel::<Frame>(64);
    // App users also write through the app API: conversations opened there arrive here.
    let (opened_tx, mut opened_rx) = mpsc::channel::<i64>(8);
    let watching = visitor.app.then(|| {
        w.host
            .watch_user(visitor.inbox_id, &visitor.external_id, opened_tx.clone())
    });
    let mut joined = visitor
        .conversation_id()
        .map(|c| (c, w.host.follow(c, out_tx.clone())));
    let limiter = FrameLimiter::new(5, 20);
    loop {
        let before = visitor.conversation_id();
        tokio::select! {
            _ = w.shutdown.cancelled() => {
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
                    Ok(f) => Box::pin(handle(&w, &mut visitor, f)).await,
                    Err(e) => Some(error(e)),
                };
                if let Some(reply) = reply
                    && tx.send(reply).await.is_err()
                {
                    break;
                }
            }
        }
        // A message that opened a conversation put it in the queue: say where. (Also for a
        // conversation an app user opened through the app API.)
        let after = visitor.conversation_id();
        if after != before
            && let Some(c) = after
            && let Some(q) = Box::pin(queue_frame(&w, c)).await
            && tx.send(q).await.is_err()
        {
            break;
        }
        if after != joined.map(|(c, _)| c) {
            if let Some((c, id)) = joined.take() {
                w.host.unfollow(c, id);
            }
            joined = after.map(|c| (c, w.host.follow(c, out_tx.clone())));
        }
    }
    if let Some((c, id)) = joined {
        w.host.unfollow(c, id);
    }
    if let Some(id) = watching {
        w.host
            .unwatch_user(visitor.inbox_id, &visitor.external_id, id);
    }
}

#[tracing::instrument(name = "web_chat_message", skip_all, fields(inbox = v.inbox_id))]
pub(crate) async fn post(
    w: &Widget,
    v: &mut Visitor,
    client_id: String,
    text: String,
    tickets: Vec<String>,
) -> Message {
    if client_id.is_empty() || client_id.len() > 64 {
        return err(
            "bad_frame",
            "client_id must be 1 to 64 characters",
            Some(client_id),
        );
    }
    if (text.trim().is_empty() && tickets.is_empty()) || text.chars().count() > 4000 {
        return err(
            "invalid_message",
            "a message must have 1 to 4000 characters or a file",
            Some(client_id),
        );
    }
    if tickets.len() > MAX_FILES_PER_MESSAGE {
        return err(
            "invalid_message",
            format!("a message may carry at most {MAX_FILES_PER_MESSAGE} files"),
            Some(client_id),
        );
    }
    let mut files = Vec::with_capacity(tickets.len());
    for t in &tickets {
        match w.sessions.verify_file_ticket(v.inbox_id, &v.external_id, t) {
            Some(f) => files.push(f),
            None => {
                return err(
                    "invalid_attachment",
                    "an attachment is not one this visitor uploaded; upload the file again",
                    Some(client_id),
                );
            }
        }
    }
    if v.conversation.is_none() && v.pre_chat.is_some() && v.answers.is_none() && !v.app {
        return err(
            "pre_chat_required",
            "answer the pre-chat form before the first message",
            Some(client_id),
        );
    }
    // A visitor's first message opens a conversation: the address's hourly budget decides.
    if v.conversation.is_none()
        && !v.app
        && let Some(ip) = v.ip
        && !w.abuse.open_conversation(v.inbox_id, ip, &v.limits).await
    {
        return err(
            "too_many_conversations",
            "too many new conversations from this network; try again later",
            Some(client_id),
        );
    }
    let envelope = InboundEnvelope {
        inbox_id: v.inbox_id,
        sender: Answers::sender(v.answers.as_ref(), &v.external_id, v.name.as_ref()),
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
        content: Content {
            attachments: files,
            ..Content::text(text)
        },
        sent_at: None,
    };
    match w.inbound.accept(envelope).await {
        Ok(a) => {
            if v.conversation_id() != Some(a.conversation_id) && v.app {
                v.conversation = Some((a.conversation_id, String::new()));
            } else if v.conversation_id() != Some(a.conversation_id) {
                let token = w
                    .history
                    .conversation_token(a.conversation_id)
                    .await
                    .inspect_err(|e| tracing::warn!(conversation = a.conversation_id, error = %e, "Conversation token unavailable; the next message threads by identity."))
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                v.conversation = Some((a.conversation_id, token));
            }
            frame(
                json!({"type": "ack", "client_id": client_id, "id": a.message_id, "seq": a.seq, "conversation_id": a.conversation_id}),
            )
        }
        Err(IngestError::Rejected(d)) => err("invalid_message", d, Some(client_id)),
        Err(e @ IngestError::Unavailable(_)) => {
            tracing::warn!(error = %e, "Visitor message not stored; the widget will resend.");
            err(
                "unavailable",
                "the message could not be stored yet; it will be sent again",
                None,
            )
        }
    }
}
