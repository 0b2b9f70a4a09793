//! WeChat through the whole server. An Official Account: callbacks encrypted as WeChat sends
//! them (the Tencent sample's token and EncodingAESKey) become a conversation, provider retries
//! are deduped, and agent replies reach a local server speaking the WeChat API through the
//! delivery pipeline — with a valid access token, a refresh when it expired, and the 48-hour
//! error failing the reply with a reason, and an agent's image uploaded as temporary material and
//! sent as an image message. WeCom customer service: an encrypted
//! `kf_msg_or_event` callback makes Kefu pull `sync_msg`, the message becomes a conversation,
//! and the reply goes out through `kf/send_msg`. Admins see the callback URL and token to
//! paste into the provider's console; other roles see the URL only.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use kefu_channel_wechat::crypto::{MsgCrypt, signature};
use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

// The Tencent sample's token and key; the AppID is the sample's too.
const TOKEN: &str = "QDG6eK";
const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const APP_ID: &str = "wx5823bf96d3bd56c7";
const APP_SECRET: &str = "the-app-secret";

// The Tencent WeCom sample's (W2) token, key and CorpID.
const KF_TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const KF_AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const CORP_ID: &str = "ww1436e0e65a779aee";
const KF_SECRET: &str = "the-kf-secret";
const OPEN_KFID: &str = "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw";
/// The short-lived token a kf callback carries for the pull it announces.
const CALLBACK_TOKEN: &str = "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR";

#[derive(Default)]
struct Api {
    tokens_issued: usize,
    current: Option<String>,
    script: VecDeque<i64>,
    sends: Vec<Value>,
    /// WeCom customer messages; a `sync_msg` cursor is an index into it.
    kf_log: Vec<Value>,
    sync_requests: Vec<Value>,
    /// Temporary material: `(type, file name, bytes)`.
    uploads: Vec<(String, String, Vec<u8>)>,
}

type Shared = Arc<Mutex<Api>>;

async fn token(State(api): State<Shared>, Query(q): Query<Value>) -> Json<Value> {
    let mut api = api.lock().unwrap_or_else(|p| p.into_inner());
    if q["appid"] != APP_ID || q["secret"] != APP_SECRET || q["grant_type"] != "client_credential" {
        return Json(json!({"errcode": 40013, "errmsg": "invalid appid"}));
    }
    api.tokens_issued += 1;
    let t = format!("token-{}", api.tokens_issued);
    api.current = Some(t.clone());
    Json(json!({"access_token": t, "expires_in": 7200}))
}

async fn custom_send(
    State(api): State<Shared>,
    Query(q): Query<Value>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut api = api.lock().unwrap_or_else(|p| p.into_inner());
    if q["access_token"].as_str() != api.current.as_deref() {
        return Json(json!({"errcode": 40001, "errmsg": "invalid credential"}));
    }
    if let Some(code) = api.script.pop_front() {
        if code == 42001 {
            api.current = None; // expired: only a fresh token works now
        }
        return Json(json!({"errcode": code, "errmsg": "scripted"}));
    }
    api.sends.push(body);
    Json(json!({"errcode": 0, "errmsg": "ok"}))
}

async fn media_upload(
    State(api): State<Shared>,
    Query(q): Query<Value>,
    mut form: axum::extract::Multipart,
) -> Json<Value> {
    if q["access_token"].as_str()
        != api
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .current
            .as_deref()
    {
        return Json(json!({"errcode": 40001, "errmsg": "invalid credential"}));
    }
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() != Some("media") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        let data = field.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        let mut api = api.lock().unwrap_or_else(|p| p.into_inner());
        let kind = q["type"].as_str().unwrap_or_default().to_owned();
        api.uploads.push((kind.clone(), name, data));
        let media_id = format!("media-{}", api.uploads.len());
        return Json(json!({"type": kind, "media_id": media_id, "created_at": 1_700_000_000}));
    }
    Json(json!({"errcode": 41005, "errmsg": "media data missing"}))
}

async fn wecom_token(State(api): State<Shared>, Query(q): Query<Value>) -> Json<Value> {
    let mut api = api.lock().unwrap_or_else(|p| p.into_inner());
    if q["corpid"] != CORP_ID || q["corpsecret"] != KF_SECRET {
        return Json(json!({"errcode": 40001, "errmsg": "invalid credential"}));
    }
    api.tokens_issued += 1;
    let t = format!("kf-token-{}", api.tokens_issued);
    api.current = Some(t.clone());
    Json(json!({"errcode": 0, "errmsg": "ok", "access_token": t, "expires_in": 7200}))
}

