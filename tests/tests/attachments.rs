//! Files: agents' uploads attached to replies (bytes handed to the channel), customers'
//! attachments stored at ingest, provider-held media fetched once on first download, and the
//! errors for bad uploads and links.

use std::time::Duration;

use kefu_channel::testkit::loopback::{LoopbackFile, LoopbackMessage};
use kefu_normalizer::entity::attachment;
use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode, multipart};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

/// A small PNG: signature and IHDR are enough for the type; the bytes are what matters.
fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend((0..2000u32).map(|i| (i * 7 % 251) as u8));
    b
}

async fn upload(app: &TestApp, name: &str, mime: &str, data: Vec<u8>) -> (StatusCode, Value) {
    upload_as(app, &app.admin_token, name, mime, data).await
}

async fn upload_as(
    app: &TestApp,
    token: &str,
    name: &str,
    mime: &str,
    data: Vec<u8>,
) -> (StatusCode, Value) {
    let part = multipart::Part::bytes(data)
        .file_name(name.to_owned())
        .mime_str(mime)
        .expect("mime");
    let resp = app
        .client
        .post(format!("{}/api/v1/attachments", app.base))
        .bearer_auth(token)
        .multipart(multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("upload request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn download(app: &TestApp, url: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{url}", app.base))
        .send()
        .await
        .expect("download request")
}

async fn conversation(app: &TestApp, inbox: i64, sender: &str) -> i64 {
    let (s, a) = app
        .inbound(inbox, &msg(&format!("in-{sender}"), sender, "Hello"))
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    a["conversation_id"].as_i64().expect("conversation id")
}

