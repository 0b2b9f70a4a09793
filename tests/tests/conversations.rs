//! Ingest, threading, replies and the conversation state machine over HTTP, on every backend.

use std::collections::BTreeSet;
use std::time::Duration;

use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn messages(app: &TestApp, conv: i64, after: i64) -> Vec<Value> {
    let (s, b) = app
        .admin(
            Method::GET,
            &format!("/api/v1/conversations/{conv}/messages?after_seq={after}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn inbound_reply_resolve_reopen() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app
            .loopback_inbox(json!({"skills": {"billing": 2}, "priority": 3}))
            .await;

        let (s, a1) = app
            .inbound(inbox, &msg("p-1", "cust-1", "My invoice is wrong"))
            .await;
        assert_eq!(s, StatusCode::OK, "{a1}");
        assert_eq!(
            (a1["seq"].as_i64(), a1["duplicate"].as_bool()),
            (Some(1), Some(false))
        );
        let conv = a1["conversation_id"].as_i64().expect("conversation id");

        // A provider retry is acknowledged with the stored message, and stored once.
        let (_, again) = app
            .inbound(inbox, &msg("p-1", "cust-1", "My invoice is wrong"))
            .await;
        assert_eq!(
            (again["message_id"].clone(), again["duplicate"].as_bool()),
            (a1["message_id"].clone(), Some(true))
        );
        let (_, a2) = app.inbound(inbox, &msg("p-2", "cust-1", "Order 42")).await;
        assert_eq!(
            (a2["conversation_id"].as_i64(), a2["seq"].as_i64()),
            (Some(conv), Some(2)),
            "same customer, same open conversation"
        );

        let (s, c) = app
            .admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(c["status"], "queued");
        assert_eq!(c["priority"], 3);
        assert_eq!(
            c["skills"],
            json!({"billing": 2}),
            "inbox routing defaults apply"
        );
        assert_eq!(c["inbox_id"], inbox);

        // Replies are idempotent on client_id.
        let path = format!("/api/v1/conversations/{conv}/messages");
        let (s, r1) = app
            .admin(
                Method::POST,
                &path,
                Some(json!({"text": "Looking into it", "client_id": "c-1"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r1}");
        let (s, r1b) = app
            .admin(
                Method::POST,
                &path,
                Some(json!({"text": "Looking into it", "client_id": "c-1"})),
            )
            .await;
        assert_eq!(
            (s, r1b["id"].clone()),
            (StatusCode::OK, r1["id"].clone()),
            "a resent client_id returns the first message"
        );
        let (s, note) = app
            .admin(
                Method::POST,
                &path,
                Some(json!({"text": "VIP, be quick", "private": true})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        assert!(
            note.get("delivery").is_none(),
            "private notes are not delivered: {note}"
        );
        let (s, b) = app
            .admin(Method::POST, &path, Some(json!({"text": "   "})))
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request"))
        );

        let all = messages(&app, conv, 0).await;
        let seqs: Vec<i64> = all
            .iter()
            .map(|m| m["seq"].as_i64().unwrap_or(-1))
            .collect();
        assert_eq!(seqs, vec![1, 2, 3, 4]);
        assert_eq!(all[0]["direction"], "inbound");
        assert_eq!(all[0]["sender"]["type"], "contact");
        assert_eq!(all[0]["content"]["text"], "My invoice is wrong");
        assert_eq!(all[2]["direction"], "outbound");
        assert_eq!(
            all[2]["sender"],
            json!({"type": "agent", "id": 1, "name": "Admin"})
        );
        // Pending until the delivery worker sends it through the (accepting) loopback channel.
        assert!(
            ["pending", "sent"]
                .contains(&all[2]["delivery"]["status"].as_str().unwrap_or_default()),
            "{}",
            all[2]
        );
        assert_eq!(all[3]["private"], true);
        assert_eq!(
            messages(&app, conv, 2).await.len(),
            2,
            "after_seq returns only later messages"
        );

        // State machine over the API.
        let (s, c) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/assign"),
                Some(json!({"agent_id": 1})),
            )
            .await;
        assert_eq!(
            (s, c["status"].as_str(), c["assignee_id"].as_i64()),
            (StatusCode::OK, Some("assigned"), Some(1))
        );
        let (s, c) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/resolve"),
                None,
            )
            .await;
        assert_eq!(
            (s, c["status"].as_str()),
            (StatusCode::OK, Some("resolved"))
        );
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/resolve"),
                None,
            )
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::CONFLICT, Some("illegal_transition"))
        );
        assert_eq!(b["detail"], "a resolved conversation cannot be resolved");
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/assign"),
                Some(json!({"agent_id": 1})),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}");
        let (s, c) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/reopen"),
                None,
            )
            .await;
        assert_eq!(
            (s, c["status"].as_str(), c["assignee_id"].clone()),
            (StatusCode::OK, Some("queued"), Value::Null)
        );

        // After resolving, a new message without thread hints opens a new conversation...
        app.admin(
            Method::POST,
            &format!("/api/v1/conversations/{conv}/resolve"),
            None,
        )
        .await;
        let (_, a3) = app
            .inbound(inbox, &msg("p-3", "cust-1", "Another question"))
            .await;
        let conv2 = a3["conversation_id"].as_i64().expect("id");
        assert_ne!(conv2, conv);
        assert_eq!(a3["seq"], 1);
        // ...while a message carrying the old conversation's token reopens it.
        let token: String = {
            use sea_orm::EntityTrait;
            kefu_normalizer::entity::conversation::Entity::find_by_id(conv)
                .one(app.state.db.conn())
                .await
                .expect("query")
                .expect("row")
                .token
        };
        let mut threaded = msg("p-4", "cust-1", "About that invoice again");
        threaded.thread.conversation_token = Some(token);
        let (_, a4) = app.inbound(inbox, &threaded).await;
        assert_eq!(
            (a4["conversation_id"].as_i64(), a4["seq"].as_i64()),
            (Some(conv), Some(5))
        );
        let (_, c) = app
            .admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None)
            .await;
        assert_eq!(c["status"], "queued", "the customer's message reopened it");

        // Email-style threading by reference.
        let mut first = msg("<a@mail>", "cust-2", "New thread");
        first.thread.message_ref = Some("<a@mail>".into());
        first.thread.new_conversation = true;
        let (_, e1) = app.inbound(inbox, &first).await;
        let mut reply = msg("<b@mail>", "cust-2", "Reply in thread");
        reply.thread.references = vec!["<a@mail>".into()];
        reply.thread.new_conversation = true;
        let (_, e2) = app.inbound(inbox, &reply).await;
        assert_eq!(
            e2["conversation_id"], e1["conversation_id"],
            "In-Reply-To joins the thread"
        );
        let mut fresh = msg("<c@mail>", "cust-2", "Unrelated");
        fresh.thread.new_conversation = true;
        let (_, e3) = app.inbound(inbox, &fresh).await;
        assert_ne!(
            e3["conversation_id"], e1["conversation_id"],
            "new mail opens a new conversation"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn list_filters_and_cursor_pagination() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let mut ids = Vec::new();
        for i in 0..7 {
            let (_, a) = app
                .inbound(inbox, &msg(&format!("m{i}"), &format!("cust-{i}"), "hi"))
                .await;
            ids.push(a["conversation_id"].as_i64().expect("id"));
        }
        app.admin(
            Method::POST,
            &format!("/api/v1/conversations/{}/assign", ids[0]),
            Some(json!({"agent_id": 1})),
        )
        .await;
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let q = cursor
                .as_ref()
                .map(|c| format!("&cursor={c}"))
                .unwrap_or_default();
            let (s, page) = app
                .admin(
                    Method::GET,
                    &format!("/api/v1/conversations?status=queued&limit=3{q}"),
                    None,
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{page}");
            seen.extend(
                page["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .map(|c| c["id"].as_i64().expect("id")),
            );
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let mut want: Vec<i64> = ids[1..].to_vec();
        want.reverse();
        assert_eq!(seen, want, "every queued conversation once, newest first");
        let (_, mine) = app
            .admin(Method::GET, "/api/v1/conversations?assignee_id=1", None)
            .await;
        assert_eq!(mine["items"].as_array().map(Vec::len), Some(1));
        let contact = mine["items"][0]["contact"]["id"].as_i64().expect("contact");
        let (_, by_contact) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations?contact_id={contact}"),
                None,
            )
            .await;
        assert_eq!(by_contact["items"][0]["id"], ids[0]);
        for bad in [
            "?limit=0",
            "?limit=1000",
            "?cursor=abc",
            "?status=open",
            "?inbox_id=x",
            "?colour=red",
        ] {
            let (s, b) = app
                .admin(Method::GET, &format!("/api/v1/conversations{bad}"), None)
                .await;
            assert_eq!(
                (s, b["code"].as_str()),
                (StatusCode::BAD_REQUEST, Some("invalid_query")),
                "{bad}: {b}"
            );
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn contacts_merge_moves_identities_and_conversations() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let mut first = msg("m1", "wechat-openid-1", "hi");
        first.name = Some("Li Lei".into());
        first.attributes.insert("vip_level".into(), json!(3));
        let (_, a) = app.inbound(inbox, &first).await;
        let (_, b) = app
            .inbound(inbox, &msg("m2", "email:li@example.com", "hello"))
            .await;
        let (_, ca) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{}", a["conversation_id"]),
                None,
            )
            .await;
        let (_, cb) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{}", b["conversation_id"]),
                None,
            )
            .await;
        let (keep, other) = (
            ca["contact"]["id"].as_i64().expect("id"),
            cb["contact"]["id"].as_i64().expect("id"),
        );
        assert_eq!(ca["contact"]["name"], "Li Lei");

        let (s, merged) = app
            .admin(
                Method::POST,
                &format!("/api/v1/contacts/{keep}/merge"),
                Some(json!({"other_id": other})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{merged}");
        let ids: BTreeSet<&str> = merged["identities"]
            .as_array()
            .expect("ids")
            .iter()
            .filter_map(|i| i["external_id"].as_str())
            .collect();
        assert_eq!(
            ids,
            BTreeSet::from(["wechat-openid-1", "email:li@example.com"])
        );
        assert_eq!(merged["attributes"]["vip_level"], 3);
        let (_, cb) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{}", b["conversation_id"]),
                None,
            )
            .await;
        assert_eq!(cb["contact"]["id"], keep);
        // New messages from the merged identity land on the surviving contact.
        let (_, b2) = app
            .inbound(inbox, &msg("m3", "email:li@example.com", "again"))
            .await;
        assert_eq!(b2["conversation_id"], b["conversation_id"]);
        let (s, e) = app
            .admin(
                Method::POST,
                &format!("/api/v1/contacts/{keep}/merge"),
                Some(json!({"other_id": other})),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        let (s, _) = app
            .admin(
                Method::POST,
                &format!("/api/v1/contacts/{keep}/merge"),
                Some(json!({"other_id": keep})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        app.stop().await;
    }
}

#[tokio::test]
async fn events_are_relayed_after_commit_in_order() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let mut rx = app.state.bus.subscribe();
        let inbox = app.loopback_inbox(json!({})).await;
        for i in 1..=5 {
            app.inbound(inbox, &msg(&format!("e{i}"), "cust", &format!("n{i}")))
                .await;
        }
        let mut kinds = Vec::new();
        let mut seqs = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while seqs.len() < 5 {
            let ev = tokio::time::timeout_at(deadline, rx.recv())
                .await
                .expect("events arrive")
                .expect("bus open");
            if let kefu_normalizer::EventData::MessageCreated(m) = &ev.data {
                seqs.push(m.seq);
            }
            kinds.push(ev.kind().as_str());
        }
        assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
        assert_eq!(
            &kinds[..4],
            [
                "contact.created",
                "conversation.created",
                "conversation.queued",
                "message.created"
            ]
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn relayed_events_are_pruned_after_the_retention_window_and_unrelayed_ones_kept() {
    use kefu_normalizer::entity::outbox_event;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let mut rx = app.state.bus.subscribe();
        let inbox = app.loopback_inbox(json!({})).await;
        app.inbound(inbox, &msg("p1", "cust", "hello")).await;
        // Wait until the message event was relayed.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("relayed")
            .expect("bus")
            .kind()
            != kefu_normalizer::EventType::MessageCreated
        {}
        let db = app.state.db.conn();
        // The relay marks a batch after publishing it: wait for the mark.
        let relayed = kefu_tests::eventually(Duration::from_secs(10), || async {
            let n = outbox_event::Entity::find()
                .filter(outbox_event::Column::RelayedAt.is_not_null())
                .count(db)
                .await
                .expect("count");
            (n >= 4).then_some(n)
        })
        .await
        .expect("contact, conversation x2 and message events were relayed");
        // Age them past the retention window (relayed and turned into jobs), and add one that
        // was never relayed.
        let two_hours_ago = chrono::Utc::now() - chrono::Duration::hours(2);
        outbox_event::Entity::update_many()
            .col_expr(outbox_event::Column::RelayedAt, Expr::value(two_hours_ago))
            .col_expr(
                outbox_event::Column::DispatchedAt,
                Expr::value(two_hours_ago),
            )
            .filter(outbox_event::Column::RelayedAt.is_not_null())
            .exec(db)
            .await
            .expect("age");
        let tx = app.state.db.begin_write().await.expect("tx");
        tx.emit(agent_status(999)).await.expect("emit");
        tx.commit().await.expect("commit");
        let relay = kefu_normalizer::OutboxRelay::new(
            app.state.db.clone(),
            std::sync::Arc::new(kefu_normalizer::InProcessBus::new(8)),
        );
        assert_eq!(relay.prune().await.expect("prune"), relayed);
        let left = outbox_event::Entity::find().all(db).await.expect("rows");
        assert!(
            left.iter().any(|e| e.payload["agent_id"] == 999),
            "unrelayed events are never pruned"
        );
        assert!(left.iter().all(|e| {
            e.relayed_at
                .is_none_or(|t| t > chrono::Utc::now() - chrono::Duration::hours(1))
        }));
        app.stop().await;
    }
}

/// The relay's consumer (the dispatcher's fan-out) fails on a batch: the batch stays unmarked,
/// is handed to the consumer again, and is not published to the bus a second time.
#[tokio::test]
async fn a_batch_the_consumer_failed_is_consumed_again_but_published_once() {
    use kefu_normalizer::entity::outbox_event;
    use kefu_normalizer::{ConsumeError, Db, Event, InProcessBus, OutboxConsumer, OutboxRelay};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use std::sync::{Arc, Mutex};

    /// Fails its first call; records the events of every batch it is handed.
    #[derive(Default)]
    struct Flaky(Mutex<Vec<Vec<String>>>);

    #[async_trait::async_trait]
    impl OutboxConsumer for Flaky {
        async fn consume(&self, events: &[Arc<Event>]) -> Result<(), ConsumeError> {
            let mut seen = self.0.lock().expect("batches");
            seen.push(events.iter().map(|e| label(e)).collect());
            if seen.len() == 1 {
                return Err("the job queue is down".into());
            }
            Ok(())
        }
    }

    for backend in backends() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = kefu_tests::fresh_database(&backend, dir.path())
            .await
            .expect("database");
        let db = Db::connect(&url, 2).await.expect("connect");
        db.migrate().await.expect("migrate");
        let tx = db.begin_write().await.expect("tx");
        for agent_id in [1, 2, 3] {
            tx.emit(agent_status(agent_id)).await.expect("emit");
        }
        tx.commit().await.expect("commit");

        let bus = Arc::new(InProcessBus::new(16));
        let mut rx = kefu_normalizer::EventBus::subscribe(bus.as_ref());
        let consumer = Arc::new(Flaky::default());
        let relay = OutboxRelay::new(db.clone(), bus).consumer(consumer.clone());
        let unmarked = || async {
            outbox_event::Entity::find()
                .filter(outbox_event::Column::DispatchedAt.is_null())
                .count(db.conn())
                .await
                .expect("count")
        };

        assert!(relay.relay_batch().await.is_err(), "{backend:?}");
        assert_eq!(unmarked().await, 3, "a failed batch is not marked");
        assert_eq!(relay.relay_batch().await.expect("retry"), 3);
        assert_eq!(unmarked().await, 0);
        assert_eq!(relay.relay_batch().await.expect("nothing left"), 0);

        let batch = vec!["1", "2", "3"];
        assert_eq!(
            *consumer.0.lock().expect("batches"),
            vec![batch.clone(), batch.clone()]
        );
        let mut published = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            published.push(label(&ev));
        }
        assert_eq!(published, batch, "published once, in order");
        let rows = outbox_event::Entity::find()
            .all(db.conn())
            .await
            .expect("rows");
        assert!(
            rows.iter()
                .all(|r| r.relayed_at.is_some() && r.relayed_at == r.dispatched_at)
        );
        kefu_tests::drop_fresh_database(&backend, &db, &url)
            .await
            .expect("drop");
    }
}

/// An `agent.status_changed` event, the smallest there is, for tests of the outbox itself.
fn agent_status(agent_id: i64) -> kefu_normalizer::EventData {
    kefu_normalizer::EventData::AgentStatusChanged(kefu_normalizer::views::AgentStatusView {
        agent_id,
        status: kefu_normalizer::AgentStatus::Online,
        previous: kefu_normalizer::AgentStatus::Offline,
    })
}

/// The agent [`agent_status`] was given, to tell the events of a batch apart.
fn label(e: &kefu_normalizer::Event) -> String {
    match &e.data {
        kefu_normalizer::EventData::AgentStatusChanged(a) => a.agent_id.to_string(),
        other => other.kind().to_string(),
    }
}

/// Outbox rows written before events were typed (kind + JSON, possibly still unrelayed at an
/// upgrade) are relayed as typed events whose wire form is the stored JSON, unchanged.
#[tokio::test]
async fn outbox_rows_stored_by_the_untyped_code_relay_unchanged() {
    use kefu_normalizer::entity::outbox_event;
    use kefu_normalizer::{Db, EventBus, EventType, InProcessBus, OutboxRelay};
    use sea_orm::{ActiveModelTrait, Set};

    // As `json!(view)` and `json!({..})` wrote them.
    let rows = [
        (
            EventType::ConversationCreated,
            json!({"assignee_id": null, "contact": {"email": null, "id": 5, "name": "Ana"},
                   "created_at": "2024-04-25T09:15:04.123Z", "id": 7, "inbox_id": 2,
                   "last_message_at": "2024-04-25T09:15:04.123Z", "last_seq": 0, "priority": 0,
                   "skills": {}, "status": "queued", "subject": null, "team_id": null}),
        ),
        (
            EventType::MessageCreated,
            json!({"content": {"attachments": [], "text": "hello"}, "conversation_id": 7,
                   "created_at": "2024-04-25T09:15:04.123Z", "direction": "inbound", "id": 11,
                   "private": false, "sender": {"id": 5, "name": "Ana", "type": "contact"},
                   "seq": 1}),
        ),
        (
            EventType::AgentStatusChanged,
            json!({"agent_id": 3, "previous": "online", "status": "away"}),
        ),
    ];
    for backend in backends() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = kefu_tests::fresh_database(&backend, dir.path())
            .await
            .expect("database");
        let db = Db::connect(&url, 2).await.expect("connect");
        db.migrate().await.expect("migrate");
        for (kind, payload) in &rows {
            outbox_event::ActiveModel {
                event_type: Set(kind.as_str().to_owned()),
                conversation_id: Set(payload["conversation_id"].as_i64().or(Some(7))),
                payload: Set(payload.clone()),
                created_at: Set(chrono::Utc::now()),
                relayed_at: Set(None),
                dispatched_at: Set(None),
                ..Default::default()
            }
            .insert(db.conn())
            .await
            .expect("old row");
        }
        let bus = std::sync::Arc::new(InProcessBus::new(16));
        let mut rx = bus.subscribe();
        let relay = OutboxRelay::new(db.clone(), bus);
        assert_eq!(relay.relay_batch().await.expect("relays"), rows.len());
        for (kind, payload) in &rows {
            let ev = rx.try_recv().expect("published");
            assert_eq!(ev.kind(), *kind, "{backend:?}");
            let wire = ev.data.to_value().expect("renders");
            assert_eq!(wire.to_string(), payload.to_string(), "{backend:?} {kind}");
        }
        kefu_tests::drop_fresh_database(&backend, &db, &url)
            .await
            .expect("drop");
    }
}