async fn sync_msg(
    State(api): State<Shared>,
    Query(q): Query<Value>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut api = api.lock().unwrap_or_else(|p| p.into_inner());
    if q["access_token"].as_str() != api.current.as_deref() {
        return Json(json!({"errcode": 40014, "errmsg": "invalid access_token"}));
    }
    api.sync_requests.push(body.clone());
    let start = body["cursor"]
        .as_str()
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0)
        .min(api.kf_log.len());
    Json(json!({
        "errcode": 0, "errmsg": "ok", "next_cursor": api.kf_log.len().to_string(), "has_more": 0,
        "msg_list": api.kf_log[start..],
    }))
}

async fn start_api() -> (String, Shared) {
    let api: Shared = Arc::default();
    let app = Router::new()
        .route("/cgi-bin/token", get(token))
        .route("/cgi-bin/gettoken", get(wecom_token))
        .route("/cgi-bin/message/custom/send", post(custom_send))
        .route("/cgi-bin/media/upload", post(media_upload))
        .route("/cgi-bin/kf/send_msg", post(custom_send))
        .route("/cgi-bin/kf/sync_msg", post(sync_msg))
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

async fn reply_and_wait(app: &TestApp, conv: i64, text: &str) -> Value {
    let id = app.reply(conv, text).await["id"].clone();
    app.wait_delivery(conv, &id, &["sent", "failed"]).await
}

/// POSTs a text message from `openid` as WeChat does in safe mode.
async fn callback(
    app: &TestApp,
    inbox: i64,
    openid: &str,
    msg_id: u64,
    text: &str,
) -> (StatusCode, String) {
    tap(app, inbox, openid, msg_id, text, None).await
}

/// POSTs a text message from `openid`, a tap on reply-menu item `menu_id` when given.
async fn tap(
    app: &TestApp,
    inbox: i64,
    openid: &str,
    msg_id: u64,
    text: &str,
    menu_id: Option<&str>,
) -> (StatusCode, String) {
    let now = chrono::Utc::now().timestamp().to_string();
    let nonce = "1320562132";
    let menu = menu_id
        .map(|id| format!("<bizmsgmenuid>{id}</bizmsgmenuid>"))
        .unwrap_or_default();
    let plain = format!(
        "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>\
         <CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>\
         <MsgId>{msg_id}</MsgId>{menu}</xml>"
    );
    let crypt = MsgCrypt::new(TOKEN, AES_KEY, APP_ID).expect("crypt");
    let encrypt = crypt.encrypt(&plain);
    let msg_signature = crypt.msg_signature(&now, nonce, &encrypt);
    let sig = signature(&[TOKEN, &now, nonce]);
    let body = format!(
        "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    );
    let resp = app
        .client
        .post(format!(
            "{}/channels/wechat/{inbox}?signature={sig}&timestamp={now}&nonce={nonce}&openid={openid}&encrypt_type=aes&msg_signature={msg_signature}",
            app.base
        ))
        .body(body)
        .send()
        .await
        .expect("callback");
    (resp.status(), resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_resolved_chat_asks_for_a_rating_in_a_reply_menu_and_a_tap_rates_it() {
    for backend in backends() {
        let (api_base, api) = start_api().await;
        let app = TestApp::spawn_with(&backend, |c| {
            c.delivery.base_delay_ms = 50;
            c.jobs.poll_interval_ms = 50;
        })
        .await;
        let (s, inbox) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(json!({"name": "Official Account", "channel": {
                    "type": "wechat", "app_id": APP_ID, "app_secret": APP_SECRET, "token": TOKEN,
                    "encoding_aes_key": AES_KEY, "api_base": api_base}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{inbox}");
        let inbox = inbox["id"].as_i64().expect("id");
        let (s, body) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/inboxes/{inbox}"),
                Some(json!({"csat": {"enabled": true, "message": "请为本次服务打分"}})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, _) = callback(&app, inbox, "oUser1", 11, "退款到账了吗？").await;
        assert_eq!(s, StatusCode::OK);
        let conv = app.conversations(inbox).await[0]["id"]
            .as_i64()
            .expect("conversation");
        let (s, body) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/resolve"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");

        // The question leaves as a msgmenu with five ratings, best first.
        let menu = kefu_tests::eventually(std::time::Duration::from_secs(10), || async {
            let api = api.lock().unwrap_or_else(|p| p.into_inner());
            api.sends
                .iter()
                .find(|b| b["msgtype"] == "msgmenu")
                .cloned()
        })
        .await
        .expect("a msgmenu was sent");
        assert_eq!(menu["touser"], "oUser1");
        assert_eq!(menu["msgmenu"]["head_content"], "请为本次服务打分");
        let list = menu["msgmenu"]["list"].as_array().expect("list");
        assert_eq!(list.len(), 5, "{menu}");
        assert_eq!(list[0]["content"], "非常满意", "{menu}");
        let four = list[1]["id"].as_str().expect("id").to_owned();
        assert!(four.ends_with('4'), "{four}");

        // The customer taps "满意" (satisfied): WeChat sends a text naming the item, twice.
        for _ in 0..2 {
            let (s, body) = tap(&app, inbox, "oUser1", 12, "满意", Some(&four)).await;
            assert_eq!((s, body.as_str()), (StatusCode::OK, "success"));
        }
        // Someone else's tap on the same item is an ordinary message, not a rating.
        let (s, _) = tap(&app, inbox, "oUser2", 13, "满意", Some(&four)).await;
        assert_eq!(s, StatusCode::OK);
        let (s, surveys) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{conv}/csat"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{surveys}");
        let survey = &surveys["items"][0];
        assert_eq!(
            (&survey["status"], &survey["rating"], &survey["channel"]),
            (&json!("submitted"), &json!(4), &json!("wechat")),
            "{surveys}"
        );
        // The tap did not reopen the conversation nor add a message to it.
        let (s, c) = app
            .admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None)
            .await;
        assert_eq!(
            (s, &c["status"]),
            (StatusCode::OK, &json!("resolved")),
            "{c}"
        );
        let texts: Vec<Value> = app
            .messages(conv)
            .await
            .iter()
            .map(|m| m["content"]["text"].clone())
            .collect();
        assert_eq!(texts, [json!("退款到账了吗？"), json!("请为本次服务打分")]);
        assert_eq!(
            app.conversations(inbox).await.len(),
            2,
            "oUser2's tap opened their own"
        );
    }
}

#[tokio::test]
async fn encrypted_callbacks_in_replies_out_through_the_wechat_api() {
    for backend in backends() {
        let (api_base, api) = start_api().await;
        let app = TestApp::spawn_with(&backend, |c| {
            c.delivery.base_delay_ms = 50;
            c.jobs.poll_interval_ms = 50;
        })
        .await;
        let (s, inbox) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(json!({"name": "Official Account", "channel": {
                    "type": "wechat", "app_id": APP_ID, "app_secret": APP_SECRET, "token": TOKEN,
                    "encoding_aes_key": AES_KEY, "api_base": api_base}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{inbox}");
        assert!(
            inbox["callback_url"]
                .as_str()
                .is_some_and(|u| u.ends_with(&format!("/channels/wechat/{}", inbox["id"]))),
            "{inbox}"
        );
        let inbox = inbox["id"].as_i64().expect("id");

        let (s, body) = callback(
            &app,
            inbox,
            "oUser1",
            1_234_567_890_123_456,
            "你好，我的订单在哪里？",
        )
        .await;
        assert_eq!(
            (s, body.as_str()),
            (StatusCode::OK, "success"),
            "{backend:?}"
        );
        // WeChat retries the same MsgId when it did not see the answer in time: stored once.
        let (s, _) = callback(
            &app,
            inbox,
            "oUser1",
            1_234_567_890_123_456,
            "你好，我的订单在哪里？",
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let convs = app.conversations(inbox).await;
        assert_eq!(convs.len(), 1, "{convs:?}");
        let conv = convs[0]["id"].as_i64().expect("conversation");
        let msgs = app.messages(conv).await;
        assert_eq!(msgs.len(), 1, "the retry was not stored twice");
        assert_eq!(msgs[0]["content"]["text"], "你好，我的订单在哪里？");

        // A reply reaches the API with a valid token.
        let m = reply_and_wait(&app, conv, "您的订单今天发货。").await;
        assert_eq!(m["delivery"]["status"], "sent", "{m}");
        {
            let api = api.lock().unwrap_or_else(|p| p.into_inner());
            assert_eq!(
                api.sends,
                [
                    json!({"touser": "oUser1", "msgtype": "text", "text": {"content": "您的订单今天发货。"}})
                ]
            );
            assert_eq!(api.tokens_issued, 1);
        }

        // An expired token is refreshed and the send retried once, within the same attempt.
        api.lock()
            .unwrap_or_else(|p| p.into_inner())
            .script
            .push_back(42001);
        let m = reply_and_wait(&app, conv, "Second").await;
        assert_eq!(m["delivery"]["status"], "sent", "{m}");
        assert_eq!(m["delivery"]["attempts"], 1, "{m}");
        assert_eq!(
            api.lock().unwrap_or_else(|p| p.into_inner()).tokens_issued,
            2
        );

        // "System busy" is retried by the pipeline; the 48-hour window error fails the reply.
        api.lock()
            .unwrap_or_else(|p| p.into_inner())
            .script
            .extend([-1, 45015]);
        let m = reply_and_wait(&app, conv, "Third").await;
        assert_eq!(m["delivery"]["status"], "failed", "{m}");
        assert_eq!(m["delivery"]["attempts"], 2, "{m}");
        let error = m["delivery"]["error"].as_str().unwrap_or_default();
        assert!(
            error.starts_with("reply_window_closed:") && error.contains("45015"),
            "{error}"
        );
        assert_eq!(api.lock().unwrap_or_else(|p| p.into_inner()).sends.len(), 2);

        // An agent's image goes up as temporary material and out as an image message.
        let png = b"\x89PNG\r\n\x1a\n an image".to_vec();
        let part = reqwest::multipart::Part::bytes(png.clone())
            .file_name("photo.png")
            .mime_str("image/png")
            .expect("mime");
        let file: Value = app
            .client
            .post(format!("{}/api/v1/attachments", app.base))
            .bearer_auth(&app.admin_token)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .expect("upload")
            .json()
            .await
            .expect("upload answer");
        let (s, r) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/messages"),
                Some(json!({"text": "", "attachments": [file["id"]]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        let m = app.wait_delivery(conv, &r["id"], &["sent", "failed"]).await;
        assert_eq!(m["delivery"]["status"], "sent", "{backend:?} {m}");
        {
            let api = api.lock().unwrap_or_else(|p| p.into_inner());
            assert_eq!(
                api.uploads,
                [("image".to_owned(), "photo.png".to_owned(), png)]
            );
            assert_eq!(
                api.sends.last(),
                Some(
                    &json!({"touser": "oUser1", "msgtype": "image", "image": {"media_id": "media-1"}})
                )
            );
        }
        app.stop().await;
    }
}

/// POSTs a `kf_msg_or_event` notification as WeCom does: encrypted, signed, no message inside.
async fn kf_callback(app: &TestApp, inbox: i64) -> (StatusCode, String) {
    let now = chrono::Utc::now().timestamp().to_string();
    let plain = format!(
        "<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><CreateTime>{now}</CreateTime>\
         <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>\
         <Token><![CDATA[{CALLBACK_TOKEN}]]></Token><OpenKfId><![CDATA[{OPEN_KFID}]]></OpenKfId></xml>"
    );
    let crypt = MsgCrypt::new(KF_TOKEN, KF_AES_KEY, CORP_ID).expect("crypt");
    let encrypt = crypt.encrypt(&plain);
    let sig = crypt.msg_signature(&now, "4242", &encrypt);
    let resp = app
        .client
        .post(format!(
            "{}/channels/wecom/{inbox}?msg_signature={sig}&timestamp={now}&nonce=4242",
            app.base
        ))
        .body(format!(
            "<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt>\
             <AgentID><![CDATA[]]></AgentID></xml>"
        ))
        .send()
        .await
        .expect("callback");
    (resp.status(), resp.text().await.unwrap_or_default())
}

fn kf_inbox(api_base: &str) -> Value {
    json!({"name": "WeCom kf", "channel": {
        "type": "wecom_kf", "corp_id": CORP_ID, "secret": KF_SECRET, "token": KF_TOKEN,
        "encoding_aes_key": KF_AES_KEY, "open_kfid": OPEN_KFID, "api_base": api_base}})
}

#[tokio::test]
async fn wecom_callbacks_pull_messages_and_replies_go_out_through_send_msg() {
    for backend in backends() {
        let (api_base, api) = start_api().await;
        let app = TestApp::spawn_with(&backend, |c| {
            c.delivery.base_delay_ms = 50;
            c.jobs.poll_interval_ms = 50;
        })
        .await;
        let (s, inbox) = app
            .admin(Method::POST, "/api/v1/inboxes", Some(kf_inbox(&api_base)))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{inbox}");
        let inbox = inbox["id"].as_i64().expect("id");

        // The customer writes; WeCom keeps the message and notifies Kefu.
        api.lock()
            .unwrap_or_else(|p| p.into_inner())
            .kf_log
            .push(json!({
                "msgid": "kf-msg-1", "open_kfid": OPEN_KFID, "external_userid": "wmCustomer1",
                "send_time": chrono::Utc::now().timestamp(), "origin": 3,
                "msgtype": "text", "text": {"content": "我想退货"},
            }));
        let (s, body) = kf_callback(&app, inbox).await;
        assert_eq!(
            (s, body.as_str()),
            (StatusCode::OK, "success"),
            "{backend:?}"
        );
        {
            let api = api.lock().unwrap_or_else(|p| p.into_inner());
            assert!(
                api.sync_requests
                    .iter()
                    .any(|r| r["token"] == CALLBACK_TOKEN && r["open_kfid"] == OPEN_KFID),
                "the pull carries the callback's token: {:?}",
                api.sync_requests
            );
        }
        // `success` is answered after the pulled message was stored.
        let convs = app.conversations(inbox).await;
        assert_eq!(convs.len(), 1, "{convs:?}");
        let conv = convs[0]["id"].as_i64().expect("conversation");
        let msgs = app.messages(conv).await;
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert_eq!(msgs[0]["content"]["text"], "我想退货");
        assert_eq!(msgs[0]["direction"], "inbound");

        // A second notification for the same message stores nothing new.
        let (s, _) = kf_callback(&app, inbox).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(app.messages(conv).await.len(), 1);

        let m = reply_and_wait(&app, conv, "请提供订单号。").await;
        assert_eq!(m["delivery"]["status"], "sent", "{m}");
        assert_eq!(
            api.lock().unwrap_or_else(|p| p.into_inner()).sends,
            [json!({"touser": "wmCustomer1", "open_kfid": OPEN_KFID,
                "msgid": format!("kefu-{}", m["id"].as_i64().expect("id")),
                "msgtype": "text", "text": {"content": "请提供订单号。"}})],
            "sent with a token the API accepted"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn admins_see_the_callback_url_and_token_to_paste_into_the_console() {
    const PUBLIC: &str = "https://support.example.com";
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| c.public_url = Some(PUBLIC.into())).await;
        let (s, oa) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(
                    json!({"name": "OA", "channel": {"type": "wechat", "app_id": APP_ID,
                    "app_secret": APP_SECRET, "token": TOKEN, "encoding_aes_key": AES_KEY}}),
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{oa}");
        let (s, kf) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(kf_inbox("http://127.0.0.1:9")),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{kf}");
        let loopback = app.loopback_inbox(json!({})).await;
        let (oa, kf) = (
            oa["id"].as_i64().expect("id"),
            kf["id"].as_i64().expect("id"),
        );
        let (sup, supervisor) = app.agent("sup@example.com", "supervisor", json!({})).await;
        for inbox in [oa, kf, loopback] {
            app.join(inbox, sup).await;
        }

        let expected = [
            (oa, format!("{PUBLIC}/channels/wechat/{oa}"), Some(TOKEN)),
            (kf, format!("{PUBLIC}/channels/wecom/{kf}"), Some(KF_TOKEN)),
            (
                loopback,
                format!("{PUBLIC}/channels/loopback/{loopback}"),
                None,
            ),
        ];
        for (id, url, token) in &expected {
            let (s, b) = app
                .admin(Method::GET, &format!("/api/v1/inboxes/{id}"), None)
                .await;
            assert_eq!(s, StatusCode::OK);
            assert_eq!(b["callback"]["url"], json!(url), "{b}");
            assert_eq!(
                b["callback"]["token"],
                json!(token),
                "admins see the token: {b}"
            );
            assert!(
                b["channel"].get("token").is_none(),
                "settings stay write-only: {b}"
            );

            let (s, b) = app
                .call(
                    Method::GET,
                    &format!("/api/v1/inboxes/{id}"),
                    Some(&supervisor),
                    None,
                )
                .await;
            assert_eq!(s, StatusCode::OK);
            assert_eq!(b["callback"]["url"], json!(url), "{b}");
            assert!(
                b["callback"].get("token").is_none() && !b.to_string().contains(KF_TOKEN),
                "no token for other roles: {b}"
            );
        }
        let (_, list) = app.admin(Method::GET, "/api/v1/inboxes", None).await;
        let tokens: Vec<&Value> = list["items"]
            .as_array()
            .map(|items| {
                // Only this test's inboxes (the demo web chat inbox is listed too).
                items
                    .iter()
                    .filter(|i| [oa, kf, loopback].contains(&i["id"].as_i64().unwrap_or(0)))
                    .map(|i| &i["callback"]["token"])
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(tokens, [&json!(TOKEN), &json!(KF_TOKEN), &Value::Null]);
        let (_, list) = app
            .call(Method::GET, "/api/v1/inboxes", Some(&supervisor), None)
            .await;
        assert!(
            !list.to_string().contains(TOKEN) && !list.to_string().contains(KF_TOKEN),
            "{list}"
        );
        app.stop().await;
    }
}
