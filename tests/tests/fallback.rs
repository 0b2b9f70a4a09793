//! Channel fallback and WeChat template messages through the whole server, against a local
//! server speaking the WeChat API (whose customer-service send answers 45015: the customer's
//! 48-hour window has closed), a real Dovecot and a real SMTP server. One customer wrote
//! through WeChat and by email (two contacts, merged):
//! - with fallback off, an agent's reply fails with `reply_window_closed` and goes nowhere else;
//! - with fallback on, the same failure sends a copy by email, and each thread says so;
//! - a notification without a template falls back to email too;
//! - with a template configured, a notification leaves as a template message, and a repeated
//!   `idempotency_key` sends nothing more.
//!
//! And a web chat reply the visitor left unseen goes out by email, to the address of the
//! pre-chat form, while a reply the visitor read does not. A visitor who writes while no agent
//! is online is offered to leave an address, and the reply they miss goes there.

#[path = "../../channels/email/tests/support/mod.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use kefu_channel_wechat::crypto::signature;
use kefu_tests::ws::{Ws, connect, next_where, send};
use kefu_tests::{TestApp, backends, eventually};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Dovecot, SmtpSink};

const TOKEN: &str = "QDG6eK";
const APP_ID: &str = "wx5823bf96d3bd56c7";
const APP_SECRET: &str = "the-app-secret";
const OPENID: &str = "oAlice";
const WAIT: Duration = Duration::from_secs(20);

/// What the WeChat stand-in received.
#[derive(Default)]
struct Api {
    custom_sends: usize,
    templates: Vec<Value>,
}

type Shared = Arc<Mutex<Api>>;

fn lock(api: &Shared) -> std::sync::MutexGuard<'_, Api> {
    api.lock().unwrap_or_else(|p| p.into_inner())
}

/// `/cgi-bin/token`, `/cgi-bin/message/custom/send` (always 45015) and
/// `/cgi-bin/message/template/send` (recorded, answered with a `msgid`).
async fn start_api() -> (String, Shared) {
    let api: Shared = Arc::default();
    let app = Router::new()
        .route(
            "/cgi-bin/token",
            get(|Query(q): Query<Value>| async move {
                if q["appid"] != APP_ID || q["secret"] != APP_SECRET {
                    return Json(json!({"errcode": 40013, "errmsg": "invalid appid"}));
                }
                Json(json!({"access_token": "token-1", "expires_in": 7200}))
            }),
        )
        .route(
            "/cgi-bin/message/custom/send",
            post(|State(api): State<Shared>| async move {
                lock(&api).custom_sends += 1;
                Json(json!({"errcode": 45015, "errmsg": "response out of time limit"}))
            }),
        )
        .route(
            "/cgi-bin/message/template/send",
            post(
                |State(api): State<Shared>, Query(q): Query<Value>, Json(body): Json<Value>| async move {
                    if q["access_token"] != "token-1" {
                        return Json(json!({"errcode": 40001, "errmsg": "invalid credential"}));
                    }
                    lock(&api).templates.push(body);
                    Json(json!({"errcode": 0, "errmsg": "ok", "msgid": 200228332}))
                },
            ),
        )
        .with_state(api.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, api)
}

/// A text message from the customer, as WeChat posts it in plain-text mode.
async fn wechat_says(app: &TestApp, inbox: i64, msg_id: u64, text: &str) {
    let now = chrono::Utc::now().timestamp().to_string();
    let nonce = "1320562132";
    let body = format!(
        "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>\
         <CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>\
         <MsgId>{msg_id}</MsgId></xml>"
    );
    let sig = signature(&[TOKEN, &now, nonce]);
    let resp = app
        .client
        .post(format!(
            "{}/channels/wechat/{inbox}?signature={sig}&timestamp={now}&nonce={nonce}&openid={OPENID}",
            app.base
        ))
        .body(body)
        .send()
        .await
        .expect("callback");
    assert_eq!(resp.status(), StatusCode::OK);
}

