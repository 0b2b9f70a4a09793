//! Full-text search over conversations (`GET /api/v1/conversations?q=`), on every backend:
//! Chinese and English words, contact names and identities, email subjects, private notes,
//! ranking, paging, bad queries, rebuilds from the database, and the same answers on SQLite and
//! PostgreSQL.

use std::collections::BTreeMap;
use std::time::Duration;

use kefu_channel::ThreadHints;
use kefu_channel::testkit::loopback::LoopbackMessage;
use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Waits until everything committed so far is searchable.
async fn settled(app: &TestApp) {
    tokio::time::timeout(Duration::from_secs(30), app.state.search.settled())
        .await
        .expect("the search index caught up within 30 s")
        .expect("the search indexer is running");
}

/// One page of `GET /api/v1/conversations` with `query` (already URL-encoded).
async fn search_page(app: &TestApp, query: &str) -> Value {
    let (s, b) = app
        .admin(Method::GET, &format!("/api/v1/conversations?{query}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{query}: {b}");
    b
}

/// Every result for `q`: the conversation ids in order, and each one's `match`.
async fn search(app: &TestApp, q: &str) -> Vec<(i64, Value)> {
    let page = search_page(app, &format!("q={}&limit=100", enc(q))).await;
    assert!(page["next_cursor"].is_null(), "{page}");
    items(&page)
}

fn items(page: &Value) -> Vec<(i64, Value)> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| (i["id"].as_i64().expect("id"), i["match"].clone()))
        .collect()
}

fn ids(found: &[(i64, Value)]) -> Vec<i64> {
    found.iter().map(|(id, _)| *id).collect()
}

fn enc(q: &str) -> String {
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

/// A customer message opening (or continuing) `sender`'s conversation; returns its id.
async fn say(app: &TestApp, inbox: i64, m: &LoopbackMessage) -> i64 {
    let (s, b) = app.inbound(inbox, m).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["conversation_id"].as_i64().expect("conversation id")
}

/// The conversations every search test starts from, by name.
async fn seed(app: &TestApp) -> BTreeMap<&'static str, i64> {
    let inbox = app.loopback_inbox(json!({})).await;
    let mut c = BTreeMap::new();
    c.insert(
        "zh",
        say(
            app,
            inbox,
            &msg("zh-1", "wx-openid-7", "我想申请退款，谢谢"),
        )
        .await,
    );
    c.insert(
        "en",
        say(
            app,
            inbox,
            &msg("en-1", "cust-en", "My parcel never arrived"),
        )
        .await,
    );
    let named = LoopbackMessage {
        name: Some("Zhang Wei".into()),
        ..msg("name-1", "cust-name", "hello")
    };
    c.insert("name", say(app, inbox, &named).await);
    let mailed = LoopbackMessage {
        thread: ThreadHints {
            subject: Some("Invoice for March".into()),
            ..ThreadHints::default()
        },
        ..msg("mail-1", "billing@example.com", "see the attachment")
    };
    c.insert("mail", say(app, inbox, &mailed).await);
    // Two mentions of "refund" against one: the first ranks higher.
    c.insert(
        "refund1",
        say(app, inbox, &msg("r1-1", "cust-r1", "Can I get a refund?")).await,
    );
    c.insert(
        "refund2",
        say(app, inbox, &msg("r2-1", "cust-r2", "Refund please")).await,
    );
    say(
        app,
        inbox,
        &msg("r2-2", "cust-r2", "Still waiting for my refund"),
    )
    .await;
    c
}

