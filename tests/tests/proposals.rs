//! Learning, on every backend: resolving a conversation in which an agent answered a question
//! the knowledge base does not cover proposes the pair (personal data redacted), once per
//! conversation; a covered question, a private note or no answer proposes nothing; proposals
//! list pending first; approving (edited or not) adds an entry suggestions use at once;
//! rejecting drops it; deciding twice is a conflict; supervisors only.

mod routing_support;

use std::time::Duration;

use kefu_normalizer::entity::outbox_event;
use kefu_tests::{TestApp, backends, eventually};
use reqwest::{Method, StatusCode};
use routing_support::write_in;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

/// Waits until every outbox event has been relayed: the fan-out, and learning with it, has
/// seen every resolve.
async fn until_relayed(app: &TestApp) {
    let db = app.state.db.conn();
    eventually(Duration::from_secs(10), || async {
        let waiting = outbox_event::Entity::find()
            .filter(outbox_event::Column::RelayedAt.is_null())
            .count(db)
            .await
            .ok()?;
        (waiting == 0).then_some(())
    })
    .await
    .expect("the outbox is relayed");
}

async fn post(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    app.admin(Method::POST, path, Some(body)).await
}

async fn resolve(app: &TestApp, conv: i64) {
    let (s, b) = post(
        app,
        &format!("/api/v1/conversations/{conv}/resolve"),
        json!(null),
    )
    .await;
    assert!(s.is_success(), "{s} {b}");
}