#[tokio::test]
async fn an_uploaded_file_reaches_the_channel_with_its_bytes() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let conv = conversation(&app, inbox, "cust-1").await;

        let (s, file) = upload(&app, "发票 March.png", "image/png", png()).await;
        assert_eq!(s, StatusCode::CREATED, "{file}");
        assert_eq!(file["name"], "发票 March.png");
        assert_eq!(file["mime"], "image/png");
        assert_eq!(file["size"], png().len());
        let url = file["url"].as_str().expect("url").to_owned();
        assert!(url.starts_with(&format!("/files/{}/", file["id"])), "{url}");

        // A reply with only a file: no text needed.
        let (s, m) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/messages"),
                Some(json!({"text": "", "attachments": [file["id"]]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        let listed = &m["content"]["attachments"][0];
        assert_eq!(listed["url"], url.as_str(), "{m}");
        assert_eq!(listed["name"], "发票 March.png", "{m}");

        let sent = app.provider.wait_delivered(1, WAIT).await;
        assert_eq!(sent.len(), 1, "{backend:?}");
        let att = &sent[0].content.attachments[0];
        assert_eq!(att.name, "发票 March.png");
        assert_eq!(att.mime, "image/png");
        assert_eq!(
            att.data.as_deref(),
            Some(png().as_slice()),
            "the channel gets the bytes"
        );

        let resp = download(&app, &url).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let h = resp.headers().clone();
        assert_eq!(h["content-type"], "image/png");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(
            h["content-disposition"],
            "inline; filename*=UTF-8''%E5%8F%91%E7%A5%A8%20March.png"
        );
        assert_eq!(resp.bytes().await.expect("body").as_ref(), png().as_slice());
        app.stop().await;
    }
}

#[tokio::test]
async fn bad_uploads_and_links_get_clear_errors() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| c.max_upload_bytes = 4096).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let conv = conversation(&app, inbox, "cust-2").await;

        let (s, e) = upload(&app, "big.bin", "application/octet-stream", vec![7; 5000]).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
        assert_eq!(e["code"], "file_too_large", "{e}");

        let (s, e) = upload(&app, "empty.txt", "text/plain", Vec::new()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

        let resp = app
            .client
            .post(format!("{}/api/v1/attachments", app.base))
            .bearer_auth(&app.admin_token)
            .multipart(multipart::Form::new().text("note", "no file here"))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e: Value = resp.json().await.expect("json");
        assert!(
            e["detail"].as_str().unwrap_or_default().contains("`file`"),
            "{e}"
        );

        // Uploading needs a signed-in agent.
        let resp = app
            .client
            .post(format!("{}/api/v1/attachments", app.base))
            .multipart(multipart::Form::new().part(
                "file",
                multipart::Part::bytes(b"x".to_vec()).file_name("x.txt"),
            ))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

        // HTML is never rendered from Kefu's origin.
        let (s, html) = upload(
            &app,
            "page.html",
            "text/html",
            b"<script>alert(1)</script>".to_vec(),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{html}");
        let url = html["url"].as_str().expect("url");
        let resp = download(&app, url).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "application/octet-stream");
        assert!(
            resp.headers()["content-disposition"]
                .to_str()
                .expect("ascii")
                .starts_with("attachment;")
        );

        // A link with the wrong token, or to no file, finds nothing.
        let forged = format!("/files/{}/{}", html["id"], "A".repeat(32));
        assert_eq!(
            download(&app, &forged).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            download(&app, "/files/999999/x").await.status(),
            StatusCode::NOT_FOUND
        );

        // Replies: an unknown file is named; empty replies are refused.
        let (s, e) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/messages"),
                Some(json!({"text": "see attached", "attachments": [987654]})),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
        assert_eq!(e["code"], "not_found", "{e}");
        assert!(
            e["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("attachment"),
            "{e}"
        );
        let (s, e) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/messages"),
                Some(json!({"text": "  "})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(app.provider.attempts(), 0, "nothing was sent");
        app.stop().await;
    }
}

#[tokio::test]
async fn customer_files_are_kept_and_provider_media_is_fetched_once() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        app.provider
            .put_media("MEDIA-1", b"voice-bytes".to_vec(), "audio/amr");
        let message = LoopbackMessage {
            attachments: vec![
                LoopbackFile {
                    name: "receipt.pdf".into(),
                    mime: "application/pdf".into(),
                    data: Some(b"%PDF-1.4 receipt".to_vec()),
                    media_id: None,
                },
                LoopbackFile {
                    name: "voice.amr".into(),
                    mime: "audio/amr".into(),
                    data: None,
                    media_id: Some("MEDIA-1".into()),
                },
                LoopbackFile {
                    name: "gone.jpg".into(),
                    mime: "image/jpeg".into(),
                    data: None,
                    media_id: Some("EXPIRED".into()),
                },
            ],
            ..msg("in-files", "cust-3", "my receipt and a voice note")
        };
        let (s, a) = app.inbound(inbox, &message).await;
        assert_eq!(s, StatusCode::OK, "{a}");
        let conv = a["conversation_id"].as_i64().expect("conversation");
        let m = app.messages(conv).await.remove(0);
        let atts = m["content"]["attachments"]
            .as_array()
            .expect("attachments")
            .clone();
        assert_eq!(atts.len(), 3, "{m}");
        assert_eq!(atts[0]["size"], 16, "{m}");
        let urls: Vec<String> = atts
            .iter()
            .map(|a| a["url"].as_str().expect("every file has a link").to_owned())
            .collect();

        let resp = download(&app, &urls[0]).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.bytes().await.expect("body").as_ref(),
            b"%PDF-1.4 receipt"
        );

        // Provider-held: fetched through the channel on first download, then kept.
        for _ in 0..2 {
            let resp = download(&app, &urls[1]).await;
            assert_eq!(resp.status(), StatusCode::OK);
            assert_eq!(resp.bytes().await.expect("body").as_ref(), b"voice-bytes");
        }
        assert_eq!(
            app.provider.media_fetches(),
            1,
            "the second download is served from Kefu"
        );

        let resp = download(&app, &urls[2]).await;
        assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
        let e: Value = resp.json().await.expect("json");
        assert_eq!(e["code"], "file_unavailable", "{e}");
        assert!(
            e["detail"].as_str().unwrap_or_default().contains("EXPIRED"),
            "{e}"
        );

        // An agent may pass a customer's file on within its inbox, not into another inbox.
        let pdf = atts[0]["id"].clone();
        let (s, fwd) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/messages"),
                Some(json!({"text": "your receipt back", "attachments": [pdf]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{fwd}");
        let other_inbox = app.loopback_inbox(json!({})).await;
        let (s, a) = app
            .inbound(other_inbox, &msg("in-other", "cust-9", "hi"))
            .await;
        assert_eq!(s, StatusCode::OK, "{a}");
        let other = a["conversation_id"].as_i64().expect("conversation");
        let (s, e) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{other}/messages"),
                Some(json!({"text": "look", "attachments": [pdf]})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(
            e["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("another inbox"),
            "{e}"
        );

        // The provider retrying the same message stores no second set of files.
        let files_before = attachment::Entity::find()
            .count(app.state.db.conn())
            .await
            .expect("count");
        let (s, again) = app.inbound(inbox, &message).await;
        assert_eq!(s, StatusCode::OK, "{again}");
        assert_eq!(again["duplicate"], true, "{again}");
        let files_after = attachment::Entity::find()
            .count(app.state.db.conn())
            .await
            .expect("count");
        assert_eq!(files_before, files_after);
        app.stop().await;
    }
}

#[tokio::test]
async fn an_agents_upload_is_attached_only_by_its_uploader() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let conv = conversation(&app, inbox, "dana").await;
        let (bea_id, bea) = app.agent("bea@example.com", "agent", json!({})).await;
        app.join(inbox, bea_id).await;
        let (s, file) = upload_as(&app, &bea, "plan.png", "image/png", png()).await;
        assert_eq!(s, StatusCode::CREATED, "{file}");

        // Someone else (even an admin) attaching Bea's unsent upload gets the answer a missing
        // file gets, so upload ids cannot be probed; nothing is stored.
        let (s, e) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/messages"),
                Some(json!({"text": "taking this", "attachments": [file["id"]]})),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
        assert_eq!(e["code"], "not_found", "{e}");
        let texts: Vec<Value> = app
            .messages(conv)
            .await
            .iter()
            .map(|m| m["content"]["text"].clone())
            .collect();
        assert_eq!(
            texts,
            [json!("Hello")],
            "only the customer's message is stored"
        );

        // Bea attaches her own upload.
        let (s, m) = app
            .call(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/messages"),
                Some(&bea),
                Some(json!({"text": "here it is", "attachments": [file["id"]]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        assert_eq!(m["content"]["attachments"][0]["name"], "plan.png", "{m}");
        app.stop().await;
    }
}
