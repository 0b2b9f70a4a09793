//! Server-side sessions (issue 17.3) over HTTP, on every backend: logout ends the token at
//! once, a password change needs the current password and ends the other sessions, login
//! throttling answers 429 with Retry-After, `kefu admin reset-password` ends sessions, and the
//! agent socket closes when its session ends.

use std::time::Duration;

use futures::StreamExt;
use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

async fn session(app: &TestApp, email: &str, password: &str) -> String {
    let (s, b) = app.login(email, password).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["token"].as_str().expect("token").to_owned()
}

async fn status_with(app: &TestApp, token: &str) -> StatusCode {
    app.call(Method::GET, "/api/v1/profile", Some(token), None)
        .await
        .0
}

#[tokio::test]
async fn logout_ends_only_the_calling_session() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let first = session(&app, "admin@example.com", "admin-password").await;
        let second = session(&app, "admin@example.com", "admin-password").await;
        assert_eq!(status_with(&app, &first).await, StatusCode::OK);

        let (s, b) = app
            .call(Method::POST, "/api/v1/auth/logout", Some(&first), None)
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{backend:?}: {b}");
        let (s, b) = app
            .call(Method::GET, "/api/v1/profile", Some(&first), None)
            .await;
        assert_eq!(
            s,
            StatusCode::UNAUTHORIZED,
            "a logged-out token is refused: {b}"
        );
        assert_eq!(b["code"], "unauthorized");
        assert_eq!(
            status_with(&app, &second).await,
            StatusCode::OK,
            "other sessions go on"
        );

        // An API token is not a session: it is revoked, not logged out.
        let (_, tok) = app
            .admin(
                Method::POST,
                "/api/v1/api-tokens",
                Some(json!({"name": "ci"})),
            )
            .await;
        let secret = tok["token"].as_str().expect("token");
        let (s, b) = app
            .call(Method::POST, "/api/v1/auth/logout", Some(secret), None)
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("not_a_session"))
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_password_change_needs_the_current_password_and_ends_other_sessions() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        app.agent("ann@example.com", "agent", json!({})).await;
        let here = session(&app, "ann@example.com", "agent-password").await;
        let elsewhere = session(&app, "ann@example.com", "agent-password").await;
        let change =
            |current: &str, new: &str| json!({"current_password": current, "new_password": new});

        let (s, b) = app
            .call(
                Method::POST,
                "/api/v1/profile/password",
                Some(&here),
                Some(change("not-my-password", "a-new-password")),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{backend:?}: {b}");
        assert_eq!(
            (b["code"].as_str(), b["field"].as_str()),
            (Some("wrong_password"), Some("current_password"))
        );

        let (s, b) = app
            .call(
                Method::POST,
                "/api/v1/profile/password",
                Some(&here),
                Some(change("agent-password", "short")),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(
            (b["code"].as_str(), b["field"].as_str()),
            (Some("weak_password"), Some("new_password"))
        );
        assert_eq!(
            status_with(&app, &elsewhere).await,
            StatusCode::OK,
            "refused changes end nothing"
        );

        let (s, b) = app
            .call(
                Method::POST,
                "/api/v1/profile/password",
                Some(&here),
                Some(change("agent-password", "a-new-password")),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
        assert_eq!(
            status_with(&app, &here).await,
            StatusCode::OK,
            "the calling session stays"
        );
        assert_eq!(
            status_with(&app, &elsewhere).await,
            StatusCode::UNAUTHORIZED,
            "every other session ends"
        );
        assert_eq!(
            app.login("ann@example.com", "agent-password").await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.login("ann@example.com", "a-new-password").await.0,
            StatusCode::OK
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn thirty_wrong_passwords_lock_the_account_with_retry_after() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        app.agent("bob@example.com", "agent", json!({})).await;
        let (s, b) = app.login("bob@example.com", "wrong-password").await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_credentials")),
            "{backend:?}: the first failures are plain refusals"
        );
        for _ in 1..30 {
            app.login("bob@example.com", "wrong-password").await;
        }
        let resp = app
            .client
            .post(format!("{}/api/v1/auth/login", app.base))
            .json(&json!({"email": "bob@example.com", "password": "agent-password"}))
            .send()
            .await
            .expect("login request");
        assert_eq!(
            resp.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "the right password is refused while the account is locked"
        );
        let retry_after: u64 = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("a Retry-After header in seconds");
        assert!(retry_after >= 1, "{retry_after}");
        let b: Value = resp.json().await.expect("JSON error body");
        assert_eq!(b["code"], "too_many_attempts");
        assert!(
            b["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("try again"),
            "{b}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn reset_password_from_the_cli_ends_sessions() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let before = session(&app, "admin@example.com", "admin-password").await;
        // The function `kefu admin reset-password --email E` runs.
        let generated =
            kefu_gateway::auth::reset_password(&app.state.db, "Admin@Example.com", None)
                .await
                .expect("reset");
        assert!(generated.len() >= 8);
        assert_eq!(
            status_with(&app, &before).await,
            StatusCode::UNAUTHORIZED,
            "{backend:?}"
        );
        assert_eq!(
            app.login("admin@example.com", "admin-password").await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.login("admin@example.com", &generated).await.0,
            StatusCode::OK
        );

        kefu_gateway::auth::reset_password(
            &app.state.db,
            "admin@example.com",
            Some("chosen-password".into()),
        )
        .await
        .expect("reset with a given password");
        assert_eq!(
            app.login("admin@example.com", "chosen-password").await.0,
            StatusCode::OK
        );
        let err = kefu_gateway::auth::reset_password(&app.state.db, "nobody@example.com", None)
            .await
            .expect_err("unknown email");
        assert!(err.detail.contains("not found"), "{err:?}");
        app.stop().await;
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn agent_socket(app: &TestApp, token: &str) -> Ws {
    let url = format!(
        "{}/ws/agent?token={token}",
        app.base.replace("http://", "ws://")
    );
    tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket connects")
        .0
}

/// Reads until the server closes the socket; returns the error frames seen. Panics after 10 s.
async fn until_closed(ws: &mut Ws) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut errors = Vec::new();
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("the socket closes within 10 s");
        match next {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(t.as_str()).expect("JSON frame");
                if v["type"] == "error" {
                    errors.push(v);
                }
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return errors,
            Some(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn the_agent_socket_closes_when_its_session_ends() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let token = session(&app, "admin@example.com", "admin-password").await;
        let mut ws = agent_socket(&app, &token).await;
        let (s, _) = app
            .call(Method::POST, "/api/v1/auth/logout", Some(&token), None)
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let errors = until_closed(&mut ws).await;
        assert_eq!(
            errors.first().map(|e| e["code"].clone()),
            Some(json!("unauthorized")),
            "{backend:?}"
        );

        let url = format!(
            "{}/ws/agent?token={token}",
            app.base.replace("http://", "ws://")
        );
        assert!(
            tokio_tungstenite::connect_async(url).await.is_err(),
            "a logged-out token cannot open a socket"
        );
        app.stop().await;
    }
}
