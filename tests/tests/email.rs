//! The email channel through the whole server, against a real Dovecot (IMAP) and a real SMTP
//! server: mail becomes a conversation, an agent reply leaves through the delivery pipeline
//! with correct threading headers, the customer's answer joins the same conversation, and SMTP
//! failures are retried (4xx) or fail the reply with the server's reason (5xx).

#[path = "../../channels/email/tests/support/mod.rs"]
mod support;

use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{Dovecot, SmtpSink};

fn mail(id: &str, extra: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Alice <alice@customer.test>\r\nTo: support@kefu.test\r\nSubject: {subject}\r\n\
         Message-ID: <{id}>\r\n{extra}Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_in_reply_out_answer_threads_back() {
    let (Some(dovecot), Some(smtp)) = (Dovecot::start(), SmtpSink::start()) else {
        return;
    };
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| {
            c.delivery.base_delay_ms = 50;
            c.jobs.poll_interval_ms = 50;
        })
        .await;
        let mailbox = format!(
            "Support{}",
            kefu_normalizer::token::random(6).to_lowercase()
        );
        let mut settings = dovecot.settings(&mailbox, smtp.port);
        settings["type"] = json!("email");
        let mut imap = dovecot.client().await;
        imap.create(&mailbox).await.expect("create mailbox");
        let (s, inbox) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(json!({"name": "Support mail", "channel": settings})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{inbox}");
        let inbox = inbox["id"].as_i64().expect("inbox id");

        dovecot
            .append(
                &mailbox,
                &mail("m1@customer.test", "", "Refund", "Where is my refund?"),
            )
            .await;
        let conv = app
            .until_event("the mail to become a conversation", || async {
                app.conversations(inbox).await.first().cloned()
            })
            .await;
        let conv = conv["id"].as_i64().expect("conversation id");

        let sent_before = smtp.messages().len();
        let id = app.reply(conv, "Your refund left today.").await["id"].clone();
        let m = app.wait_delivery(conv, &id, &["sent", "failed"]).await;
        assert_eq!(m["delivery"]["status"], "sent", "{backend:?} {m}");
        let raw = smtp.messages();
        assert_eq!(raw.len(), sent_before + 1);
        let out = mail_parser::MessageParser::default()
            .parse(&raw[raw.len() - 1][..])
            .expect("the reply parses");
        assert_eq!(out.in_reply_to().as_text(), Some("m1@customer.test"));
        assert_eq!(out.subject(), Some("Re: Refund"));
        assert_eq!(
            out.to().and_then(|a| a.first()).and_then(|a| a.address()),
            Some("alice@customer.test")
        );
        assert!(
            out.body_text(0)
                .is_some_and(|t| t.contains("Your refund left today."))
        );
        let our_id = out.message_id().expect("Message-ID").to_owned();

        // The customer answers our reply: it joins the same conversation.
        dovecot
            .append(
                &mailbox,
                &mail(
                    "m2@customer.test",
                    &format!(
                        "In-Reply-To: <{our_id}>\r\nReferences: <m1@customer.test> <{our_id}>\r\n"
                    ),
                    "Re: Refund",
                    "Thanks, got it!",
                ),
            )
            .await;
        let msgs = app
            .until_event("the customer's answer", || async {
                let m = app.messages(conv).await;
                (m.len() >= 3).then_some(m)
            })
            .await;
        assert!(
            msgs[2]["content"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("Thanks, got it!"))
        );
        assert_eq!(
            app.conversations(inbox).await.len(),
            1,
            "no second conversation"
        );

        // 4xx is retried until accepted; 5xx fails the reply with the server's reason.
        smtp.script(&["tempfail"]);
        let id = app.reply(conv, "Second answer").await["id"].clone();
        let m = app.wait_delivery(conv, &id, &["sent", "failed"]).await;
        assert_eq!(m["delivery"]["status"], "sent", "{m}");
        assert_eq!(m["delivery"]["attempts"], 2, "{m}");
        smtp.script(&["reject"]);
        let id = app.reply(conv, "Third answer").await["id"].clone();
        let m = app.wait_delivery(conv, &id, &["failed", "sent"]).await;
        assert_eq!(m["delivery"]["status"], "failed", "{m}");
        assert!(
            m["delivery"]["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("smtp_550")),
            "{m}"
        );
        app.stop().await;
    }
}