#[tokio::test]
async fn words_names_identities_and_subjects_match_and_are_highlighted() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let c = seed(&app).await;
        settled(&app).await;

        let found = search(&app, "退款").await;
        assert_eq!(ids(&found), [c["zh"]], "{backend:?}");
        assert_eq!(found[0].1["field"], "message");
        assert!(found[0].1["message_id"].is_i64(), "{}", found[0].1);
        assert_eq!(found[0].1["snippet"], "我想申请<mark>退款</mark>，谢谢");

        let found = search(&app, "PARCEL").await;
        assert_eq!(ids(&found), [c["en"]]);
        assert_eq!(
            found[0].1["snippet"],
            "My <mark>parcel</mark> never arrived"
        );

        let found = search(&app, "zhang").await;
        assert_eq!(ids(&found), [c["name"]]);
        assert_eq!(found[0].1["field"], "contact");
        assert!(
            found[0].1["snippet"]
                .as_str()
                .is_some_and(|s| s.contains("<mark>Zhang</mark>")),
            "{}",
            found[0].1
        );

        let found = search(&app, "invoice").await;
        assert_eq!(ids(&found), [c["mail"]]);
        assert_eq!(found[0].1["field"], "subject");
        assert_eq!(found[0].1["snippet"], "<mark>Invoice</mark> for March");

        // Identities: a whole email address or channel id finds its owner first.
        assert_eq!(
            ids(&search(&app, "billing@example.com").await)[0],
            c["mail"]
        );
        assert_eq!(ids(&search(&app, "wx-openid-7").await)[0], c["zh"]);

        // Words no conversation has find nothing; items without q carry no match.
        assert!(search(&app, "发票").await.is_empty());
        let plain = search_page(&app, "limit=100").await;
        assert!(plain["items"][0].get("match").is_none(), "{plain}");

        // Private notes are searchable by agents.
        let (s, note) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{}/messages", c["en"]),
                Some(json!({"text": "客户是VIP，优先处理", "private": true})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{note}");
        settled(&app).await;
        let found = search(&app, "优先").await;
        assert_eq!(ids(&found), [c["en"]]);
        assert_eq!(found[0].1["message_id"], note["id"]);
        app.stop().await;
    }
}

#[tokio::test]
async fn more_mentions_rank_first_and_filters_still_apply() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let c = seed(&app).await;
        settled(&app).await;
        assert_eq!(
            ids(&search(&app, "refund").await),
            [c["refund2"], c["refund1"]],
            "{backend:?}"
        );
        // Both words beat one of them.
        assert_eq!(
            ids(&search(&app, "waiting refund").await),
            [c["refund2"], c["refund1"]]
        );

        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{}/resolve", c["refund2"]),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let page = search_page(&app, "q=refund&status=queued").await;
        assert_eq!(ids(&items(&page)), [c["refund1"]]);
        app.stop().await;
    }
}

#[tokio::test]
async fn results_page_by_cursor() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        for i in 0..5 {
            let text = "shipping ".repeat(i + 1);
            say(
                &app,
                inbox,
                &msg(&format!("s-{i}"), &format!("cust-{i}"), &text),
            )
            .await;
        }
        settled(&app).await;
        let all = ids(&search(&app, "shipping").await);
        assert_eq!(all.len(), 5, "{backend:?}");

        let mut paged = Vec::new();
        let mut query = "q=shipping&limit=2".to_owned();
        let mut pages = 0;
        loop {
            let page = search_page(&app, &query).await;
            pages += 1;
            paged.extend(ids(&items(&page)));
            match page["next_cursor"].as_str() {
                Some(cursor) => query = format!("q=shipping&limit=2&cursor={}", enc(cursor)),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(paged, all, "pages follow the ranked order without gaps");
        app.stop().await;
    }
}

#[tokio::test]
async fn blank_or_too_long_queries_are_refused() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let long = "退".repeat(201);
        for query in [
            "q=".to_owned(),
            "q=%20%20".to_owned(),
            format!("q={}", enc(&long)),
            "q=refund&cursor=42x".to_owned(),
        ] {
            let (s, b) = app
                .admin(Method::GET, &format!("/api/v1/conversations?{query}"), None)
                .await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {b}");
            assert_eq!(b["code"], "invalid_query", "{query}: {b}");
            assert!(b["detail"].as_str().is_some_and(|d| !d.is_empty()), "{b}");
        }
        // 200 characters are fine.
        search(&app, &"退".repeat(200)).await;
        app.stop().await;
    }
}

/// Every query of [`seed`]'s data, with results keyed by conversation name so that runs on
/// different databases compare.
async fn answers(app: &TestApp, c: &BTreeMap<&'static str, i64>) -> Vec<(String, Vec<Value>)> {
    let name = |id: i64| {
        c.iter()
            .find(|(_, v)| **v == id)
            .map_or_else(|| id.to_string(), |(k, _)| (*k).to_owned())
    };
    let mut out = Vec::new();
    for q in [
        "退款",
        "parcel",
        "zhang",
        "invoice",
        "refund",
        "example.com",
        "cust",
    ] {
        let found = search(app, q).await;
        let named = found
            .into_iter()
            .map(|(id, m)| {
                let mut m = m;
                if let Some(o) = m.as_object_mut() {
                    o.remove("message_id");
                }
                json!({"conversation": name(id), "match": m})
            })
            .collect();
        out.push((q.to_owned(), named));
    }
    out
}

