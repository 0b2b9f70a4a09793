//! Routing over time, on every backend: transfers to an agent, a skill set and a team;
//! re-queue when an agent goes offline; overflow stages and the `max_wait` message.

mod routing_support;

use std::time::Duration;

use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use routing_support::*;
use serde_json::{Value, json};

#[tokio::test]
async fn transfers_and_offline_requeue() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| c.routing.sweep_interval_ms = 200).await;
        let inbox = app.loopback_inbox(json!({"skills": {"sales": 1}})).await;
        let (first, first_token) = online_agent(&app, "first@x.io", json!({"sales": 3}), 3).await;
        let conv = write_in(&app, inbox, "m1", "u1", "hello").await;
        assigned_to(&app, conv, first).await;
        let (second, _) =
            online_agent(&app, "second@x.io", json!({"sales": 3, "billing": 2}), 3).await;

        // The assignee hands it to the billing skill set: back to the queue, then to the only
        // agent with billing ≥ 2 — not back to the transferring agent.
        let transfer = format!("/api/v1/conversations/{conv}/transfer");
        let (s, b) = app
            .call(
                Method::POST,
                &transfer,
                Some(&first_token),
                Some(json!({"skills": {"billing": 2}})),
            )
            .await;
        assert_eq!(
            (s, b["status"].as_str()),
            (StatusCode::OK, Some("queued")),
            "{b}"
        );
        assigned_to(&app, conv, second).await;
        let r = routing(&app, conv).await;
        assert_eq!(r["skills"], json!({"billing": 2}), "{r}");
        assert_eq!(r["history"].as_array().map(Vec::len), Some(2), "{r}");

        // Someone else's conversation is out of an agent's sight by default; where the inbox
        // lets agents answer others' conversations, moving it still needs a supervisor. The
        // body needs one target.
        let (s, _) = app
            .call(
                Method::POST,
                &transfer,
                Some(&first_token),
                Some(json!({"agent_id": first})),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, b) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/inboxes/{inbox}"),
                Some(json!({"others_access": "reply"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        app.join(inbox, first).await;
        let (s, _) = app
            .call(
                Method::POST,
                &transfer,
                Some(&first_token),
                Some(json!({"agent_id": first})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, b) = app
            .admin(
                Method::POST,
                &transfer,
                Some(json!({"agent_id": first, "team_id": 1})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

        // A supervisor transfers it straight to an agent.
        let (s, b) = app
            .admin(Method::POST, &transfer, Some(json!({"agent_id": first})))
            .await;
        assert_eq!(
            (s, b["assignee_id"].as_i64()),
            (StatusCode::OK, Some(first)),
            "{b}"
        );
        assert_eq!(routing(&app, conv).await["decision"]["reason"], "transfer");

        // To a team: only its member may take it.
        let (s, team) = app
            .admin(
                Method::POST,
                "/api/v1/teams",
                Some(json!({"name": "Tier 2", "agent_ids": [second]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{team}");
        let team_id = team["id"].as_i64().expect("team id");
        let (s, b) = app
            .admin(Method::POST, &transfer, Some(json!({"team_id": team_id})))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assigned_to(&app, conv, second).await;
        assert_eq!(routing(&app, conv).await["team_id"], team_id);

        // Offline: the agent's conversations go back to the queue and on to someone eligible.
        let (third, _) = online_agent(&app, "third@x.io", json!({"sales": 1}), 3).await;
        let (s, _) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/teams/{team_id}/members"),
                Some(json!({"agent_ids": [second, third]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let other = write_in(&app, inbox, "m2", "u2", "another").await;
        assigned(&app, other).await;
        set_status(&app, second, "offline").await;
        let now_with = assigned(&app, conv).await;
        assert_eq!(now_with, third, "the team's remaining member takes it");
        let (_, mine) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations?assignee_id={second}&status=assigned"),
                None,
            )
            .await;
        assert_eq!(
            mine["items"],
            json!([]),
            "nothing stays with an offline agent"
        );
        assert_ne!(assigned(&app, other).await, second);
        app.stop().await;
    }
}

#[tokio::test]
async fn offline_agents_keep_conversations_when_configured() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| c.routing.requeue_on_offline = false).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (agent, _) = online_agent(&app, "keep@x.io", json!({}), 2).await;
        let conv = write_in(&app, inbox, "m1", "u1", "hello").await;
        assigned_to(&app, conv, agent).await;
        set_status(&app, agent, "offline").await;
        // A full round (as the sweep runs it) leaves the conversation with them.
        let report = app.state.dispatcher.run_round().await.expect("round");
        assert_eq!(report.requeued, 0);
        let c = conversation(&app, conv).await;
        assert_eq!(
            (c["status"].as_str(), c["assignee_id"].as_i64()),
            (Some("assigned"), Some(agent))
        );
        app.stop().await;
    }
}

fn system_messages(items: &Value) -> Vec<Value> {
    items["items"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| m["sender"]["type"] == "system")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn overflow_widens_requirements_and_max_wait_tells_the_customer_once() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        put_routing(&app, inbox, json!({
            "skills": {"vip": 5},
            "overflow": {"overflow_after_secs": 2, "step_secs": 1,
                         "max_wait_secs": 1, "max_wait_message": "Thanks for waiting, we are on it."}
        }))
        .await;
        let (junior, _) = online_agent(&app, "junior@x.io", json!({"vip": 2}), 1).await;
        let (anyone, _) = online_agent(&app, "anyone@x.io", json!({"other": 1}), 1).await;

        let started = std::time::Instant::now();
        let first = write_in(&app, inbox, "m1", "u1", "hello").await;
        let second = write_in(&app, inbox, "m2", "u2", "hello too").await;

        // After max_wait: a system message to each customer, once; still queued.
        let path = format!("/api/v1/conversations/{first}/messages");
        let notice = eventually(Duration::from_secs(10), "max_wait message", || async {
            let (_, b) = app.admin(Method::GET, &path, None).await;
            system_messages(&b).first().cloned()
        })
        .await;
        assert_eq!(
            notice["content"]["text"],
            "Thanks for waiting, we are on it."
        );
        assert_eq!(notice["direction"], "outbound");
        // The delivery pipeline sends it through the customer's channel.
        assert!(
            ["pending", "sent"]
                .contains(&notice["delivery"]["status"].as_str().unwrap_or_default()),
            "{notice}"
        );
        let sent = app
            .provider
            .wait_delivered(1, Duration::from_secs(10))
            .await;
        assert!(
            sent.iter()
                .any(|m| m.content.text == "Thanks for waiting, we are on it."),
            "the notice reached the provider"
        );
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "not before max_wait"
        );

        // Stage 1 (any level) at 2 s: the junior takes the first; the second waits (junior
        // full) until stage 2 (any skill) at 3 s lets the other agent take it.
        assigned_to(&app, first, junior).await;
        let r = routing(&app, first).await;
        assert_eq!(r["decision"]["explanation"]["stage"], "any_level", "{r}");
        assert!(started.elapsed() >= Duration::from_secs(2));
        assigned_to(&app, second, anyone).await;
        let r = routing(&app, second).await;
        assert_eq!(r["decision"]["explanation"]["stage"], "any_skill", "{r}");
        assert!(started.elapsed() >= Duration::from_secs(3));

        for conv in [first, second] {
            let (_, b) = app
                .admin(
                    Method::GET,
                    &format!("/api/v1/conversations/{conv}/messages"),
                    None,
                )
                .await;
            assert_eq!(system_messages(&b).len(), 1, "told once: {b}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn returning_contacts_get_their_previous_agent_within_the_window() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let sticky = app.loopback_inbox(json!({})).await;
        put_routing(&app, sticky, json!({"sticky_window_secs": 3600})).await;
        let plain = app.loopback_inbox(json!({})).await;
        let (first, _) = online_agent(&app, "first@x.io", json!({}), 3).await;
        let conv = write_in(&app, sticky, "m1", "u1", "hello").await;
        assigned_to(&app, conv, first).await;
        let (second, _) = online_agent(&app, "second@x.io", json!({}), 3).await;
        let (s, _) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/resolve"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);

        // Both are idle; the second was never assigned and would win on idle time, but the
        // returning customer goes back to the first.
        let again = write_in(&app, sticky, "m2", "u1", "me again").await;
        assert_ne!(again, conv);
        assigned_to(&app, again, first).await;
        let r = routing(&app, again).await;
        assert_eq!(r["decision"]["reason"], "sticky", "{r}");
        assert_eq!(
            r["decision"]["explanation"]["winner_criteria"],
            "previous_agent"
        );

        // Without a window the policy decides: least loaded is the second agent.
        let other = write_in(&app, plain, "m3", "u1", "elsewhere").await;
        assigned_to(&app, other, second).await;
        app.stop().await;
    }
}
