//! Reports, on every backend.
//!
//! A scripted day: conversations over web chat and the app channel with replies by two agents,
//! a private note, a system message, a transfer, a reopen, resolutions and ratings. The day's
//! events carry their own times (the report counts when things happened, not when they were
//! measured), so they are handed to the outbox consumer's [`Metrics`] with chosen timestamps
//! and the figures are exact. The report API must return the figures computed by hand below,
//! per agent, team and channel and per day, in wall and in business time; the CSV export must
//! say the same, and so must the raw metric events' export; consuming the batch again must
//! change nothing. A second test drives a real
//! conversation through the API and checks the pipeline credits its first response to the
//! agent who sent it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use kefu_normalizer::events::NewConversation;
use kefu_normalizer::reports::histogram::round3;
use kefu_normalizer::reports::{Metrics, ReportFilter, ReportRange, stats};
use kefu_normalizer::{Event, EventData};
use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn t(local: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(local)
        .expect("a valid time")
        .with_timezone(&Utc)
}

/// The ids of the scripted day's people and places.
struct Cast {
    web: i64,
    app: i64,
    alice: i64,
    bob: i64,
    team: i64,
}

/// Builds the day's events in outbox order.
struct Script {
    events: Vec<Arc<Event>>,
    next_id: i64,
}

impl Script {
    fn push(&mut self, at: DateTime<Utc>, conv: i64, data: EventData) {
        self.next_id += 1;
        self.events.push(Arc::new(Event {
            id: self.next_id,
            timestamp: at,
            conversation_id: Some(conv),
            data,
        }));
    }

    fn conv(
        id: i64,
        inbox: i64,
        status: &str,
        assignee: Option<i64>,
        team: Option<i64>,
        created: &str,
    ) -> kefu_normalizer::views::ConversationView {
        serde_json::from_value(json!({
            "id": id, "inbox_id": inbox, "contact": {"id": 1, "name": null, "email": null},
            "status": status, "priority": 0, "skills": {}, "assignee_id": assignee,
            "team_id": team, "subject": null, "last_seq": 1, "created_at": t(created),
            "last_message_at": t(created),
        }))
        .expect("a conversation view")
    }

    fn opened(&mut self, id: i64, inbox: i64, at: &str) {
        let c = Self::conv(id, inbox, "queued", None, None, at);
        self.push(
            t(at),
            id,
            EventData::ConversationCreated(NewConversation {
                conversation: c,
                external_id: None,
            }),
        );
    }

    /// A conversation event (`assigned`, `transferred`, `resolved`, `reopened`).
    fn state(
        &mut self,
        kind: &str,
        id: i64,
        inbox: i64,
        assignee: Option<i64>,
        team: Option<i64>,
        at: &str,
    ) {
        let status = match kind {
            "assigned" => "assigned",
            "transferred" => "transferring",
            "resolved" => "resolved",
            _ => "queued",
        };
        let c = Self::conv(id, inbox, status, assignee, team, "2026-03-01T00:00:00Z");
        let data = match kind {
            "assigned" => EventData::ConversationAssigned(c),
            "transferred" => EventData::ConversationTransferred(c),
            "resolved" => EventData::ConversationResolved(c),
            _ => EventData::ConversationReopened(c),
        };
        self.push(t(at), id, data);
    }

    /// A message into or out of conversation `id`: `sender` is `contact`, `agent` or
    /// `system`.
    fn message(&mut self, id: i64, sender: &str, agent: Option<i64>, private: bool, at: &str) {
        self.next_id += 1;
        let direction = if sender == "contact" {
            "inbound"
        } else {
            "outbound"
        };
        let m = serde_json::from_value(json!({
            "id": self.next_id, "conversation_id": id, "seq": self.next_id,
            "direction": direction, "private": private,
            "sender": {"type": sender, "id": agent, "name": null},
            "content": {"text": "…", "attachments": []},
            "created_at": t(at),
        }))
        .expect("a message view");
        self.push(t(at), id, EventData::MessageCreated(m));
    }

    /// A rating of conversation `id`, given in `(inbox, channel)`.
    fn rating(
        &mut self,
        id: i64,
        (inbox, channel): (i64, &str),
        agent: i64,
        team: Option<i64>,
        rating: i16,
        at: &str,
    ) {
        let s = serde_json::from_value(json!({
            "id": id, "conversation_id": id, "inbox_id": inbox, "contact_id": 1,
            "agent_id": agent, "team_id": team, "channel": channel, "status": "submitted",
            "rating": rating, "comment": null, "requested_at": t(at), "submitted_at": t(at),
        }))
        .expect("a survey view");
        self.push(t(at), id, EventData::CsatSubmitted(s));
    }
}

