//! Visitors' files from the widget: `POST /channels/web_chat/attachments` with the widget
//! session stores the file like an agent's upload and answers a ticket; a `message` frame
//! carrying the ticket reaches the agent with the file. Bad uploads (too big, no session, a
//! session of another inbox or a forged one, too many) and forged tickets get clear errors.

use kefu_tests::ws::{Ws, connect, next_where, send};
use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode, multipart};
use serde_json::{Value, json};

/// A small PNG: signature and some bytes; the bytes are what matters.
fn png(len: usize) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend((0..len as u32).map(|i| (i * 7 % 251) as u8));
    b
}

async fn web_chat_inbox(app: &TestApp, name: &str) -> (i64, String) {
    let (s, inbox) = app
        .admin(
            Method::POST,
            "/api/v1/inboxes",
            Some(json!({"name": name, "channel": {"type": "web_chat"}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{inbox}");
    (
        inbox["id"].as_i64().expect("id"),
        inbox["website_token"].as_str().expect("token").to_owned(),
    )
}

/// A widget tab of `token` and its session.
async fn tab(app: &TestApp, token: &str) -> (Ws, String) {
    let mut ws = connect(&app.base, "/ws/web_chat").await;
    send(&mut ws, json!({"type": "hello", "website_token": token})).await;
    let welcome = next_where(&mut ws, "welcome", |v| v["type"] == "welcome").await;
    let session = welcome["session"].as_str().expect("session").to_owned();
    (ws, session)
}

/// Uploads `data` as the visitor; `None` leaves that form field out.
async fn upload(
    app: &TestApp,
    token: Option<&str>,
    session: Option<&str>,
    name: &str,
    data: Vec<u8>,
) -> (StatusCode, Value, Option<String>) {
    let mut form = multipart::Form::new();
    if let Some(t) = token {
        form = form.text("website_token", t.to_owned());
    }
    if let Some(s) = session {
        form = form.text("session", s.to_owned());
    }
    let part = multipart::Part::bytes(data)
        .file_name(name.to_owned())
        .mime_str("image/png")
        .expect("mime");
    let resp = app
        .client
        .post(format!("{}/channels/web_chat/attachments", app.base))
        .header("origin", "https://shop.example.com")
        .multipart(form.part("file", part))
        .send()
        .await
        .expect("upload request");
    let status = resp.status();
    let cors = resp
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().expect("ascii").to_owned());
    (status, resp.json().await.unwrap_or(Value::Null), cors)
}

#[tokio::test]
async fn a_visitors_file_reaches_the_agent_and_bad_uploads_are_refused() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| c.max_upload_bytes = 4096).await;
        let (_, token) = web_chat_inbox(&app, "Shop").await;
        let (_, other_token) = web_chat_inbox(&app, "Other shop").await;
        let (mut ws, session) = tab(&app, &token).await;

        // A good file: stored, with a ticket; the page's origin may read the answer.
        let bytes = png(2000);
        let (s, file, cors) = upload(
            &app,
            Some(&token),
            Some(&session),
            "photo.png",
            bytes.clone(),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{file}");
        assert_eq!(cors.as_deref(), Some("https://shop.example.com"));
        assert_eq!(file["name"], "photo.png");
        assert_eq!(file["mime"], "image/png");
        assert_eq!(file["size"], bytes.len());
        let ticket = file["ticket"].as_str().expect("ticket").to_owned();

        // Sent with a message: the agent sees the file and downloads exactly its bytes.
        send(
            &mut ws,
            json!({"type": "message", "client_id": "f1", "text": "", "attachments": [ticket]}),
        )
        .await;
        let ack = next_where(&mut ws, "ack", |v| {
            v["type"] == "ack" || v["type"] == "error"
        })
        .await;
        assert_eq!(ack["type"], "ack", "{ack}");
        let conversation = ack["conversation_id"].as_i64().expect("conversation");
        let (s, page) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{conversation}/messages"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{page}");
        let att = &page["items"][0]["content"]["attachments"][0];
        assert_eq!(att["name"], "photo.png", "{page}");
        assert_eq!(att["mime"], "image/png");
        assert_eq!(att["url"], file["url"]);
        let got = app
            .client
            .get(format!("{}{}", app.base, att["url"].as_str().expect("url")))
            .send()
            .await
            .expect("download");
        assert_eq!(got.status(), StatusCode::OK);
        assert_eq!(got.bytes().await.expect("bytes").to_vec(), bytes);

        // Too big: 413, said so, and readable by the page.
        let (s, e, cors) = upload(&app, Some(&token), Some(&session), "big.png", png(5000)).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
        assert_eq!(e["code"], "file_too_large");
        assert!(
            e["detail"].as_str().expect("detail").contains("4096"),
            "{e}"
        );
        assert!(cors.is_some(), "the widget can read why");

        // No session, a session of another inbox, a forged session, an unknown website.
        let (s, e, _) = upload(&app, Some(&token), None, "a.png", png(10)).await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("session_required")),
            "{e}"
        );
        let (_, other_session) = tab(&app, &other_token).await;
        let (s, e, _) = upload(&app, Some(&token), Some(&other_session), "a.png", png(10)).await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_session")),
            "{e}"
        );
        let forged = format!("{}x", &session[..session.len() - 1]);
        let (s, e, _) = upload(&app, Some(&token), Some(&forged), "a.png", png(10)).await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_session")),
            "{e}"
        );
        let (s, e, _) = upload(&app, Some("nope"), Some(&session), "a.png", png(10)).await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("unknown_website")),
            "{e}"
        );
        let (s, e, _) = upload(&app, None, None, "a.png", png(10)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

        // A ticket is good only for the visitor it was issued to, and cannot be edited.
        let (mut other_tab, other_visitor) = tab(&app, &token).await;
        let (s, theirs, _) = upload(
            &app,
            Some(&token),
            Some(&other_visitor),
            "theirs.png",
            png(10),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{theirs}");
        send(
            &mut ws,
            json!({"type": "message", "client_id": "f2", "attachments": [theirs["ticket"]]}),
        )
        .await;
        let e = next_where(&mut ws, "error", |v| v["type"] == "error").await;
        assert_eq!(e["code"], "invalid_attachment", "{e}");
        assert_eq!(e["client_id"], "f2");
        send(
            &mut other_tab,
            json!({"type": "message", "client_id": "f3", "attachments": ["bm90IGEgdGlja2V0.c2ln"]}),
        )
        .await;
        let e = next_where(&mut other_tab, "error", |v| v["type"] == "error").await;
        assert_eq!(e["code"], "invalid_attachment", "{e}");

        // One session's budget: a burst of uploads, then 429 for it and not for another.
        let mut refused = None;
        for n in 0..20 {
            let (s, e, _) = upload(&app, Some(&token), Some(&session), "n.png", png(10)).await;
            if s != StatusCode::CREATED {
                refused = Some((n, s, e));
                break;
            }
        }
        let (n, s, e) = refused.expect("the session is refused at some point");
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::TOO_MANY_REQUESTS, Some("too_many_uploads")),
            "{e}"
        );
        assert!(n >= 5, "a burst is allowed first ({n})");
        let (s, _, _) = upload(&app, Some(&token), Some(&other_visitor), "b.png", png(10)).await;
        assert_eq!(s, StatusCode::CREATED, "another visitor still may");
        app.stop().await;
    }
}
