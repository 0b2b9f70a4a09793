//! Who sees and does what, on every backend: agent, supervisor and admin × conversations,
//! messages, contacts, agents, inboxes, teams, labels, webhooks, tokens and routing × read,
//! write and delete, each cell asserted; the inbox switch for others' conversations; the list
//! and search showing only what may be seen; and `/ws/agent` streaming only permitted events.
//!
//! The cast: inbox A has agent Ann directly and team T (agent Bob, supervisor Sue); inbox B has
//! nobody, but Cat is assigned one of its conversations.

use std::time::Duration;

use futures::StreamExt;
use kefu_tests::ws::Ws;
use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

struct Cast {
    a: i64,
    b: i64,
    ann: (i64, String),
    bob: (i64, String),
    cat: (i64, String),
    sue: (i64, String),
    /// A, unassigned.
    queued: i64,
    /// A, Ann's.
    anns: i64,
    /// A, Bob's.
    bobs: i64,
    /// B, unassigned.
    b_queued: i64,
    /// B, Cat's.
    cats: i64,
}

async fn ok(app: &TestApp, method: Method, path: &str, body: Value) -> Value {
    let (s, b) = app.admin(method.clone(), path, Some(body)).await;
    assert!(s.is_success(), "{method} {path}: {s} {b}");
    b
}