async fn patch_inbox(app: &TestApp, inbox: i64, body: Value) -> Value {
    let (s, b) = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/inboxes/{inbox}"),
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b
}

/// The message `id` of conversation `conv` once `done` holds for it.
async fn message_when(app: &TestApp, conv: i64, id: i64, done: impl Fn(&Value) -> bool) -> Value {
    let found = eventually(WAIT, || async {
        app.messages(conv)
            .await
            .into_iter()
            .find(|m| m["id"] == id && done(m))
    })
    .await;
    match found {
        Some(m) => m,
        None => panic!("message {id} of {conv}: {:?}", app.messages(conv).await),
    }
}

/// The copy of message `failed` in conversation `conv`, once it is delivered.
async fn copy_of(app: &TestApp, conv: i64, failed: i64) -> Value {
    let found = eventually(WAIT, || async {
        app.messages(conv).await.into_iter().find(|m| {
            m["delivery"]["fallback_from"]["message_id"] == failed
                && m["delivery"]["status"] != "pending"
        })
    })
    .await;
    match found {
        Some(m) => m,
        None => panic!(
            "no copy of {failed} in {conv}: {:?}",
            app.messages(conv).await
        ),
    }
}

/// An email inbox on a fresh Dovecot mailbox named after `prefix`, sending through `smtp`:
/// `(inbox id, mailbox)`.
async fn email_inbox(
    app: &TestApp,
    dovecot: &Dovecot,
    smtp: &SmtpSink,
    prefix: &str,
) -> (i64, String) {
    let mailbox = format!(
        "{prefix}{}",
        kefu_normalizer::token::random(6).to_lowercase()
    );
    let mut settings = dovecot.settings(&mailbox, smtp.port);
    settings["type"] = json!("email");
    dovecot
        .client()
        .await
        .create(&mailbox)
        .await
        .expect("mailbox");
    let (s, inbox) = app
        .admin(
            Method::POST,
            "/api/v1/inboxes",
            Some(json!({"name": "Support mail", "channel": settings})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{inbox}");
    (inbox["id"].as_i64().expect("inbox"), mailbox)
}

fn mails_containing(smtp: &SmtpSink, text: &str) -> usize {
    smtp.messages()
        .iter()
        .filter(|raw| String::from_utf8_lossy(raw).contains(text))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_wechat_window_falls_back_to_email_or_a_template_message() {
    let (Some(dovecot), Some(smtp)) = (Dovecot::start(), SmtpSink::start()) else {
        return;
    };
    for backend in backends() {
        let (api_base, api) = start_api().await;
        let app = TestApp::spawn_with(&backend, |c| {
            c.delivery.base_delay_ms = 50;
            c.jobs.poll_interval_ms = 50;
        })
        .await;

        // The customer writes by email...
        let (mail_inbox, mailbox) = email_inbox(&app, &dovecot, &smtp, "Fallback").await;
        let raw = "From: Alice <alice@customer.test>\r\nTo: support@kefu.test\r\nSubject: Parcel\r\n\
                   Message-ID: <fb1@customer.test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
                   Content-Type: text/plain; charset=utf-8\r\n\r\nWhere is my parcel?\r\n";
        dovecot.append(&mailbox, raw.as_bytes()).await;
        let mail_conv = app
            .until_event("the mail to become a conversation", || async {
                app.conversations(mail_inbox).await.first().cloned()
            })
            .await;
        let mail_conv = mail_conv["id"].as_i64().expect("conversation");

        // ...and through WeChat; the two contacts are one customer.
        let (s, wx_inbox) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(json!({"name": "Official Account", "channel": {
                    "type": "wechat", "app_id": APP_ID, "app_secret": APP_SECRET, "token": TOKEN,
                    "api_base": api_base}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{wx_inbox}");
        let wx_inbox = wx_inbox["id"].as_i64().expect("inbox");
        wechat_says(&app, wx_inbox, 1, "还没收到包裹").await;
        let wx_conv = app.conversations(wx_inbox).await[0].clone();
        let wx_contact = wx_conv["contact"]["id"].as_i64().expect("contact");
        let wx_conv = wx_conv["id"].as_i64().expect("conversation");
        let (s, c) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{mail_conv}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{c}");
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/contacts/{wx_contact}/merge"),
                Some(json!({"other_id": c["contact"]["id"]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");

        // Fallback off (the default): the reply fails with the reason and stays there.
        assert_eq!(
            patch_inbox(&app, wx_inbox, json!({})).await["fallback"]["enabled"],
            false
        );
        // The SMTP server outlives each backend's run: texts name the backend.
        let tag = backend.label();
        let first_text = format!("First try ({tag}): it left on Monday");
        let second_text = format!("Second try ({tag}): it left on Monday");
        let depot_text = format!("Your parcel is at the depot ({tag})");
        let first = app.reply(wx_conv, &first_text).await["id"].clone();
        let m = app
            .wait_delivery(wx_conv, &first, &["sent", "failed"])
            .await;
        assert_eq!(m["delivery"]["status"], "failed", "{backend:?} {m}");
        assert!(
            m["delivery"]["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("reply_window_closed")),
            "{m}"
        );

        // Fallback on: the same failure reaches the customer by email.
        let (s, bad) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/inboxes/{wx_inbox}"),
                Some(json!({"fallback": {"enabled": true, "order": ["email", "fax"]}})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(bad["field"], "fallback.order[1]", "{bad}");
        let saved = patch_inbox(
            &app,
            wx_inbox,
            json!({"fallback": {"enabled": true, "order": ["email"]}}),
        )
        .await;
        assert_eq!(
            saved["fallback"],
            json!({"enabled": true, "order": ["email"]})
        );
        let second = app.reply(wx_conv, &second_text).await["id"]
            .as_i64()
            .expect("id");
        let failed = message_when(&app, wx_conv, second, |m| {
            m["delivery"]["fallback_to"].is_object()
        })
        .await;
        assert_eq!(failed["delivery"]["status"], "failed", "{failed}");
        assert_eq!(
            failed["delivery"]["fallback_to"]["channel"], "email",
            "{failed}"
        );
        assert_eq!(
            failed["delivery"]["fallback_to"]["conversation_id"],
            mail_conv
        );
        let copy = copy_of(&app, mail_conv, second).await;
        assert_eq!(copy["delivery"]["status"], "sent", "{backend:?} {copy}");
        assert_eq!(copy["delivery"]["channel"], "email");
        assert_eq!(copy["delivery"]["fallback_from"]["channel"], "wechat");
        assert_eq!(
            copy["delivery"]["fallback_from"]["code"],
            "reply_window_closed"
        );
        assert_eq!(copy["content"]["text"], second_text.as_str());
        assert_eq!(copy["sender"]["type"], "agent");
        assert_eq!(mails_containing(&smtp, &second_text), 1);
        assert_eq!(mails_containing(&smtp, &first_text), 0, "fallback was off");

        // A notification without a template: email too.
        let (s, n1) = app
            .admin(
                Method::POST,
                &format!("/api/v1/contacts/{wx_contact}/notifications"),
                Some(json!({"text": depot_text, "channels": ["wechat"], "idempotency_key": "n1"})),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{n1}");
        assert_eq!(n1["conversation_id"], wx_conv);
        let n1 = n1["message_id"].as_i64().expect("id");
        let copy = copy_of(&app, mail_conv, n1).await;
        assert_eq!(copy["delivery"]["status"], "sent", "{copy}");
        assert_eq!(copy["sender"]["type"], "system");
        assert_eq!(mails_containing(&smtp, &depot_text), 1);

        // With a template: the notification leaves as a template message, once per key.
        let bad = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/inboxes/{wx_inbox}"),
                Some(
                    json!({"channel": {"template": {"template_id": "", "fields": {"first": "x"}}}}),
                ),
            )
            .await;
        assert_eq!(bad.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.1);
        assert!(
            bad.1.to_string().contains("template.template_id"),
            "{}",
            bad.1
        );
        patch_inbox(
            &app,
            wx_inbox,
            json!({"channel": {"template": {"template_id": "TPL_shipping-1",
                "fields": {"first": "{{text}}", "remark": "Reply to chat with us"}}}}),
        )
        .await;
        let notify_path = format!("/api/v1/contacts/{wx_contact}/notifications");
        let notify = || {
            app.admin(
                Method::POST,
                &notify_path,
                Some(json!({"text": "Refund approved", "channels": ["wechat"], "idempotency_key": "n2"})),
            )
        };
        let (s, n2) = notify().await;
        assert_eq!(s, StatusCode::ACCEPTED, "{n2}");
        let n2_id = n2["message_id"].as_i64().expect("id");
        let sent = message_when(&app, wx_conv, n2_id, |m| {
            m["delivery"]["status"] != "pending"
        })
        .await;
        assert_eq!(sent["delivery"]["status"], "sent", "{backend:?} {sent}");
        assert_eq!(sent["delivery"]["details"]["via"], "template", "{sent}");
        assert!(sent["delivery"]["fallback_to"].is_null(), "{sent}");
        let templates = lock(&api).templates.clone();
        assert_eq!(templates.len(), 1, "{templates:?}");
        assert_eq!(templates[0]["touser"], OPENID);
        assert_eq!(templates[0]["template_id"], "TPL_shipping-1");
        assert_eq!(templates[0]["data"]["first"]["value"], "Refund approved");
        assert_eq!(
            templates[0]["data"]["remark"]["value"],
            "Reply to chat with us"
        );
        let before = app.messages(wx_conv).await.len();
        let (s, again) = notify().await;
        assert_eq!(s, StatusCode::ACCEPTED, "{again}");
        assert_eq!(again["message_id"], n2_id);
        assert_eq!(app.messages(wx_conv).await.len(), before);
        assert_eq!(lock(&api).templates.len(), 1);
        // An agent's reply never goes out as a template message.
        let third = app.reply(wx_conv, "Agent words").await["id"]
            .as_i64()
            .expect("id");
        let m = message_when(&app, wx_conv, third, |m| {
            m["delivery"]["fallback_to"].is_object()
        })
        .await;
        assert_eq!(m["delivery"]["status"], "failed", "{m}");
        assert_eq!(lock(&api).templates.len(), 1);
        assert!(lock(&api).custom_sends >= 4);
        app.stop().await;
    }
}

/// A visitor who fills in the pre-chat form with `email` and writes `text`: the socket (still
/// open) and the conversation id.
async fn visitor(app: &TestApp, token: &str, email: &str, text: &str) -> (Ws, i64) {
    let mut ws = connect(&app.base, "/ws/web_chat").await;
    send(&mut ws, json!({"type": "hello", "website_token": token})).await;
    next_where(&mut ws, "welcome", |v| v["type"] == "welcome").await;
    send(
        &mut ws,
        json!({"type": "pre_chat", "email": email, "fields": {}}),
    )
    .await;
    next_where(&mut ws, "pre_chat_ok", |v| v["type"] == "pre_chat_ok").await;
    send(
        &mut ws,
        json!({"type": "message", "client_id": "m1", "text": text}),
    )
    .await;
    let ack = next_where(&mut ws, "ack", |v| {
        v["type"] == "ack" || v["type"] == "error"
    })
    .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    (ws, ack["conversation_id"].as_i64().expect("conversation"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_chat_reply_the_visitor_left_unseen_goes_out_by_email() {
    let (Some(dovecot), Some(smtp)) = (Dovecot::start(), SmtpSink::start()) else {
        return;
    };
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| {
            c.delivery.base_delay_ms = 50;
            c.jobs.poll_interval_ms = 50;
            c.jobs.sweep_interval_secs = 0.2;
            // Long enough for a visitor who is there to read the reply first.
            c.delivery.unseen_after_secs = 3.0;
        })
        .await;
        let tag = backend.label();
        let (mail_inbox, _) = email_inbox(&app, &dovecot, &smtp, "Unseen").await;
        let (s, web) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(json!({"name": "Shop", "channel": {"type": "web_chat",
                    "pre_chat": {"enabled": true, "name": "off", "email": "required", "fields": []}}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{web}");
        let web_id = web["id"].as_i64().expect("inbox");
        let token = web["website_token"].as_str().expect("token").to_owned();
        patch_inbox(
            &app,
            web_id,
            json!({"fallback": {"enabled": true, "order": ["email"]}}),
        )
        .await;

        // Sam stays and reads the reply; Vera leaves before it comes.
        let sam_email = format!("sam-{tag}@customer.test");
        let vera_email = format!("vera-{tag}@customer.test");
        let (mut sam, sam_conv) = visitor(&app, &token, &sam_email, "Do you ship to Lyon?").await;
        let (vera, vera_conv) = visitor(&app, &token, &vera_email, "Do you ship to Porto?").await;
        drop(vera);
        let to_sam = format!("Yes, to Lyon ({tag})");
        let to_vera = format!("Yes, to Porto ({tag})");
        let sam_reply = app.reply(sam_conv, &to_sam).await["id"]
            .as_i64()
            .expect("id");
        let seen = next_where(&mut sam, "the reply", |v| {
            v["type"] == "message" && v["message"]["id"] == sam_reply
        })
        .await;
        let seq = seen["message"]["seq"].clone();
        send(&mut sam, json!({"type": "read", "seq": seq})).await;
        message_when(&app, sam_conv, sam_reply, |m| {
            m["delivery"]["status"] == "delivered"
        })
        .await;
        let vera_reply = app.reply(vera_conv, &to_vera).await["id"]
            .as_i64()
            .expect("id");

        let original = message_when(&app, vera_conv, vera_reply, |m| {
            m["delivery"]["fallback_to"].is_object()
        })
        .await;
        assert_eq!(original["delivery"]["status"], "sent", "{original}");
        assert_eq!(original["delivery"]["fallback_to"]["channel"], "email");
        let mail_conv = original["delivery"]["fallback_to"]["conversation_id"]
            .as_i64()
            .expect("conversation");
        let copy = copy_of(&app, mail_conv, vera_reply).await;
        assert_eq!(copy["delivery"]["status"], "sent", "{backend:?} {copy}");
        assert_eq!(copy["delivery"]["fallback_from"]["code"], "visitor_offline");
        assert_eq!(copy["delivery"]["fallback_from"]["channel"], "web_chat");
        let raw: Vec<String> = smtp
            .messages()
            .iter()
            .map(|m| String::from_utf8_lossy(m).into_owned())
            .filter(|m| m.contains(&to_vera))
            .collect();
        assert_eq!(raw.len(), 1, "one mail for Vera's reply");
        assert!(raw[0].contains(&vera_email), "{}", raw[0]);
        // The identity the mail went to is Vera's contact's, in the email inbox.
        let (_, c) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{mail_conv}"),
                None,
            )
            .await;
        let (_, v) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{vera_conv}"),
                None,
            )
            .await;
        assert_eq!(c["contact"]["id"], v["contact"]["id"]);
        assert_eq!(c["inbox_id"], mail_inbox);
        // Sam read his: nothing went by email, and a later sweep does not send it either.
        assert_eq!(mails_containing(&smtp, &to_sam), 0);
        let sam_msg = message_when(&app, sam_conv, sam_reply, |_| true).await;
        assert!(sam_msg["delivery"]["fallback_to"].is_null(), "{sam_msg}");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_writing_while_nobody_is_online_leaves_an_email_for_the_reply() {
    let (Some(dovecot), Some(smtp)) = (Dovecot::start(), SmtpSink::start()) else {
        return;
    };
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| {
            c.delivery.base_delay_ms = 50;
            c.jobs.poll_interval_ms = 50;
            c.jobs.sweep_interval_secs = 0.2;
            c.delivery.unseen_after_secs = 0.5;
        })
        .await;
        let tag = backend.label();
        email_inbox(&app, &dovecot, &smtp, "Offline").await;
        let (s, web) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(json!({"name": "Shop", "channel": {"type": "web_chat"}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{web}");
        let web_id = web["id"].as_i64().expect("inbox");
        let token = web["website_token"].as_str().expect("token").to_owned();
        let (_, me) = app.admin(Method::GET, "/api/v1/profile", None).await;
        let status = |status: &'static str| {
            let path = format!("/api/v1/agents/{}/status", me["id"]);
            let app = &app;
            async move {
                let (s, b) = app
                    .admin(Method::PUT, &path, Some(json!({"status": status})))
                    .await;
                assert_eq!(s, StatusCode::OK, "{b}");
            }
        };
        status("offline").await;
        let hello = |session: Option<Value>| {
            let (base, token) = (app.base.clone(), token.clone());
            async move {
                let mut ws = connect(&base, "/ws/web_chat").await;
                send(
                    &mut ws,
                    json!({"type": "hello", "website_token": token, "session": session}),
                )
                .await;
                let welcome = next_where(&mut ws, "welcome", |v| v["type"] == "welcome").await;
                (ws, welcome)
            }
        };

        // Without fallback on, nobody is asked (the reply could not reach an address).
        let (_, welcome) = hello(None).await;
        assert_eq!(welcome["offline"], json!({"ask_email": false}), "{welcome}");
        patch_inbox(
            &app,
            web_id,
            json!({"fallback": {"enabled": true, "order": ["email"]}}),
        )
        .await;
        let (mut olga, welcome) = hello(None).await;
        assert_eq!(welcome["offline"], json!({"ask_email": true}), "{welcome}");
        // An address comes after a message, and must look like one.
        send(&mut olga, json!({"type": "email", "email": "olga@x.test"})).await;
        assert_eq!(answer(&mut olga).await["code"], "bad_frame");
        send(
            &mut olga,
            json!({"type": "message", "client_id": "o1", "text": "Is the shop open on Sunday?"}),
        )
        .await;
        let ack = answer(&mut olga).await;
        assert_eq!(ack["type"], "ack", "{ack}");
        let conv = ack["conversation_id"].as_i64().expect("conversation");
        send(&mut olga, json!({"type": "email", "email": "olga at home"})).await;
        assert_eq!(answer(&mut olga).await["code"], "invalid_email");
        let address = format!("olga-{tag}@customer.test");
        send(&mut olga, json!({"type": "email", "email": address})).await;
        let ok = answer(&mut olga).await;
        assert_eq!(ok, json!({"type": "email_ok", "email": address}));
        let (_, c) = app
            .admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None)
            .await;
        assert_eq!(c["contact"]["email"], json!(address));
        // Her next tab is not asked again: the contact has an address now.
        let (again, welcome) = hello(Some(welcome["session"].clone())).await;
        assert_eq!(welcome["offline"], json!({"ask_email": false}), "{welcome}");
        drop((olga, again));

        // She left; the reply she never saw reaches her address.
        let reply = format!("Yes, 10:00 to 16:00 ({tag})");
        app.reply(conv, &reply).await;
        let mails = eventually(WAIT, || async {
            let n = mails_containing(&smtp, &reply);
            (n > 0).then_some(n)
        })
        .await;
        assert_eq!(mails, Some(1), "one mail for the reply");
        assert!(
            smtp.messages()
                .iter()
                .map(|m| String::from_utf8_lossy(m).into_owned())
                .any(|m| m.contains(&reply) && m.contains(&address))
        );

        // With an agent online, nobody is told the team is offline.
        status("online").await;
        let (_, welcome) = hello(None).await;
        assert!(welcome.get("offline").is_none(), "{welcome}");
        app.stop().await;
    }
}

/// The widget's next answer to a frame: `ack`, `error` or `email_ok`.
async fn answer(ws: &mut Ws) -> Value {
    next_where(ws, "an answer", |v| {
        ["ack", "error", "email_ok"].contains(&v["type"].as_str().unwrap_or_default())
    })
    .await
}
