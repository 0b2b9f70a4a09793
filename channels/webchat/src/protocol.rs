//! The widget's WebSocket frames (`/ws/web_chat`), JSON objects tagged by `type`.
//!
//! Client: `hello {website_token, session?, identity?, after_seq?, name?, locale?}`,
//! `message {client_id, text, attachments?: [ticket]}`, `typing {on}`, `read {seq}`,
//! `pre_chat {name?, email?, fields}`, `rate {token, rating, comment?}`, `email {email}`,
//! `ping`.
//! Server: `welcome {session, conversation_id, messages, pre_chat?, away?: {next_open},
//! offline?: {ask_email}, csat?: {token}}`, `pre_chat_ok`, `ack {client_id, id, seq}`,
//! `csat {token}` (rate the conversation), `csat_ok {rating}`, `email_ok {email}`,
//! `message {message}`, `typing {on, name?}`, `status {...}`, `error {code, detail, client_id?}`,
//! `pong`.

use serde::{Deserialize, Serialize};

/// An identity the website vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Identity {
    /// The website's own user id.
    pub user_id: String,
    /// `hex(HMAC-SHA256(hmac_secret, user_id))`, computed by the website's backend.
    #[serde(default)]
    pub user_hash: Option<String>,
}

/// A frame from the widget.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Opens the session; must be the first frame.
    Hello {
        /// The inbox's public token.
        website_token: String,
        /// A session from an earlier `welcome`.
        #[serde(default)]
        session: Option<String>,
        /// A verified identity.
        #[serde(default)]
        identity: Option<Identity>,
        /// Replay messages after this seq.
        #[serde(default)]
        after_seq: Option<i64>,
        /// The visitor's name, when the website knows it.
        #[serde(default)]
        name: Option<String>,
        /// The widget's language.
        #[serde(default)]
        locale: Option<String>,
    },
    /// A visitor message.
    Message {
        /// Chosen by the widget; a resend with the same id is acknowledged, never stored twice.
        client_id: String,
        /// The text; may be empty when the message carries files.
        #[serde(default)]
        text: String,
        /// Tickets of files the visitor uploaded (see [`crate::uploads`]).
        #[serde(default)]
        attachments: Vec<String>,
    },
    /// The visitor is typing.
    Typing {
        /// Started or stopped.
        on: bool,
    },
    /// The visitor has read up to `seq`.
    Read {
        /// Highest read seq.
        seq: i64,
    },
    /// The visitor's answers to the inbox's pre-chat form (see [`crate::prechat`]).
    PreChat {
        /// The name, when the form asks for it.
        #[serde(default)]
        name: Option<String>,
        /// The email, when the form asks for it.
        #[serde(default)]
        email: Option<String>,
        /// The form's own fields by key.
        #[serde(default)]
        fields: std::collections::BTreeMap<String, String>,
    },
    /// The visitor's satisfaction rating, answering a `csat` frame.
    Rate {
        /// The survey's token, from the `csat` frame or the `welcome`.
        token: String,
        /// 1 (very unhappy) to 5 (very happy).
        rating: i64,
        /// What the visitor wants to add.
        #[serde(default)]
        comment: Option<String>,
    },
    /// The visitor's email address, left while no agent is online (`welcome.offline`), so
    /// replies they miss reach them by email.
    Email {
        /// The address.
        email: String,
    },
    /// Heartbeat.
    Ping,
}

/// An error frame's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorFrame {
    /// `bad_frame`, `unknown_website`, `forbidden_origin`, `identity_unverified`, `rate_limited`...
    pub code: &'static str,
    /// What was wrong.
    pub detail: String,
    /// The message the error is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// Parses a client frame, with an error that says what was wrong.
pub fn parse(text: &str) -> Result<ClientFrame, ErrorFrame> {
    serde_json::from_str(text).map_err(|e| ErrorFrame {
        code: "bad_frame",
        detail: format!("not a valid frame: {e}"),
        client_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse_and_errors_say_why() {
        let hello = parse(
            r#"{"type":"hello","website_token":"t","after_seq":3,"name":"Li","locale":"zh-CN"}"#,
        )
        .expect("hello");
        assert!(matches!(
            hello,
            ClientFrame::Hello {
                after_seq: Some(3),
                ..
            }
        ));
        assert_eq!(parse(r#"{"type":"ping"}"#), Ok(ClientFrame::Ping));
        for (bad, needle) in [
            (r#"{"type":"shout"}"#, "unknown variant"),
            (r#"{"type":"message","text":"hi"}"#, "client_id"),
            (r#"{"type":"typing","on":"yes"}"#, "invalid type"),
            ("not json", "expected"),
            ("", "EOF"),
        ] {
            let e = parse(bad).expect_err(bad);
            assert_eq!(e.code, "bad_frame");
            assert!(e.detail.contains(needle), "{bad}: {}", e.detail);
        }
    }
}
