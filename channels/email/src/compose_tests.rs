//! Tests of [`super`]: subjects, message ids, headers, attachments and refusals.

use super::*;
use kefu_channel::{Content, Recipient};
use mail_parser::MimeHeaders as _;

#[test]
fn subjects_get_exactly_one_reply_prefix() {
    let cases = [
        (Some("Refund"), "Re: Refund"),
        (Some("Re: Refund"), "Re: Refund"),
        (Some("RE: Refund"), "RE: Refund"),
        (Some("回复：退款"), "回复：退款"),
        (Some("AW: Rückerstattung"), "AW: Rückerstattung"),
        (Some("Regarding refund"), "Re: Regarding refund"),
        (Some("  "), "Re: (no subject)"),
        (None, "Re: (no subject)"),
    ];
    for (input, want) in cases {
        assert_eq!(reply_subject(input), want, "{input:?}");
    }
}

fn settings(plus: bool) -> EmailSettings {
    EmailSettings::from_json(&serde_json::json!({
        "address": "support@shop.example",
        "imap": {"host": "127.0.0.1", "tls": "none", "username": "u", "password": "p"},
        "smtp": {"host": "127.0.0.1", "tls": "none"},
        "plus_addressing": plus
    }))
    .expect("valid settings")
}

fn reply(to: &str) -> OutboundMessage {
    OutboundMessage {
        message_id: 41,
        conversation_id: 3,
        inbox_id: 17,
        recipient: Recipient {
            external_id: to.into(),
            display_name: Some("张三".into()),
        },
        content: Content::text("您好 <b>\n第二行"),
        agent_name: Some("Alice".into()),
        references: vec!["first@x.example".into(), "<second@x.example>".into()],
        subject: Some("退款问题".into()),
        conversation_token: Some("c7f3a1b2".into()),
        last_inbound_at: None,
        system: false,
    }
}

#[test]
fn composes_a_threaded_reply() {
    let c = compose(&settings(true), &reply("10001@qq.com")).expect("composes");
    let raw = c.message.formatted();
    let parsed = mail_parser::MessageParser::default()
        .parse(&raw[..])
        .expect("parses back");
    assert_eq!(parsed.message_id(), Some(c.message_id.as_str()));
    assert!(c.message_id.ends_with("@shop.example"));
    assert_eq!(
        parsed.in_reply_to().as_text(),
        Some("second@x.example"),
        "In-Reply-To is the latest reference"
    );
    assert_eq!(
        parsed.references().as_text_list().map(|l| l.to_vec()),
        Some(vec!["first@x.example".into(), "second@x.example".into()])
    );
    assert_eq!(parsed.subject(), Some("Re: 退款问题"));
    let reply_to = parsed
        .reply_to()
        .and_then(|a| a.first())
        .and_then(|a| a.address());
    assert_eq!(reply_to, Some("support+c7f3a1b2@shop.example"));
    let text = parsed
        .body_text(0)
        .expect("text part")
        .replace("\r\n", "\n");
    assert_eq!(text, "您好 <b>\n第二行");
    let html = parsed.body_html(0).expect("html alternative");
    assert!(html.contains("您好 &lt;b&gt;<br>"), "{html}");
    // A retry carries the same id.
    let again = compose(&settings(true), &reply("10001@qq.com")).expect("composes");
    assert_eq!(again.message_id, c.message_id);
    // Without plus-addressing there is no Reply-To.
    let c = compose(&settings(false), &reply("10001@qq.com")).expect("composes");
    let raw = c.message.formatted();
    let parsed = mail_parser::MessageParser::default()
        .parse(&raw[..])
        .expect("parses back");
    assert!(parsed.reply_to().is_none());
}

#[test]
fn never_mails_our_own_address_and_rejects_bad_recipients() {
    for own in ["support@shop.example", "SUPPORT+abc@shop.example"] {
        match compose(&settings(true), &reply(own)) {
            Err(SendError::Permanent { code, .. }) => assert_eq!(code, "own_address"),
            other => panic!("{own}: expected a permanent refusal, got {other:?}"),
        }
    }
    match compose(&settings(true), &reply("not an address")) {
        Err(SendError::Permanent { code, .. }) => assert_eq!(code, "invalid_recipient"),
        other => panic!("expected invalid_recipient, got {other:?}"),
    }
}

