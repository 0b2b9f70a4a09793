//! Sensitive words and personal data, on every backend: a customer's ID number is stored and
//! shown masked (a built-in rule), an agent's reply with a blocked word is refused naming the
//! word, a `route` word hands the conversation to the rule's team, a `flag` is recorded on the
//! message; and the admin API that manages the rules checks what it is given.

mod routing_support;

use kefu_normalizer::entity::message;
use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use routing_support::{assigned_to, conversation, online_agent, write_in};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

async fn add_rule(app: &TestApp, body: Value) -> Value {
    let (s, b) = app
        .admin(Method::POST, "/api/v1/sensitive-rules", Some(body))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b
}

#[tokio::test]
async fn an_id_number_is_stored_and_shown_masked() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let conv = write_in(
            &app,
            inbox,
            "m1",
            "u1",
            "我的身份证是 110101199003074514，卡 4111111111111111",
        )
        .await;
        let shown = app.messages(conv).await;
        let want = "我的身份证是 110***********4514，卡 411*********1111";
        assert_eq!(shown[0]["content"]["text"], want, "{}", shown[0]);
        let found = &shown[0]["content"]["extra"]["sensitive"];
        assert_eq!(found[0]["term"], "cn_id", "{found}");
        assert_eq!(found[0]["action"], "mask", "{found}");
        assert_eq!(found[1]["term"], "bank_card", "{found}");
        // Stored masked, in the text and in the full content: the number is nowhere.
        let row = message::Entity::find()
            .filter(message::Column::ConversationId.eq(conv))
            .one(app.state.db.conn())
            .await
            .expect("query")
            .expect("the message");
        assert_eq!(row.text, want);
        assert!(!row.content.to_string().contains("110101199003074514"));
        assert!(!row.content.to_string().contains("4111111111111111"));

        // A disabled detector rule turns the built-in mask off.
        add_rule(
            &app,
            json!({"name": "ids allowed", "detector": "cn_id", "action": "mask", "enabled": false}),
        )
        .await;
        write_in(&app, inbox, "m2", "u1", "再发一次 110101199003074514").await;
        let shown = app.messages(conv).await;
        assert_eq!(shown[1]["content"]["text"], "再发一次 110101199003074514");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_reply_with_a_blocked_word_is_refused() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        add_rule(
            &app,
            json!({"name": "off-platform contact", "words": ["微信", "WeChat"], "action": "block"}),
        )
        .await;
        let conv = write_in(&app, inbox, "m1", "u1", "你好").await;
        let path = format!("/api/v1/conversations/{conv}/messages");
        for text in ["加我微 信吧", "add me on ＷｅＣｈａｔ"] {
            let (s, b) = app
                .admin(Method::POST, &path, Some(json!({"text": text})))
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
            assert_eq!(b["code"], "blocked_content", "{b}");
            assert_eq!(b["field"], "text", "{b}");
            let detail = b["detail"].as_str().unwrap_or_default();
            assert!(detail.contains("off-platform contact"), "{detail}");
        }
        let (_, b) = app
            .admin(Method::POST, &path, Some(json!({"text": "加我微信吧"})))
            .await;
        assert!(
            b["detail"].as_str().unwrap_or_default().contains("微信"),
            "{b}"
        );
        // Nothing was stored; a clean reply and a private note still go through.
        assert_eq!(app.messages(conv).await.len(), 1);
        let (s, b) = app
            .admin(
                Method::POST,
                &path,
                Some(json!({"text": "请在本页继续沟通"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, b) = app
            .admin(
                Method::POST,
                &path,
                Some(json!({"text": "客户想加微信", "private": true})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");

        // The design's shape: one `pattern`, no name (the rule is named after it).
        let rule = add_rule(&app, json!({"pattern": "QQ号", "action": "block"})).await;
        assert_eq!(rule["name"], "QQ号", "{rule}");
        assert_eq!(rule["words"], json!(["QQ号"]), "{rule}");
        let (s, b) = app
            .admin(Method::POST, &path, Some(json!({"text": "留个qq号"})))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["code"], "blocked_content", "{b}");
        // `phone` and `card` name the mobile and bank card detectors.
        let rule = add_rule(&app, json!({"detector": "phone", "action": "flag"})).await;
        assert_eq!(
            (&rule["detector"], &rule["name"]),
            (&json!("mobile"), &json!("mobile"))
        );
        let rule = add_rule(&app, json!({"detector": "card", "action": "flag"})).await;
        assert_eq!(rule["detector"], "bank_card", "{rule}");
        let (s, b) = app
            .admin(
                Method::POST,
                "/api/v1/sensitive-rules",
                Some(json!({"pattern": "  ", "action": "block"})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["field"], "pattern", "{b}");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_routed_word_hands_the_conversation_to_the_team() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (risk_agent, _) = online_agent(&app, "risk@x.io", json!({}), 5).await;
        let (s, team) = app
            .admin(
                Method::POST,
                "/api/v1/teams",
                Some(json!({"name": "Risk control", "agent_ids": [risk_agent]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{team}");
        let team = team["id"].as_i64().expect("team id");
        let rule = add_rule(
            &app,
            json!({"name": "fraud", "words": ["套现", "洗钱"], "action": "route", "team_id": team}),
        )
        .await;
        add_rule(
            &app,
            json!({"name": "watch", "words": ["套现"], "action": "flag"}),
        )
        .await;

        // The risk agent is busier than another agent; the conversation goes to the team anyway.
        let quiet = write_in(&app, inbox, "m0", "u0", "你好").await;
        assigned_to(&app, quiet, risk_agent).await;
        online_agent(&app, "li@x.io", json!({}), 5).await;
        let conv = write_in(&app, inbox, "m1", "u1", "信用卡可以套 现吗").await;
        assigned_to(&app, conv, risk_agent).await;
        let c = conversation(&app, conv).await;
        assert_eq!(c["team_id"], team, "{c}");
        let found = &app.messages(conv).await[0]["content"]["extra"]["sensitive"];
        assert_eq!(
            found,
            &json!([
                {"rule_id": rule["id"], "rule": "fraud", "term": "套现", "action": "route", "team_id": team},
                {"rule_id": rule["id"].as_i64().map(|i| i + 1), "rule": "watch", "term": "套现", "action": "flag"},
            ])
        );
        // The text is kept as written (only `mask` rules change it).
        assert_eq!(
            app.messages(conv).await[0]["content"]["text"],
            "信用卡可以套 现吗"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn rules_are_managed_by_admins_and_checked() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let rule = add_rule(
            &app,
            json!({"name": " words ", "words": ["a", " b ", ""], "action": "flag"}),
        )
        .await;
        assert_eq!(
            (&rule["name"], &rule["words"], &rule["enabled"]),
            (&json!("words"), &json!(["a", "b"]), &json!(true)),
            "{rule}"
        );
        let id = rule["id"].as_i64().expect("id");
        let path = format!("/api/v1/sensitive-rules/{id}");
        let (s, b) = app
            .admin(
                Method::PUT,
                &path,
                Some(json!({"name": "mobiles", "detector": "mobile", "action": "mask"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(
            (&b["detector"], &b["words"]),
            (&json!("mobile"), &json!([])),
            "{b}"
        );
        let (s, b) = app
            .admin(Method::GET, "/api/v1/sensitive-rules", None)
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["items"].as_array().map(Vec::len), Some(1), "{b}");

        for (body, field) in [
            (
                json!({"name": "", "words": ["x"], "action": "flag"}),
                "name",
            ),
            (json!({"name": "n", "action": "flag"}), "words"),
            (
                json!({"name": "n", "words": ["x"], "detector": "email", "action": "flag"}),
                "detector",
            ),
            (
                json!({"name": "n", "words": ["x"], "action": "route"}),
                "team_id",
            ),
            (
                json!({"name": "n", "words": ["x"], "action": "route", "team_id": 999}),
                "team_id",
            ),
            (
                json!({"name": "n", "words": ["x"], "action": "block", "team_id": 1}),
                "team_id",
            ),
        ] {
            let (s, b) = app
                .admin(Method::POST, "/api/v1/sensitive-rules", Some(body.clone()))
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {b}");
            assert_eq!(b["field"], field, "{body} → {b}");
        }
        let (_, token) = app.agent("li@x.io", "agent", json!({})).await;
        let (s, _) = app
            .call(Method::GET, "/api/v1/sensitive-rules", Some(&token), None)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        let (s, _) = app.admin(Method::DELETE, &path, None).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, b) = app.admin(Method::GET, &path, None).await;
        assert_eq!(
            (s, &b["code"]),
            (StatusCode::NOT_FOUND, &json!("not_found")),
            "{b}"
        );
        app.stop().await;
    }
}
