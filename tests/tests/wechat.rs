//! A WeChat Official Account through the whole server: callbacks encrypted as WeChat sends
//! them (the Tencent sample's token and EncodingAESKey) become a conversation, provider retries
//! are deduped, and agent replies reach a local server speaking the WeChat API through the
//! delivery pipeline — with a valid access token, a refresh when it expired, and the 48-hour
//! error failing the reply with a reason.

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

#[derive(Default)]
struct Api {
    tokens_issued: usize,
    current: Option<String>,
    script: VecDeque<i64>,
    sends: Vec<Value>,
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

async fn start_api() -> (String, Shared) {
    let api: Shared = Arc::default();
    let app = Router::new()
        .route("/cgi-bin/token", get(token))
        .route("/cgi-bin/message/custom/send", post(custom_send))
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
    let now = chrono::Utc::now().timestamp().to_string();
    let nonce = "1320562132";
    let plain = format!(
        "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>\
         <CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>\
         <MsgId>{msg_id}</MsgId></xml>"
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
        let (_, list) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations?inbox_id={inbox}"),
                None,
            )
            .await;
        let convs = list["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(convs.len(), 1, "{list}");
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
        app.stop().await;
    }
}
