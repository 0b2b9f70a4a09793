//! Console administration of accounts (issue 16) over HTTP, on every backend: profile and
//! preferences, invites, deactivation, agents' teams, team CRUD, and API token scopes, expiry
//! and revocation.

use std::time::Duration;

use futures::StreamExt;
use kefu_tests::{TestApp, backends, eventually, msg};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn invite_token(agent: &Value) -> String {
    let url = agent["invite_url"].as_str().expect("an invite_url");
    url.rsplit_once("/console/#/invite/")
        .map(|(_, t)| t.to_owned())
        .unwrap_or_else(|| panic!("{url} is a console invite link"))
}

#[tokio::test]
async fn profile_language_and_notifications() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (s, p) = app.admin(Method::GET, "/api/v1/profile", None).await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {p}");
        assert_eq!(p["email"], "admin@example.com");
        assert_eq!(p["language"], "en");
        assert_eq!(
            p["notifications"],
            json!({"sound": true, "desktop": false, "new_assignment": true, "new_message": true, "mention": true})
        );

        let (s, p) = app
            .admin(
                Method::PATCH,
                "/api/v1/profile",
                Some(json!({"name": "Boss", "language": "zh-CN", "notifications": {"desktop": true, "sound": false}})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{p}");
        assert_eq!(
            (p["name"].as_str(), p["language"].as_str()),
            (Some("Boss"), Some("zh-CN"))
        );
        assert_eq!(
            p["notifications"],
            json!({"sound": false, "desktop": true, "new_assignment": true, "new_message": true, "mention": true})
        );
        let (_, again) = app.admin(Method::GET, "/api/v1/profile", None).await;
        assert_eq!(again, p, "changes are stored");

        for (body, field) in [
            (json!({"language": "fr"}), "language"),
            (json!({"name": ""}), "name"),
        ] {
            let (s, b) = app
                .admin(Method::PATCH, "/api/v1/profile", Some(body.clone()))
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {b}");
            assert_eq!(b["field"], field, "{b}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn an_invite_link_sets_a_password_once_and_signs_in() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (s, carl) = app
            .admin(
                Method::POST,
                "/api/v1/agents",
                Some(json!({"email": "carl@example.com", "name": "Carl", "role": "agent", "skills": {"billing": 4}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{backend:?}: {carl}");
        assert_eq!(carl["invite_pending"], true);
        let public = format!("{}/console/#/invite/", app.state.config.public_url());
        assert!(
            carl["invite_url"]
                .as_str()
                .unwrap_or_default()
                .starts_with(&public),
            "{carl}"
        );
        assert!(carl["invite_expires_at"].is_string(), "{carl}");
        let id = carl["id"].as_i64().expect("id");
        let first = invite_token(&carl);
        assert_eq!(
            app.login("carl@example.com", "").await.0,
            StatusCode::UNAUTHORIZED,
            "no password signs an invited agent in"
        );

        // A new link replaces the old one.
        let (s, again) = app
            .admin(Method::POST, &format!("/api/v1/agents/{id}/invite"), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{again}");
        let token = invite_token(&again);
        assert_ne!(token, first);
        let (s, b) = app
            .call(Method::GET, &format!("/api/v1/invites/{first}"), None, None)
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("invite_not_found"))
        );

        let (s, who) = app
            .call(Method::GET, &format!("/api/v1/invites/{token}"), None, None)
            .await;
        assert_eq!(s, StatusCode::OK, "{who}");
        assert_eq!(who, json!({"email": "carl@example.com", "name": "Carl"}));

        let accept = format!("/api/v1/invites/{token}/accept");
        let (s, b) = app
            .call(
                Method::POST,
                &accept,
                None,
                Some(json!({"password": "short"})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(
            (b["code"].as_str(), b["field"].as_str()),
            (Some("weak_password"), Some("password"))
        );

        let (s, signed_in) = app
            .call(
                Method::POST,
                &accept,
                None,
                Some(json!({"password": "carls-password"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{signed_in}");
        assert_eq!(signed_in["agent"]["id"], id);
        assert_eq!(signed_in["agent"]["invite_pending"], false);
        let carl_token = signed_in["token"].as_str().expect("token");
        let (s, p) = app
            .call(Method::GET, "/api/v1/profile", Some(carl_token), None)
            .await;
        assert_eq!(
            (s, p["email"].as_str()),
            (StatusCode::OK, Some("carl@example.com"))
        );

        let (s, b) = app
            .call(
                Method::POST,
                &accept,
                None,
                Some(json!({"password": "another-password"})),
            )
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("invite_not_found")),
            "a link works once"
        );
        assert_eq!(
            app.login("carl@example.com", "carls-password").await.0,
            StatusCode::OK
        );
        assert_eq!(
            app.login("carl@example.com", "another-password").await.0,
            StatusCode::UNAUTHORIZED
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_deactivated_agent_is_locked_out_and_their_conversations_are_queued() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app
            .loopback_inbox(json!({"skills": {}, "priority": 0}))
            .await;
        let (dora, dora_token) = app.agent("dora@example.com", "agent", json!({})).await;
        let (_, tok) = app
            .call(
                Method::POST,
                "/api/v1/api-tokens",
                Some(&dora_token),
                Some(json!({"name": "script"})),
            )
            .await;
        let dora_api = tok["token"].as_str().expect("api token").to_owned();
        let url = format!(
            "{}/ws/agent?token={dora_token}",
            app.base.replace("http://", "ws://")
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("socket");

        let (s, _) = app.inbound(inbox, &msg("m-1", "cust-1", "hello")).await;
        assert!(s.is_success());
        let conv = app
            .until_event("the conversation", || async {
                app.conversations(inbox)
                    .await
                    .first()
                    .and_then(|c| c["id"].as_i64())
            })
            .await;
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/assign"),
                Some(json!({"agent_id": dora})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {b}");

        let (s, b) = app
            .admin(
                Method::PATCH,
                "/api/v1/agents/1",
                Some(json!({"active": false})),
            )
            .await;
        assert_eq!(
            s,
            StatusCode::CONFLICT,
            "admins cannot deactivate themselves: {b}"
        );

        let (s, v) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/agents/{dora}"),
                Some(json!({"active": false})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["active"], false);
        for token in [&dora_token, &dora_api] {
            let (s, _) = app
                .call(Method::GET, "/api/v1/agents", Some(token), None)
                .await;
            assert_eq!(
                s,
                StatusCode::UNAUTHORIZED,
                "sessions and API tokens stop working"
            );
        }
        let (s, b) = app.login("dora@example.com", "agent-password").await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("account_deactivated"))
        );

        let closed = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(Ok(m)) = ws.next().await {
                if m.is_close() {
                    break;
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "the agent's socket closes");

        let queued = eventually(Duration::from_secs(10), || async {
            let (_, c) = app
                .admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None)
                .await;
            (c["status"] == "queued" && c["assignee_id"].is_null()).then_some(())
        })
        .await;
        assert!(
            queued.is_some(),
            "the open conversation goes back to the queue"
        );

        let (s, v) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/agents/{dora}"),
                Some(json!({"active": true})),
            )
            .await;
        assert_eq!((s, v["active"].as_bool()), (StatusCode::OK, Some(true)));
        assert_eq!(
            app.login("dora@example.com", "agent-password").await.0,
            StatusCode::OK
        );
        let (s, _) = app
            .call(Method::GET, "/api/v1/agents", Some(&dora_token), None)
            .await;
        assert_eq!(
            s,
            StatusCode::UNAUTHORIZED,
            "old sessions stay ended after reactivation"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn teams_and_agents_teams() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (s, t) = app
            .admin(
                Method::POST,
                "/api/v1/teams",
                Some(json!({"name": "Billing"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{backend:?}: {t}");
        let team = t["id"].as_i64().expect("id");
        let (s, e) = app
            .admin(
                Method::POST,
                "/api/v1/agents",
                Some(json!({"email": "eve@example.com", "name": "Eve", "password": "eve-password", "team_ids": [team]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
        assert_eq!(e["team_ids"], json!([team]));
        assert!(
            e.get("invite_url").is_none(),
            "no invite when a password is given"
        );
        let eve = e["id"].as_i64().expect("id");
        let (_, t) = app
            .admin(Method::GET, &format!("/api/v1/teams/{team}"), None)
            .await;
        assert_eq!(t["member_ids"], json!([eve]));

        let (s, b) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/agents/{eve}"),
                Some(json!({"team_ids": [team, 999]})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["field"], "team_ids");
        let (s, b) = app
            .admin(
                Method::POST,
                "/api/v1/agents",
                Some(json!({"email": "fay@example.com", "name": "Fay", "team_ids": [999]})),
            )
            .await;
        assert_eq!(
            (s, b["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("team_ids"))
        );
        let (s, _) = app.admin(Method::GET, "/api/v1/agents", None).await;
        assert_eq!(s, StatusCode::OK);
        let (_, list) = app.admin(Method::GET, "/api/v1/agents", None).await;
        assert!(
            !list["items"]
                .as_array()
                .expect("items")
                .iter()
                .any(|a| a["email"] == "fay@example.com"),
            "a refused agent is not created"
        );

        let (s, e) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/agents/{eve}"),
                Some(json!({"team_ids": []})),
            )
            .await;
        assert_eq!((s, e["team_ids"].clone()), (StatusCode::OK, json!([])));

        let (_, other) = app
            .admin(
                Method::POST,
                "/api/v1/teams",
                Some(json!({"name": "Sales"})),
            )
            .await;
        let (s, b) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/teams/{}", other["id"]),
                Some(json!({"name": "Billing"})),
            )
            .await;
        assert_eq!(
            (s, b["field"].as_str()),
            (StatusCode::CONFLICT, Some("name"))
        );
        let (s, t) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/teams/{team}"),
                Some(json!({"name": "Payments"})),
            )
            .await;
        assert_eq!((s, t["name"].as_str()), (StatusCode::OK, Some("Payments")));
        let (s, _) = app
            .admin(Method::DELETE, &format!("/api/v1/teams/{team}"), None)
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, b) = app
            .admin(Method::GET, &format!("/api/v1/teams/{team}"), None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
        let (_, list) = app.admin(Method::GET, "/api/v1/teams", None).await;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
        app.stop().await;
    }
}

#[tokio::test]
async fn api_token_scopes_expiry_and_revocation() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let create = |body: Value| app.admin(Method::POST, "/api/v1/api-tokens", Some(body));
        let (s, read) = create(json!({"name": "reader", "scopes": ["read"]})).await;
        assert_eq!(s, StatusCode::CREATED, "{backend:?}: {read}");
        assert_eq!(read["scopes"], json!(["read"]));
        let read = read["token"].as_str().expect("token").to_owned();
        let (_, convs) = create(json!({"name": "bot", "scopes": ["conversations"]})).await;
        let convs = convs["token"].as_str().expect("token").to_owned();

        let app_ref = &app;
        let call = |token: &str, method: Method, path: &str, body: Option<Value>| {
            let token = token.to_owned();
            let path = path.to_owned();
            async move { app_ref.call(method, &path, Some(&token), body).await }
        };
        assert_eq!(
            call(&read, Method::GET, "/api/v1/agents", None).await.0,
            StatusCode::OK
        );
        let (s, b) = call(
            &read,
            Method::POST,
            "/api/v1/teams",
            Some(json!({"name": "X"})),
        )
        .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("insufficient_scope")),
            "{b}"
        );
        assert_eq!(
            call(&convs, Method::GET, "/api/v1/conversations", None)
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(
            call(&convs, Method::GET, "/api/v1/agents", None).await.0,
            StatusCode::FORBIDDEN
        );

        for (body, field) in [
            (
                json!({"name": "x", "scopes": ["read", "root"]}),
                "scopes[1]",
            ),
            (json!({"name": "x", "scopes": []}), "scopes"),
            (
                json!({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}),
                "expires_at",
            ),
            (json!({"name": ""}), "name"),
        ] {
            let (s, b) = create(body.clone()).await;
            assert_eq!(
                (s, b["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
                "{body} → {b}"
            );
        }

        // Expiry: works until `expires_at`, then refused.
        let soon = chrono::Utc::now() + chrono::TimeDelta::seconds(3);
        let (s, short) = create(json!({"name": "short", "expires_at": soon})).await;
        assert_eq!(s, StatusCode::CREATED, "{short}");
        let short = short["token"].as_str().expect("token").to_owned();
        assert_eq!(
            call(&short, Method::GET, "/api/v1/agents", None).await.0,
            StatusCode::OK
        );
        let expired = eventually(Duration::from_secs(10), || async {
            (call(&short, Method::GET, "/api/v1/agents", None).await.0 == StatusCode::UNAUTHORIZED)
                .then_some(())
        })
        .await;
        assert!(expired.is_some(), "an expired token is refused");

        // Last use is shown; admins see and revoke everyone's tokens.
        let (_, gil_token) = app.agent("gil@example.com", "agent", json!({})).await;
        let (_, mine) = call(
            &gil_token,
            Method::POST,
            "/api/v1/api-tokens",
            Some(json!({"name": "gil's"})),
        )
        .await;
        let gil_api = mine["token"].as_str().expect("token").to_owned();
        assert_eq!(
            call(&gil_api, Method::GET, "/api/v1/profile", None).await.0,
            StatusCode::OK
        );
        let (s, own) = call(&gil_token, Method::GET, "/api/v1/api-tokens", None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(own["items"].as_array().map(Vec::len), Some(1), "{own}");
        assert!(own["items"][0]["last_used_at"].is_string(), "{own}");
        assert_eq!(
            call(&gil_token, Method::GET, "/api/v1/api-tokens?all=true", None)
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        let (_, all) = app
            .admin(Method::GET, "/api/v1/api-tokens?all=true", None)
            .await;
        assert!(
            all["items"]
                .as_array()
                .expect("items")
                .iter()
                .any(|t| t["id"] == mine["id"]),
            "{all}"
        );
        let (s, _) = call(&gil_token, Method::DELETE, "/api/v1/api-tokens/1", None).await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "agents cannot revoke others' tokens"
        );
        let (s, _) = app
            .admin(
                Method::DELETE,
                &format!("/api/v1/api-tokens/{}", mine["id"]),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_eq!(
            call(&gil_api, Method::GET, "/api/v1/profile", None).await.0,
            StatusCode::UNAUTHORIZED
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn the_account_endpoints_are_in_the_openapi_document() {
    let app = TestApp::spawn(&kefu_tests::Backend::Sqlite).await;
    let (s, doc) = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    for (path, method) in [
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/profile", "get"),
        ("/api/v1/profile", "patch"),
        ("/api/v1/profile/password", "post"),
        ("/api/v1/invites/{token}", "get"),
        ("/api/v1/invites/{token}/accept", "post"),
        ("/api/v1/agents/{id}/invite", "post"),
        ("/api/v1/teams/{id}", "patch"),
        ("/api/v1/teams/{id}", "delete"),
        ("/api/v1/api-tokens", "get"),
    ] {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is documented");
        if path.contains('{') {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            assert!(
                params.iter().any(|p| p["in"] == "path"),
                "{method} {path} declares its path parameter"
            );
        }
    }
    app.stop().await;
}

/// Uploads `data` as `token` with `mime`; returns the file id.
async fn upload_file(app: &TestApp, token: &str, mime: &str, data: &[u8]) -> i64 {
    let part = reqwest::multipart::Part::bytes(data.to_vec())
        .file_name("picture")
        .mime_str(mime)
        .expect("mime");
    let resp = app
        .client
        .post(format!("{}/api/v1/attachments", app.base))
        .bearer_auth(token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("upload request");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Value = resp.json().await.expect("JSON");
    body["id"].as_i64().expect("id")
}

#[tokio::test]
async fn an_agent_sets_and_removes_their_picture() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (bob, bob_token) = app.agent("bob@example.com", "agent", json!({})).await;
        let png = upload_file(&app, &bob_token, "image/png", b"\x89PNG\r\n\x1a\n").await;
        let text = upload_file(&app, &bob_token, "text/plain", b"hello").await;
        let admins = upload_file(&app, &app.admin_token, "image/png", b"\x89PNG").await;
        let put = |id: i64| json!({"attachment_id": id});
        for (id, why) in [
            (text, "not an image"),
            (admins, "another agent's upload"),
            (999_999, "no such file"),
        ] {
            let (s, e) = app
                .call(
                    Method::PUT,
                    "/api/v1/profile/avatar",
                    Some(&bob_token),
                    Some(put(id)),
                )
                .await;
            assert_eq!(
                (s, e["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("attachment_id")),
                "{why}: {e}"
            );
        }
        let (s, p) = app
            .call(
                Method::PUT,
                "/api/v1/profile/avatar",
                Some(&bob_token),
                Some(put(png)),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{p}");
        let url = p["avatar_url"].as_str().expect("avatar_url").to_owned();
        assert!(url.starts_with(&format!("/files/{png}/")), "{url}");
        // Colleagues see it in the agent list.
        let (_, list) = app.admin(Method::GET, "/api/v1/agents", None).await;
        let listed = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|a| a["id"] == bob)
            .cloned();
        assert_eq!(listed.map(|a| a["avatar_url"].clone()), Some(json!(url)));
        let (s, p) = app
            .call(
                Method::DELETE,
                "/api/v1/profile/avatar",
                Some(&bob_token),
                None,
            )
            .await;
        assert_eq!((s, &p["avatar_url"]), (StatusCode::OK, &Value::Null), "{p}");
        app.stop().await;
    }
}
