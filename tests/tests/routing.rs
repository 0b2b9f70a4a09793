//! Skill-based routing over the API, on every backend: rules per inbox, assignment as the
//! policy says (skills, load, proficiency), explanations, capacity, claims and metrics.

mod routing_support;

use std::time::Duration;

use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use routing_support::*;
use serde_json::json;

#[tokio::test]
async fn rules_decide_skills_and_the_policy_picks_the_agent() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| c.routing.sweep_interval_ms = 200).await;
        let shop = app.loopback_inbox(json!({})).await;
        let chat = app.loopback_inbox(json!({})).await;

        // Rules are validated, every problem reported with its place.
        let (s, b) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/inboxes/{shop}/routing"),
                Some(json!({"skills": {"support": 11}, "rules": [
                    {"when": {"regex": "(unclosed"}, "then": {"priority": {"raise": 1}}},
                    {"when": {}, "then": {}}
                ]})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let detail = b["detail"].as_str().unwrap_or_default();
        for part in [
            "skills.support",
            "rules[0].when.regex",
            "rules[1].when",
            "rules[1].then",
        ] {
            assert!(detail.contains(part), "{part} missing from {detail}");
        }
        let (s, b) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/inboxes/{shop}/routing"),
                Some(json!({"skills": {}, "typo": 1})),
            )
            .await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown fields are refused: {b}"
        );

        put_routing(&app, shop, json!({
            "skills": {"support": 1},
            "priority": 1,
            "rules": [
                {"name": "refunds", "when": {"keywords": ["refund", "退款"]},
                 "then": {"skills": {"billing": 3}, "priority": {"raise": 5}}},
                {"name": "chinese", "when": {"language": "zh"}, "then": {"skills": {"zh": 2}}},
                {"name": "vip", "when": {"attributes": [{"name": "vip_level", "op": "gte", "value": 3}]},
                 "then": {"priority": {"set": 50}}}
            ]
        }))
        .await;
        let (_, got) = app
            .admin(
                Method::GET,
                &format!("/api/v1/inboxes/{shop}/routing"),
                None,
            )
            .await;
        assert_eq!(got["routing"]["rules"][0]["name"], "refunds", "{got}");
        let (_, inbox) = app
            .admin(Method::GET, &format!("/api/v1/inboxes/{shop}"), None)
            .await;
        assert_eq!(
            inbox["routing"],
            json!({"skills": {"support": 1}, "priority": 1})
        );

        let (billing, _) =
            online_agent(&app, "billing@x.io", json!({"support": 2, "billing": 4}), 5).await;
        let (generalist, _) = online_agent(&app, "gen@x.io", json!({"support": 1}), 5).await;
        let (expert, _) = online_agent(&app, "expert@x.io", json!({"support": 5}), 5).await;

        // Only the billing agent has billing ≥ 3.
        let refund = write_in(&app, shop, "m1", "alice", "I want a refund please").await;
        assigned_to(&app, refund, billing).await;
        let r = routing(&app, refund).await;
        assert_eq!(r["skills"], json!({"support": 1, "billing": 3}), "{r}");
        assert_eq!(r["priority"], 6);
        assert_eq!(r["rule_hits"][0]["name"], "refunds", "{r}");
        assert_eq!(r["decision"]["reason"], "auto");
        assert_eq!(
            r["decision"]["explanation"]["winner_criteria"],
            "only_eligible"
        );
        let why = &r["decision"]["explanation"]["candidates"];
        assert!(
            why.as_array()
                .is_some_and(|c| c.iter().any(|c| c["why_not"]["code"] == "missing_skill")),
            "ineligible agents say why: {why}"
        );

        // Equal load: the more proficient agent wins (support 5 over 1, billing agent busier).
        let hello = write_in(&app, shop, "m2", "bob", "hello there").await;
        assigned_to(&app, hello, expert).await;
        let r = routing(&app, hello).await;
        assert_eq!(
            r["decision"]["explanation"]["winner_criteria"], "most_proficient",
            "{r}"
        );

        // No requirements in the other inbox: the least loaded, then longest idle — the
        // generalist, the only one never assigned.
        let other = write_in(&app, chat, "m3", "carol", "hi").await;
        assigned_to(&app, other, generalist).await;

        // Chinese refund: billing ≥ 3 and zh ≥ 2; nobody qualifies until such an agent is online.
        let zh = write_in(&app, shop, "m4", "dan", "我要退款，订单没有到").await;
        let hits = eventually(Duration::from_secs(10), "zh routed", || async {
            let r = routing(&app, zh).await;
            (r["rule_hits"].as_array().map_or(0, Vec::len) == 2).then_some(r)
        })
        .await;
        assert_eq!(
            hits["skills"],
            json!({"support": 1, "billing": 3, "zh": 2}),
            "{hits}"
        );
        assert_eq!(conversation(&app, zh).await["status"], "queued");
        let (zh_agent, _) = online_agent(
            &app,
            "zh@x.io",
            json!({"support": 1, "billing": 3, "zh": 5}),
            5,
        )
        .await;
        assigned_to(&app, zh, zh_agent).await;

        // A VIP's priority is set by the attribute rule.
        let mut vip = msg("m5", "erin", "question about my plan");
        vip.attributes.insert("vip_level".into(), json!(4));
        let (_, a) = app.inbound(shop, &vip).await;
        let vip_conv = a["conversation_id"].as_i64().expect("id");
        assigned(&app, vip_conv).await;
        assert_eq!(routing(&app, vip_conv).await["priority"], 50);

        let metrics = app
            .client
            .get(format!("{}/metrics", app.base))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics body");
        for name in [
            "kefu_routing_assignments_total",
            "kefu_routing_queue_length",
            "kefu_routing_wait_seconds",
        ] {
            assert!(metrics.contains(name), "{name} missing from /metrics");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn capacity_manual_assignment_claims_and_queue_position() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| c.routing.sweep_interval_ms = 200).await;
        let inbox = app.loopback_inbox(json!({"skills": {"sales": 1}})).await;
        let (solo, solo_token) = online_agent(&app, "solo@x.io", json!({"sales": 2}), 2).await;

        let c1 = write_in(&app, inbox, "m1", "u1", "one").await;
        let c2 = write_in(&app, inbox, "m2", "u2", "two").await;
        let c3 = write_in(&app, inbox, "m3", "u3", "three").await;
        assigned_to(&app, c1, solo).await;
        assigned_to(&app, c2, solo).await;
        // The third waits: the only agent is full.
        let (s, q) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{c3}/queue"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{q}");
        assert_eq!(
            (q["queued"].as_bool(), q["position"].as_u64()),
            (Some(true), Some(1)),
            "{q}"
        );
        assert!(
            q["estimated_wait_secs"].as_u64().is_some(),
            "two assignments give a rate: {q}"
        );
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{c3}/assign"),
                Some(json!({"agent_id": solo})),
            )
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::CONFLICT, Some("agent_at_capacity")),
            "{b}"
        );

        // Resolving frees capacity, and the waiting conversation is assigned.
        let (s, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/conversations/{c1}/resolve"),
                Some(&solo_token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assigned_to(&app, c3, solo).await;
        let (_, q) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{c3}/queue"),
                None,
            )
            .await;
        assert_eq!(q["queued"], false);

        // Claims: a conversation nobody qualifies for, taken by an agent where allowed.
        put_routing(
            &app,
            inbox,
            json!({"skills": {"sales": 1},
            "rules": [{"when": {"keywords": ["legal"]}, "then": {"skills": {"legal": 5}}}]}),
        )
        .await;
        let (helper, helper_token) =
            online_agent(&app, "helper@x.io", json!({"sales": 1}), 3).await;
        app.join(inbox, helper).await;
        let legal = write_in(&app, inbox, "m4", "u4", "legal question").await;
        eventually(Duration::from_secs(10), "legal routed", || async {
            let r = routing(&app, legal).await;
            (r["skills"]["legal"] == 5).then_some(())
        })
        .await;
        let claim = format!("/api/v1/conversations/{legal}/claim");
        let (s, b) = app
            .call(Method::POST, &claim, Some(&helper_token), None)
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{b}"
        );
        put_routing(
            &app,
            inbox,
            json!({"skills": {"sales": 1}, "allow_claim": true,
            "rules": [{"when": {"keywords": ["legal"]}, "then": {"skills": {"legal": 5}}}]}),
        )
        .await;
        let (s, b) = app
            .call(Method::POST, &claim, Some(&helper_token), None)
            .await;
        assert_eq!(
            (s, b["assignee_id"].as_i64()),
            (StatusCode::OK, Some(helper)),
            "{b}"
        );
        // Another member who may act on others' conversations still cannot take it.
        let (s, b) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/inboxes/{inbox}"),
                Some(json!({"others_access": "reply"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        app.join(inbox, solo).await;
        let (s, b) = app
            .call(Method::POST, &claim, Some(&solo_token), None)
            .await;
        assert_eq!(
            s,
            StatusCode::CONFLICT,
            "a claimed conversation cannot be claimed again: {b}"
        );
        let r = routing(&app, legal).await;
        assert_eq!(r["decision"]["reason"], "claim", "{r}");
        app.stop().await;
    }
}
