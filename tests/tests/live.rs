//! The live dashboard's snapshot (`GET /api/v1/reports/live`), its events on a supervisor's
//! socket, and the same figures on `/metrics`, on every backend.
//!
//! A scripted floor: two inboxes; Sue supervises the shop inbox, Alice (capacity 1) works in
//! it, Bob in the mail inbox. Three customers write to the shop and one to the mail inbox while
//! everyone is offline, so all four wait; Alice comes online and routing gives her one, which
//! fills her capacity. The two shop conversations still queued are then given fixed queue
//! times, so the oldest wait is exact. Admin and supervisor must each see exactly their part.

use std::time::Duration;

use chrono::{DateTime, Utc};
use kefu_normalizer::entity::conversation;
use kefu_tests::ws::{connect, next_where, send};
use kefu_tests::{TestApp, backends, eventually, msg};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("a valid time")
        .with_timezone(&Utc)
}

async fn set_status(app: &TestApp, id: i64, status: &str) {
    let (s, b) = app
        .admin(
            Method::PUT,
            &format!("/api/v1/agents/{id}/status"),
            Some(json!({"status": status})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

/// The queue of `inbox` in a snapshot.
fn queue(snap: &Value, inbox: i64) -> Value {
    snap["queues"]
        .as_array()
        .and_then(|qs| qs.iter().find(|q| q["inbox_id"] == inbox))
        .cloned()
        .unwrap_or_else(|| panic!("no queue of inbox {inbox} in {snap}"))
}

async fn live(app: &TestApp, token: &str) -> Value {
    let (s, b) = app
        .call(Method::GET, "/api/v1/reports/live", Some(token), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b
}

/// The ids of the conversations of `inbox` with `status`.
async fn with_status(app: &TestApp, inbox: i64, status: &str) -> Vec<i64> {
    app.conversations(inbox)
        .await
        .iter()
        .filter(|c| c["status"] == status)
        .filter_map(|c| c["id"].as_i64())
        .collect()
}

#[tokio::test]
async fn the_live_snapshot_counts_queues_presence_and_load() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let shop = app.loopback_inbox(json!({})).await;
        let mail = app.loopback_inbox(json!({})).await;
        let (sue, sue_token) = app.agent("sue@x.io", "supervisor", json!({})).await;
        let (alice, alice_token) = app.agent("alice@x.io", "agent", json!({})).await;
        let (bob, _) = app.agent("bob@x.io", "agent", json!({})).await;
        app.join(shop, sue).await;
        app.join(shop, alice).await;
        app.join(mail, bob).await;
        let (s, b) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/agents/{alice}"),
                Some(json!({"max_concurrent": 1})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");

        // Agents see no dashboard.
        let (s, _) = app
            .call(
                Method::GET,
                "/api/v1/reports/live",
                Some(&alice_token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        for (n, who) in ["ann", "ben", "cat"].into_iter().enumerate() {
            let (s, b) = app
                .inbound(shop, &msg(&format!("s{n}"), who, "hello"))
                .await;
            assert!(s.is_success(), "{b}");
        }
        let (s, b) = app.inbound(mail, &msg("m0", "dan", "hello")).await;
        assert!(s.is_success(), "{b}");
        app.until_event("four queued conversations", || async {
            let n = with_status(&app, shop, "queued").await.len()
                + with_status(&app, mail, "queued").await.len();
            (n == 4).then_some(())
        })
        .await;

        // Sue's socket hears of her inbox's conversations and of agents' presence.
        let mut sue_ws = connect(&app.base, &format!("/ws/agent?token={sue_token}")).await;
        // The pong says the socket follows the bus.
        send(&mut sue_ws, json!({"type": "ping"})).await;
        next_where(&mut sue_ws, "pong", |f| f["type"] == "pong").await;
        set_status(&app, alice, "online").await;
        let assigned = app
            .until_event("Alice gets one", || async {
                let a = with_status(&app, shop, "assigned").await;
                (a.len() == 1).then(|| a[0])
            })
            .await;
        next_where(&mut sue_ws, "Alice's status change", |f| {
            f["event"]["type"] == "agent.status_changed"
        })
        .await;
        next_where(&mut sue_ws, "the assignment in her inbox", |f| {
            f["event"]["type"] == "conversation.assigned"
                && f["event"]["data"]["id"].as_i64() == Some(assigned)
        })
        .await;
        set_status(&app, bob, "away").await;

        // Fixed queue times for the two shop conversations still waiting.
        let mut waiting = with_status(&app, shop, "queued").await;
        waiting.sort_unstable();
        assert_eq!(waiting.len(), 2);
        for (id, at) in waiting
            .iter()
            .zip(["2026-03-02T09:00:00Z", "2026-03-02T09:30:00Z"])
        {
            conversation::ActiveModel {
                id: Set(*id),
                queued_at: Set(Some(t(at))),
                ..Default::default()
            }
            .update(app.state.db.conn())
            .await
            .expect("queue time set");
        }
        let mail_conv = conversation::Entity::find()
            .filter(conversation::Column::InboxId.eq(mail))
            .one(app.state.db.conn())
            .await
            .expect("query")
            .expect("the mail conversation");
        let mail_since = mail_conv.queued_at.unwrap_or(mail_conv.created_at);

        // The admin sees both inboxes and every agent.
        let all = live(&app, &app.admin_token).await;
        let at = t(all["at"].as_str().expect("at"));
        let wait = |since: DateTime<Utc>| (at - since).num_milliseconds() as f64 / 1000.0;
        let (shop_q, mail_q) = (queue(&all, shop), queue(&all, mail));
        assert_eq!(shop_q["queued"], 2, "{all}");
        assert_eq!(
            t(shop_q["oldest_since"].as_str().expect("since")),
            t("2026-03-02T09:00:00Z")
        );
        assert_eq!(
            shop_q["oldest_wait_secs"].as_f64(),
            Some(wait(t("2026-03-02T09:00:00Z"))),
            "{all}"
        );
        assert_eq!(mail_q["queued"], 1, "{all}");
        assert_eq!(
            t(mail_q["oldest_since"].as_str().expect("since")),
            mail_since
        );
        // Besides the two, the web chat inbox every installation starts with, empty.
        assert_eq!(all["queues"].as_array().map(Vec::len), Some(3), "{all}");
        let website: Vec<&Value> = all["queues"]
            .as_array()
            .expect("queues")
            .iter()
            .filter(|q| q["inbox_id"] != shop && q["inbox_id"] != mail)
            .collect();
        assert_eq!(website[0]["queued"], 0, "{all}");
        assert_eq!(website[0]["oldest_since"], Value::Null, "{all}");
        // The bootstrap admin and Sue are offline, Alice busy (1 of 1), Bob away.
        assert_eq!(
            all["presence"],
            json!({"online": 0, "busy": 1, "away": 1, "offline": 2}),
            "{all}"
        );
        let load: Vec<Value> = all["agents"]
            .as_array()
            .expect("agents")
            .iter()
            .filter(|a| a["agent_id"] == alice)
            .cloned()
            .collect();
        assert_eq!(
            load,
            vec![
                json!({"agent_id": alice, "name": "alice@x.io", "presence": "busy",
                "open_conversations": 1, "capacity": 1})
            ]
        );

        // Sue sees her inbox and its agents only.
        let hers = live(&app, &sue_token).await;
        assert_eq!(hers["queues"].as_array().map(Vec::len), Some(1), "{hers}");
        assert_eq!(hers["queues"][0]["inbox_id"], shop, "{hers}");
        assert_eq!(hers["queues"][0]["queued"], 2, "{hers}");
        let ids: Vec<i64> = hers["agents"]
            .as_array()
            .expect("agents")
            .iter()
            .filter_map(|a| a["agent_id"].as_i64())
            .collect();
        assert_eq!(ids, vec![sue, alice], "{hers}");
        assert_eq!(
            hers["presence"],
            json!({"online": 0, "busy": 1, "away": 0, "offline": 1}),
            "{hers}"
        );

        // A new conversation in Sue's inbox reaches her socket and the snapshot.
        let (s, b) = app.inbound(shop, &msg("s9", "eve", "hi")).await;
        assert!(s.is_success(), "{b}");
        next_where(&mut sue_ws, "the new conversation", |f| {
            f["event"]["type"] == "conversation.created"
        })
        .await;
        let hers = live(&app, &sue_token).await;
        assert_eq!(queue(&hers, shop)["queued"], 3, "{hers}");

        // The same figures on /metrics, and Alice's first response in the histogram.
        let (s, b) = app
            .call(
                Method::POST,
                &format!("/api/v1/conversations/{assigned}/messages"),
                Some(&alice_token),
                Some(json!({"text": "On it."})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let scrape = || async {
            app.client
                .get(format!("{}/metrics", app.base))
                .send()
                .await
                .expect("metrics")
                .text()
                .await
                .expect("metrics body")
        };
        // The metric events are written by the outbox consumer after the events are relayed, so
        // nothing signals them: poll with a deadline.
        let text = eventually(Duration::from_secs(30), || async {
            let text = scrape().await;
            text.lines()
                .any(|l| {
                    l.starts_with("kefu_report_first_response_seconds_count{channel=\"loopback\"}")
                })
                .then_some(text)
        })
        .await
        .expect("the first response observed on /metrics");
        for line in [
            format!("kefu_queue_conversations{{inbox_id=\"{shop}\"}} 3"),
            format!("kefu_queue_conversations{{inbox_id=\"{mail}\"}} 1"),
            "kefu_agents{presence=\"busy\"} 1".to_owned(),
            "kefu_agents{presence=\"away\"} 1".to_owned(),
            "kefu_agents{presence=\"offline\"} 2".to_owned(),
            format!("kefu_agent_open_conversations{{agent_id=\"{alice}\"}} 1"),
            format!("kefu_agent_capacity{{agent_id=\"{alice}\"}} 1"),
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
        let oldest = text
            .lines()
            .find_map(|l| {
                l.strip_prefix(&format!(
                    "kefu_queue_oldest_wait_seconds{{inbox_id=\"{shop}\"}} "
                ))
            })
            .and_then(|v| v.parse::<f64>().ok())
            .expect("the shop's oldest wait");
        assert!(oldest >= wait(t("2026-03-02T09:00:00Z")), "{oldest}");
        app.stop().await;
    }
}
