//! The conversation list over HTTP on every backend: each filter, each sort paged one row at a
//! time (keyset cursors must neither skip nor repeat), and what every row carries — the last
//! message, the assignee, labels and the asking agent's unread count with its read marker.

use chrono::{DateTime, Utc};
use kefu_normalizer::entity::conversation;
use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

/// Ids of the conversations `query` lists (one page of up to 100).
async fn ids(app: &TestApp, query: &str) -> Vec<i64> {
    let (s, b) = app
        .admin(Method::GET, &format!("/api/v1/conversations?{query}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{query}: {b}");
    b["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["id"].as_i64())
        .collect()
}

/// Every id `query` lists, `limit` at a time, following `next_cursor`.
async fn paged(app: &TestApp, query: &str, limit: u64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let mut path = format!("/api/v1/conversations?{query}&limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (s, b) = app.admin(Method::GET, &path, None).await;
        assert_eq!(s, StatusCode::OK, "{path}: {b}");
        out.extend(
            b["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["id"].as_i64()),
        );
        match b["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
    panic!("{query}: paging did not end");
}

async fn item(app: &TestApp, token: &str, conv: i64) -> Value {
    let (s, b) = app
        .call(
            Method::GET,
            &format!("/api/v1/conversations/{conv}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b
}

async fn bad_query(app: &TestApp, query: &str, words: &str) {
    let (s, b) = app
        .admin(Method::GET, &format!("/api/v1/conversations?{query}"), None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {b}");
    assert_eq!(b["code"], "invalid_query", "{query}: {b}");
    let detail = b["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(words), "{query}: {detail}");
}

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort_unstable();
    v
}

#[tokio::test]
async fn filters_sorts_paging_and_row_details() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let low = app.loopback_inbox(json!({"priority": 1})).await;
        let high = app.loopback_inbox(json!({"priority": 5})).await;
        let mut convs = Vec::new();
        for (n, inbox) in [(1, low), (2, low), (3, high), (4, high)] {
            let (s, a) = app
                .inbound(
                    inbox,
                    &msg(
                        &format!("p-{n}"),
                        &format!("cust-{n}"),
                        &format!("message {n}"),
                    ),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{a}");
            convs.push(a["conversation_id"].as_i64().expect("conversation"));
        }
        let [c1, c2, c3, c4] = convs[..] else {
            unreachable!()
        };
        let (ann, ann_token) = app.agent("ann@example.com", "agent", json!({})).await;
        let (bob, _) = app.agent("bob@example.com", "agent", json!({})).await;
        let (s, team) = app
            .admin(
                Method::POST,
                "/api/v1/teams",
                Some(json!({"name": "Billing", "agent_ids": [ann]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{team}");
        let team = team["id"].as_i64().expect("team");
        for (conv, agent) in [(c1, ann), (c2, ann), (c3, bob)] {
            let (s, b) = app
                .admin(
                    Method::POST,
                    &format!("/api/v1/conversations/{conv}/assign"),
                    Some(json!({"agent_id": agent})),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{b}");
        }
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{c2}/transfer"),
                Some(json!({"team_id": team})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, _) = app
            .admin(Method::POST, "/api/v1/labels", Some(json!({"name": "vip"})))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, b) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/conversations/{c4}/labels"),
                Some(json!({"labels": ["vip"]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        // c1 gets the newest customer message, c3 the newest message of all (a reply).
        app.inbound(low, &msg("p-5", "cust-1", "message 1 again"))
            .await;
        app.reply(c3, "a reply to 3").await;

        // Filters.
        assert_eq!(ids(&app, "label=vip").await, [c4]);
        assert_eq!(
            ids(&app, "label=nobody-defined-this").await,
            Vec::<i64>::new()
        );
        assert_eq!(ids(&app, &format!("team_id={team}")).await, [c2]);
        assert_eq!(sorted(ids(&app, "priority_min=5").await), [c3, c4]);
        assert_eq!(
            sorted(ids(&app, "channel=loopback").await),
            [c1, c2, c3, c4]
        );
        assert_eq!(ids(&app, "channel=web_chat").await, Vec::<i64>::new());
        assert_eq!(sorted(ids(&app, "unassigned=true").await), [c2, c4]);
        assert_eq!(ids(&app, &format!("assignee_id={ann}")).await, [c1]);
        assert_eq!(
            ids(&app, &format!("assignee_id={bob}&status=assigned")).await,
            [c3]
        );
        assert_eq!(
            ids(&app, "created_after=2999-01-01T00:00:00Z").await,
            Vec::<i64>::new()
        );
        assert_eq!(
            ids(&app, "created_before=2999-01-01T00:00:00Z").await.len(),
            4
        );
        assert_eq!(
            ids(&app, "created_before=2000-01-01T00:00:00Z").await,
            Vec::<i64>::new()
        );
        assert_eq!(
            ids(&app, "priority_min=5&label=vip&unassigned=true").await,
            [c4]
        );
        bad_query(&app, "created_after=yesterday", "created_after").await;
        bad_query(&app, "sort=alphabetical", "last_activity").await;
        bad_query(
            &app,
            &format!("unassigned=true&assignee_id={ann}"),
            "exclude",
        )
        .await;
        bad_query(&app, "sort=priority&cursor=a1_1", "cursor").await;

        // Sorts, paged one row at a time and three at a time, agree with one big page.
        let expected = [
            ("sort=last_activity", vec![c3, c1, c4, c2]),
            ("sort=waiting", vec![c2, c3, c4, c1]),
            ("sort=priority", vec![c3, c4, c1, c2]),
            ("sort=newest", vec![c4, c3, c2, c1]),
            (
                "status=queued,assigned,pending,transferring",
                vec![c4, c3, c2, c1],
            ),
        ];
        for (query, want) in expected {
            assert_eq!(ids(&app, query).await, want, "{query} ({backend:?})");
            assert_eq!(paged(&app, query, 1).await, want, "{query} by 1");
            assert_eq!(paged(&app, query, 3).await, want, "{query} by 3");
        }
        assert_eq!(
            paged(&app, "sort=priority&unassigned=true", 1).await,
            [c4, c2]
        );
        // Conversations without a customer message (started by an agent) wait least: after
        // every other, by id, also when a page ends right at that boundary.
        for id in [c2, c4] {
            conversation::Entity::update_many()
                .col_expr(
                    conversation::Column::LastInboundAt,
                    Expr::value(None::<DateTime<Utc>>),
                )
                .filter(conversation::Column::Id.eq(id))
                .exec(app.state.db.conn())
                .await
                .expect("clear last_inbound_at");
        }
        let want = [c3, c1, c2, c4];
        assert_eq!(ids(&app, "sort=waiting").await, want, "{backend:?}");
        for limit in [1, 2, 3] {
            assert_eq!(paged(&app, "sort=waiting", limit).await, want, "by {limit}");
        }
        assert_eq!(
            paged(&app, "sort=waiting&unassigned=true", 1).await,
            [c2, c4]
        );

        // What a row carries.
        let (_, page) = app
            .admin(
                Method::GET,
                "/api/v1/conversations?sort=last_activity",
                None,
            )
            .await;
        let rows = page["items"].as_array().cloned().unwrap_or_default();
        let row = |id: i64| {
            rows.iter()
                .find(|r| r["id"] == id)
                .cloned()
                .expect("listed")
        };
        let r1 = row(c1);
        assert_eq!(r1["last_message"]["text"], "message 1 again");
        assert_eq!(r1["last_message"]["direction"], "inbound");
        assert!(r1["last_message"]["created_at"].is_string(), "{r1}");
        assert_eq!(
            r1["assignee"],
            json!({"id": ann, "name": "ann@example.com"})
        );
        assert_eq!(r1["unread_count"], 2, "{r1}");
        assert_eq!(r1["labels"], json!([]));
        let r3 = row(c3);
        assert_eq!(r3["last_message"]["text"], "a reply to 3");
        assert_eq!(r3["last_message"]["direction"], "outbound");
        assert_eq!(r3["assignee"]["name"], "bob@example.com");
        assert_eq!(r3["unread_count"], 1);
        assert!(
            r1["waiting_since"].is_string(),
            "the customer wrote last: {r1}"
        );
        assert_eq!(
            r3["waiting_since"],
            Value::Null,
            "an agent answered last: {r3}"
        );
        assert!(r3["last_inbound_at"].is_string(), "{r3}");
        assert_eq!(row(c4)["labels"], json!(["vip"]));
        assert_eq!(row(c4)["assignee"], Value::Null);

        // Read markers are per agent, capped at the newest message and never move back.
        let read_path = format!("/api/v1/conversations/{c1}/read");
        let read = |seq: i64| app.admin(Method::POST, &read_path, Some(json!({"seq": seq})));
        let (s, b) = read(1).await;
        assert_eq!((s, &b["last_read_seq"]), (StatusCode::OK, &json!(1)));
        assert_eq!(item(&app, &app.admin_token, c1).await["unread_count"], 1);
        let (_, b) = read(99).await;
        assert_eq!(b["last_read_seq"], 2);
        let (_, b) = read(1).await;
        assert_eq!(b["last_read_seq"], 2, "a marker never moves back");
        assert_eq!(item(&app, &app.admin_token, c1).await["unread_count"], 0);
        assert_eq!(
            item(&app, &ann_token, c1).await["unread_count"],
            2,
            "ann has read nothing"
        );
        let (s, b) = read(-1).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let (s, b) = app
            .admin(
                Method::POST,
                "/api/v1/conversations/999999/read",
                Some(json!({"seq": 1})),
            )
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );
        app.inbound(low, &msg("p-6", "cust-1", "still there?"))
            .await;
        let after = item(&app, &app.admin_token, c1).await;
        assert_eq!(
            (
                after["unread_count"].as_i64(),
                after["last_read_seq"].as_i64()
            ),
            (Some(1), Some(2))
        );
        assert_eq!(after["last_message"]["text"], "still there?");
        // A private note is no answer: the customer still waits.
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{c1}/messages"),
                Some(json!({"text": "checking with billing", "private": true})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (_, one) = app
            .admin(Method::GET, &format!("/api/v1/conversations/{c1}"), None)
            .await;
        assert!(one["waiting_since"].is_string(), "{one}");
        app.stop().await;
    }
}

/// "Newest first" with a priority filter, over more conversations than SQLite's window of
/// newest rows (`NEWEST_WINDOW`, 2,000): a common priority is paged from that window, a rare
/// one only found further back falls back to the priority index; both give the order and
/// pages of the plain query.
#[tokio::test]
async fn priority_filter_over_many_conversations() {
    use sea_orm::Set;
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (s, a) = app.inbound(inbox, &msg("w-0", "cust-w", "hello")).await;
        assert_eq!(s, StatusCode::OK, "{a}");
        let first = conversation::Entity::find_by_id(a["conversation_id"].as_i64().expect("id"))
            .one(app.state.db.conn())
            .await
            .expect("read")
            .expect("the conversation");
        // 2,100 more of the same contact, oldest first: the 30 oldest have priority 9, the
        // others alternate between 0 and 1.
        let total = 2100usize;
        for start in (0..total).step_by(300) {
            let rows = (start..(start + 300).min(total)).map(|i| {
                let mut row: conversation::ActiveModel = first.clone().into();
                row.id = sea_orm::ActiveValue::NotSet;
                row.priority = Set(if i < 30 { 9 } else { (i % 2) as i32 });
                row.status = Set(kefu_normalizer::Status::Resolved);
                row.token = Set(format!("window-{i}"));
                row
            });
            conversation::Entity::insert_many(rows)
                .exec(app.state.db.conn())
                .await
                .expect("insert");
        }
        let all: Vec<(i64, i32)> = {
            let mut v: Vec<(i64, i32)> = conversation::Entity::find()
                .all(app.state.db.conn())
                .await
                .expect("all")
                .into_iter()
                .map(|c| (c.id, c.priority))
                .collect();
            v.sort_unstable_by_key(|a| std::cmp::Reverse(a.0));
            v
        };
        let newest = |min: i32| -> Vec<i64> {
            all.iter()
                .filter(|(_, p)| *p >= min)
                .map(|(id, _)| *id)
                .collect()
        };
        // Common: the first page comes from the newest rows.
        let want = newest(1);
        assert_eq!(ids(&app, "priority_min=1").await, want[..25]);
        // Rare, and only further back than 2,000 rows: all 30, in order, in pages of 7.
        let want = newest(9);
        assert_eq!(want.len(), 30);
        assert_eq!(ids(&app, "priority_min=9").await, want[..25]);
        assert_eq!(paged(&app, "priority_min=9", 7).await, want);
        // Paging a common priority crosses the window's edge on later pages.
        let want = newest(1);
        let got = paged(&app, "priority_min=1", 100).await;
        assert_eq!(got.len(), want.len());
        assert_eq!(got, want);
        app.stop().await;
    }
}
