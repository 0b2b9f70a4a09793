//! Several Kefu nodes on one PostgreSQL database and one Redis: a visitor on one node and an
//! agent on another chat live; webhooks go out once per event whichever node relays it; a
//! partition held by a node that dies is relayed by another within seconds. And one node whose
//! Redis is unreachable keeps serving its own sockets and says `degraded`.
//!
//! The cluster tests need `KEFU_TEST_DATABASE_URL` and `KEFU_TEST_REDIS_URL` and are skipped
//! (saying so) without them; each uses a fresh database and its own Redis namespace. One mailbox
//! on a real Dovecot is polled by one node, and by another once that node stops.

#[path = "../../channels/email/tests/support/mod.rs"]
mod email_support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use kefu_channel::LivePresence;
use kefu_normalizer::events::{RELAY_LOCK_CLASS, partition_of};
use kefu_normalizer::{EventData, EventType};
use kefu_tests::receiver::Receiver;
use kefu_tests::ws::{self, Ws, next_where, send};
use kefu_tests::{Backend, TestApp, backends, eventually, fresh_redis_namespace, msg, test_redis};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database, Statement, TransactionTrait};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);

/// PostgreSQL's admin URL and Redis's URL, or `None` (printed) when either is not configured.
fn cluster_env(test: &str) -> Option<(Backend, String)> {
    let pg = backends()
        .into_iter()
        .find(|b| matches!(b, Backend::Postgres(_)));
    match (pg, test_redis()) {
        (Some(pg), Some(redis)) => Some((pg, redis)),
        _ => {
            eprintln!(
                "skipping {test}: it needs KEFU_TEST_DATABASE_URL and KEFU_TEST_REDIS_URL (several nodes share one PostgreSQL and one Redis)"
            );
            None
        }
    }
}

/// `n` nodes on a fresh database and a fresh Redis namespace; `tweak` applies to each.
async fn cluster(
    pg: &Backend,
    redis: &str,
    n: usize,
    tweak: impl Fn(&mut kefu_gateway::Config),
) -> Vec<TestApp> {
    let namespace = fresh_redis_namespace();
    let first = TestApp::spawn_with(pg, |c| {
        c.redis_url = Some(redis.to_owned());
        c.redis_namespace = namespace;
        tweak(c);
    })
    .await;
    let mut nodes = vec![];
    for _ in 1..n {
        nodes.push(first.spawn_node(|_| {}).await);
    }
    nodes.insert(0, first);
    for node in &nodes {
        let (code, ready) = readyz(node).await;
        assert_eq!(code, StatusCode::OK, "{ready}");
        assert_eq!(
            ready["checks"]["bus"],
            json!({"kind": "redis", "ok": true}),
            "{ready}"
        );
    }
    nodes
}

async fn readyz(app: &TestApp) -> (StatusCode, Value) {
    let r = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .expect("readyz");
    (r.status(), r.json().await.expect("readyz body"))
}

async fn connect(app: &TestApp, path: &str) -> Ws {
    ws::connect(&app.base, path).await
}

async fn website_token(app: &TestApp) -> String {
    let (s, list) = app.admin(Method::GET, "/api/v1/inboxes", None).await;
    assert_eq!(s, StatusCode::OK);
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["channel"]["type"] == "web_chat")
        .and_then(|i| i["website_token"].as_str())
        .expect("default web chat inbox")
        .to_owned()
}

