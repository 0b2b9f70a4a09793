//! Loop prevention: recognize mail that no one should answer automatically, and never mail
//! ourselves.
//!
//! Inbound mail is classified by the checklist in RFC 3834 and what Chatwoot and Zammad check
//! (see the project's protocol notes, §5.5): delivery reports and mail from `MAILER-DAEMON` are
//! bounces, `multipart/report; report-type=disposition-notification` is a read receipt,
//! `Auto-Submitted` other than `no`, `X-Autoreply`, `X-Autorespond`, `X-Loop`,
//! `Precedence: auto_reply` and a null `Return-Path: <>` mark auto-replies, and
//! `Precedence: bulk|list|junk`, `List-Id` or `List-Unsubscribe` mark bulk mail. The class goes
//! into `Content.extra` as `{"email": {"auto": "bounce", "auto_reason": "..."}}` so that Kefu
//! (and its automations) never auto-answer it; the message itself is still stored.
//!
//! `X-Auto-Response-Suppress` is a *request* not to auto-reply to the mail, not a sign that the
//! mail was automatic, so it does not classify anything.

use mail_parser::{Message, MessagePart, MimeHeaders};
use serde::Serialize;

/// Why a message must not be answered automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoKind {
    /// A delivery status notification: our mail (or someone's) could not be delivered.
    Bounce,
    /// A read receipt (message disposition notification).
    Receipt,
    /// An out-of-office or other automatic reply.
    AutoReply,
    /// Mailing-list or bulk mail (newsletters, notifications).
    Bulk,
}

impl AutoKind {
    /// The name used in `Content.extra.email.auto`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bounce => "bounce",
            Self::Receipt => "receipt",
            Self::AutoReply => "auto_reply",
            Self::Bulk => "bulk",
        }
    }
}

/// The class of an automatic message and the header that gave it away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoClass {
    /// What kind of automatic mail this is.
    pub kind: AutoKind,
    /// The evidence, e.g. `Auto-Submitted: auto-replied`.
    pub reason: String,
}

fn class(kind: AutoKind, reason: impl Into<String>) -> Option<AutoClass> {
    Some(AutoClass {
        kind,
        reason: reason.into(),
    })
}

fn header<'a>(msg: &'a Message<'_>, name: &'a str) -> Option<&'a str> {
    msg.header_raw(name).map(str::trim)
}

/// Classifies a parsed message; `None` for mail a person wrote.
pub fn classify(msg: &Message<'_>) -> Option<AutoClass> {
    if let Some(report) = report_type(msg) {
        if report == "disposition-notification" {
            return class(
                AutoKind::Receipt,
                "Content-Type: multipart/report; report-type=disposition-notification",
            );
        }
        return class(
            AutoKind::Bounce,
            format!("Content-Type: multipart/report; report-type={report}"),
        );
    }
    if let Some(v) = header(msg, "X-Failed-Recipients") {
        return class(AutoKind::Bounce, format!("X-Failed-Recipients: {v}"));
    }
    if let Some(from) = from_address(msg)
        && is_daemon(&from)
    {
        return class(AutoKind::Bounce, format!("From: {from}"));
    }
    if let Some(v) = header(msg, "Auto-Submitted")
        && !v.eq_ignore_ascii_case("no")
        && !v.to_ascii_lowercase().starts_with("no;")
    {
        return class(AutoKind::AutoReply, format!("Auto-Submitted: {v}"));
    }
    for name in ["X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Loop"] {
        if let Some(v) = header(msg, name) {
            return class(AutoKind::AutoReply, format!("{name}: {v}"));
        }
    }
    let precedence = header(msg, "Precedence").map(str::to_ascii_lowercase);
    match precedence.as_deref() {
        Some("auto_reply") => return class(AutoKind::AutoReply, "Precedence: auto_reply"),
        Some(p @ ("bulk" | "list" | "junk")) => {
            return class(AutoKind::Bulk, format!("Precedence: {p}"));
        }
        _ => {}
    }
    if let Some(v) = header(msg, "Return-Path")
        && v.trim_matches(|c: char| c.is_whitespace()) == "<>"
    {
        return class(AutoKind::AutoReply, "Return-Path: <> (null sender)");
    }
    for name in ["List-Id", "List-Unsubscribe"] {
        if let Some(v) = header(msg, name) {
            return class(AutoKind::Bulk, format!("{name}: {v}"));
        }
    }
    None
}

