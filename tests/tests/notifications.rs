//! The bell over HTTP on every backend: a private note mentioning an agent and a team tells
//! each of them once (never the author), a note posted again with its `client_id` tells
//! nobody twice, an assignment tells the agent it went to (but not one who assigns themselves), and reading — one notification, all,
//! or by opening the conversation — clears the unread count. Wrong mentions are refused
//! before the note is stored.

mod routing_support;

use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use routing_support::*;
use serde_json::{Value, json};

/// The notifications `token` sees (`query` e.g. `?unread=true`).
async fn bell(app: &TestApp, token: &str, query: &str) -> Value {
    let (s, b) = app
        .call(
            Method::GET,
            &format!("/api/v1/notifications{query}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b
}

fn kinds(page: &Value) -> Vec<(String, i64)> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| {
            (
                n["kind"].as_str().unwrap_or_default().to_owned(),
                n["conversation_id"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

/// Posts a note as `token`; returns `(status, body)`.
async fn note(app: &TestApp, token: &str, conv: i64, body: Value) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(token),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn mentions_and_handovers_reach_the_bell_once_and_reading_clears_it() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (li, li_token) = app.agent("li@x.io", "agent", json!({})).await;
        let (wang, wang_token) = app.agent("wang@x.io", "agent", json!({})).await;
        let (zhao, zhao_token) = app.agent("zhao@x.io", "agent", json!({})).await;
        for a in [li, wang, zhao] {
            app.join(inbox, a).await;
        }
        let (s, team) = app
            .admin(
                Method::POST,
                "/api/v1/teams",
                Some(json!({"name": "Billing"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{team}");
        let team = team["id"].as_i64().expect("team id");
        let (s, b) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/teams/{team}/members"),
                Some(json!({"agent_ids": [li, zhao]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let conv = write_in(&app, inbox, "m1", "u1", "我想申请退款").await;

        // Li mentions Wang and the Billing team (Li and Zhao): Wang and Zhao are told; Li,
        // the author, is not, though a member.
        let body = json!({"text": "@Wang @Billing can you check the refund?", "private": true,
            "client_id": "note-1", "mentions": {"agent_ids": [wang], "team_ids": [team]}});
        let (s, first) = note(&app, &li_token, conv, body.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{first}");
        let w = bell(&app, &wang_token, "").await;
        assert_eq!(kinds(&w), [("mention".into(), conv)], "{w}");
        assert_eq!(w["unread_count"], 1, "{w}");
        let n = &w["items"][0];
        assert_eq!(n["actor"]["id"], li, "{n}");
        assert_eq!(n["message_id"], first["id"], "{n}");
        assert_eq!(
            n["preview"], "@Wang @Billing can you check the refund?",
            "{n}"
        );
        assert_eq!(n["read_at"], Value::Null, "{n}");
        assert_eq!(kinds(&bell(&app, &zhao_token, "").await).len(), 1);
        assert_eq!(kinds(&bell(&app, &li_token, "").await), []);

        // Posted again (a retry): the same note, and nobody is told twice.
        let (s, again) = note(&app, &li_token, conv, body).await;
        assert_eq!((s, &again["id"]), (StatusCode::OK, &first["id"]), "{again}");
        assert_eq!(bell(&app, &wang_token, "").await["unread_count"], 1);

        // Wrong mentions store nothing.
        let before = app.messages(conv).await.len();
        for (bad, says) in [
            (
                json!({"text": "hi", "private": false, "mentions": {"agent_ids": [wang]}}),
                "only for private notes",
            ),
            (
                json!({"text": "hi", "private": true, "mentions": {"agent_ids": [987654]}}),
                "agent 987654 does not exist",
            ),
            (
                json!({"text": "hi", "private": true, "mentions": {"team_ids": [987654]}}),
                "team 987654 does not exist",
            ),
            (
                json!({"text": "hi", "private": true, "mentions": {"agents": [wang]}}),
                "unknown field",
            ),
        ] {
            let (s, b) = note(&app, &li_token, conv, bad).await;
            assert!(s.is_client_error(), "{s} {b}");
            assert!(
                b["detail"].as_str().unwrap_or_default().contains(says),
                "{says}: {b}"
            );
        }
        assert_eq!(app.messages(conv).await.len(), before, "nothing stored");

        // The admin assigns the conversation to Wang: Wang is told; a second conversation the
        // admin assigns to himself tells nobody.
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/assign"),
                Some(json!({"agent_id": wang})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let w = bell(&app, &wang_token, "?unread=true").await;
        assert_eq!(
            kinds(&w),
            [("assignment".into(), conv), ("mention".into(), conv)],
            "newest first: {w}"
        );
        assert_eq!(w["unread_count"], 2);
        let other = write_in(&app, inbox, "m2", "u2", "hello").await;
        let (s, admin) = app.admin(Method::GET, "/api/v1/profile", None).await;
        assert_eq!(s, StatusCode::OK, "{admin}");
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{other}/assign"),
                Some(json!({"agent_id": admin["id"]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, mine) = app.admin(Method::GET, "/api/v1/notifications", None).await;
        assert_eq!(
            (s, &mine["unread_count"]),
            (StatusCode::OK, &json!(0)),
            "taking a conversation oneself tells nobody: {mine}"
        );

        // Reading one, then opening the conversation, clears Wang's bell; Zhao's stays.
        let newest = w["items"][0]["id"].as_i64().expect("id");
        let (s, r) = app
            .call(
                Method::POST,
                "/api/v1/notifications/read",
                Some(&wang_token),
                Some(json!({"ids": [newest]})),
            )
            .await;
        assert_eq!(
            (s, &r["updated"], &r["unread_count"]),
            (StatusCode::OK, &json!(1), &json!(1)),
            "{r}"
        );
        let (s, b) = app
            .call(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/read"),
                Some(&wang_token),
                Some(json!({"seq": 1_000_000})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let w = bell(&app, &wang_token, "").await;
        assert_eq!(w["unread_count"], 0, "{w}");
        assert_eq!(kinds(&w).len(), 2, "read ones stay listed: {w}");
        assert!(w["items"][0]["read_at"].is_string(), "{w}");
        assert_eq!(
            bell(&app, &wang_token, "?unread=true").await["items"],
            json!([])
        );
        assert_eq!(bell(&app, &zhao_token, "").await["unread_count"], 1);

        // Zhao cannot mark Wang's as read, and marks all of his own.
        let (s, r) = app
            .call(
                Method::POST,
                "/api/v1/notifications/read",
                Some(&zhao_token),
                Some(json!({"all": true})),
            )
            .await;
        assert_eq!((s, &r["unread_count"]), (StatusCode::OK, &json!(0)), "{r}");
        let (s, r) = app
            .call(
                Method::POST,
                "/api/v1/notifications/read",
                Some(&zhao_token),
                Some(json!({"ids": [1], "all": true})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_bell_pages_newest_first() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (li, li_token) = app.agent("li@x.io", "agent", json!({})).await;
        let (wang, wang_token) = app.agent("wang@x.io", "agent", json!({})).await;
        for a in [li, wang] {
            app.join(inbox, a).await;
        }
        let conv = write_in(&app, inbox, "m1", "u1", "hello").await;
        for i in 0..5 {
            let (s, b) = note(
                &app,
                &li_token,
                conv,
                json!({"text": format!("note {i}"), "private": true,
                    "mentions": {"agent_ids": [wang]}}),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
        }
        let first = bell(&app, &wang_token, "?limit=2").await;
        let previews = |p: &Value| -> Vec<String> {
            p["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| n["preview"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        assert_eq!(previews(&first), ["note 4", "note 3"], "{first}");
        assert_eq!(first["unread_count"], 5);
        let before = first["next_before"].as_i64().expect("a next page");
        let rest = bell(&app, &wang_token, &format!("?limit=10&before={before}")).await;
        assert_eq!(previews(&rest), ["note 2", "note 1", "note 0"], "{rest}");
        assert_eq!(rest["next_before"], Value::Null);
        let (s, b) = app
            .call(
                Method::GET,
                "/api/v1/notifications?limit=0",
                Some(&wang_token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        app.stop().await;
    }
}

#[tokio::test]
async fn only_agents_who_can_open_the_conversation_are_told() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (li, li_token) = app.agent("li@x.io", "agent", json!({})).await;
        let (wang, wang_token) = app.agent("wang@x.io", "agent", json!({})).await;
        // Qian is in the team but not in the inbox: the conversation is not hers to open.
        let (qian, qian_token) = app.agent("qian@x.io", "agent", json!({})).await;
        for a in [li, wang] {
            app.join(inbox, a).await;
        }
        let (s, team) = app
            .admin(
                Method::POST,
                "/api/v1/teams",
                Some(json!({"name": "Billing"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{team}");
        let team = team["id"].as_i64().expect("team id");
        let (s, b) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/teams/{team}/members"),
                Some(json!({"agent_ids": [wang, qian]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let conv = write_in(&app, inbox, "m1", "u1", "退款").await;

        // Naming her is refused with the reason, and stores nothing.
        let before = app.messages(conv).await.len();
        let (s, b) = note(
            &app,
            &li_token,
            conv,
            json!({"text": "@Qian?", "private": true,
            "mentions": {"agent_ids": [qian]}}),
        )
        .await;
        assert_eq!(
            (s, b["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("mentions.agent_ids")),
            "{b}"
        );
        assert!(
            b["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("cannot see this conversation"),
            "{b}"
        );
        assert_eq!(app.messages(conv).await.len(), before);

        // Her team mentioned, the members who can open it are told, she is not.
        let (s, b) = note(
            &app,
            &li_token,
            conv,
            json!({"text": "@Billing", "private": true,
            "client_id": "n-1", "mentions": {"team_ids": [team]}}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(
            kinds(&bell(&app, &wang_token, "").await),
            [("mention".into(), conv)]
        );
        assert_eq!(kinds(&bell(&app, &qian_token, "").await), []);

        // The note's picker offers exactly those who can open it: the admin, Li and Wang.
        let mentionable = |token: String| {
            let app = &app;
            async move {
                let resp = app
                    .client
                    .get(format!(
                        "{}/api/v1/conversations/{conv}/mentionable",
                        app.base
                    ))
                    .bearer_auth(token)
                    .send()
                    .await
                    .expect("request");
                let status = resp.status();
                (status, resp.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let (s, b) = mentionable(li_token.clone()).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["agent_ids"], json!([1, li, wang]), "{b}");
        // Assigned to Wang in an inbox whose agents do not see others' conversations, only the
        // admin and Wang can open it (Qian cannot even ask).
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/assign"),
                Some(json!({"agent_id": wang})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, b) = mentionable(wang_token.clone()).await;
        assert_eq!(
            (s, &b["agent_ids"]),
            (StatusCode::OK, &json!([1, wang])),
            "{b}"
        );
        let (s, _) = mentionable(qian_token.clone()).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        app.stop().await;
    }
}