/// The scripted day, 2026-03-02 in Shanghai (times are local, +08:00).
fn day(c: &Cast) -> Vec<Arc<Event>> {
    let mut s = Script {
        events: Vec::new(),
        next_id: 50_000_000,
    };
    let (a, b) = (Some(c.alice), Some(c.bob));
    // 1 (web chat): assigned to Alice; Alice writes a private note; Bob answers first
    // (120 s, Bob's first response, not Alice's); Alice resolves (1800 s); rated 5.
    s.opened(1, c.web, "2026-03-02T09:00:00+08:00");
    s.message(1, "contact", None, false, "2026-03-02T09:00:00+08:00");
    s.state("assigned", 1, c.web, a, None, "2026-03-02T09:00:30+08:00");
    s.message(1, "agent", a, true, "2026-03-02T09:01:00+08:00");
    s.message(1, "agent", b, false, "2026-03-02T09:02:00+08:00");
    s.message(1, "agent", a, false, "2026-03-02T09:05:00+08:00");
    s.state("resolved", 1, c.web, a, None, "2026-03-02T09:30:00+08:00");
    s.rating(
        1,
        (c.web, "web_chat"),
        c.alice,
        None,
        5,
        "2026-03-02T09:40:00+08:00",
    );
    // 2 (app): Alice answers (240 s); transferred to Bob's team; Bob resolves (3600 s); the
    // customer reopens at 14:00 and Bob answers in 90 s (a new cycle: the first response of
    // the first cycle stays 240 s) and resolves again (1800 s after the reopen); rated 3.
    s.opened(2, c.app, "2026-03-02T10:00:00+08:00");
    s.state("assigned", 2, c.app, a, None, "2026-03-02T10:01:00+08:00");
    s.message(2, "agent", a, false, "2026-03-02T10:04:00+08:00");
    let team = Some(c.team);
    s.state(
        "transferred",
        2,
        c.app,
        None,
        team,
        "2026-03-02T10:10:00+08:00",
    );
    s.state("assigned", 2, c.app, b, team, "2026-03-02T10:10:20+08:00");
    s.message(2, "agent", b, false, "2026-03-02T10:15:00+08:00");
    s.state("resolved", 2, c.app, b, team, "2026-03-02T11:00:00+08:00");
    s.state("reopened", 2, c.app, b, team, "2026-03-02T14:00:00+08:00");
    s.message(2, "contact", None, false, "2026-03-02T14:00:00+08:00");
    s.message(2, "agent", b, false, "2026-03-02T14:01:30+08:00");
    s.state("resolved", 2, c.app, b, team, "2026-03-02T14:30:00+08:00");
    s.rating(
        2,
        (c.app, "app_push"),
        c.bob,
        team,
        3,
        "2026-03-02T15:00:00+08:00",
    );
    // 3 (web chat): an automatic system message is not a response; Bob answers in 400 s.
    s.opened(3, c.web, "2026-03-02T16:00:00+08:00");
    s.message(3, "system", None, false, "2026-03-02T16:00:05+08:00");
    s.state("assigned", 3, c.web, b, None, "2026-03-02T16:00:10+08:00");
    s.message(3, "agent", b, false, "2026-03-02T16:06:40+08:00");
    // 4 (app): Alice answers in 1200 s, late in the evening.
    s.opened(4, c.app, "2026-03-02T23:30:00+08:00");
    s.message(4, "agent", a, false, "2026-03-02T23:50:00+08:00");
    // 5 (app): opened the day before, answered after midnight by Alice (4200 s): its first
    // response counts on the 2nd, its opening on the 1st.
    s.opened(5, c.app, "2026-03-01T23:00:00+08:00");
    s.message(5, "agent", a, false, "2026-03-02T00:10:00+08:00");
    s.events
}

/// `{conversations, first_response_secs, resolution_secs, csat}` as the API writes them.
fn figures(
    conversations: u64,
    first: (Option<f64>, Option<f64>),
    resolution: (Option<f64>, Option<f64>),
    csat: (u64, Option<f64>),
) -> Value {
    json!({
        "conversations": conversations,
        "first_response_secs": {"median": first.0, "p90": first.1},
        "resolution_secs": {"median": resolution.0, "p90": resolution.1},
        "csat": {"responses": csat.0, "average": csat.1},
    })
}

fn only_figures(v: &Value) -> Value {
    json!({
        "conversations": v["conversations"],
        "first_response_secs": v["first_response_secs"],
        "resolution_secs": v["resolution_secs"],
        "csat": v["csat"],
    })
}

async fn report(app: &TestApp, path: &str) -> Value {
    let (s, body) = app.admin(Method::GET, path, None).await;
    assert_eq!(s, StatusCode::OK, "{path}: {body}");
    body
}

/// The CSV export of `path`, as rows of fields keyed by the header.
async fn csv(app: &TestApp, path: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    csv_of(app, &format!("{path}&format=csv")).await
}

