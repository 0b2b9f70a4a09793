//! Routing "try it" (`POST /api/v1/inboxes/{id}/routing/try`): which rules a first message
//! matches and the resulting requirements, for the stored configuration or an unsaved one.

use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_keyword_rule_matches_one_text_and_not_another() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({"skills": {"support": 1}})).await;
        let routing = json!({"skills": {"support": 1}, "rules": [
            {"name": "refunds", "when": {"keywords": ["refund", "退款"]},
             "then": {"skills": {"billing": 3}, "priority": {"raise": 5}}},
            {"name": "vip", "when": {"attributes": [{"name": "vip_level", "op": "gte", "value": 3}]},
             "then": {"priority": {"set": 90}}}]});
        let (s, b) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/inboxes/{inbox}/routing"),
                Some(routing),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let path = format!("/api/v1/inboxes/{inbox}/routing/try");

        let (s, b) = app
            .admin(Method::POST, &path, Some(json!({"text": "我要退款"})))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["rules"][0]["index"], 0);
        assert_eq!(b["rules"][0]["name"], "refunds");
        assert_eq!(b["rules"][0]["matched"], true, "{b}");
        assert_eq!(b["rules"][1]["matched"], false, "{b}");
        assert_eq!(
            b["requirements"],
            json!({"skills": {"billing": 3, "support": 1}, "priority": 5, "team_id": null})
        );

        let (_, b) = app
            .admin(
                Method::POST,
                &path,
                Some(json!({"text": "where is my parcel?", "attributes": {"vip_level": 4}})),
            )
            .await;
        assert_eq!(b["rules"][0]["matched"], false, "{b}");
        assert_eq!(b["rules"][1]["matched"], true, "{b}");
        assert_eq!(b["requirements"]["priority"], 90);
        assert_eq!(b["requirements"]["skills"], json!({"support": 1}));

        // An unsaved configuration is tried instead of the stored one, and nothing is stored.
        let (_, b) = app
            .admin(
                Method::POST,
                &path,
                Some(json!({"text": "parcel lost", "config": {"rules": [
                    {"when": {"regex": "(?i)parcel"}, "then": {"team_id": 3}}]}})),
            )
            .await;
        assert_eq!(b["rules"][0]["matched"], true, "{b}");
        assert_eq!(b["requirements"]["team_id"], 3);
        let (_, stored) = app
            .admin(
                Method::GET,
                &format!("/api/v1/inboxes/{inbox}/routing"),
                None,
            )
            .await;
        assert_eq!(stored["routing"]["rules"].as_array().map(Vec::len), Some(2));
        app.stop().await;
    }
}

#[tokio::test]
async fn an_invalid_unsaved_config_names_the_rule_and_field() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let path = format!("/api/v1/inboxes/{inbox}/routing/try");
        let (s, b) = app
            .admin(
                Method::POST,
                &path,
                Some(json!({"text": "hi", "config": {"rules": [
                    {"when": {"keywords": ["a"]}, "then": {"priority": {"raise": 1}}},
                    {"when": {"regex": "("}, "then": {"priority": {"raise": 1}}}]}})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["field"], "config.rules[1].when.regex", "{b}");
        assert!(
            b["detail"]
                .as_str()
                .is_some_and(|d| d.contains("rules[1].when.regex")),
            "{b}"
        );

        // PUT reports the same field, without the `config.` prefix.
        let (s, b) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/inboxes/{inbox}/routing"),
                Some(json!({"rules": [{"when": {"keywordz": ["a"]}, "then": {"team_id": 1}}]})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["field"], "rules[0].when.keywordz", "{b}");

        let (s, b) = app
            .admin(
                Method::POST,
                &path,
                Some(json!({"text": "hi", "attributes": [1]})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["field"], "attributes");
        app.stop().await;
    }
}
