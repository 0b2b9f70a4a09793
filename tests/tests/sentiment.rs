//! Sentiment, on every backend: each customer message is scored, the score of the latest is
//! kept on the conversation (and shown in the list), the terms that drove it on the message;
//! a routing rule `when.sentiment_below` raises the priority of a complaint; the condition is
//! checked when the routing is saved.

mod routing_support;

use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use routing_support::{conversation, put_routing, routing, write_in};
use serde_json::{Value, json};

#[tokio::test]
async fn a_complaint_raises_priority_by_rule() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        put_routing(
            &app,
            inbox,
            json!({"rules": [{"name": "complaints", "when": {"sentiment_below": -0.5},
                              "then": {"priority": {"raise": 10}}}]}),
        )
        .await;
        let angry = write_in(&app, inbox, "m1", "u1", "快递太慢了，我要投诉！！！").await;
        let calm = write_in(&app, inbox, "m2", "u2", "你好，运费多少？").await;
        app.state.dispatcher.run_round().await.expect("round");

        let c = conversation(&app, angry).await;
        assert_eq!(c["priority"], 10, "{c}");
        let score = c["sentiment"].as_f64().expect("a score");
        assert!(score < -0.5, "{c}");
        let hits = routing(&app, angry).await;
        assert_eq!(hits["rule_hits"][0]["name"], "complaints", "{hits}");
        let c = conversation(&app, calm).await;
        assert_eq!(
            (&c["priority"], &c["sentiment"]),
            (&json!(0), &json!(0.0)),
            "{c}"
        );

        // The message keeps the terms that drove its score.
        let m = &app.messages(angry).await[0];
        let terms: Vec<&str> = m["content"]["extra"]["sentiment"]["terms"]
            .as_array()
            .map(|t| t.iter().filter_map(|t| t["text"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(terms, ["太慢", "投诉", "！！！"], "{m}");

        // The list shows the score; the customer's next, calmer message replaces it.
        let (s, list) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations?inbox_id={inbox}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{list}");
        let listed: Vec<(Value, Value)> = list["items"]
            .as_array()
            .map(|i| {
                i.iter()
                    .map(|c| (c["id"].clone(), c["sentiment"].clone()))
                    .collect()
            })
            .unwrap_or_default();
        assert!(listed.contains(&(json!(angry), json!(score))), "{list}");
        write_in(&app, inbox, "m3", "u1", "好的，谢谢").await;
        let c = conversation(&app, angry).await;
        assert!(c["sentiment"].as_f64().is_some_and(|s| s > 0.0), "{c}");
        app.stop().await;
    }
}

#[tokio::test]
async fn sentiment_conditions_are_checked() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (s, b) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/inboxes/{inbox}/routing"),
                Some(json!({"rules": [{"when": {"sentiment_below": -2}, "then": {"priority": {"raise": 1}}}]})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["field"], "rules[0].when.sentiment_below", "{b}");
        app.stop().await;
    }
}