async fn conversation(app: &TestApp, inbox: i64, customer: &str) -> i64 {
    let (s, b) = app
        .inbound(
            inbox,
            &msg(
                &format!("m-{customer}"),
                customer,
                &format!("hello refund from {customer}"),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["conversation_id"].as_i64().expect("conversation")
}

async fn assign(app: &TestApp, conv: i64, agent: i64) {
    ok(
        app,
        Method::POST,
        &format!("/api/v1/conversations/{conv}/assign"),
        json!({"agent_id": agent}),
    )
    .await;
}

async fn cast(app: &TestApp) -> Cast {
    let a = app.loopback_inbox(json!({})).await;
    let b = app.loopback_inbox(json!({})).await;
    let ann = app.agent("ann@example.com", "agent", json!({})).await;
    let bob = app.agent("bob@example.com", "agent", json!({})).await;
    let cat = app.agent("cat@example.com", "agent", json!({})).await;
    let sue = app.agent("sue@example.com", "supervisor", json!({})).await;
    let team = ok(
        app,
        Method::POST,
        "/api/v1/teams",
        json!({"name": "T", "agent_ids": [bob.0, sue.0]}),
    )
    .await["id"]
        .as_i64()
        .expect("team");
    let members = ok(
        app,
        Method::PUT,
        &format!("/api/v1/inboxes/{a}/members"),
        json!({"agent_ids": [ann.0], "team_ids": [team]}),
    )
    .await;
    assert_eq!(members, json!({"agent_ids": [ann.0], "team_ids": [team]}));
    let queued = conversation(app, a, "queued").await;
    let anns = conversation(app, a, "anns").await;
    let bobs = conversation(app, a, "bobs").await;
    let b_queued = conversation(app, b, "b-queued").await;
    let cats = conversation(app, b, "cats").await;
    assign(app, anns, ann.0).await;
    assign(app, bobs, bob.0).await;
    assign(app, cats, cat.0).await;
    Cast {
        a,
        b,
        ann,
        bob,
        cat,
        sue,
        queued,
        anns,
        bobs,
        b_queued,
        cats,
    }
}

/// Asserts `token`'s `method path` answers `want`.
async fn expect(
    app: &TestApp,
    who: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    want: u16,
) {
    let (s, b) = app.call(method.clone(), path, Some(token), body).await;
    assert_eq!(s.as_u16(), want, "{who}: {method} {path} → {s} {b}");
    if want == 404 {
        // Not visible looks exactly like not there.
        assert_eq!(b["code"], "not_found", "{who}: {method} {path}: {b}");
    }
}

/// Read (the item, its messages, its routing, its contact) and act (reply, label, resolve,
/// reopen) on `conv` as `token`: `read` and `act` are the expected statuses (200 means the
/// success status of each call).
async fn conversation_cell(app: &TestApp, who: &str, token: &str, conv: i64, read: u16, act: u16) {
    let reads = [
        format!("/api/v1/conversations/{conv}"),
        format!("/api/v1/conversations/{conv}/messages"),
        format!("/api/v1/conversations/{conv}/routing"),
        format!("/api/v1/conversations/{conv}/queue"),
    ];
    for path in &reads {
        expect(app, who, token, Method::GET, path, None, read).await;
    }
    let contact = app
        .admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None)
        .await
        .1["contact"]["id"]
        .as_i64()
        .expect("contact");
    for path in [
        format!("/api/v1/contacts/{contact}"),
        format!("/api/v1/contacts/{contact}/labels"),
    ] {
        // Contacts are seen through a conversation, read-only or not.
        expect(app, who, token, Method::GET, &path, None, read).await;
    }
    let success = |code: u16| if act == 200 { code } else { act };
    let acts = [
        (
            Method::POST,
            "messages",
            Some(json!({"text": format!("reply by {who}")})),
            201,
        ),
        (Method::PUT, "labels", Some(json!({"labels": []})), 200),
        (Method::POST, "resolve", None, 200),
        (Method::POST, "reopen", None, 200),
    ];
    for (method, action, body, code) in acts {
        let path = format!("/api/v1/conversations/{conv}/{action}");
        expect(app, who, token, method, &path, body, success(code)).await;
    }
}

/// Ids of the conversations `token` lists with `query`.
async fn listed(app: &TestApp, token: &str, query: &str) -> Vec<i64> {
    let (s, b) = app
        .call(
            Method::GET,
            &format!("/api/v1/conversations?{query}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{query}: {b}");
    let mut ids: Vec<i64> = b["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["id"].as_i64())
        .collect();
    ids.sort_unstable();
    ids
}

fn sorted<const N: usize>(mut v: [i64; N]) -> Vec<i64> {
    v.sort_unstable();
    v.to_vec()
}

#[tokio::test]
async fn conversations_follow_inbox_membership_assignment_and_the_inbox_switch() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let c = cast(&app).await;
        let (ann, bob, cat, sue) = (&c.ann.1, &c.bob.1, &c.cat.1, &c.sue.1);
        let admin = app.admin_token.clone();

        // Reopening after a resolve puts a conversation back in the queue, unassigned: each
        // cell runs on a fresh assignment.
        // (who, their token, conversation, its assignee, status of a read, status of a reply)
        type Cell<'a> = (&'a str, &'a str, i64, Option<i64>, u16, u16);
        let cells: [Cell<'_>; 13] = [
            // Ann belongs to A directly: its queue and her own; not Bob's; nothing of B.
            ("ann", ann, c.queued, None, 200, 200),
            ("ann", ann, c.anns, Some(c.ann.0), 200, 200),
            ("ann", ann, c.bobs, Some(c.bob.0), 404, 404),
            ("ann", ann, c.b_queued, None, 404, 404),
            // Bob belongs to A through team T.
            ("bob", bob, c.bobs, Some(c.bob.0), 200, 200),
            ("bob", bob, c.anns, Some(c.ann.0), 404, 404),
            // Cat belongs nowhere but sees what is assigned to her.
            ("cat", cat, c.cats, Some(c.cat.0), 200, 200),
            ("cat", cat, c.b_queued, None, 404, 404),
            ("cat", cat, c.queued, None, 404, 404),
            // Sue, a supervisor in T, sees all of A, nothing of B.
            ("sue", sue, c.anns, Some(c.ann.0), 200, 200),
            ("sue", sue, c.cats, Some(c.cat.0), 404, 404),
            // Admins see everything.
            ("admin", &admin, c.cats, Some(c.cat.0), 200, 200),
            ("admin", &admin, c.b_queued, None, 200, 200),
        ];
        for (who, token, conv, assignee, read, act) in cells {
            if let Some(agent) = assignee {
                assign(&app, conv, agent).await;
            }
            conversation_cell(&app, who, token, conv, read, act).await;
        }

        // The list and search show exactly what may be seen.
        assign(&app, c.anns, c.ann.0).await;
        assign(&app, c.bobs, c.bob.0).await;
        assign(&app, c.cats, c.cat.0).await;
        // Search follows the outbox: wait until it has indexed every conversation.
        let all = sorted([c.queued, c.anns, c.bobs, c.b_queued, c.cats]);
        kefu_tests::eventually(Duration::from_secs(30), || async {
            (listed(&app, &admin, "q=refund").await == all).then_some(())
        })
        .await
        .expect("search indexes the conversations");
        for query in ["", "q=refund"] {
            assert_eq!(
                listed(&app, ann, query).await,
                sorted([c.queued, c.anns]),
                "{query}"
            );
            assert_eq!(
                listed(&app, bob, query).await,
                sorted([c.queued, c.bobs]),
                "{query}"
            );
            assert_eq!(listed(&app, cat, query).await, [c.cats], "{query}");
            assert_eq!(
                listed(&app, sue, query).await,
                sorted([c.queued, c.anns, c.bobs]),
                "{query}"
            );
            assert_eq!(
                listed(&app, &admin, query).await,
                sorted([c.queued, c.anns, c.bobs, c.b_queued, c.cats]),
                "{query}"
            );
        }

        // Inbox A lets agents read others' conversations: Ann reads Bob's, cannot change it.
        let inbox = ok(
            &app,
            Method::PATCH,
            &format!("/api/v1/inboxes/{}", c.a),
            json!({"others_access": "read"}),
        )
        .await;
        assert_eq!(inbox["others_access"], "read");
        conversation_cell(&app, "ann (read)", ann, c.bobs, 200, 403).await;
        assert_eq!(
            listed(&app, ann, "").await,
            sorted([c.queued, c.anns, c.bobs])
        );
        // ... and then answer it too.
        ok(
            &app,
            Method::PATCH,
            &format!("/api/v1/inboxes/{}", c.a),
            json!({"others_access": "reply"}),
        )
        .await;
        assign(&app, c.bobs, c.bob.0).await;
        conversation_cell(&app, "ann (reply)", ann, c.bobs, 200, 200).await;
        let (s, b) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/inboxes/{}", c.a),
                Some(json!({"others_access": "everyone"})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        // Unknown members are refused naming the field.
        for (body, field) in [
            (json!({"agent_ids": [999_999]}), "agent_ids"),
            (json!({"team_ids": [999_999]}), "team_ids"),
        ] {
            let (s, b) = app
                .admin(
                    Method::PUT,
                    &format!("/api/v1/inboxes/{}/members", c.a),
                    Some(body),
                )
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
            assert_eq!(b["field"], field, "{b}");
        }

        // Leaving the inbox takes its queue away at once.
        ok(
            &app,
            Method::PUT,
            &format!("/api/v1/inboxes/{}/members", c.a),
            json!({"agent_ids": [], "team_ids": []}),
        )
        .await;
        conversation_cell(&app, "ann (left)", ann, c.queued, 404, 404).await;
        assert_eq!(listed(&app, bob, "").await, Vec::<i64>::new());
        let _ = c.b;
        app.stop().await;
    }
}

#[tokio::test]
async fn roles_reach_the_resources_they_should() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let c = cast(&app).await;
        let admin = app.admin_token.clone();
        let roles = [
            ("agent", &c.ann.1),
            ("supervisor", &c.sue.1),
            ("admin", &admin),
        ];
        // (method, path, body, [agent, supervisor, admin]); writes that would succeed target
        // rows made for the purpose.
        let mut cells: Vec<(Method, String, Option<Value>, [u16; 3])> = vec![
            (Method::GET, "/api/v1/agents".into(), None, [200, 200, 200]),
            (Method::GET, "/api/v1/teams".into(), None, [200, 200, 200]),
            (Method::GET, "/api/v1/labels".into(), None, [200, 200, 200]),
            (
                Method::GET,
                "/api/v1/api-tokens".into(),
                None,
                [200, 200, 200],
            ),
            (
                Method::GET,
                format!("/api/v1/inboxes/{}/routing", c.a),
                None,
                [200, 200, 200],
            ),
            (
                Method::GET,
                format!("/api/v1/inboxes/{}/routing", c.b),
                None,
                [404, 404, 200],
            ),
            (
                Method::GET,
                format!("/api/v1/inboxes/{}", c.a),
                None,
                [200, 200, 200],
            ),
            (
                Method::GET,
                format!("/api/v1/inboxes/{}", c.b),
                None,
                [404, 404, 200],
            ),
            (
                Method::GET,
                format!("/api/v1/inboxes/{}/members", c.a),
                None,
                [403, 200, 200],
            ),
            (
                Method::GET,
                "/api/v1/webhooks".into(),
                None,
                [403, 403, 200],
            ),
            (
                Method::GET,
                "/api/v1/dead-letters".into(),
                None,
                [403, 200, 200],
            ),
            (
                Method::PUT,
                format!("/api/v1/inboxes/{}/members", c.b),
                Some(json!({"agent_ids": [c.cat.0]})),
                [403, 403, 200],
            ),
            (
                Method::PATCH,
                format!("/api/v1/inboxes/{}", c.b),
                Some(json!({"name": "B2"})),
                [403, 403, 200],
            ),
            (
                Method::POST,
                "/api/v1/agents".into(),
                Some(
                    json!({"email": "new@example.com", "name": "New", "password": "a-long-password", "role": "agent"}),
                ),
                [403, 403, 201],
            ),
            (
                Method::POST,
                "/api/v1/labels".into(),
                Some(json!({"name": "vip"})),
                [403, 201, 409],
            ),
            (
                Method::POST,
                "/api/v1/teams".into(),
                Some(json!({"name": "Night"})),
                [403, 201, 409],
            ),
            (
                Method::PUT,
                format!("/api/v1/inboxes/{}/routing", c.b),
                Some(json!({"rules": []})),
                [403, 403, 200],
            ),
            (
                Method::DELETE,
                "/api/v1/webhooks/999999".into(),
                None,
                [403, 403, 404],
            ),
            (
                Method::DELETE,
                format!("/api/v1/agents/{}", c.cat.0),
                None,
                [403, 403, 204],
            ),
            (
                Method::DELETE,
                format!("/api/v1/inboxes/{}", c.b),
                None,
                [403, 403, 204],
            ),
        ];
        // Someone else's API token cannot be revoked by an agent.
        let (s, tok) = app
            .admin(
                Method::POST,
                "/api/v1/api-tokens",
                Some(json!({"name": "ci"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{tok}");
        let tok = tok["id"].as_i64().expect("token id");
        cells.push((
            Method::DELETE,
            format!("/api/v1/api-tokens/{tok}"),
            None,
            [404, 404, 204],
        ));
        for (method, path, body, want) in cells {
            for ((role, token), want) in roles.iter().zip(want) {
                expect(&app, role, token, method.clone(), &path, body.clone(), want).await;
            }
        }
        app.stop().await;
    }
}

/// The next `event` frame's `(type, conversation id, message text)`; panics after 10 s.
async fn next_event(ws: &mut Ws) -> (String, Option<i64>, String) {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("an event within 10 s")
            .expect("socket open")
            .expect("frame");
        let Message::Text(t) = frame else { continue };
        let v: Value = serde_json::from_str(t.as_str()).expect("JSON frame");
        if v["type"] != "event" {
            continue;
        }
        let data = &v["event"]["data"];
        let conv = data["conversation_id"].as_i64().or_else(|| {
            data["id"].as_i64().filter(|_| {
                v["event"]["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("conversation."))
            })
        });
        let text = data["content"]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        return (
            v["event"]["type"].as_str().unwrap_or_default().to_owned(),
            conv,
            text,
        );
    }
}

/// Reads events until a message with `text`; asserts every event on the way concerns one of
/// `allowed` (or no conversation); returns them.
async fn until_text(ws: &mut Ws, text: &str, allowed: &[i64]) -> Vec<(String, Option<i64>)> {
    let mut seen = Vec::new();
    loop {
        let (kind, conv, t) = next_event(ws).await;
        assert!(
            conv.is_none_or(|c| allowed.contains(&c)),
            "{kind} of conversation {conv:?} ({t:?}) reached the socket"
        );
        if kind == "message.created" && t == text {
            return seen;
        }
        seen.push((kind, conv));
    }
}

#[tokio::test]
async fn agent_sockets_receive_only_what_their_agent_may_see() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let c = cast(&app).await;
        let url = format!(
            "{}/ws/agent?token={}",
            app.base.replace("http://", "ws://"),
            c.ann.1
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("socket");
        // Whatever the setup left in flight arrives before this (commit order).
        app.inbound(c.a, &msg("x-0", "anns", "sync")).await;
        loop {
            let (kind, _, text) = next_event(&mut ws).await;
            if kind == "message.created" && text == "sync" {
                break;
            }
        }
        // A message in inbox B (not Ann's) and one in Bob's conversation, then one in her own:
        // the relay publishes in commit order, so everything Ann receives up to her message
        // (including what is left of the setup) is of her queue or her own conversation.
        app.inbound(c.b, &msg("x-1", "b-queued", "not for Ann"))
            .await;
        app.inbound(c.a, &msg("x-2", "bobs", "not for Ann either"))
            .await;
        app.inbound(c.a, &msg("x-3", "anns", "for Ann")).await;
        until_text(&mut ws, "for Ann", &[c.queued, c.anns]).await;
        // Her conversation transferred to Bob: she learns it left her, then nothing more of it.
        ok(
            &app,
            Method::POST,
            &format!("/api/v1/conversations/{}/transfer", c.anns),
            json!({"agent_id": c.bob.0}),
        )
        .await;
        app.inbound(c.a, &msg("x-4", "anns", "now Bob's")).await;
        app.inbound(c.a, &msg("x-5", "queued", "the queue is Ann's"))
            .await;
        let seen = until_text(&mut ws, "the queue is Ann's", &[c.queued, c.anns]).await;
        assert!(
            seen.iter()
                .any(|(kind, conv)| *conv == Some(c.anns) && kind != "message.created"),
            "the hand-over reached her: {seen:?}"
        );
        assert!(
            !seen
                .iter()
                .any(|(kind, conv)| *conv == Some(c.anns) && kind == "message.created"),
            "Bob's new message did not: {seen:?}"
        );
        // Removed from the inbox, the socket stops receiving its queue at once.
        ok(
            &app,
            Method::PUT,
            &format!("/api/v1/inboxes/{}/members", c.a),
            json!({"agent_ids": [], "team_ids": []}),
        )
        .await;
        assign(&app, c.cats, c.ann.0).await;
        app.inbound(c.a, &msg("x-6", "queued", "no longer Ann's"))
            .await;
        app.inbound(c.b, &msg("x-7", "cats", "Ann's now")).await;
        until_text(&mut ws, "Ann's now", &[c.cats]).await;
        // Deleted, her socket closes with the reason.
        let (s, b) = app
            .admin(Method::DELETE, &format!("/api/v1/agents/{}", c.ann.0), None)
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
        let reason = loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
                .await
                .expect("the socket closes within 10 s");
            match frame {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).expect("JSON");
                    if v["type"] == "error" {
                        break v["code"].clone();
                    }
                }
                Some(Ok(_)) => {}
                _ => panic!("closed without an error frame"),
            }
        };
        assert_eq!(reason, "unauthorized");
        app.stop().await;
    }
}
