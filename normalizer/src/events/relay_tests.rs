//! The outbox relay and the event buses: old rows decoded, unknown ones skipped, a commit that
//! emitted waking the relay, and every event type across the Redis bus (and locally without it).

use super::tests::{CONVERSATION, MESSAGE, at, every_type, message};
use super::*;
use crate::db::Db;
use crate::entity::agent::AgentStatus;
use crate::views::AgentStatusView;

/// Rows as the untyped code stored them are relayed as typed events; a row of a type no
/// version wrote is skipped and marked, so it cannot hold up the rows behind it.
#[tokio::test]
async fn the_relay_decodes_old_rows_and_skips_unknown_ones() -> anyhow::Result<()> {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};

    use crate::entity::outbox_event;

    let db = Db::connect("sqlite::memory:", 1).await?;
    db.migrate().await?;
    let rows = [
        ("conversation.created", CONVERSATION),
        ("test.unknown", "{}"),
        ("message.created", MESSAGE),
    ];
    for (kind, payload) in rows {
        outbox_event::ActiveModel {
            event_type: Set(kind.to_owned()),
            conversation_id: Set(Some(7)),
            payload: Set(serde_json::from_str(payload)?),
            created_at: Set(at(1_714_036_600)),
            relayed_at: Set(None),
            dispatched_at: Set(None),
            ..Default::default()
        }
        .insert(db.conn())
        .await?;
    }
    let bus = Arc::new(InProcessBus::new(8));
    let mut rx = bus.subscribe();
    let relay = OutboxRelay::new(db.clone(), bus);
    assert_eq!(relay.relay_batch().await.map_err(anyhow::Error::msg)?, 3);
    let first = rx.try_recv()?;
    assert_eq!(first.kind(), EventType::ConversationCreated);
    assert_eq!(first.data.to_value()?.to_string(), CONVERSATION);
    let second = rx.try_recv()?;
    assert_eq!(second.data, EventData::MessageCreated(message()));
    assert_eq!(second.conversation_id, Some(7));
    assert!(rx.try_recv().is_err(), "the unknown row is not published");
    let unmarked = outbox_event::Entity::find()
        .all(db.conn())
        .await?
        .into_iter()
        .filter(|r| r.dispatched_at.is_none())
        .count();
    assert_eq!(unmarked, 0, "every row is marked, the unknown one too");
    Ok(())
}

/// A transaction that emitted wakes the relay when it commits, and only then.
#[tokio::test]
async fn committing_an_emit_wakes_the_relay() -> anyhow::Result<()> {
    let db = Db::connect("sqlite::memory:", 1).await?;
    db.migrate().await?;
    let wake = db.outbox_wake();
    let event = EventData::AgentStatusChanged(AgentStatusView {
        agent_id: 3,
        status: AgentStatus::Away,
        previous: AgentStatus::Online,
    });

    // A notification nobody waits for is kept as a permit, so polling once (a zero timeout
    // polls the future before looking at the clock) tells whether one was sent.
    let woken = || tokio::time::timeout(std::time::Duration::ZERO, wake.notified());

    let tx = db.begin_write().await?;
    tx.emit(event.clone()).await?;
    tx.rollback().await?;
    assert!(woken().await.is_err(), "a rolled-back emit wakes nobody");

    let tx = db.begin_write().await?;
    tx.commit().await?;
    assert!(
        woken().await.is_err(),
        "a commit without events wakes nobody"
    );

    let tx = db.begin_write().await?;
    tx.emit(event).await?;
    assert!(
        woken().await.is_err(),
        "nothing is announced before the commit"
    );
    tx.commit().await?;
    assert!(woken().await.is_ok(), "the commit wakes the relay");
    Ok(())
}

/// A consumer that refuses every batch until opened, and keeps the ids of those it took.
#[derive(Default)]
struct Gate {
    open: std::sync::atomic::AtomicBool,
    taken: std::sync::Mutex<Vec<i64>>,
}

#[async_trait::async_trait]
impl OutboxConsumer for Gate {
    async fn consume(&self, events: &[Arc<Event>]) -> Result<(), ConsumeError> {
        if !self.open.load(std::sync::atomic::Ordering::SeqCst) {
            return Err("closed".into());
        }
        let mut taken = self.taken.lock().expect("not poisoned");
        taken.extend(events.iter().map(|e| e.id));
        Ok(())
    }
}