fn file(name: &str, mime: &str, data: Option<&[u8]>) -> Attachment {
    Attachment {
        id: Some(7),
        name: name.into(),
        mime: mime.into(),
        size: data.map(|d| d.len() as u64),
        data: data.map(bytes::Bytes::copy_from_slice),
        ..Attachment::default()
    }
}

fn parse_back(c: &Composed) -> Vec<u8> {
    c.message.formatted()
}

#[test]
fn attachments_travel_as_named_parts_next_to_the_text() {
    let pdf: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let mut msg = reply("10001@qq.com");
    msg.content.attachments = vec![
        file("报价单 2026.pdf", "application/pdf", Some(&pdf)),
        file("screen \"shot\".png", "image/png", Some(&png)),
        file("../notes.txt", "not a mime type", Some(b"line 1\nline 2")),
    ];
    let c = compose(&settings(true), &msg).expect("composes");
    let raw = parse_back(&c);
    let head = String::from_utf8_lossy(&raw[..raw.len().min(4000)]).into_owned();
    assert!(head.contains("multipart/mixed"), "{head}");
    let parsed = mail_parser::MessageParser::default()
        .parse(&raw[..])
        .expect("parses back");
    // The text and its HTML alternative are still the body.
    let text = parsed.body_text(0).expect("text").replace("\r\n", "\n");
    assert_eq!(text, "您好 <b>\n第二行");
    assert!(parsed.body_html(0).is_some_and(|h| h.contains("您好")));
    let got: Vec<(String, String)> = parsed
        .attachments()
        .map(|p| {
            let ct = p.content_type().expect("content type");
            (
                p.attachment_name().unwrap_or_default().to_owned(),
                format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("报价单 2026.pdf", "application/pdf"),
        ("screen \"shot\".png", "image/png"),
        ("_notes.txt", "application/octet-stream"),
    ]
    .iter()
    .map(|(n, m)| (n.to_string(), m.to_string()))
    .collect();
    assert_eq!(got, want);
    let bytes: Vec<&[u8]> = parsed.attachments().map(|p| p.contents()).collect();
    assert!(bytes[0] == &pdf[..], "the PDF's bytes survive");
    assert!(bytes[1] == &png[..], "the PNG's bytes survive");
    assert!(
        bytes[2] == b"line 1\nline 2",
        "the text file is not rewritten"
    );
    // Older clients read the name from Content-Type; it is encoded there too.
    let raw = String::from_utf8_lossy(&raw).into_owned();
    assert!(
        raw.contains("filename*0*=utf-8''%E6%8A%A5%E4%BB%B7%E5%8D%95%202026.pdf"),
        "RFC 2231 name"
    );
    assert!(
        raw.contains("name=\"=?utf-8?b?5oql5Lu35Y2VIDIwMjYucGRm?=\""),
        "RFC 2047 name"
    );
    assert!(raw.is_ascii(), "every header and body line is 7-bit");
}

#[test]
fn attachments_without_bytes_or_over_the_limit_fail_permanently() {
    let mut msg = reply("10001@qq.com");
    msg.content.attachments = vec![file("合同.pdf", "application/pdf", None)];
    match compose(&settings(true), &msg) {
        Err(SendError::Permanent { code, reason }) => {
            assert_eq!(code, "attachment_unavailable");
            assert!(
                reason.contains("合同.pdf") && reason.contains("file 7"),
                "{reason}"
            );
        }
        other => panic!("expected attachment_unavailable, got {other:?}"),
    }

    let mut small = settings(true);
    small.max_attachment_bytes = Some(1000);
    let mut msg = reply("10001@qq.com");
    msg.content.attachments = vec![file("a.bin", "application/octet-stream", Some(&[1; 1000]))];
    assert!(
        compose(&small, &msg).is_ok(),
        "exactly the limit is allowed"
    );
    msg.content
        .attachments
        .push(file("b.bin", "application/octet-stream", Some(&[2; 1])));
    match compose(&small, &msg) {
        Err(SendError::Permanent { code, reason }) => {
            assert_eq!(code, "attachment_too_large");
            assert!(
                reason.contains("1000 bytes") && reason.contains("b.bin"),
                "{reason}"
            );
        }
        other => panic!("expected attachment_too_large, got {other:?}"),
    }
}