#[tokio::test]
async fn a_visitor_on_one_node_and_an_agent_on_another_chat_live() {
    let Some((pg, redis)) = cluster_env("a_visitor_on_one_node_and_an_agent_on_another_chat_live")
    else {
        return;
    };
    let nodes = cluster(&pg, &redis, 2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let token = website_token(a).await;
    let mut agent = connect(b, &format!("/ws/agent?token={}", b.admin_token)).await;
    let mut tab = connect(a, "/ws/web_chat").await;
    send(
        &mut tab,
        json!({"type": "hello", "website_token": token, "name": "Visitor Zhao"}),
    )
    .await;
    next_where(&mut tab, "welcome", |f| f["type"] == "welcome").await;

    // The visitor writes on node A; the agent's console on node B shows it live.
    send(
        &mut tab,
        json!({"type": "message", "client_id": "c-1", "text": "我的订单在哪里?"}),
    )
    .await;
    let ack = next_where(&mut tab, "ack", |f| f["type"] == "ack").await;
    let conv = ack["conversation_id"].as_i64().expect("conversation");
    let seen = next_where(&mut agent, "the visitor's message on node B", |f| {
        f["event"]["type"] == "message.created"
    })
    .await;
    assert_eq!(seen["event"]["data"]["content"]["text"], "我的订单在哪里?");
    assert_eq!(seen["event"]["data"]["conversation_id"], conv);

    // The agent answers through node B; the visitor's tab on node A shows it live.
    let (s, reply) = b
        .admin(
            Method::POST,
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(json!({"text": "It ships tomorrow."})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{reply}");
    let live = next_where(&mut tab, "the agent's reply on node A", |f| {
        f["type"] == "message" && f["message"]["direction"] == "outbound"
    })
    .await;
    assert_eq!(live["message"]["content"]["text"], "It ships tomorrow.");
    assert_eq!(live["message"]["seq"], 2);

    // And the next visitor message crosses again, on the same sockets.
    send(
        &mut tab,
        json!({"type": "message", "client_id": "c-2", "text": "谢谢!"}),
    )
    .await;
    let seen = next_where(&mut agent, "the second message on node B", |f| {
        f["event"]["type"] == "message.created" && f["event"]["data"]["seq"] == 3
    })
    .await;
    assert_eq!(seen["event"]["data"]["content"]["text"], "谢谢!");

    // Typing crosses the nodes both ways.
    send(&mut tab, json!({"type": "typing", "on": true})).await;
    let typing = next_where(&mut agent, "the visitor typing, on node B", |f| {
        f["type"] == "typing"
    })
    .await;
    assert_eq!(
        typing,
        json!({"type": "typing", "conversation_id": conv, "on": true})
    );
    send(
        &mut agent,
        json!({"type": "typing", "conversation_id": conv, "on": true}),
    )
    .await;
    let typing = next_where(&mut tab, "the agent typing, on node A", |f| {
        f["type"] == "typing"
    })
    .await;
    assert_eq!(typing["on"], true);
    assert!(typing["name"].is_string(), "{typing}");

    // Node B knows the visitor's tab on node A follows the conversation (so the app channel
    // pushes no reply to a user chatting on another node), and learns when it closes.
    let (s, c) = b
        .admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let inbox = c["inbox_id"].as_i64().expect("inbox id");
    let live_on_b = |want: bool| {
        let hub = b.state.hub.clone();
        async move {
            eventually(WAIT, || {
                let hub = hub.clone();
                async move { (hub.is_live(inbox, conv).await == want).then_some(()) }
            })
            .await
            .is_some()
        }
    };
    assert!(live_on_b(true).await, "node B sees the tab on node A");
    tab.close(None).await.expect("close");
    assert!(live_on_b(false).await, "node B sees the tab close");
    for node in nodes {
        node.stop().await;
    }
}

#[tokio::test]
async fn webhooks_go_out_once_per_event_whichever_node_relays_it() {
    let Some((pg, redis)) = cluster_env("webhooks_go_out_once_per_event_whichever_node_relays_it")
    else {
        return;
    };
    let nodes = cluster(&pg, &redis, 3, |c| c.jobs.poll_interval_ms = 50).await;
    let receiver = Receiver::start().await;
    let (s, endpoint) = nodes[0]
        .admin(
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": receiver.url, "events": ["message.created"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{endpoint}");
    let inbox = nodes[0].loopback_inbox(json!({})).await;
    let mut heard = nodes[0].state.bus.subscribe();

    // Five customers write into their conversations through all three nodes at once, so the
    // nodes' relays race for the same partitions.
    const CUSTOMERS: usize = 5;
    const PER_CUSTOMER: usize = 6;
    let sends = (0..CUSTOMERS * PER_CUSTOMER).map(|i| {
        let node = &nodes[i % nodes.len()];
        let (customer, n) = (i % CUSTOMERS, i / CUSTOMERS);
        async move {
            let (s, b) = node
                .inbound(
                    inbox,
                    &msg(
                        &format!("m-{customer}-{n}"),
                        &format!("customer-{customer}"),
                        &format!("message {n} of customer {customer}"),
                    ),
                )
                .await;
            assert!(s.is_success(), "{s} {b}");
        }
    });
    futures::future::join_all(sends).await;
    let total = CUSTOMERS * PER_CUSTOMER;

    let got = receiver.wait_until(WAIT, |got| got.len() >= total).await;
    assert_eq!(got.len(), total, "every message.created was delivered");
    let ids: HashSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), total, "no event was delivered twice");
    // Every delivery finished at its first attempt, so no retry can bring a second copy.
    let endpoint_id = endpoint["id"].as_i64().expect("endpoint id");
    let page = eventually(WAIT, || async {
        let (s, page) = nodes[1]
            .admin(
                Method::GET,
                &format!("/api/v1/webhooks/{endpoint_id}/deliveries?limit=100"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{page}");
        let items = page["items"].as_array()?;
        (items.len() == total && items.iter().all(|d| d["status"] == "succeeded")).then_some(page)
    })
    .await
    .expect("every delivery recorded as succeeded");
    for d in page["items"].as_array().into_iter().flatten() {
        assert_eq!(d["attempts"], 1, "{d}");
    }

    // The bus carried each event once: after a last message (published after all the others,
    // since their partitions were marked first), node A has heard every event exactly once.
    let unmarked = || async {
        let rows = nodes[0]
            .state
            .db
            .conn()
            .query_one_raw(Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT COUNT(*) AS n FROM outbox_events WHERE dispatched_at IS NULL",
            ))
            .await
            .expect("count")
            .expect("a row");
        (rows.try_get::<i64>("", "n").expect("n") == 0).then_some(())
    };
    eventually(WAIT, unmarked)
        .await
        .expect("the outbox is relayed");
    let (s, _) = nodes[0]
        .inbound(inbox, &msg("last", "customer-last", "the last one"))
        .await;
    assert!(s.is_success());
    let mut created: HashMap<i64, usize> = HashMap::new();
    loop {
        let ev = tokio::time::timeout(WAIT, heard.recv())
            .await
            .expect("the last event arrives")
            .expect("no lag");
        if let EventData::MessageCreated(m) = &ev.data {
            *created.entry(ev.id).or_default() += 1;
            if m.content.text == "the last one" {
                break;
            }
        }
    }
    assert_eq!(created.len(), total + 1, "{created:?}");
    assert!(
        created.values().all(|n| *n == 1),
        "an event was published twice: {created:?}"
    );
    for node in nodes {
        node.stop().await;
    }
}

#[tokio::test]
async fn a_partition_held_by_a_dead_node_is_relayed_by_another() {
    let Some((pg, redis)) = cluster_env("a_partition_held_by_a_dead_node_is_relayed_by_another")
    else {
        return;
    };
    let nodes = cluster(&pg, &redis, 3, |_| {}).await;
    let (a, c) = (&nodes[0], &nodes[2]);
    let inbox = a.loopback_inbox(json!({})).await;
    let mut on_c = c.state.bus.subscribe();
    let first = a.inbound(inbox, &msg("x-1", "xavier", "hello")).await;
    assert!(first.0.is_success(), "{first:?}");
    let conv = c
        .until_event("xavier's conversation", || async {
            a.conversations(inbox).await.first()?["id"].as_i64()
        })
        .await;

    // A "node" takes xavier's partition and dies in the middle of its batch: its connection
    // holds the partition's lock inside an open transaction.
    let db_url = a.state.config.database_url.clone();
    let holder = Database::connect(db_url.as_str()).await.expect("connect");
    let txn = holder.begin().await.expect("begin");
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1, $2), pg_backend_pid() AS pid",
            [RELAY_LOCK_CLASS.into(), partition_of(Some(conv)).into()],
        ))
        .await
        .expect("lock")
        .expect("row");
    let pid: i32 = row.try_get("", "pid").expect("pid");

    // Xavier writes again through node A; meanwhile another customer in another partition
    // writes after him and is relayed, but xavier's message waits for its partition.
    a.inbound(inbox, &msg("x-2", "xavier", "still there?"))
        .await;
    a.inbound(inbox, &msg("y-1", "yvonne", "hi")).await;
    let mut seen = Vec::new();
    let yvonne = loop {
        let ev = tokio::time::timeout(WAIT, on_c.recv())
            .await
            .expect("an event")
            .expect("no lag");
        if let EventData::MessageCreated(m) = &ev.data {
            seen.push(m.content.text.clone());
            if m.content.text == "hi" {
                break m.conversation_id;
            }
        }
    };
    assert_ne!(
        partition_of(Some(yvonne)),
        partition_of(Some(conv)),
        "consecutive conversations lie in different partitions"
    );
    assert!(
        !seen.iter().any(|t| t == "still there?"),
        "xavier's partition is held, so his message waits: {seen:?}"
    );

    // The holder dies (its backend is killed, as when its node is killed): another node
    // relays the partition within seconds.
    let admin = Database::connect(match &pg {
        Backend::Postgres(url) => url.as_str(),
        Backend::Sqlite => unreachable!(),
    })
    .await
    .expect("admin");
    admin
        .execute_unprepared(&format!("SELECT pg_terminate_backend({pid})"))
        .await
        .expect("terminate");
    admin.close().await.expect("close");
    let started = std::time::Instant::now();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(5), on_c.recv())
            .await
            .expect("xavier's message is relayed within 5 s of the holder's death")
            .expect("no lag");
        if let EventData::MessageCreated(m) = &ev.data
            && m.content.text == "still there?"
        {
            break;
        }
    }
    eprintln!("taken over after {:?}", started.elapsed());
    drop(txn);

    // Node B stops (the first node keeps the test database); xavier goes on through node C,
    // which relays his partition now, and node A hears it.
    let mut on_a = nodes[0].state.bus.subscribe();
    let mut nodes = nodes;
    nodes.remove(1).stop().await;
    let (s, body) = nodes[1]
        .inbound(inbox, &msg("x-3", "xavier", "hello again"))
        .await;
    assert!(s.is_success(), "{s} {body}");
    loop {
        let ev = tokio::time::timeout(WAIT, on_a.recv())
            .await
            .expect("an event")
            .expect("no lag");
        if ev.kind() == EventType::MessageCreated
            && ev.data.as_message().map(|m| m.content.text.as_str()) == Some("hello again")
        {
            assert_eq!(ev.conversation_id, Some(conv));
            break;
        }
    }
    for node in nodes {
        node.stop().await;
    }
}

