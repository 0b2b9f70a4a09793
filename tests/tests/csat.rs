//! Customer satisfaction, on every backend: a resolved conversation's customer is asked once,
//! in their channel's way (the widget's card, a rating link elsewhere); the answer is stored
//! once, with the agent, shown in the thread and sent as `csat.submitted`; a spent, unknown or
//! expired token is refused; a closed reply window skips the question with the reason.

use std::time::Duration;

use chrono::Utc;
use kefu_normalizer::csat::{Resolved, Surveys};
use kefu_normalizer::entity::csat_survey;
use kefu_normalizer::{EventData, EventType};
use kefu_tests::ws::{Ws, connect, next_where, send};
use kefu_tests::{TestApp, backends, eventually, msg};
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    next_where(ws, kind, |f| f["type"] == kind).await
}

async fn web_chat_inbox(app: &TestApp) -> (i64, String) {
    let (s, list) = app.admin(Method::GET, "/api/v1/inboxes", None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let inbox = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["channel"]["type"] == "web_chat")
        .cloned()
        .expect("the default web chat inbox");
    (
        inbox["id"].as_i64().expect("id"),
        inbox["website_token"].as_str().expect("token").to_owned(),
    )
}

async fn enable_csat(app: &TestApp, inbox: i64, message: &str) {
    let (s, body) = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/inboxes/{inbox}"),
            Some(json!({"csat": {"enabled": true, "message": message}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["csat"], json!({"enabled": true, "message": message}));
}

async fn resolve(app: &TestApp, conv: i64) {
    let (s, body) = app
        .admin(
            Method::POST,
            &format!("/api/v1/conversations/{conv}/resolve"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

async fn surveys(app: &TestApp, conv: i64) -> Vec<Value> {
    let (s, body) = app
        .admin(
            Method::GET,
            &format!("/api/v1/conversations/{conv}/csat"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

async fn activity_kinds(app: &TestApp, conv: i64) -> Vec<String> {
    let (s, body) = app
        .admin(
            Method::GET,
            &format!("/api/v1/conversations/{conv}/activities"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["kind"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_visitor_rates_a_resolved_chat_once_from_the_widget() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (inbox, token) = web_chat_inbox(&app).await;
        enable_csat(&app, inbox, "").await;
        let mut tab = connect(&app.base, "/ws/web_chat").await;
        send(&mut tab, json!({"type": "hello", "website_token": token})).await;
        let welcome = next_of(&mut tab, "welcome").await;
        assert!(
            welcome.get("csat").is_none(),
            "nothing to rate yet: {welcome}"
        );
        send(
            &mut tab,
            json!({"type": "message", "client_id": "c-1", "text": "My parcel is late"}),
        )
        .await;
        let conv = next_of(&mut tab, "ack").await["conversation_id"]
            .as_i64()
            .expect("conversation");
        // Assigned, so the survey names the agent who helped.
        let (s, body) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/assign"),
                Some(json!({"agent_id": 1})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let mut events = app.state.bus.subscribe();
        resolve(&app, conv).await;

        // The question arrives as a system message, then the card's frame with the token.
        let question = next_where(&mut tab, "the question", |f| {
            f["type"] == "message" && f["message"]["sender"]["type"] == "system"
        })
        .await;
        assert_eq!(
            question["message"]["content"]["text"],
            "How would you rate the help you received?"
        );
        let card = next_of(&mut tab, "csat").await;
        let survey_token = card["token"].as_str().expect("token").to_owned();
        assert_eq!(card["conversation_id"], conv);

        // A reloaded tab is shown the card again.
        let mut reloaded = connect(&app.base, "/ws/web_chat").await;
        send(
            &mut reloaded,
            json!({"type": "hello", "website_token": token, "session": welcome["session"]}),
        )
        .await;
        let again = next_of(&mut reloaded, "welcome").await;
        assert_eq!(again["csat"], json!({"token": survey_token}), "{again}");

        // A rating out of range says so and is not stored.
        send(
            &mut tab,
            json!({"type": "rate", "token": survey_token, "rating": 6}),
        )
        .await;
        let bad = next_of(&mut tab, "error").await;
        assert_eq!(bad["code"], "invalid_rating", "{bad}");
        send(
            &mut tab,
            json!({"type": "rate", "token": survey_token, "rating": 4, "comment": "  Quick, thanks  "}),
        )
        .await;
        assert_eq!(next_of(&mut tab, "csat_ok").await["rating"], 4);

        // A second answer, from either tab, is refused.
        send(
            &mut reloaded,
            json!({"type": "rate", "token": survey_token, "rating": 1}),
        )
        .await;
        let twice = next_of(&mut reloaded, "error").await;
        assert_eq!(twice["code"], "csat_already_submitted", "{twice}");

        let stored = surveys(&app, conv).await;
        assert_eq!(stored.len(), 1, "{stored:?}");
        let s = &stored[0];
        assert_eq!(
            (
                &s["status"],
                &s["rating"],
                &s["comment"],
                &s["agent_id"],
                &s["channel"]
            ),
            (
                &json!("submitted"),
                &json!(4),
                &json!("Quick, thanks"),
                &json!(1),
                &json!("web_chat")
            ),
            "{s}"
        );
        assert!(s.get("token").is_none(), "the token is not shown: {s}");

        // Both events went out, in order, for this conversation.
        let mut seen = Vec::new();
        while seen.len() < 2 {
            let ev = tokio::time::timeout(WAIT, events.recv())
                .await
                .expect("csat events arrive")
                .expect("no lag");
            match &ev.data {
                EventData::CsatRequested(v) | EventData::CsatSubmitted(v) => {
                    assert_eq!(v.conversation_id, conv);
                    seen.push((ev.kind(), v.rating));
                }
                _ => {}
            }
        }
        assert_eq!(
            seen,
            [
                (EventType::CsatRequested, None),
                (EventType::CsatSubmitted, Some(4))
            ]
        );
        let kinds = activity_kinds(&app, conv).await;
        assert!(
            kinds.ends_with(&["csat_requested".to_owned(), "csat_submitted".to_owned()]),
            "{kinds:?}"
        );

        // Reopened and resolved again: the customer is not asked a second time.
        let (s, body) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/reopen"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        resolve(&app, conv).await;
        let resolved_again = kefu_tests::eventually(WAIT, || async {
            let n = activity_kinds(&app, conv)
                .await
                .iter()
                .filter(|k| *k == "resolved")
                .count();
            (n == 2).then_some(())
        })
        .await;
        assert!(resolved_again.is_some());
        until_relayed(&app).await;
        let count = csat_survey::Entity::find()
            .filter(csat_survey::Column::ConversationId.eq(conv))
            .count(app.state.db.conn())
            .await
            .expect("count");
        assert_eq!(count, 1, "asked once per conversation");
    }
}

/// Waits until every outbox event has been relayed, so the fan-out has seen every resolve.
async fn until_relayed(app: &TestApp) {
    use kefu_normalizer::entity::outbox_event;
    let db = app.state.db.conn();
    eventually(WAIT, || async {
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

/// The rating link in the conversation's question, once it was sent.
async fn rating_link(app: &TestApp, conv: i64) -> String {
    eventually(WAIT, || async {
        let (_, page) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{conv}/messages"),
                None,
            )
            .await;
        page["items"].as_array()?.iter().find_map(|m| {
            let text = m["content"]["text"].as_str()?;
            let at = text.find("/csat/")?;
            (m["sender"]["type"] == "system").then(|| text[at..].trim().to_owned())
        })
    })
    .await
    .expect("the question with its link is stored")
}

#[tokio::test]
async fn a_rating_link_rates_once_takes_a_comment_and_refuses_spent_or_expired_tokens() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        enable_csat(&app, inbox, "Did we help?").await;
        let (s, accepted) = app
            .inbound(inbox, &msg("m-1", "customer-1", "Where is my refund?"))
            .await;
        assert!(s.is_success(), "{accepted}");
        let conv = accepted["conversation_id"].as_i64().expect("conversation");
        resolve(&app, conv).await;
        // A text channel gets the question and one link to the rating page.
        let path = rating_link(&app, conv).await;
        let token = path.trim_start_matches("/csat/").to_owned();
        let get = |path: String, zh: bool| {
            let req = app.client.get(format!("{}{path}", app.base));
            let req = if zh {
                req.header("accept-language", "zh-CN,zh;q=0.9")
            } else {
                req
            };
            async move {
                let resp = req.send().await.expect("page");
                let status = resp.status();
                let ct = resp
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                assert!(ct.starts_with("text/html"), "{ct}");
                (status, resp.text().await.expect("body"))
            }
        };
        let (s, page) = get(format!("/csat/{token}"), true).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains("您对本次服务满意吗") && page.contains("data-rating=\"5\""),
            "{page}"
        );

        // One click rates; the page thanks and asks for a comment.
        let (s, page) = get(format!("/csat/{token}?rating=5"), false).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(
            page.contains("Thank you for your rating") && page.contains("<textarea"),
            "{page}"
        );
        // A second click, even with another rating, is refused and changes nothing.
        let (s, page) = get(format!("/csat/{token}?rating=1"), false).await;
        assert_eq!(s, StatusCode::CONFLICT, "{page}");
        assert!(
            page.contains("data-code=\"csat_already_submitted\""),
            "{page}"
        );
        let comment = |text: &str| {
            app.client
                .post(format!("{}/csat/{token}", app.base))
                .form(&[("comment", text)])
                .send()
        };
        let first = comment("Fast refund").await.expect("post");
        assert_eq!(first.status(), StatusCode::OK);
        let second = comment("Changed my mind").await.expect("post");
        assert_eq!(second.status(), StatusCode::CONFLICT);
        let stored = surveys(&app, conv).await;
        assert_eq!(
            (&stored[0]["rating"], &stored[0]["comment"]),
            (&json!(5), &json!("Fast refund"))
        );
        let kinds = activity_kinds(&app, conv).await;
        assert!(kinds.contains(&"csat_submitted".to_owned()), "{kinds:?}");

        // Bad input gets a clear answer.
        let (s, page) = get(format!("/csat/{token}?rating=nine"), false).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        let (s, page) = get("/csat/not-a-token?rating=3".into(), false).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{page}");

        // An expired token is refused.
        let (s, accepted) = app.inbound(inbox, &msg("m-2", "customer-2", "Hello")).await;
        assert!(s.is_success(), "{accepted}");
        let conv2 = accepted["conversation_id"].as_i64().expect("conversation");
        resolve(&app, conv2).await;
        let token2 = rating_link(&app, conv2)
            .await
            .trim_start_matches("/csat/")
            .to_owned();
        use sea_orm::sea_query::Expr;
        csat_survey::Entity::update_many()
            .col_expr(
                csat_survey::Column::ExpiresAt,
                Expr::value(Utc::now() - chrono::Duration::minutes(1)),
            )
            .filter(csat_survey::Column::Token.eq(token2.as_str()))
            .exec(app.state.db.conn())
            .await
            .expect("expire");
        let (s, page) = get(format!("/csat/{token2}?rating=3"), false).await;
        assert_eq!(s, StatusCode::GONE, "{page}");
        assert!(page.contains("data-code=\"csat_expired\""), "{page}");
    }
}

#[tokio::test]
async fn a_closed_reply_window_skips_the_question_and_says_why() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let mut convs = Vec::new();
        for customer in ["customer-1", "customer-2"] {
            let (s, accepted) = app.inbound(inbox, &msg(customer, customer, "Hi")).await;
            assert!(s.is_success(), "{accepted}");
            let conv = accepted["conversation_id"].as_i64().expect("conversation");
            resolve(&app, conv).await;
            convs.push(conv);
        }
        // Resolved while the inbox asked nothing; asked now, as if through a channel whose
        // window closes an hour after the customer wrote.
        until_relayed(&app).await;
        assert!(surveys(&app, convs[0]).await.is_empty());
        enable_csat(&app, inbox, "").await;
        let store = Surveys::new(app.state.db.clone(), app.base.clone());
        let window = Some(chrono::Duration::hours(1));
        let late = Resolved {
            conversation_id: convs[0],
            inbox_id: inbox,
            reply_window: window,
        };
        let asked = store
            .request(&[late], Utc::now() + chrono::Duration::hours(2))
            .await
            .expect("request");
        assert_eq!(asked, 0);
        let stored = surveys(&app, convs[0]).await;
        assert_eq!(
            (&stored[0]["status"], &stored[0]["skip_reason"]),
            (&json!("skipped"), &json!("reply_window_closed")),
            "{stored:?}"
        );
        let kinds = activity_kinds(&app, convs[0]).await;
        assert_eq!(
            kinds.last().map(String::as_str),
            Some("csat_skipped"),
            "{kinds:?}"
        );
        // Within the window the customer is asked.
        let in_time = Resolved {
            conversation_id: convs[1],
            inbox_id: inbox,
            reply_window: window,
        };
        assert_eq!(
            store
                .request(&[in_time], Utc::now())
                .await
                .expect("request"),
            1
        );
        assert_eq!(surveys(&app, convs[1]).await[0]["status"], "requested");
        // A skipped survey's token cannot be used to rate.
        let token = csat_survey::Entity::find()
            .filter(csat_survey::Column::ConversationId.eq(convs[0]))
            .one(app.state.db.conn())
            .await
            .expect("read")
            .expect("the skipped survey")
            .token;
        let refused = store
            .submit(&token, 5, None, Utc::now())
            .await
            .expect("answered");
        assert!(refused.is_err(), "{refused:?}");
    }
}