/// SQLite's relay publishes committed events while the consumer still refuses them, and marks
/// them only once it has taken them: each once, in order.
#[tokio::test]
async fn sqlite_publishes_ahead_of_the_consumer_and_marks_what_it_took() -> anyhow::Result<()> {
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

    use crate::entity::outbox_event;

    let db = Db::connect("sqlite::memory:", 1).await?;
    db.migrate().await?;
    // The publisher follows ids, so SQLite must never hand out an id again, not even after
    // pruning has emptied the table: AUTOINCREMENT, not the plain rowid.
    let schema = db
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE name = 'outbox_events'",
        ))
        .await?
        .map(|r| r.try_get::<String>("", "sql"))
        .transpose()?
        .unwrap_or_default();
    assert!(schema.to_uppercase().contains("AUTOINCREMENT"), "{schema}");
    let status = |agent_id| {
        EventData::AgentStatusChanged(AgentStatusView {
            agent_id,
            status: AgentStatus::Away,
            previous: AgentStatus::Online,
        })
    };
    let emit = |agents: std::ops::Range<i64>| {
        let db = db.clone();
        async move {
            let tx = db.begin_write().await?;
            emit_all(&tx, agents.map(status), at(1_714_036_600)).await?;
            tx.commit().await?;
            anyhow::Ok(())
        }
    };
    let unmarked = || async {
        outbox_event::Entity::find()
            .filter(outbox_event::Column::DispatchedAt.is_null())
            .count(db.conn())
            .await
    };
    let bus = Arc::new(InProcessBus::new(64));
    let mut rx = bus.subscribe();
    let gate = Arc::new(Gate::default());
    let relay = OutboxRelay::new(db.clone(), bus).consumer(gate.clone());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(relay.run(shutdown.clone()));
    let wait = std::time::Duration::from_secs(5);
    let mut published = Vec::new();
    for agents in [1..4, 4..6] {
        emit(agents.clone()).await?;
        for agent in agents {
            let event = tokio::time::timeout(wait, rx.recv()).await??;
            assert_eq!(event.data, status(agent));
            published.push(event.id);
        }
    }
    assert_eq!(
        unmarked().await?,
        5,
        "nothing is marked before it is consumed"
    );
    assert!(gate.taken.lock().expect("not poisoned").is_empty());

    gate.open.store(true, std::sync::atomic::Ordering::SeqCst);
    tokio::time::timeout(wait, async {
        while unmarked().await.unwrap_or(1) > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await?;
    assert_eq!(*gate.taken.lock().expect("not poisoned"), published);
    assert!(rx.try_recv().is_err(), "nothing is published twice");
    shutdown.cancel();
    running.await?;
    Ok(())
}

/// Every type as events numbered from 1, as the relay would publish them.
fn every_event() -> Vec<Arc<Event>> {
    every_type()
        .into_iter()
        .zip(1..)
        .map(|((data, _), id)| {
            Arc::new(Event {
                id,
                timestamp: at(1_714_036_504 + id),
                conversation_id: data.conversation_id(),
                data,
            })
        })
        .collect()
}

#[test]
fn the_bus_wire_form_round_trips_every_type_and_skips_unknown_ones() {
    for event in every_event() {
        let bytes = encode_wire(&event).expect("encodes");
        assert_eq!(
            decode_wire(&bytes).expect("decodes"),
            *event,
            "{}",
            event.kind()
        );
    }
    let newer = br#"{"id":1,"type":"test.newer","timestamp":"2024-04-25T09:15:04.123Z","conversation_id":null,"payload":{}}"#;
    assert!(matches!(decode_wire(newer), Err(BusError::UnknownType(_))));
    assert!(matches!(decode_wire(b"{"), Err(BusError::Malformed(_))));
}

/// Two nodes' buses on one Redis (`KEFU_TEST_REDIS_URL`): a batch published on one reaches the
/// subscribers of both, once, in order and unchanged.
#[tokio::test]
async fn the_redis_bus_carries_every_type_to_every_node_in_order() {
    let Some(url) = std::env::var("KEFU_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("skipping the Redis bus round trip: KEFU_TEST_REDIS_URL is not set");
        return;
    };
    let namespace = format!("kefu-test-{}", crate::token::random(12).to_lowercase());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let one = RedisBus::start(&url, &namespace, 64, shutdown.clone()).expect("bus");
    let two = RedisBus::start(&url, &namespace, 64, shutdown.clone()).expect("bus");
    let wait = std::time::Duration::from_secs(5);
    assert!(one.wait_subscribed(wait).await && two.wait_subscribed(wait).await);
    assert!(one.health().ok && two.health().ok, "{:?}", one.health());
    let (mut on_one, mut on_two) = (one.subscribe(), two.subscribe());
    let events = every_event();
    one.publish_batch(&events).await;
    for rx in [&mut on_one, &mut on_two] {
        for sent in &events {
            let got = tokio::time::timeout(wait, rx.recv())
                .await
                .expect("in time")
                .expect("no lag");
            assert_eq!(got, *sent);
        }
        assert!(rx.try_recv().is_err(), "each event arrives once");
    }
    shutdown.cancel();
}

/// With Redis unreachable, a node's own subscribers still get its events, and the bus says
/// why it is not healthy.
#[tokio::test]
async fn without_redis_the_bus_delivers_locally_and_reports_the_reason() {
    let shutdown = tokio_util::sync::CancellationToken::new();
    // Nothing listens on port 1: connections are refused at once.
    let bus = RedisBus::start("redis://127.0.0.1:1", "kefu-test", 64, shutdown.clone())
        .expect("a well-formed URL starts");
    let mut rx = bus.subscribe();
    let events = every_event();
    bus.publish_batch(&events[..2]).await;
    for sent in &events[..2] {
        assert_eq!(rx.try_recv().expect("delivered locally"), *sent);
    }
    let health = bus.health();
    assert!(!health.ok);
    assert!(
        health.error.as_deref().is_some_and(|e| e.contains("Redis")),
        "{health:?}"
    );
    assert!(matches!(
        RedisBus::start("http://nope", "kefu-test", 64, shutdown.clone()),
        Err(BusError::Url(_))
    ));
    shutdown.cancel();
}