#[tokio::test]
async fn a_rebuild_from_the_database_answers_the_same_on_every_backend() {
    let mut per_backend = Vec::new();
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let c = seed(&app).await;
        settled(&app).await;
        let before = answers(&app, &c).await;
        assert!(before.iter().all(|(_, r)| !r.is_empty()), "{before:?}");

        let stats = app.state.search.rebuild().await.expect("rebuild");
        assert_eq!((stats.conversations, stats.messages), (6, 7), "{stats:?}");
        assert_eq!(
            answers(&app, &c).await,
            before,
            "after a rebuild on {backend:?}"
        );

        // A restart keeps the index and goes on from where it was.
        let app = app.restart(|_| {}).await;
        settled(&app).await;
        assert_eq!(
            answers(&app, &c).await,
            before,
            "after a restart on {backend:?}"
        );
        let (s, added) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{}/messages", c["en"]),
                Some(json!({"text": "a kiwifruit for the road", "private": true})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{added}");
        settled(&app).await;
        assert_eq!(ids(&search(&app, "kiwifruit").await), [c["en"]]);

        // A restart without the index (as after deleting it, or an upgrade of its format)
        // builds it again from the database.
        let fresh = tempfile::tempdir().expect("temp dir");
        let dir = fresh.path().join("search");
        let app = app.restart(|config| config.search.dir = Some(dir)).await;
        settled(&app).await;
        assert_eq!(
            answers(&app, &c).await,
            before,
            "after a restart on {backend:?}"
        );
        per_backend.push((backend.label(), before));
        app.stop().await;
    }
    if let [(a, first), rest @ ..] = per_backend.as_slice() {
        for (b, other) in rest {
            assert_eq!(first, other, "{a} and {b} answer alike");
        }
    }
}

#[tokio::test]
async fn the_openapi_document_describes_q_and_match() {
    let app = TestApp::spawn(&backends()[0]).await;
    let (s, doc) = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let params = doc["paths"]["/api/v1/conversations"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    assert!(params.iter().any(|p| p["name"] == "q"), "{params:?}");
    let schemas = &doc["components"]["schemas"];
    let item = serde_json::to_string(&schemas["ConversationItem"]).expect("json");
    assert!(item.contains("\"match\""), "{item}");
    let field = &schemas["MatchField"];
    assert_eq!(
        field["enum"],
        json!(["message", "subject", "contact"]),
        "{field}"
    );
    app.stop().await;
}

/// Relays on several nodes publish their partitions side by side, so the bus brings events out
/// of id order, and a node that fell behind may never get some. The index's mark (what
/// `settled` waits for) passes an event only once it is searchable: events the bus does not
/// bring are read from the outbox.
#[tokio::test]
async fn the_mark_passes_an_event_only_once_it_is_searchable() {
    use kefu_normalizer::events::EventType;
    use kefu_normalizer::search::{Location, Search};

    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        // A second index of the same database, fed by a bus this test controls.
        let (search, indexer) =
            Search::open(app.state.db.clone(), &Location::Memory).expect("open");
        let (bus, rx) = tokio::sync::broadcast::channel(256);
        let shutdown = tokio_util::sync::CancellationToken::new();
        let running = tokio::spawn(indexer.run(rx, shutdown.clone()));
        let settle = |s: &Search| {
            let s = s.clone();
            async move {
                tokio::time::timeout(Duration::from_secs(30), s.settled())
                    .await
                    .expect("the index caught up within 30 s")
                    .expect("the indexer is running")
            }
        };
        settle(&search).await;

        let mut relayed = app.state.bus.subscribe();
        let inbox = app.loopback_inbox(json!({})).await;
        for (i, word) in ["apricot", "blueberry", "cherry"].iter().enumerate() {
            say(
                &app,
                inbox,
                &msg(&format!("m-{i}"), &format!("c-{i}"), word),
            )
            .await;
        }
        // Only the newest message's event reaches this index's bus.
        let mut newest = None;
        let mut messages = 0;
        while messages < 3 {
            let e = tokio::time::timeout(Duration::from_secs(30), relayed.recv())
                .await
                .expect("the relay published the messages")
                .expect("the bus is open");
            if e.kind() == EventType::MessageCreated {
                messages += 1;
                newest = Some(e);
            }
        }
        bus.send(newest.expect("a message event"))
            .expect("the indexer listens");

        settle(&search).await;
        for word in ["apricot", "blueberry", "cherry"] {
            assert_eq!(
                search.rank(word).await.expect("rank").len(),
                1,
                "{backend:?}: {word} is searchable once the mark passed it"
            );
        }
        shutdown.cancel();
        running.await.expect("the indexer stops");
        app.stop().await;
    }
}
