//! Login, tokens, roles, agents and inboxes over HTTP, on every backend.

use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn login_tokens_and_roles() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (s, b) = app
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": "admin@example.com", "password": "wrong-password"})),
            )
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_credentials")),
            "{backend:?}"
        );

        let (s, b) = app.call(Method::GET, "/api/v1/agents", None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert!(
            b["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("Authorization"),
            "{b}"
        );
        let (s, _) = app
            .call(
                Method::GET,
                "/api/v1/agents",
                Some("kefu_s_1.99999999999.x.forged"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "a forged session is refused");

        // An API token acts as its agent until revoked.
        let (s, tok) = app
            .admin(
                Method::POST,
                "/api/v1/api-tokens",
                Some(json!({"name": "crm"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{tok}");
        let secret = tok["token"].as_str().expect("token shown once").to_owned();
        let (s, list) = app
            .call(Method::GET, "/api/v1/api-tokens", Some(&secret), None)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list["items"][0]["name"], "crm");
        assert!(
            list["items"][0].get("token").is_none(),
            "the secret is never listed"
        );
        let (s, _) = app
            .admin(
                Method::DELETE,
                &format!("/api/v1/api-tokens/{}", tok["id"]),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _) = app
            .call(Method::GET, "/api/v1/agents", Some(&secret), None)
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "a revoked token is refused");

        // Role checks.
        let (agent_id, agent_token) = app
            .agent("ann@example.com", "agent", json!({"billing": 5}))
            .await;
        let (s, b) = app
            .call(
                Method::POST,
                "/api/v1/agents",
                Some(&agent_token),
                Some(json!({"email": "x@example.com", "name": "X", "password": "12345678"})),
            )
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden"))
        );
        let (s, _) = app
            .call(
                Method::PUT,
                &format!("/api/v1/agents/{agent_id}/status"),
                Some(&agent_token),
                Some(json!({"status": "online"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "agents set their own status");
        let (s, _) = app
            .call(
                Method::PUT,
                "/api/v1/agents/1/status",
                Some(&agent_token),
                Some(json!({"status": "offline"})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "but not someone else's");

        // A password change ends existing sessions.
        let (s, _) = app
            .call(
                Method::PATCH,
                &format!("/api/v1/agents/{agent_id}"),
                Some(&agent_token),
                Some(json!({"password": "a-new-password"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = app
            .call(Method::GET, "/api/v1/agents", Some(&agent_token), None)
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        app.stop().await;
    }
}

#[tokio::test]
async fn agents_crud_and_validation() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let body = json!({"email": "Bob@Example.com", "name": "Bob", "password": "bob-password", "role": "supervisor",
            "max_concurrent": 3, "skills": {"billing": 7, "zh": 3}});
        let (s, bob) = app
            .admin(Method::POST, "/api/v1/agents", Some(body.clone()))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{bob}");
        assert_eq!(bob["email"], "bob@example.com");
        assert_eq!(bob["skills"], json!({"billing": 7, "zh": 3}));
        assert!(bob.get("password_hash").is_none() && bob.get("password").is_none());

        let (s, b) = app.admin(Method::POST, "/api/v1/agents", Some(body)).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::CONFLICT, Some("conflict")),
            "{b}"
        );

        let cases = [
            (
                json!({"email": "c@example.com", "name": "C", "password": "short"}),
                "password",
            ),
            (
                json!({"email": "not-an-email", "name": "C", "password": "12345678"}),
                "email",
            ),
            (
                json!({"email": "c@example.com", "name": "C", "password": "12345678", "skills": {"billing": 11}}),
                "levels are 1 to 10",
            ),
            (
                json!({"email": "c@example.com", "name": "C", "password": "12345678", "skills": {"Bad Skill": 1}}),
                "Bad Skill",
            ),
            (
                json!({"email": "c@example.com", "name": "C", "password": "12345678", "role": "root"}),
                "role",
            ),
            (
                json!({"email": "c@example.com", "name": "C", "password": "12345678", "max_concurrent": 0}),
                "max_concurrent",
            ),
            (
                json!({"email": "c@example.com", "name": "C", "password": "12345678", "colour": "red"}),
                "colour",
            ),
            (
                json!({"email": 5, "name": "C", "password": "12345678"}),
                "email",
            ),
        ];
        for (body, needle) in cases {
            let (s, b) = app
                .admin(Method::POST, "/api/v1/agents", Some(body.clone()))
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {b}");
            assert!(
                b["detail"].as_str().unwrap_or_default().contains(needle),
                "{body}: detail {b} should mention {needle}"
            );
        }

        let id = bob["id"].as_i64().expect("id");
        let (s, b) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/agents/{id}"),
                Some(json!({"skills": {"vip": 9}, "max_concurrent": 8})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            (b["skills"].clone(), b["max_concurrent"].as_i64()),
            (json!({"vip": 9}), Some(8))
        );
        let (s, b) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/agents/{id}/status"),
                Some(json!({"status": "busy"})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

        let (s, _) = app
            .admin(Method::DELETE, &format!("/api/v1/agents/{id}"), None)
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, b) = app
            .admin(Method::GET, &format!("/api/v1/agents/{id}"), None)
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );
        let (s, _) = app.admin(Method::DELETE, "/api/v1/agents/1", None).await;
        assert_eq!(s, StatusCode::CONFLICT, "admins cannot delete themselves");
        app.stop().await;
    }
}

#[tokio::test]
async fn inbox_secrets_are_write_only_and_kept_across_updates() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app
            .loopback_inbox(json!({"skills": {"billing": 3}, "priority": 5}))
            .await;
        let (s, b) = app
            .admin(Method::GET, &format!("/api/v1/inboxes/{inbox}"), None)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            b["channel"],
            json!({"type": "loopback"}),
            "secrets never come back: {b}"
        );
        assert_eq!(b["secrets_set"], json!(["secret"]));
        assert_eq!(
            b["routing"],
            json!({"skills": {"billing": 3}, "priority": 5})
        );
        assert!(
            b["callback_url"]
                .as_str()
                .unwrap_or_default()
                .ends_with(&format!("/channels/loopback/{inbox}")),
            "{b}"
        );

        // The secret is stored encrypted: not in the database in clear.
        use sea_orm::EntityTrait;
        let row = kefu_normalizer::entity::inbox::Entity::find_by_id(inbox)
            .one(app.state.db.conn())
            .await
            .expect("query")
            .expect("row");
        let stored = format!("{:?}", row);
        assert!(
            !stored.contains(kefu_tests::LOOPBACK_SECRET),
            "secret stored in clear: {stored}"
        );

        // A rename without the secret keeps the secret: ingress still authenticates.
        let (s, _) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/inboxes/{inbox}"),
                Some(json!({"name": "Renamed", "channel": {}})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, b) = app.inbound(inbox, &msg("m1", "u1", "hello")).await;
        assert_eq!(s, StatusCode::OK, "{b}");

        let bad = [
            (json!({"name": "X", "channel": {"type": "fax"}}), "unknown"),
            (
                json!({"name": "X", "channel": {"secret": "12345678"}}),
                "channel.type",
            ),
            (
                json!({"name": "X", "channel": {"type": "loopback", "secret": "short"}}),
                "secret",
            ),
            (
                json!({"name": "X", "channel": {"type": "loopback", "secret": "12345678"}, "routing": {"priority": 500}}),
                "priority",
            ),
            (
                json!({"name": "", "channel": {"type": "loopback", "secret": "12345678"}}),
                "name",
            ),
        ];
        for (body, needle) in bad {
            let (s, b) = app
                .admin(Method::POST, "/api/v1/inboxes", Some(body.clone()))
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {b}");
            assert!(
                b["detail"].as_str().unwrap_or_default().contains(needle),
                "{b} should mention {needle}"
            );
        }

        let (s, _) = app
            .admin(Method::DELETE, &format!("/api/v1/inboxes/{inbox}"), None)
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _) = app.inbound(inbox, &msg("m2", "u1", "after delete")).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "a deleted inbox takes no traffic");
        app.stop().await;
    }
}

#[tokio::test]
async fn operations_endpoints_and_openapi() {
    let app = TestApp::spawn(&backends()[0]).await;
    let r = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("healthz");
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(r.status(), StatusCode::OK);
    let (s, doc) = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    for path in [
        "/api/v1/auth/login",
        "/api/v1/conversations/{id}/messages",
        "/api/v1/inboxes/{id}",
        "/api/v1/contacts/{id}/merge",
    ] {
        assert!(doc["paths"].get(path).is_some(), "OpenAPI lacks {path}");
    }
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("kefu_http_requests_total"), "{metrics}");
    app.stop().await;
}