/// The CSV `path` answers, as rows of fields keyed by the header.
async fn csv_of(app: &TestApp, path: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let resp = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .expect("csv request");
    assert_eq!(resp.status(), StatusCode::OK);
    let kind = resp.headers()[reqwest::header::CONTENT_TYPE].clone();
    assert!(
        kind.to_str().unwrap_or("").starts_with("text/csv"),
        "{kind:?}"
    );
    let text = resp.text().await.expect("csv body");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split(','))
                .map(|(h, v)| ((*h).to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// The CSV row says what the JSON figures say.
fn same(row: &std::collections::BTreeMap<String, String>, f: &Value) {
    let num = |v: &Value| v.as_f64().map(|x| x.to_string()).unwrap_or_default();
    let want = [
        ("conversations", f["conversations"].to_string()),
        (
            "first_response_median_secs",
            num(&f["first_response_secs"]["median"]),
        ),
        (
            "first_response_p90_secs",
            num(&f["first_response_secs"]["p90"]),
        ),
        (
            "resolution_median_secs",
            num(&f["resolution_secs"]["median"]),
        ),
        ("resolution_p90_secs", num(&f["resolution_secs"]["p90"])),
        ("csat_responses", f["csat"]["responses"].to_string()),
        ("csat_average", num(&f["csat"]["average"])),
    ];
    for (col, v) in want {
        assert_eq!(row[col], v, "{col} in {row:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scripted_day_gives_the_figures_computed_by_hand() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (s, list) = app.admin(Method::GET, "/api/v1/inboxes", None).await;
        assert_eq!(s, StatusCode::OK, "{list}");
        let web = list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["channel"]["type"] == "web_chat")
            .and_then(|i| i["id"].as_i64())
            .expect("the default web chat inbox");
        let (s, inbox) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(json!({"name": "Mobile app", "channel": {"type": "app_push", "app_secret": "app-secret-for-reports"}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{inbox}");
        let app_inbox = inbox["id"].as_i64().expect("inbox id");
        // The app inbox is staffed on weekdays from 9 to 6 in Shanghai (the 2nd is a Monday).
        let (s, schedule) = app
            .admin(
                Method::POST,
                "/api/v1/schedules",
                Some(json!({"name": "Office", "time_zone": "Asia/Shanghai",
                    "weekly": {"mon": [["09:00", "18:00"]], "tue": [["09:00", "18:00"]]}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{schedule}");
        let (s, body) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/inboxes/{app_inbox}"),
                Some(json!({"schedule_id": schedule["id"]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (alice, _) = app.agent("alice@example.com", "agent", json!({})).await;
        let (bob, bob_token) = app.agent("bob@example.com", "agent", json!({})).await;
        let (s, team) = app
            .admin(
                Method::POST,
                "/api/v1/teams",
                Some(json!({"name": "Tier 2", "agent_ids": [bob]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{team}");
        let cast = Cast {
            web,
            app: app_inbox,
            alice,
            bob,
            team: team["id"].as_i64().expect("team id"),
        };
        let events = day(&cast);
        let metrics = Metrics::new(app.state.db.clone());
        metrics.record(&events).await.expect("recorded");
        // Consumed again (a crash before the batch was marked), whole and from the middle:
        // nothing counts twice.
        metrics.record(&events).await.expect("recorded again");
        metrics.record(&events[10..]).await.expect("the tail again");

        let day = "from=2026-03-02&to=2026-03-02&tz=Asia/Shanghai";
        // Agents. Alice: replied in 1, 2, 4 and 5; first responses 240, 1200, 4200; resolved
        // 1 (1800); rated 5. Bob: replied in 1, 2 and 3; first responses 120, 90 (after the
        // reopen), 400; resolved 2 twice (3600, 1800); rated 3.
        let agents = report(&app, &format!("/api/v1/reports/agents?{day}")).await;
        let items = agents["items"].as_array().expect("items");
        assert_eq!(items.len(), 2, "{agents}");
        assert_eq!(items[0]["agent_id"], alice);
        assert_eq!(items[0]["name"], "alice@example.com");
        assert_eq!(
            only_figures(&items[0]),
            figures(
                4,
                (Some(1200.0), Some(4200.0)),
                (Some(1800.0), Some(1800.0)),
                (1, Some(5.0))
            )
        );
        assert_eq!(items[1]["agent_id"], bob);
        assert_eq!(
            only_figures(&items[1]),
            figures(
                3,
                (Some(120.0), Some(400.0)),
                (Some(2700.0), Some(3600.0)),
                (1, Some(3.0))
            )
        );
        // The whole day: 5 conversations had a reply; first responses 90, 120, 240, 400,
        // 1200, 4200 (median 320, p90 the 6th); resolutions 1800, 1800, 3600.
        let all = figures(
            5,
            (Some(320.0), Some(4200.0)),
            (Some(1800.0), Some(3600.0)),
            (2, Some(4.0)),
        );
        assert_eq!(only_figures(&agents), all);

        // Channels. Web chat: 1 and 3 opened; first responses 120, 400; resolution 1800;
        // rated 5. App: 2 and 4 opened that day (5 the day before); first responses 240,
        // 90, 1200, 4200; resolutions 3600, 1800; rated 3.
        let channels = report(&app, &format!("/api/v1/reports/channels?{day}")).await;
        let items = channels["items"].as_array().expect("items");
        assert_eq!(items.len(), 2, "{channels}");
        assert_eq!(items[0]["channel"], "app_push");
        assert_eq!(
            only_figures(&items[0]),
            figures(
                2,
                (Some(720.0), Some(4200.0)),
                (Some(2700.0), Some(3600.0)),
                (1, Some(3.0))
            )
        );
        assert_eq!(items[1]["channel"], "web_chat");
        assert_eq!(
            only_figures(&items[1]),
            figures(
                2,
                (Some(260.0), Some(400.0)),
                (Some(1800.0), Some(1800.0)),
                (1, Some(5.0))
            )
        );
        assert_eq!(
            only_figures(&channels),
            figures(
                4,
                (Some(320.0), Some(4200.0)),
                (Some(1800.0), Some(3600.0)),
                (2, Some(4.0))
            )
        );

        // In business time the app's night-time waits count nothing: first responses 240,
        // 90, 0 (23:30 to 23:50) and 0 (Sunday 23:00 to Monday 00:10); its resolutions were
        // in office hours. Web chat keeps no schedule: wall time.
        let business = report(
            &app,
            &format!("/api/v1/reports/channels?{day}&clock=business"),
        )
        .await;
        assert_eq!(business["items"][0]["channel"], "app_push");
        assert_eq!(
            only_figures(&business["items"][0]),
            figures(
                2,
                (Some(45.0), Some(240.0)),
                (Some(2700.0), Some(3600.0)),
                (1, Some(3.0))
            )
        );
        assert_eq!(
            only_figures(&business["items"][1]),
            only_figures(&channels["items"][1])
        );

        // Teams: only 2 was the team's, from its transfer on.
        let teams = report(&app, &format!("/api/v1/reports/teams?{day}")).await;
        let items = teams["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "{teams}");
        assert_eq!(items[0]["team_id"], cast.team);
        assert_eq!(items[0]["name"], "Tier 2");
        assert_eq!(
            only_figures(&items[0]),
            figures(
                1,
                (Some(90.0), Some(90.0)),
                (Some(2700.0), Some(3600.0)),
                (1, Some(3.0))
            )
        );

        // Inboxes say what channels say here (one inbox per channel).
        let inboxes = report(&app, &format!("/api/v1/reports/inboxes?{day}")).await;
        let by_inbox: Vec<(Value, Value)> = inboxes["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| (i["inbox_id"].clone(), only_figures(i)))
            .collect();
        let web_figures = only_figures(&channels["items"][1]);
        let app_figures = only_figures(&channels["items"][0]);
        assert!(by_inbox.contains(&(json!(web), web_figures)), "{inboxes}");
        assert!(
            by_inbox.contains(&(json!(app_inbox), app_figures)),
            "{inboxes}"
        );

        // Overview per day over two days: the 1st opened 5; the 2nd opened 4 and holds every
        // response, resolution and rating.
        let two_days = "from=2026-03-01&to=2026-03-02&tz=Asia/Shanghai";
        let overview = report(&app, &format!("/api/v1/reports/overview?{two_days}")).await;
        assert_eq!(overview["from"], "2026-02-28T16:00:00Z");
        assert_eq!(overview["to"], "2026-03-02T16:00:00Z");
        let items = overview["items"].as_array().expect("items");
        assert_eq!(items.len(), 2, "{overview}");
        assert_eq!(items[0]["date"], "2026-03-01");
        assert_eq!(
            only_figures(&items[0]),
            figures(1, (None, None), (None, None), (0, None))
        );
        assert_eq!(items[1]["date"], "2026-03-02");
        assert_eq!(
            only_figures(&items[1]),
            figures(
                4,
                (Some(320.0), Some(4200.0)),
                (Some(1800.0), Some(3600.0)),
                (2, Some(4.0))
            )
        );
        assert_eq!(
            only_figures(&overview),
            figures(
                5,
                (Some(320.0), Some(4200.0)),
                (Some(1800.0), Some(3600.0)),
                (2, Some(4.0))
            )
        );

        // Filters: web chat only, Alice only.
        let alice_web = report(
            &app,
            &format!("/api/v1/reports/overview?{day}&channel=web_chat&agent_id={alice}"),
        )
        .await;
        assert_eq!(
            only_figures(&alice_web),
            figures(
                1,
                (None, None),
                (Some(1800.0), Some(1800.0)),
                (1, Some(5.0))
            )
        );

        // The CSV exports say the same, line by line, with a total line.
        for (path, body, key) in [
            (format!("/api/v1/reports/agents?{day}"), &agents, "agent_id"),
            (
                format!("/api/v1/reports/channels?{day}"),
                &channels,
                "channel",
            ),
            (
                format!("/api/v1/reports/overview?{two_days}"),
                &overview,
                "date",
            ),
        ] {
            let rows = csv(&app, &path).await;
            let items = body["items"].as_array().expect("items");
            assert_eq!(rows.len(), items.len() + 1, "{path}: {rows:?}");
            for (row, item) in rows.iter().zip(items) {
                let k = item[key]
                    .as_str()
                    .map_or_else(|| item[key].to_string(), str::to_owned);
                assert_eq!(row[key], k, "{path}");
                same(row, item);
            }
            let total = rows.last().expect("a total line");
            assert_eq!(total[key], "total");
            same(total, body);
        }

        // The raw metric events say the same: each agent's first responses in the export
        // give the report's median, and the conversations opened its count.
        let events = csv_of(&app, &format!("/api/v1/reports/events?{day}")).await;
        assert!(!events.is_empty());
        for item in agents["items"].as_array().expect("items") {
            let agent = item["agent_id"].to_string();
            let mut ms: Vec<i64> = events
                .iter()
                .filter(|e| e["kind"] == "first_response" && e["agent_id"] == agent)
                .map(|e| round3(e["wall_ms"].parse().expect("a duration")))
                .collect();
            assert_eq!(
                stats::median(&mut ms).map(stats::secs),
                item["first_response_secs"]["median"].as_f64(),
                "{agent}: {ms:?}"
            );
        }
        let events = csv_of(
            &app,
            &format!("/api/v1/reports/events?{two_days}&kind=opened"),
        )
        .await;
        assert!(events.iter().all(|e| e["kind"] == "opened"), "{events:?}");
        assert_eq!(
            Some(events.len() as u64),
            overview["conversations"].as_u64(),
            "{events:?}"
        );
        // Read in pages of two, the events are those of one read, in (at, id) order.
        let range = ReportRange::parse(
            Some("2026-03-01"),
            Some("2026-03-02"),
            Some("Asia/Shanghai"),
            chrono::Utc::now(),
        )
        .expect("a range");
        let filter = ReportFilter::default();
        let all = app
            .state
            .reports
            .events_page(&range, &filter, None, None, 1000)
            .await
            .expect("events");
        let (mut paged, mut after) = (Vec::new(), None);
        loop {
            let page = app
                .state
                .reports
                .events_page(&range, &filter, None, after, 2)
                .await
                .expect("a page");
            let Some(last) = page.last() else { break };
            after = Some((last.at, last.id));
            paged.extend(page);
        }
        assert!(all.len() > 2, "{}", all.len());
        assert_eq!(paged, all);
        assert!(
            all.windows(2)
                .all(|w| (w[0].at, w[0].id) < (w[1].at, w[1].id))
        );
        let (s, body) = app
            .admin(
                Method::GET,
                &format!("/api/v1/reports/events?{day}&kind=typing"),
                None,
            )
            .await;
        assert_eq!(
            (s, &body["code"], &body["field"]),
            (
                StatusCode::BAD_REQUEST,
                &json!("invalid_query"),
                &json!("kind")
            ),
            "{body}"
        );

        // Supervisors and admins only; bad ranges and zones are named.
        let (s, body) = app
            .call(
                Method::GET,
                &format!("/api/v1/reports/agents?{day}"),
                Some(&bob_token),
                None,
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden"))
        );
        for (query, field) in [
            ("from=2026-03-03&to=2026-03-02", "from"),
            ("from=yesterday", "from"),
            ("tz=Mars/Olympus", "tz"),
            ("from=2024-01-01&to=2026-01-01", "from"),
        ] {
            let (s, body) = app
                .admin(
                    Method::GET,
                    &format!("/api/v1/reports/overview?{query}"),
                    None,
                )
                .await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {body}");
            assert_eq!(body["code"], "invalid_query", "{query}: {body}");
            assert_eq!(body["field"], field, "{query}: {body}");
        }
        // A supervisor's report counts the inboxes they belong to: here the web chat only.
        let (sue, _) = app.agent("sue@example.com", "supervisor", json!({})).await;
        app.join(web, sue).await;
        let (s, login) = app.login("sue@example.com", "agent-password").await;
        assert_eq!(s, StatusCode::OK, "{login}");
        let (s, body) = app
            .call(
                Method::GET,
                &format!("/api/v1/reports/channels?{day}"),
                login["token"].as_str(),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["items"].as_array().map(Vec::len), Some(1), "{body}");
        assert_eq!(
            only_figures(&body["items"][0]),
            only_figures(&channels["items"][1])
        );
        // An unknown grouping (labels is one since reports by label exist).
        let (s, body) = app
            .admin(Method::GET, "/api/v1/reports/weekdays", None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_pipeline_credits_the_first_response_to_the_agent_who_sent_it() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (alice, alice_token) = app.agent("alice@example.com", "agent", json!({})).await;
        let (bob, bob_token) = app.agent("bob@example.com", "agent", json!({})).await;
        app.join(inbox, alice).await;
        app.join(inbox, bob).await;
        let (s, body) = app.inbound(inbox, &msg("m1", "customer-1", "Hello?")).await;
        assert!(s.is_success(), "{body}");
        let conv = app
            .until_event("the conversation", || async {
                app.conversations(inbox).await.first().cloned()
            })
            .await;
        let id = conv["id"].as_i64().expect("id");
        let post = |token: String, body: Value| {
            let app = &app;
            async move {
                let (s, m) = app
                    .call(
                        Method::POST,
                        &format!("/api/v1/conversations/{id}/messages"),
                        Some(&token),
                        Some(body),
                    )
                    .await;
                assert_eq!(s, StatusCode::CREATED, "{m}");
                m
            }
        };
        // Bob's private note is not a response; Alice's reply is the first one.
        post(
            bob_token.clone(),
            json!({"text": "I'll let Alice take it", "private": true}),
        )
        .await;
        let reply = post(alice_token, json!({"text": "Hi, how can I help?"})).await;
        post(bob_token, json!({"text": "And I'm here too"})).await;
        let (s, body) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{id}/resolve"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");

        let created: DateTime<Utc> =
            serde_json::from_value(conv["created_at"].clone()).expect("created_at");
        let replied: DateTime<Utc> =
            serde_json::from_value(reply["created_at"].clone()).expect("created_at");
        let now = Utc::now();
        let range = format!(
            "from={}&to={}",
            (now - chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ"),
            (now + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ"),
        );
        let path = format!("/api/v1/reports/agents?{range}");
        let agents = app
            .until_event("the resolution in the report", || async {
                let r = report(&app, &path).await;
                (r["resolution_secs"]["median"].is_number()
                    && r["items"].as_array().is_some_and(|i| i.len() == 2))
                .then_some(r)
            })
            .await;
        let items = agents["items"].as_array().expect("items");
        let of = |agent: i64| {
            items
                .iter()
                .find(|i| i["agent_id"] == agent)
                .cloned()
                .unwrap_or_else(|| panic!("agent {agent} in {agents}"))
        };
        // Durations are counted to three significant digits of milliseconds (REPORTS.md).
        let want =
            kefu_normalizer::reports::histogram::round3((replied - created).num_milliseconds())
                as f64
                / 1000.0;
        let got = of(alice)["first_response_secs"]["median"]
            .as_f64()
            .expect("Alice's first response");
        assert!((got - want).abs() <= 0.002, "{got} vs {want}");
        assert_eq!(of(alice)["conversations"], 1);
        assert_eq!(of(bob)["conversations"], 1);
        assert_eq!(
            of(bob)["first_response_secs"]["median"],
            Value::Null,
            "{agents}"
        );
        let overview = report(&app, &format!("/api/v1/reports/overview?{range}")).await;
        assert_eq!(overview["conversations"], 1, "{overview}");
        app.stop().await;
    }
}

/// A deterministic spread of metric events over ten days of March 2026 (across New York's
/// change to summer time on the 8th), with durations to the millisecond.
fn spread_of_facts() -> Vec<kefu_normalizer::entity::metric_event::ActiveModel> {
    use kefu_normalizer::entity::metric_event::ActiveModel;
    use kefu_normalizer::reports::{Actor, MetricKind};
    use sea_orm::Set;
    let start = t("2026-03-01T00:00:00Z");
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut rows = Vec::new();
    let mut source = 0;
    for c in 0..600i64 {
        // 400 conversations over ten days, then 200 over three months (for the monthly rows).
        let offset = if c < 400 {
            c * 2160
        } else {
            (c - 400) * 40_000
        };
        let opened = start + chrono::Duration::seconds(offset + next(2000) as i64);
        let (inbox, channel) =
            [(9001, "web_chat"), (9002, "email"), (9003, "email")][next(3) as usize];
        let agent = 8001 + next(5) as i64;
        let team = (agent % 2 == 0).then_some(7001 + agent % 3);
        let mut row = |kind, at, agent: Option<i64>, ms: Option<i64>, rating: Option<i16>| {
            source += 1;
            rows.push(ActiveModel {
                kind: Set(kind),
                source_event_id: Set(source),
                conversation_id: Set(c + 1),
                inbox_id: Set(inbox),
                channel: Set(channel.to_owned()),
                team_id: Set(agent.and(team)),
                agent_id: Set(agent),
                actor: Set(Actor::Human),
                at: Set(at),
                wall_ms: Set(ms),
                business_ms: Set(ms.map(|v| v / 3)),
                rating: Set(rating),
                ..Default::default()
            });
        };
        row(MetricKind::Opened, opened, None, None, None);
        let first = 1 + next(5_400_000) as i64;
        let replied = opened + chrono::Duration::milliseconds(first);
        row(
            MetricKind::FirstResponse,
            replied,
            Some(agent),
            Some(first),
            None,
        );
        row(MetricKind::Reply, replied, Some(agent), None, None);
        let later = replied + chrono::Duration::milliseconds(next(90_000_000) as i64);
        row(MetricKind::Reply, later, Some(agent), None, None);
        if next(4) > 0 {
            let resolved = first + next(172_800_000) as i64;
            let at = opened + chrono::Duration::milliseconds(resolved);
            row(
                MetricKind::Resolution,
                at,
                Some(agent),
                Some(resolved),
                None,
            );
            if next(3) == 0 {
                let rating = 1 + next(5) as i16;
                row(MetricKind::Csat, at, Some(agent), None, Some(rating));
            }
        }
    }
    rows
}

/// Every rollup row, without its id, in key order.
async fn rollup_rows(
    db: &kefu_normalizer::Db,
) -> Vec<kefu_normalizer::entity::metric_rollup::Model> {
    use kefu_normalizer::entity::metric_rollup::{Column, Entity};
    use sea_orm::{EntityTrait, QueryOrder};
    let mut rows = Entity::find()
        .order_by_asc(Column::Scope)
        .order_by_asc(Column::Grain)
        .order_by_asc(Column::Period)
        .order_by_asc(Column::InboxId)
        .order_by_asc(Column::TeamId)
        .order_by_asc(Column::AgentId)
        .order_by_asc(Column::LabelId)
        .all(db.conn())
        .await
        .expect("rollups read");
    for r in &mut rows {
        r.id = 0;
    }
    rows
}

/// Reports read from the rollups (hours, blocks of hours, days, months) give exactly the
/// figures computed from the metric events themselves, in zones with whole-hour offsets (with
/// and without summer time) and in India's (+05:30), over whole days, over ranges that start
/// and end inside an hour, and over months.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rollups_give_the_figures_of_the_events() {
    use kefu_normalizer::entity::metric_event;
    use kefu_normalizer::reports::{Clock, Grouping, ReportFilter, ReportRange, Reports, rollup};
    use sea_orm::{EntityTrait, QueryOrder};
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let db = app.state.db.clone();
        for chunk in spread_of_facts().chunks(500) {
            metric_event::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(db.conn())
                .await
                .expect("facts written");
        }
        // Added a batch at a time, as the outbox consumer does, the rollups are the rows a
        // rebuild sums from all the events at once.
        let facts = metric_event::Entity::find()
            .order_by_asc(metric_event::Column::Id)
            .all(db.conn())
            .await
            .expect("facts read");
        for batch in facts.chunks(97) {
            let tx = db.begin_write().await.expect("a transaction");
            rollup::apply(&*tx, batch).await.expect("rollups added");
            tx.commit().await.expect("committed");
        }
        let applied = rollup_rows(&db).await;
        let written = rollup::rebuild(&db).await.expect("rollups rebuilt");
        assert!(written > 0);
        let rebuilt = rollup_rows(&db).await;
        assert_eq!(rebuilt.len() as u64, written);
        assert_eq!(applied.len(), rebuilt.len());
        for (a, b) in applied.iter().zip(&rebuilt) {
            assert_eq!(a, b);
        }
        let reports = Reports::new(db.clone());
        let now = t("2026-12-01T00:00:00Z");
        let filters = [
            ReportFilter::default(),
            ReportFilter {
                agent_id: Some(8002),
                ..ReportFilter::default()
            },
            ReportFilter {
                inbox_id: Some(9002),
                ..ReportFilter::default()
            },
            ReportFilter {
                inboxes: Some(vec![9001, 9003]),
                team_id: Some(7002),
                ..ReportFilter::default()
            },
        ];
        let (mut compared, mut nonempty) = (0, 0);
        for tz in ["UTC", "Asia/Shanghai", "America/New_York", "Asia/Kolkata"] {
            for (from, to) in [
                ("2026-03-02", "2026-03-09"),
                ("2026-03-02T10:17:23.456Z", "2026-03-08T03:45:30Z"),
                ("2026-03-01", "2026-03-01"),
                ("2026-02-20T07:00:00Z", "2026-05-31"),
            ] {
                let range =
                    ReportRange::parse(Some(from), Some(to), Some(tz), now).expect("a valid range");
                for grouping in Grouping::ALL {
                    for filter in &filters {
                        for clock in [Clock::Wall, Clock::Business] {
                            let rolled = reports
                                .report(grouping, &range, filter, clock)
                                .await
                                .expect("a report");
                            let raw = reports
                                .report_from_events(grouping, &range, filter, clock)
                                .await
                                .expect("a report");
                            assert_eq!(
                                rolled, raw,
                                "{tz} {from}..{to} {grouping:?} {filter:?} {clock:?}"
                            );
                            nonempty += usize::from(raw.totals.conversations > 0);
                            compared += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(compared, 4 * 4 * Grouping::ALL.len() * 4 * 2);
        // Not a comparison of empty reports.
        assert!(nonempty * 10 > compared * 9, "{nonempty} of {compared}");
        app.stop().await;
    }
}

/// Reports by label: each conversation counts under every label it carried when its facts
/// were recorded; the total counts everything the range selects, labelled or not. Figures
/// computed by hand, from the rollups, from the metric events (with an agent filter) and
/// after a rebuild of the rollups; the CSV says the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reports_by_label() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (alice, _) = app.agent("alice@example.com", "agent", json!({})).await;
        let (bob, _) = app.agent("bob@example.com", "agent", json!({})).await;
        let mut convs = Vec::new();
        for n in 1..=3 {
            let (s, body) = app
                .inbound(
                    inbox,
                    &msg(&format!("l{n}"), &format!("customer-{n}"), "Hi"),
                )
                .await;
            assert!(s.is_success(), "{body}");
            let id = app
                .until_event("the conversation", || async {
                    app.conversations(inbox)
                        .await
                        .iter()
                        .filter_map(|c| c["id"].as_i64())
                        .find(|id| !convs.contains(id))
                })
                .await;
            convs.push(id);
        }
        let (c1, c2, c3) = (convs[0], convs[1], convs[2]);
        let mut label_ids = Vec::new();
        for name in ["billing", "vip"] {
            let (s, l) = app
                .admin(Method::POST, "/api/v1/labels", Some(json!({"name": name})))
                .await;
            assert_eq!(s, StatusCode::CREATED, "{l}");
            label_ids.push(l["id"].as_i64().expect("label id"));
        }
        let (billing, vip) = (label_ids[0], label_ids[1]);
        for (c, labels) in [(c1, json!(["billing"])), (c2, json!(["billing", "vip"]))] {
            let (s, b) = app
                .admin(
                    Method::PUT,
                    &format!("/api/v1/conversations/{c}/labels"),
                    Some(json!({"labels": labels})),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{b}");
        }
        // 2026-03-02 (UTC). c1 (billing): Alice answers in 120 s, resolves at 1800 s, rated
        // 4. c2 (billing, vip): Bob answers in 300 s, resolves at 3600 s, rated 2. c3 (no
        // label): Alice answers in 600 s.
        let mut s = Script {
            events: Vec::new(),
            next_id: 60_000_000,
        };
        let (a, b) = (Some(alice), Some(bob));
        s.opened(c1, inbox, "2026-03-02T09:00:00Z");
        s.message(c1, "agent", a, false, "2026-03-02T09:02:00Z");
        s.state("resolved", c1, inbox, a, None, "2026-03-02T09:30:00Z");
        s.rating(
            c1,
            (inbox, "loopback"),
            alice,
            None,
            4,
            "2026-03-02T09:40:00Z",
        );
        s.opened(c2, inbox, "2026-03-02T10:00:00Z");
        s.message(c2, "agent", b, false, "2026-03-02T10:05:00Z");
        s.state("resolved", c2, inbox, b, None, "2026-03-02T11:00:00Z");
        s.rating(
            c2,
            (inbox, "loopback"),
            bob,
            None,
            2,
            "2026-03-02T11:10:00Z",
        );
        s.opened(c3, inbox, "2026-03-02T12:00:00Z");
        s.message(c3, "agent", a, false, "2026-03-02T12:10:00Z");
        let metrics = Metrics::new(app.state.db.clone());
        metrics.record(&s.events).await.expect("recorded");
        metrics.record(&s.events).await.expect("recorded again");

        let day = "from=2026-03-02&to=2026-03-02&tz=UTC";
        let path = format!("/api/v1/reports/labels?{day}");
        let want_billing = figures(
            2,
            (Some(210.0), Some(300.0)),
            (Some(2700.0), Some(3600.0)),
            (2, Some(3.0)),
        );
        let want_vip = figures(
            1,
            (Some(300.0), Some(300.0)),
            (Some(3600.0), Some(3600.0)),
            (1, Some(2.0)),
        );
        let want_all = figures(
            3,
            (Some(300.0), Some(600.0)),
            (Some(2700.0), Some(3600.0)),
            (2, Some(3.0)),
        );
        let check = |r: &Value| {
            let items = r["items"].as_array().expect("items");
            assert_eq!(items.len(), 2, "{r}");
            assert_eq!(
                (&items[0]["label_id"], &items[0]["name"]),
                (&json!(billing), &json!("billing"))
            );
            assert_eq!(only_figures(&items[0]), want_billing, "{r}");
            assert_eq!(items[1]["label_id"], vip);
            assert_eq!(only_figures(&items[1]), want_vip, "{r}");
            assert_eq!(only_figures(r), want_all, "{r}");
        };
        let labels = report(&app, &path).await;
        check(&labels);
        let rows = csv(&app, &path).await;
        assert_eq!(rows.len(), 3);
        assert_eq!(
            (rows[0]["label_id"].as_str(), rows[0]["name"].as_str()),
            (billing.to_string().as_str(), "billing")
        );
        same(&rows[0], &want_billing);
        same(&rows[1], &want_vip);
        assert_eq!(rows[2]["label_id"], "total");
        same(&rows[2], &want_all);
        // The same from rollups summed again from the metric events.
        kefu_normalizer::reports::rollup::rebuild(&app.state.db)
            .await
            .expect("rebuilt");
        check(&report(&app, &path).await);

        // Alice's: the conversations she replied in (c1 billing, c3), her first responses
        // (120 s, 600 s), her resolution (1800 s) and rating (4); nothing under vip.
        let alices = report(&app, &format!("{path}&agent_id={alice}")).await;
        let items = alices["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "{alices}");
        assert_eq!(items[0]["label_id"], billing);
        assert_eq!(
            only_figures(&items[0]),
            figures(
                1,
                (Some(120.0), Some(120.0)),
                (Some(1800.0), Some(1800.0)),
                (1, Some(4.0))
            )
        );
        assert_eq!(
            only_figures(&alices),
            figures(
                2,
                (Some(360.0), Some(600.0)),
                (Some(1800.0), Some(1800.0)),
                (1, Some(4.0))
            )
        );
        app.stop().await;
    }
}
