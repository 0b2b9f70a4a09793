//! `/ws/agent?token=...`: an agent console's live stream of events and typing indicators.
//!
//! The socket receives only events of conversations the agent may see ([`AgentFilter`], the
//! rules of the HTTP API). The token and what the agent may see are checked again whenever
//! this node changes the agent's access (logout, password change, deactivation, deletion,
//! inbox or team membership) and once a minute for changes made on other nodes; the socket
//! closes with an `unauthorized` error frame once the token no longer works.

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Duration, Instant};

use kefu_normalizer::access::Grant;
use kefu_normalizer::events::Signal;

use super::agent_filter::AgentFilter;
use super::{MAX_FRAME, READ_BUFFER, WRITE_BUFFER};
use crate::auth::{Authed, authenticate};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// The agent's token, as browsers cannot set headers on WebSockets.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    token: String,
}

/// Authenticates, then upgrades.
pub async fn handler(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<TokenQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    match authenticate(&st, &q.token).await {
        Ok(me) => ws
            .read_buffer_size(READ_BUFFER)
            .write_buffer_size(WRITE_BUFFER)
            .max_message_size(MAX_FRAME)
            .max_frame_size(MAX_FRAME)
            .on_upgrade(move |socket| serve(st, socket, me, q.token)),
        Err(e) => e.into_response(),
    }
}

/// How often a socket re-checks its token for changes made on other nodes.
const RECHECK_EVERY: Duration = Duration::from_secs(60);

async fn serve(st: AppState, socket: WebSocket, me: Authed, token: String) {
    let (mut tx, mut rx) = socket.split();
    let Some(mut filter) = AgentFilter::load(&st, &me).await else {
        let frame = json!({"type": "error", "code": "unavailable", "detail": "try again shortly"});
        let _ = tx.send(Message::Text(frame.to_string().into())).await;
        return;
    };
    let mut events = st.bus.subscribe();
    let mut typing = st.bus.signals();
    let mut changed = st.accounts.changed.subscribe();
    let mut recheck = tokio::time::interval_at(Instant::now() + RECHECK_EVERY, RECHECK_EVERY);
    loop {
        let out: Value = tokio::select! {
            // In order: a change of access is applied before the next event is filtered, and
            // the agent's own frames are not starved by a busy stream.
            biased;
            _ = st.shutdown.cancelled() => break,
            c = changed.recv() => {
                let ours = match c {
                    Ok(agent_id) => agent_id == me.agent.id,
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => false,
                };
                if ours && !recheck_access(&st, &token, &mut filter).await {
                    let _ = tx.send(Message::Text(revoked_frame().into())).await;
                    let _ = tx.send(Message::Close(None)).await;
                    break;
                }
                continue;
            }
            _ = recheck.tick() => {
                if !recheck_access(&st, &token, &mut filter).await {
                    let _ = tx.send(Message::Text(revoked_frame().into())).await;
                    let _ = tx.send(Message::Close(None)).await;
                    break;
                }
                continue;
            }
            incoming = rx.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Binary(_))) => continue,
                    _ => break,
                };
                let Ok(f) = serde_json::from_str::<Value>(text.as_str()) else {
                    let _ = tx.send(Message::Text(json!({"type": "error", "code": "bad_frame", "detail": "not JSON"}).to_string().into())).await;
                    continue;
                };
                match f["type"].as_str() {
                    Some("ping") => json!({"type": "pong"}),
                    Some("typing") => {
                        if let Some(conv) = f["conversation_id"].as_i64()
                            && filter.conversation(&st, conv).await == Some(Grant::Act)
                        {
                            st.bus.signal(Signal::AgentTyping {
                                conversation_id: conv,
                                on: f["on"].as_bool().unwrap_or(false),
                                name: me.agent.name.clone(),
                            });
                        }
                        continue;
                    }
                    _ => json!({"type": "error", "code": "bad_frame", "detail": "expected ping or typing"}),
                }
            }
            ev = events.recv() => match ev {
                Ok(ev) if filter.passes(&st, &ev.data).await => {
                    json!({"type": "event", "event": {"type": ev.kind(), "data": ev.data}})
                }
                Ok(_) => continue,
                // The console refetches what it shows when told it missed events.
                Err(RecvError::Lagged(n)) => json!({"type": "resync", "missed": n}),
                Err(RecvError::Closed) => break,
            },
            t = typing.recv() => match t {
                Ok(s) => match *s {
                    Signal::VisitorTyping { conversation_id, on }
                        if filter.conversation(&st, conversation_id).await.is_some() =>
                    {
                        json!({"type": "typing", "conversation_id": conversation_id, "on": on})
                    }
                    _ => continue,
                },
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            },
        };
        if tx
            .send(Message::Text(out.to_string().into()))
            .await
            .is_err()
        {
            break;
        }
    }
}

/// Whether the socket's token still signs its agent in, reloading what they may see (their
/// role, inboxes or teams may have changed). A database hiccup keeps the socket as it was.
async fn recheck_access(st: &AppState, token: &str, filter: &mut AgentFilter) -> bool {
    match authenticate(st, token).await {
        Ok(me) => {
            filter.reload(st, &me).await;
            true
        }
        Err(e) => e.status.is_server_error(),
    }
}

fn revoked_frame() -> String {
    json!({"type": "error", "code": "unauthorized", "detail": "the session ended; sign in again"})
        .to_string()
}
