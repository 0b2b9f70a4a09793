//! The frames a widget tab sends after `hello`, and the `status` frame it is told its place
//! in the queue with.

use axum::extract::ws::Message;
use serde_json::json;

use crate::prechat::plausible_email;
use crate::protocol::ClientFrame;
use crate::socket::{Visitor, Widget, err, frame, post};

/// A `status` frame with the conversation's place in the queue, when it is queued, or with the
/// agent helping, when one is assigned.
pub(crate) async fn queue_frame(w: &Widget, conversation: i64) -> Option<Message> {
    let Some(q) = w.host.queue_spot(conversation).await else {
        let agent = w.host.assigned_agent(conversation).await?;
        return Some(frame(json!({
            "type": "status",
            "conversation_id": conversation,
            "conversation_status": "assigned",
            "agent": agent,
        })));
    };
    Some(frame(json!({
        "type": "status",
        "conversation_id": conversation,
        "conversation_status": "queued",
        "queue_position": q.position,
        "queue_length": q.queue_length,
        "estimated_wait_secs": q.estimated_wait_secs,
    })))
}

pub(crate) async fn handle(w: &Widget, v: &mut Visitor, f: ClientFrame) -> Option<Message> {
    match f {
        ClientFrame::Ping => Some(frame(json!({"type": "pong"}))),
        ClientFrame::Hello { .. } => Some(err(
            "bad_frame",
            "hello was already sent on this connection",
            None,
        )),
        ClientFrame::Typing { on } => {
            if let Some((c, _)) = &v.conversation {
                w.host.typing(*c, on);
            }
            None
        }
        ClientFrame::Read { seq } => {
            if let Some((c, _)) = &v.conversation {
                w.host.mark_read(*c, seq).await;
            }
            None
        }
        ClientFrame::PreChat {
            name,
            email,
            fields,
        } => {
            let Some(form) = &v.pre_chat else {
                return Some(err("bad_frame", "this chat has no pre-chat form", None));
            };
            Some(match form.accept(name, email, fields) {
                Ok(a) => {
                    v.answers = Some(a);
                    frame(json!({"type": "pre_chat_ok"}))
                }
                Err(r) => frame(
                    json!({"type": "error", "code": "invalid_pre_chat", "field": r.field, "detail": r.detail}),
                ),
            })
        }
        ClientFrame::Message {
            client_id,
            text,
            attachments,
        } => Some(post(w, v, client_id, text, attachments).await),
        ClientFrame::Rate {
            token,
            rating,
            comment,
        } => Some(match &v.conversation {
            None => err("csat_unknown", "this chat has nothing to rate", None),
            Some((c, _)) => match w.host.rate(*c, &token, rating, comment).await {
                Ok(rating) => frame(json!({"type": "csat_ok", "rating": rating})),
                Err(r) => err(r.code, r.detail, None),
            },
        }),
        ClientFrame::Email { email } => Some(leave_email(w, v, email.trim()).await),
    }
}

/// The visitor leaves an email address for replies they may miss; checked here for shape and
/// by Kefu as the contact API checks it.
async fn leave_email(w: &Widget, v: &Visitor, email: &str) -> Message {
    let Some((conversation, _)) = &v.conversation else {
        return err("bad_frame", "write a message before leaving an email", None);
    };
    if !plausible_email(email) {
        return err(
            "invalid_email",
            "this does not look like an email address",
            None,
        );
    }
    match w.host.leave_email(*conversation, email).await {
        Ok(()) => frame(json!({"type": "email_ok", "email": email})),
        Err(r) => err(r.code, r.detail, None),
    }
}