#[tokio::test]
async fn without_redis_a_node_serves_its_own_sockets_and_says_degraded() {
    // Nothing listens on port 1: connecting is refused at once, as with Redis down.
    let app = TestApp::spawn_with(&Backend::Sqlite, |c| {
        c.redis_url = Some("redis://127.0.0.1:1".into());
    })
    .await;
    let (code, ready) = readyz(&app).await;
    assert_eq!(code, StatusCode::OK, "{ready}");
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert_eq!(ready["checks"]["bus"]["ok"], false, "{ready}");
    assert!(
        ready["checks"]["bus"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("Redis")),
        "{ready}"
    );
    let mut agent = connect(&app, &format!("/ws/agent?token={}", app.admin_token)).await;
    let inbox = app.loopback_inbox(json!({})).await;
    let (s, _) = app.inbound(inbox, &msg("z-1", "zoe", "anyone?")).await;
    assert!(s.is_success());
    let seen = next_where(&mut agent, "the message on the same node", |f| {
        f["event"]["type"] == "message.created"
    })
    .await;
    assert_eq!(seen["event"]["data"]["content"]["text"], "anyone?");
    app.stop().await;
}

/// The node holding the lease `name`, by its index in `nodes`, once one does. It looks through
/// a connection of its own, so a node's busy pool never fails the look (a probe through the
/// first node's pool once timed out while that node took over a mailbox on a loaded machine).
async fn lease_holder(nodes: &[TestApp], name: &str) -> usize {
    let db = sea_orm::Database::connect(nodes[0].state.config.database_url.as_str())
        .await
        .expect("a connection to the nodes' database");
    let rows = || async {
        let rows = db
            .query_all_raw(Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT name, holder FROM leases",
            ))
            .await?;
        Ok::<_, sea_orm::DbErr>(
            rows.iter()
                .filter_map(|r| Some((r.try_get("", "name").ok()?, r.try_get("", "holder").ok()?)))
                .collect::<Vec<(String, String)>>(),
        )
    };
    let last = std::cell::RefCell::new(None);
    let holder = eventually(WAIT, || {
        let rows = rows();
        let last = &last;
        async move {
            let rows = rows.await;
            let holder = rows.as_ref().ok().and_then(|rows| {
                let (_, holder) = rows.iter().find(|(n, _)| n == name)?;
                nodes.iter().position(|n| n.state.leases.node() == holder)
            });
            *last.borrow_mut() = Some(rows);
            holder
        }
    })
    .await;
    if let Some(i) = holder {
        let _ = db.close().await;
        return i;
    }
    // What every connection to the database is doing, to tell a lock wait from a busy pool.
    let activity: Vec<String> = db
        .query_all_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT concat_ws(' | ', pid, state, wait_event_type, wait_event, \
             now() - xact_start, left(query, 160)) AS row FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        ))
        .await
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r.try_get("", "row").ok())
                .collect()
        })
        .unwrap_or_default();
    let names: Vec<&str> = nodes.iter().map(|n| n.state.leases.node()).collect();
    panic!(
        "no node holds {name} within {WAIT:?}; leases: {:?}; nodes: {names:?}; \
         connections:\n{}",
        last.borrow(),
        activity.join("\n")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_polls_a_mailbox_and_another_takes_it_over() {
    let Some((pg, redis)) = cluster_env("one_node_polls_a_mailbox_and_another_takes_it_over")
    else {
        return;
    };
    let (Some(dovecot), Some(smtp)) = (
        email_support::Dovecot::start(),
        email_support::SmtpSink::start(),
    ) else {
        eprintln!("skipping: no Dovecot or SMTP server here");
        return;
    };
    let mut nodes = cluster(&pg, &redis, 2, |_| {}).await;
    let mailbox = format!(
        "Cluster{}",
        kefu_normalizer::token::random(6).to_lowercase()
    );
    let mut settings = dovecot.settings(&mailbox, smtp.port);
    settings["type"] = json!("email");
    let mut imap = dovecot.client().await;
    imap.create(&mailbox).await.expect("create mailbox");
    let (s, inbox) = nodes[1]
        .admin(
            Method::POST,
            "/api/v1/inboxes",
            Some(json!({"name": "Support mail", "channel": settings})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{inbox}");
    let inbox = inbox["id"].as_i64().expect("inbox id");
    let lease = format!("inbox:{inbox}");

    let mail = |id: &str, body: &str| {
        format!(
            "From: Alice <alice@customer.test>\r\nTo: support@kefu.test\r\nSubject: Order\r\n\
             Message-ID: <{id}>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        )
        .into_bytes()
    };
    let holder = lease_holder(&nodes, &lease).await;
    dovecot
        .append(&mailbox, &mail("first@customer.test", "Where is my order?"))
        .await;
    let other = 1 - holder;
    nodes[other]
        .until_event("the first mail to become a conversation", || async {
            nodes[other].conversations(inbox).await.first().cloned()
        })
        .await;

    // The polling node stops; the other one takes the mailbox over and reads the next mail.
    // The first node created the database; whichever stops, the survivor keeps it.
    let stopped = nodes.remove(holder);
    stopped.stop_leaving_database_to(&mut nodes[0]).await;
    assert_eq!(lease_holder(&nodes, &lease).await, 0);
    dovecot
        .append(&mailbox, &mail("second@customer.test", "Any news?"))
        .await;
    let survivor = &nodes[0];
    survivor
        .until_event("the second mail on the surviving node", || async {
            survivor.conversations(inbox).await.into_iter().find(|c| {
                c["last_message"]["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("Any news?"))
            })
        })
        .await;
    for node in nodes {
        node.stop().await;
    }
}

#[tokio::test]
async fn an_agent_online_on_one_node_gets_conversations_started_on_another() {
    let Some((pg, redis)) =
        cluster_env("an_agent_online_on_one_node_gets_conversations_started_on_another")
    else {
        return;
    };
    let nodes = cluster(&pg, &redis, 3, |_| {}).await;
    let (a, c) = (&nodes[0], &nodes[2]);
    // The agent works on node C: created, made a member of the website inbox, online there.
    let (agent_id, agent_token) = c.agent("li.lei@kefu.test", "agent", json!({})).await;
    let token = website_token(c).await;
    let (s, inboxes) = c.admin(Method::GET, "/api/v1/inboxes", None).await;
    assert_eq!(s, StatusCode::OK, "{inboxes}");
    let inbox = inboxes["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["website_token"] == token.as_str())
        .and_then(|i| i["id"].as_i64())
        .expect("website inbox");
    c.join(inbox, agent_id).await;
    let mut console = connect(c, &format!("/ws/agent?token={agent_token}")).await;
    let (s, b) = c
        .call(
            Method::PUT,
            &format!("/api/v1/agents/{agent_id}/status"),
            Some(&agent_token),
            Some(json!({"status": "online"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // A visitor starts a conversation on node A; whichever node runs the assigner routes it to
    // the agent on node C, whose console hears of it live.
    let mut tab = connect(a, "/ws/web_chat").await;
    send(&mut tab, json!({"type": "hello", "website_token": token})).await;
    next_where(&mut tab, "welcome", |f| f["type"] == "welcome").await;
    send(
        &mut tab,
        json!({"type": "message", "client_id": "r-1", "text": "Need help"}),
    )
    .await;
    let ack = next_where(&mut tab, "ack", |f| f["type"] == "ack").await;
    let conv = ack["conversation_id"].as_i64().expect("conversation");
    let assigned = next_where(&mut console, "the assignment on node C", |f| {
        f["event"]["type"] == "conversation.assigned" && f["event"]["data"]["id"] == conv
    })
    .await;
    assert_eq!(assigned["event"]["data"]["assignee_id"], agent_id);
    for node in nodes {
        node.stop().await;
    }
}

#[tokio::test]
async fn guesses_at_one_account_count_on_every_node() {
    let Some((pg, redis)) = cluster_env("guesses_at_one_account_count_on_every_node") else {
        return;
    };
    let nodes = cluster(&pg, &redis, 2, |_| {}).await;
    nodes[0].agent("bob@example.com", "agent", json!({})).await;
    // Eight wrong passwords on A: the fifth locks the account, the next ones, refused, make the
    // lock longer (8 s by the eighth), so B is asked well within it.
    for _ in 0..8 {
        let (s, b) = nodes[0].login("bob@example.com", "wrong-password").await;
        assert!(
            matches!(s, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS),
            "{s}: {b}"
        );
    }
    let (s, b) = nodes[1].login("BOB@example.com", "agent-password").await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")),
        "B refuses even the right password while A's guesses lock the account: {b}"
    );
    // Another account is not locked, on either node.
    nodes[0].agent("ann@example.com", "agent", json!({})).await;
    assert_eq!(
        nodes[1].login("ann@example.com", "agent-password").await.0,
        StatusCode::OK
    );
    for node in nodes {
        node.stop().await;
    }
}

/// The knowledge-base answers node `app` suggests for conversation `conv`, by knowledge id.
async fn suggested(app: &TestApp, conv: i64) -> Vec<i64> {
    let (s, b) = app
        .admin(
            Method::GET,
            &format!("/api/v1/conversations/{conv}/suggestions"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["knowledge_id"].as_i64())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_knowledge_entry_edited_on_one_node_is_suggested_by_the_others() {
    let Some((pg, redis)) =
        cluster_env("a_knowledge_entry_edited_on_one_node_is_suggested_by_the_others")
    else {
        return;
    };
    let nodes = cluster(&pg, &redis, 2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let inbox = a.loopback_inbox(json!({})).await;
    let (s, body) = a
        .admin(
            Method::PUT,
            &format!("/api/v1/inboxes/{inbox}/bot"),
            Some(json!({"mode": "suggest"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, ack) = a.inbound(inbox, &msg("kb-1", "cust-kb", "运费多少")).await;
    assert_eq!(s, StatusCode::OK, "{ack}");
    let conv = ack["conversation_id"].as_i64().expect("conversation");
    assert!(suggested(b, conv).await.is_empty());

    // Added through A: B suggests it, without a restart.
    let entry = json!({"question": "运费是多少钱", "answer": "满 99 元包邮。"});
    let (s, created) = a
        .admin(Method::POST, "/api/v1/knowledge", Some(entry.clone()))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().expect("id");
    eventually(WAIT, || async {
        (suggested(b, conv).await == [id]).then_some(())
    })
    .await
    .expect("node B suggests the entry added through node A");

    // Disabled through B: A stops suggesting it.
    let mut disabled = entry.clone();
    disabled["enabled"] = json!(false);
    let (s, body) = b
        .admin(
            Method::PUT,
            &format!("/api/v1/knowledge/{id}"),
            Some(disabled),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    eventually(WAIT, || async {
        suggested(a, conv).await.is_empty().then_some(())
    })
    .await
    .expect("node A drops the entry disabled through node B");
    for node in nodes {
        node.stop().await;
    }
}

/// The first `welcome` or `error` frame of a widget socket from `ip` that says `hello`.
async fn hello_from(app: &TestApp, token: &str, ip: &str) -> (Ws, Value) {
    let mut ws = ws::connect_from(&app.base, "/ws/web_chat", ip).await;
    send(&mut ws, json!({"type": "hello", "website_token": token})).await;
    let first = next_where(&mut ws, "welcome or error", |v| {
        v["type"] == "welcome" || v["type"] == "error"
    })
    .await;
    (ws, first)
}

#[tokio::test]
async fn one_address_gets_one_budget_of_tabs_and_conversations_on_every_node() {
    let Some((pg, redis)) =
        cluster_env("one_address_gets_one_budget_of_tabs_and_conversations_on_every_node")
    else {
        return;
    };
    let nodes = cluster(&pg, &redis, 2, |_| {}).await;
    let (s, inbox) = nodes[0]
        .admin(
            Method::POST,
            "/api/v1/inboxes",
            Some(json!({"name": "Shop", "channel": {"type": "web_chat",
                "visitor_limits": {"connections_per_ip": 2, "conversations_per_ip_per_hour": 4}}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{inbox}");
    let token = inbox["website_token"].as_str().expect("token").to_owned();
    let ip = "203.0.113.77";

    // One tab on each node uses up the address's two places: a third is refused on either.
    let (mut on_a, first) = hello_from(&nodes[0], &token, ip).await;
    assert_eq!(first["type"], "welcome", "{first}");
    let (mut on_b, first) = hello_from(&nodes[1], &token, ip).await;
    assert_eq!(first["type"], "welcome", "{first}");
    for node in &nodes {
        let (_, refused) = hello_from(node, &token, ip).await;
        assert_eq!(refused["code"], "too_many_connections", "{refused}");
    }
    // Another address has its own places.
    let (_other, first) = hello_from(&nodes[1], &token, "198.51.100.4").await;
    assert_eq!(first["type"], "welcome", "{first}");

    // New conversations: a burst of one (a quarter of 4 an hour) for the address on all nodes.
    send(
        &mut on_a,
        json!({"type": "message", "client_id": "a1", "text": "hi from A"}),
    )
    .await;
    let ack = next_where(&mut on_a, "ack", |v| {
        v["type"] == "ack" || v["type"] == "error"
    })
    .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    send(
        &mut on_b,
        json!({"type": "message", "client_id": "b1", "text": "hi from B"}),
    )
    .await;
    let refused = next_where(&mut on_b, "error", |v| {
        v["type"] == "ack" || v["type"] == "error"
    })
    .await;
    assert_eq!(refused["code"], "too_many_conversations", "{refused}");

    // A closed tab on B frees its place for A (the close reaches Redis asynchronously).
    on_b.close(None).await.expect("close");
    let reopened = eventually(WAIT, || async {
        let (ws, first) = hello_from(&nodes[0], &token, ip).await;
        (first["type"] == "welcome").then_some(ws)
    })
    .await;
    assert!(reopened.is_some(), "B's closed tab frees a place on A");
    for node in nodes {
        node.stop().await;
    }
}

#[tokio::test]
async fn a_plain_wechat_callback_replayed_to_another_node_is_refused() {
    use kefu_channel_wechat::crypto::signature;
    let Some((pg, redis)) =
        cluster_env("a_plain_wechat_callback_replayed_to_another_node_is_refused")
    else {
        return;
    };
    let nodes = cluster(&pg, &redis, 2, |_| {}).await;
    // Plaintext mode: no encoding_aes_key, so the signature covers the query only.
    let (s, inbox) = nodes[0]
        .admin(
            Method::POST,
            "/api/v1/inboxes",
            Some(
                json!({"name": "OA", "channel": {"type": "wechat", "app_id": "wx5f2a0c3b9d8e7f61",
                "app_secret": "plain-secret", "token": "plaintoken"}}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{inbox}");
    let inbox = inbox["id"].as_i64().expect("id");
    let now = chrono::Utc::now().timestamp().to_string();
    let nonce = "90210";
    let sig = signature(&["plaintoken", &now, nonce]);
    let body = |msg_id: u32, text: &str| {
        format!(
            "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[o-plain-1]]></FromUserName>\
             <CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>\
             <MsgId>{msg_id}</MsgId></xml>"
        )
    };
    let post = |node: &TestApp, xml: String| {
        let url = format!(
            "{}/channels/wechat/{inbox}?signature={sig}&timestamp={now}&nonce={nonce}&openid=o-plain-1",
            node.base
        );
        let client = node.client.clone();
        async move {
            let r = client.post(url).body(xml).send().await.expect("callback");
            (r.status(), r.text().await.expect("body"))
        }
    };
    let genuine = body(1001, "hello");
    assert_eq!(
        post(&nodes[0], genuine.clone()).await,
        (StatusCode::OK, "success".to_owned())
    );
    // WeChat retrying the same callback through the other node: answered as usual.
    assert_eq!(
        post(&nodes[1], genuine).await,
        (StatusCode::OK, "success".to_owned())
    );
    // The captured query with a forged body is refused on both nodes.
    for node in &nodes {
        let (status, text) = post(node, body(1002, "forged")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
        assert!(text.contains("replayed_nonce"), "{text}");
    }
    let (s, list) = nodes[1]
        .admin(
            Method::GET,
            &format!("/api/v1/conversations?inbox_id={inbox}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let conversations = list["items"].as_array().expect("items");
    assert_eq!(conversations.len(), 1, "{list}");
    let conv = conversations[0]["id"].as_i64().expect("id");
    let (_, messages) = nodes[1]
        .admin(
            Method::GET,
            &format!("/api/v1/conversations/{conv}/messages"),
            None,
        )
        .await;
    let texts: Vec<&str> = messages["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|m| m["content"]["text"].as_str())
        .collect();
    assert_eq!(texts, ["hello"], "stored once, and never the forged one");
    for node in nodes {
        node.stop().await;
    }
}
