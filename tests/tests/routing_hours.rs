//! Overflow in business time, on every backend: a conversation that waited over a closed
//! stretch does not overflow when its inbox opens, only after `overflow_after` of open time.

mod routing_support;

use std::time::Duration;

use chrono::{DateTime, Datelike, Timelike, Utc};
use kefu_normalizer::entity::conversation;
use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use routing_support::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[tokio::test]
async fn a_closed_stretch_does_not_count_towards_overflow() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| c.routing.sweep_interval_ms = 200).await;
        let inbox = app.loopback_inbox(json!({})).await;
        // Only an agent below the required level: the conversation is assigned at stage 1 (any
        // level), never before.
        let (junior, _) = online_agent(&app, "junior@x.io", json!({"vip": 2}), 1).await;

        // Open (UTC) from the start of the current minute to the end of tomorrow; closed on
        // every other day, so two days ago was closed.
        let now = Utc::now();
        let opened = now
            .with_second(0)
            .and_then(|t| t.with_nanosecond(0))
            .expect("a minute");
        let today = now.weekday().num_days_from_monday() as usize;
        let mut weekly = serde_json::Map::new();
        weekly.insert(
            DAYS[today].into(),
            json!([[format!("{:02}:{:02}", now.hour(), now.minute()), "24:00"]]),
        );
        weekly.insert(DAYS[(today + 1) % 7].into(), json!([["00:00", "24:00"]]));
        let (s, schedule) = app
            .admin(
                Method::POST,
                "/api/v1/schedules",
                Some(json!({"name": "today", "time_zone": "UTC", "weekly": Value::Object(weekly)})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{schedule}");
        let (s, b) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/inboxes/{inbox}"),
                Some(json!({"schedule_id": schedule["id"]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");

        // Overflow after the open time so far plus three seconds.
        let open_so_far = (now - opened).num_seconds();
        let after = open_so_far + 3;
        put_routing(
            &app,
            inbox,
            json!({"skills": {"vip": 5}, "overflow": {"overflow_after_secs": after}}),
        )
        .await;

        let conv = write_in(&app, inbox, "m1", "u1", "hello").await;
        // It queued two days ago, before the closed stretch: by the wall clock it is long past
        // `overflow_after`.
        let queued_at = now - chrono::Duration::days(2);
        conversation::Entity::update_many()
            .col_expr(conversation::Column::QueuedAt, Expr::value(queued_at))
            .filter(conversation::Column::Id.eq(conv))
            .exec(app.state.db.conn())
            .await
            .expect("backdate");

        // A round routes it for its new queue time and leaves it queued, because only the open
        // time since the inbox opened counts; after `overflow_after` of open time the junior
        // takes it at stage 1 (any level). By the wall clock it would have gone at once.
        eventually(
            Duration::from_secs(10),
            "routed for the new queue time",
            || async {
                let r = routing(&app, conv).await;
                let routed = r["routed_for"]
                    .as_str()
                    .and_then(|t| t.parse::<DateTime<Utc>>().ok());
                routed.filter(|t| *t < now - chrono::Duration::days(1))
            },
        )
        .await;
        assigned_to(&app, conv, junior).await;
        let r = routing(&app, conv).await;
        assert_eq!(r["decision"]["explanation"]["stage"], "any_level", "{r}");
        let decided: DateTime<Utc> = r["decision"]["decided_at"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .expect("decided_at");
        assert!(
            decided - opened >= chrono::Duration::seconds(after),
            "assigned at {decided}, before {after} s of open time since {opened}"
        );
        app.stop().await;
    }
}
