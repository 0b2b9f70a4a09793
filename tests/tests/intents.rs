//! Intents on every backend: an admin defines intents with example phrases; the intent of a
//! customer's first message is detected when the conversation is routed, stored on the
//! conversation with its score and candidates, and a `when.intent` rule sends the
//! conversation to a team; the intent reaches the conversation API, the summary and the
//! `conversation.resolved` webhook; the customer's next conversation gets its own intent.
//! Intents are managed by admins and checked, and a routing rule naming an unknown intent is
//! refused. With a language model configured, a message the index is unsure of is classified
//! by the model (a local stand-in of the API) before it is routed.

mod routing_support;

use std::time::Duration;

use kefu_normalizer::llm_usage::LlmUsage;
use kefu_tests::llm_mock::{LlmMock, LlmRequest, Reply};
use kefu_tests::receiver::{Received, Receiver};
use kefu_tests::{TestApp, backends, eventually};
use reqwest::{Method, StatusCode};
use routing_support::*;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

fn fast(c: &mut kefu_gateway::Config) {
    c.webhooks.retry_schedule_secs = Some(vec![0.0, 0.05, 0.05]);
    c.jobs.poll_interval_ms = 50;
}

async fn add_intent(app: &TestApp, body: Value) -> Value {
    let (s, b) = app.admin(Method::POST, "/api/v1/intents", Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b
}

/// A shop's intents: refunds, invoices, where an order is.
async fn shop_intents(app: &TestApp) {
    add_intent(
        app,
        json!({"name": "refund", "label": "Refund", "examples":
            ["我要退款", "申请退款", "退款什么时候到账", "I want a refund", "how do I get my money back"]}),
    )
    .await;
    add_intent(
        app,
        json!({"name": "invoice", "label": "Invoice", "examples":
            ["开发票", "怎么开发票", "I need an invoice", "send me a receipt"]}),
    )
    .await;
    add_intent(
        app,
        json!({"name": "order_status", "examples":
            ["我的快递到哪了", "什么时候发货", "where is my order", "track my package"]}),
    )
    .await;
}

#[tokio::test]
async fn a_detected_intent_routes_the_conversation_to_a_team() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, fast).await;
        let rx = Receiver::start().await;
        let (s, b) = app
            .admin(
                Method::POST,
                "/api/v1/webhooks",
                Some(json!({"url": rx.url, "events": ["conversation.resolved"]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        shop_intents(&app).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (billing_agent, _) = online_agent(&app, "billing@x.io", json!({}), 5).await;
        let (s, team) = app
            .admin(
                Method::POST,
                "/api/v1/teams",
                Some(json!({"name": "Billing", "agent_ids": [billing_agent]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{team}");
        let team = team["id"].as_i64().expect("team id");
        put_routing(
            &app,
            inbox,
            json!({"rules": [{"name": "money", "when": {"intent": ["refund", "invoice"]},
                              "then": {"team_id": team}}]}),
        )
        .await;
        // The billing agent is busier than the other agent; refunds go to billing anyway.
        let busy = write_in(&app, inbox, "m0", "u0", "你好").await;
        assigned_to(&app, busy, billing_agent).await;
        let (other_agent, _) = online_agent(&app, "li@x.io", json!({}), 5).await;

        let refund = write_in(&app, inbox, "m1", "u1", "你好，我想申请退款，东西不想要了").await;
        let chat = write_in(&app, inbox, "m2", "u2", "今天天气不错").await;
        app.state.dispatcher.run_round().await.expect("round");
        assigned_to(&app, refund, billing_agent).await;
        assigned_to(&app, chat, other_agent).await;

        let c = conversation(&app, refund).await;
        assert_eq!(
            (&c["intent"], &c["team_id"]),
            (&json!("refund"), &json!(team)),
            "{c}"
        );
        let r = routing(&app, refund).await;
        assert_eq!(r["rule_hits"][0]["name"], "money", "{r}");
        assert_eq!(r["rule_hits"][0]["why"], json!(["intent refund"]), "{r}");
        let m = &r["intent_match"];
        assert_eq!(m["intent"], "refund", "{r}");
        assert_eq!(m["candidates"][0]["intent"], "refund", "{r}");
        let score = m["score"].as_f64().expect("a score");
        assert!(score >= 0.35 && m["margin"].as_f64() >= Some(0.05), "{m}");
        assert_eq!(m["message_id"], app.messages(refund).await[0]["id"], "{m}");
        // The timeline says which intent was detected.
        let (s, b) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{refund}/activities"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let detected: Vec<&Value> = b["items"]
            .as_array()
            .map(|i| {
                i.iter()
                    .filter(|a| a["kind"] == "intent_detected")
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(detected.len(), 1, "{b}");
        assert_eq!(detected[0]["details"]["intent"], "refund", "{b}");

        // Small talk has no intent: no team, and the decision is kept all the same.
        let c = conversation(&app, chat).await;
        assert_eq!(
            (&c["intent"], &c["team_id"]),
            (&Value::Null, &Value::Null),
            "{c}"
        );
        let r = routing(&app, chat).await;
        assert_eq!(r["intent_match"]["intent"], Value::Null, "{r}");
        assert_eq!(r["rule_hits"], json!([]), "{r}");

        // Resolving: the summary and the webhook carry the intent.
        let (s, resolved) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{refund}/resolve"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{resolved}");
        assert_eq!(resolved["intent"], "refund", "{resolved}");
        assert_eq!(
            resolved["summary"]["facts"]["intent"], "refund",
            "{resolved}"
        );
        let is = |r: &Received| r.json()["type"] == "conversation.resolved";
        let got = rx.wait_until(WAIT, |g| g.iter().any(is)).await;
        let hook = got
            .iter()
            .find(|r| is(r))
            .map(Received::json)
            .expect("delivered");
        assert_eq!(hook["data"]["intent"], "refund", "{hook}");
        assert_eq!(
            hook["data"]["summary"]["facts"]["intent"], "refund",
            "{hook}"
        );

        // Back with another question, the customer starts a new conversation: about an
        // invoice, to the same team.
        let invoice = write_in(&app, inbox, "m3", "u1", "Can you send me an invoice?").await;
        assert_ne!(invoice, refund);
        app.state.dispatcher.run_round().await.expect("round");
        let c = conversation(&app, invoice).await;
        assert_eq!(c["intent"], "invoice", "{c}");
        assert_eq!(c["team_id"], team, "{c}");
        app.stop().await;
    }
}

#[tokio::test]
async fn intents_are_managed_by_admins_and_checked() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let refund = add_intent(
            &app,
            json!({"name": " refund ", "examples": ["我要退款", " 我要退款 ", "", "refund please"]}),
        )
        .await;
        assert_eq!(refund["name"], "refund", "{refund}");
        assert_eq!(refund["label"], "refund", "{refund}");
        assert_eq!(refund["examples"], json!(["我要退款", "refund please"]));
        assert_eq!(refund["enabled"], true);
        let id = refund["id"].as_i64().expect("id");

        for (body, status, field) in [
            (
                json!({"name": "refund", "examples": ["x"]}),
                StatusCode::CONFLICT,
                "name",
            ),
            (
                json!({"name": "Refund Request", "examples": ["x"]}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "name",
            ),
            (
                json!({"name": "invoice", "examples": [" "]}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "examples",
            ),
        ] {
            let (s, b) = app
                .admin(Method::POST, "/api/v1/intents", Some(body.clone()))
                .await;
            assert_eq!(s, status, "{body}: {b}");
            assert_eq!(b["field"], field, "{body}: {b}");
        }
        // The name is fixed; the rest can change.
        let path = format!("/api/v1/intents/{id}");
        let (s, b) = app
            .admin(
                Method::PUT,
                &path,
                Some(json!({"name": "refunds", "examples": ["x"]})),
            )
            .await;
        assert_eq!(
            (s, &b["field"]),
            (StatusCode::UNPROCESSABLE_ENTITY, &json!("name")),
            "{b}"
        );
        let (s, b) = app
            .admin(
                Method::PUT,
                &path,
                Some(json!({"name": "refund", "label": "Refund", "examples": ["退款"], "enabled": false})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(
            (&b["label"], &b["enabled"]),
            (&json!("Refund"), &json!(false)),
            "{b}"
        );

        // Agents read intents; only admins change them.
        let (_, token) = app.agent("a@x.io", "agent", json!({})).await;
        let (s, b) = app
            .call(Method::GET, "/api/v1/intents", Some(&token), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["items"][0]["name"], "refund", "{b}");
        let (s, _) = app
            .call(
                Method::POST,
                "/api/v1/intents",
                Some(&token),
                Some(json!({"name": "x", "examples": ["x"]})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // A rule naming an unknown intent is refused; a known one, even disabled, is kept.
        let inbox = app.loopback_inbox(json!({})).await;
        let routing_path = format!("/api/v1/inboxes/{inbox}/routing");
        let (s, b) = app
            .admin(
                Method::PUT,
                &routing_path,
                Some(json!({"rules": [{"when": {"intent": ["refund", "refnud"]}, "then": {"priority": {"raise": 1}}}]})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["field"], "rules[0].when.intent[1]", "{b}");
        assert!(
            b["detail"].as_str().is_some_and(|d| d.contains("refnud")),
            "{b}"
        );
        put_routing(
            &app,
            inbox,
            json!({"rules": [{"when": {"intent": "refund"}, "then": {"priority": {"raise": 1}}}]}),
        )
        .await;

        // Trying the routing shows the intent the message would get: none while disabled.
        let try_it = || async {
            let (s, b) = app
                .admin(
                    Method::POST,
                    &format!("{routing_path}/try"),
                    Some(json!({"text": "我要退款"})),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{b}");
            b
        };
        let b = try_it().await;
        assert_eq!(b["intent"], Value::Null, "{b}");
        assert_eq!(b["rules"][0]["matched"], false, "{b}");
        let (s, b) = app
            .admin(
                Method::PUT,
                &path,
                Some(json!({"name": "refund", "examples": ["我要退款"], "enabled": true})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let b = try_it().await;
        assert_eq!(b["intent"]["intent"], "refund", "{b}");
        assert_eq!(b["rules"][0]["matched"], true, "{b}");
        assert_eq!(b["rules"][0]["why"], json!(["intent refund"]), "{b}");

        let (s, _) = app.admin(Method::DELETE, &path, None).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, b) = app.admin(Method::GET, &path, None).await;
        assert_eq!(
            (s, &b["code"]),
            (StatusCode::NOT_FOUND, &json!("not_found")),
            "{b}"
        );
        assert_eq!(try_it().await["intent"], Value::Null);
        app.stop().await;
    }
}

#[tokio::test]
async fn an_intent_the_index_is_unsure_of_is_named_by_the_model_and_routes() {
    for backend in backends() {
        let mock = LlmMock::start(|req| {
            let text = req.text();
            let intent = if !text.contains("You classify") {
                return Reply::Error(400, json!({"error": {"message": "only intents here"}}));
            } else if text.contains("tax paperwork") {
                json!("invoice")
            } else if text.contains("gift wrapping") {
                json!("wrapping")
            } else {
                Value::Null
            };
            Reply::Content(json!({ "intent": intent }).to_string(), 30)
        })
        .await;
        let app = TestApp::spawn_with(&backend, |c| {
            c.ai.llm.base_url = Some(mock.base_url.clone());
            c.ai.llm.model = Some("mock-model".into());
            c.ai.llm.timeout_secs = 1.0;
            c.ai.llm.summaries = false;
        })
        .await;
        for (name, examples) in [
            (
                "invoice",
                json!(["开发票", "I need an invoice", "send me a receipt"]),
            ),
            ("refund", json!(["我要退款", "I want a refund"])),
        ] {
            let (s, b) = app
                .admin(
                    Method::POST,
                    "/api/v1/intents",
                    Some(json!({"name": name, "label": name, "examples": examples})),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
        }
        let inbox = app.loopback_inbox(json!({})).await;
        let (s, team) = app
            .admin(
                Method::POST,
                "/api/v1/teams",
                Some(json!({"name": "Billing", "agent_ids": []})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{team}");
        routing_support::put_routing(
            &app,
            inbox,
            json!({"rules": [{"when": {"intent": "invoice"}, "then": {"team_id": team["id"]}}]}),
        )
        .await;
        let sure = write_in(&app, inbox, "m1", "u1", "I need an invoice").await;
        let unsure = write_in(
            &app,
            inbox,
            "m2",
            "u2",
            "Our company requires the tax paperwork for order 7, call 13812345678",
        )
        .await;
        let nothing = write_in(&app, inbox, "m3", "u3", "Hello there").await;
        let invented = write_in(&app, inbox, "m4", "u4", "Do you do gift wrapping?").await;
        // Routed once the model answered (the dispatcher is woken; nothing waits on a timer).
        let routed = |conv: i64| {
            let app = &app;
            async move {
                eventually(WAIT, || async {
                    let r = routing_support::routing(app, conv).await;
                    r["intent_match"]["message_id"].is_i64().then_some(r)
                })
                .await
                .unwrap_or_else(|| panic!("conversation {conv} is never routed"))
            }
        };
        let r = routed(sure).await;
        assert_eq!(r["intent_match"]["intent"], "invoice", "{r}");
        assert!(
            r["intent_match"].get("source").is_none(),
            "the index decided: {r}"
        );

        let r = routed(unsure).await;
        assert_eq!(r["intent_match"]["intent"], "invoice", "{r}");
        assert_eq!(r["intent_match"]["source"], "llm", "{r}");
        let c = routing_support::conversation(&app, unsure).await;
        assert_eq!(
            (&c["intent"], &c["team_id"]),
            (&json!("invoice"), &team["id"]),
            "{c}"
        );

        let r = routed(nothing).await;
        assert_eq!(r["intent_match"]["intent"], Value::Null, "{r}");
        assert_eq!(
            r["intent_match"]["source"], "llm",
            "the model said none: {r}"
        );
        // A name the model was not offered is not taken: routed by the index (no intent).
        let r = routed(invented).await;
        assert_eq!(r["intent_match"]["intent"], Value::Null, "{r}");
        assert!(r["intent_match"].get("source").is_none(), "{r}");
        let c = routing_support::conversation(&app, invented).await;
        assert_eq!(c["team_id"], Value::Null, "{c}");

        // Asked once per unsure message, with personal data redacted, within the budget.
        let asked = mock.requests();
        assert_eq!(asked.len(), 3, "{asked:?}");
        let paperwork = asked
            .iter()
            .map(LlmRequest::text)
            .find(|t| t.contains("tax paperwork"))
            .expect("asked about the paperwork");
        assert!(paperwork.contains("call [PHONE]"), "{paperwork}");
        assert!(
            paperwork.contains("- invoice (invoice): e.g."),
            "{paperwork}"
        );
        let spent = LlmUsage::new(app.state.db.clone())
            .spent(inbox, chrono::Utc::now())
            .await
            .expect("usage");
        assert_eq!((spent.requests, spent.tokens), (3, 90), "{spent:?}");
        app.stop().await;
    }
}