async fn proposals(app: &TestApp) -> Vec<Value> {
    let (s, b) = app
        .admin(Method::GET, "/api/v1/knowledge/proposals", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["items"].as_array().cloned().unwrap_or_default()
}

/// Waits for the proposal learnt from `conv`.
async fn proposal_of(app: &TestApp, conv: i64) -> Value {
    app.until_event(&format!("a proposal from conversation {conv}"), || async {
        proposals(app)
            .await
            .into_iter()
            .find(|p| p["conversation_id"] == conv)
    })
    .await
}

/// A customer asks `question` in a new conversation, the admin answers `answer`, and the
/// conversation is resolved.
async fn answered(app: &TestApp, inbox: i64, user: &str, question: &str, answer: &str) -> i64 {
    let conv = write_in(app, inbox, &format!("{user}-q"), user, question).await;
    app.reply(conv, answer).await;
    resolve(app, conv).await;
    conv
}

#[tokio::test]
async fn agents_answers_to_new_questions_are_proposed_and_approved_into_the_knowledge_base() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (s, b) = post(&app, "/api/v1/knowledge", json!({"question": "运费是多少钱", "alternatives": ["邮费怎么算"], "answer": "满 99 元包邮。"})).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let inbox = app.loopback_inbox(json!({})).await;
        let (_, me) = app.admin(Method::GET, "/api/v1/profile", None).await;

        // A question the knowledge base does not cover, with personal data on both sides.
        let weekend = write_in(
            &app,
            inbox,
            "a1",
            "u1",
            "你们周末上班吗？我的手机 13800138000",
        )
        .await;
        let (s, b) = post(
            &app,
            &format!("/api/v1/conversations/{weekend}/messages"),
            json!({"text": "Internal: check the rota.", "private": true}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        app.reply(weekend, "周末也上班，9 点到 18 点。").await;
        app.reply(weekend, "也可以发邮件到 help@shop.example.com")
            .await;
        resolve(&app, weekend).await;
        let p = proposal_of(&app, weekend).await;
        assert_eq!(p["question"], "你们周末上班吗？我的手机 [mobile]", "{p}");
        assert_eq!(
            p["answer"], "周末也上班，9 点到 18 点。\n也可以发邮件到 [email]",
            "{p}"
        );
        assert_eq!(
            (&p["status"], &p["agent_id"], &p["inbox_id"]),
            (&json!("pending"), &me["id"], &json!(inbox)),
            "{p}"
        );
        assert!(p["best_score"].as_f64().is_none_or(|s| s < 0.35), "{p}");

        // Covered already, answered only privately, or not answered: nothing is proposed.
        let covered = answered(&app, inbox, "u2", "运费多少", "满 99 元包邮哦。").await;
        let noted = write_in(&app, inbox, "c1", "u3", "发票怎么开").await;
        let (s, _) = post(
            &app,
            &format!("/api/v1/conversations/{noted}/messages"),
            json!({"text": "在订单页申请。", "private": true}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        resolve(&app, noted).await;
        let silent = write_in(&app, inbox, "d1", "u4", "可以开发票吗").await;
        resolve(&app, silent).await;
        // Resolved again after a reopen: still one proposal.
        let (s, b) = post(
            &app,
            &format!("/api/v1/conversations/{weekend}/reopen"),
            json!(null),
        )
        .await;
        assert!(s.is_success(), "{s} {b}");
        resolve(&app, weekend).await;
        until_relayed(&app).await;
        let all = proposals(&app).await;
        let from: Vec<&Value> = all.iter().map(|p| &p["conversation_id"]).collect();
        assert_eq!(from, [&json!(weekend)], "{all:?}");
        assert!(
            ![covered, noted, silent]
                .iter()
                .any(|c| from.contains(&&json!(c)))
        );

        // Pending first, newest first within each.
        let invoice = answered(
            &app,
            inbox,
            "u5",
            "能开增值税专用发票吗",
            "可以，请提供税号。",
        )
        .await;
        let later = proposal_of(&app, invoice).await;
        let order: Vec<Value> = proposals(&app)
            .await
            .iter()
            .map(|p| p["id"].clone())
            .collect();
        assert_eq!(order, [later["id"].clone(), p["id"].clone()]);
        let (s, r) = post(
            &app,
            &format!("/api/v1/knowledge/proposals/{}/reject", later["id"]),
            json!({}),
        )
        .await;
        assert_eq!(
            (s, &r["status"], &r["decided_by"]),
            (StatusCode::OK, &json!("rejected"), &me["id"]),
            "{r}"
        );
        let order: Vec<Value> = proposals(&app)
            .await
            .iter()
            .map(|p| p["id"].clone())
            .collect();
        assert_eq!(order, [p["id"].clone(), later["id"].clone()]);

        // Edited and approved: the entry is there and suggestions use it.
        let approve = format!("/api/v1/knowledge/proposals/{}/approve", p["id"]);
        let (s, b) = post(&app, &approve, json!({"question": "  ", "answer": "x"})).await;
        assert_eq!(
            (s, &b["field"]),
            (StatusCode::UNPROCESSABLE_ENTITY, &json!("question")),
            "{b}"
        );
        let (s, b) = post(
            &app,
            &approve,
            json!({"question": "周末上班吗", "answer": "周末也上班，9 点到 18 点。"}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(
            (&b["proposal"]["status"], &b["proposal"]["knowledge_id"]),
            (&json!("approved"), &b["entry"]["id"]),
            "{b}"
        );
        assert_eq!(
            (&b["entry"]["question"], &b["entry"]["answer"]),
            (&json!("周末上班吗"), &json!("周末也上班，9 点到 18 点。"))
        );
        let entry = b["entry"]["id"].clone();
        let (s, b) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/inboxes/{inbox}/bot"),
                Some(json!({"mode": "suggest"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let again = write_in(&app, inbox, "e1", "u6", "周末上班吗").await;
        let (_, b) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{again}/suggestions"),
                None,
            )
            .await;
        assert_eq!(b["items"][0]["knowledge_id"], entry, "{b}");

        // Deciding twice is a conflict; an unknown proposal is not found.
        let (s, b) = post(&app, &approve, json!({})).await;
        assert_eq!(
            (s, &b["code"]),
            (StatusCode::CONFLICT, &json!("conflict")),
            "{b}"
        );
        let (s, b) = post(
            &app,
            &format!("/api/v1/knowledge/proposals/{}/reject", p["id"]),
            json!({}),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}");
        let (s, _) = post(&app, "/api/v1/knowledge/proposals/999999/reject", json!({})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // Agents do not see proposals.
        let (_, agent) = app.agent("agent@x.io", "agent", json!({})).await;
        let (s, _) = app
            .call(
                Method::GET,
                "/api/v1/knowledge/proposals",
                Some(&agent),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        app.stop().await;
    }
}