/// The `report-type` of a `multipart/report` part anywhere in the message, or `delivery-status`
/// when the message carries a `message/delivery-status` part.
fn report_type(msg: &Message<'_>) -> Option<String> {
    let part_report = |p: &MessagePart<'_>| {
        let ct = p.content_type()?;
        let sub = ct.subtype()?.to_ascii_lowercase();
        match (ct.ctype().to_ascii_lowercase().as_str(), sub.as_str()) {
            ("multipart", "report") => Some(
                ct.attribute("report-type")
                    .unwrap_or("delivery-status")
                    .to_ascii_lowercase(),
            ),
            ("message", "delivery-status" | "global-delivery-status") => {
                Some("delivery-status".to_owned())
            }
            ("message", "disposition-notification") => Some("disposition-notification".to_owned()),
            _ => None,
        }
    };
    msg.parts.iter().find_map(part_report)
}

fn from_address(msg: &Message<'_>) -> Option<String> {
    let addr = msg.from()?.first()?;
    addr.address()
        .map(str::to_owned)
        .or_else(|| addr.name().map(str::to_owned))
}

fn is_daemon(from: &str) -> bool {
    let local = from.split('@').next().unwrap_or(from).to_ascii_lowercase();
    matches!(
        local.as_str(),
        "mailer-daemon" | "postmaster" | "mail-daemon" | "mailerdaemon"
    )
}

/// Whether `candidate` is our own address `own`, also as a plus-address variant
/// (`support+abc@example.com` is ours when we are `support@example.com`). Case-insensitive.
pub fn is_own_address(candidate: &str, own: &str) -> bool {
    let (Some((c_local, c_domain)), Some((o_local, o_domain))) = (
        candidate.trim().rsplit_once('@'),
        own.trim().rsplit_once('@'),
    ) else {
        return candidate.trim().eq_ignore_ascii_case(own.trim());
    };
    let c_base = c_local.split('+').next().unwrap_or(c_local);
    c_domain.eq_ignore_ascii_case(o_domain) && c_base.eq_ignore_ascii_case(o_local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_address_matches_plus_variants_case_insensitively() {
        let own = "Support@Example.com";
        assert!(is_own_address("support@example.com", own));
        assert!(is_own_address("support+c0ffee@EXAMPLE.com", own));
        assert!(!is_own_address("support@example.org", own));
        assert!(!is_own_address("supporter@example.com", own));
        assert!(!is_own_address("customer@example.com", own));
    }

    fn classify_raw(raw: &str) -> Option<AutoKind> {
        let msg = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .expect("parses");
        classify(&msg).map(|c| c.kind)
    }

    #[test]
    fn header_rules() {
        let base = "From: a@example.com\r\nTo: b@example.com\r\nSubject: x\r\n";
        let cases: &[(&str, Option<AutoKind>)] = &[
            ("", None),
            ("Auto-Submitted: no\r\n", None),
            (
                "Auto-Submitted: auto-replied\r\n",
                Some(AutoKind::AutoReply),
            ),
            (
                "Auto-Submitted: auto-notified\r\n",
                Some(AutoKind::AutoReply),
            ),
            ("X-Autoreply: yes\r\n", Some(AutoKind::AutoReply)),
            ("X-Autorespond: vacation\r\n", Some(AutoKind::AutoReply)),
            ("Precedence: auto_reply\r\n", Some(AutoKind::AutoReply)),
            ("Precedence: bulk\r\n", Some(AutoKind::Bulk)),
            ("Precedence: junk\r\n", Some(AutoKind::Bulk)),
            ("Precedence: list\r\n", Some(AutoKind::Bulk)),
            ("List-Id: <team.example.com>\r\n", Some(AutoKind::Bulk)),
            ("Return-Path: <>\r\n", Some(AutoKind::AutoReply)),
            ("Return-Path: <a@example.com>\r\n", None),
            (
                "X-Failed-Recipients: c@example.com\r\n",
                Some(AutoKind::Bounce),
            ),
            ("X-Auto-Response-Suppress: All\r\n", None),
        ];
        for (extra, want) in cases {
            let raw = format!("{base}{extra}\r\nbody\r\n");
            assert_eq!(classify_raw(&raw), *want, "{extra:?}");
        }
        let daemon =
            "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\nSubject: x\r\n\r\nb";
        assert_eq!(classify_raw(daemon), Some(AutoKind::Bounce));
    }
}
